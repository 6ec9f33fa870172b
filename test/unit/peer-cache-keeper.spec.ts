import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { PROTOCOL } from '../../src/transport/constants.js'
import { openNodeDatabase } from '../../src/storage/database.js'
import { openPeerCache } from '../../src/storage/peer-cache.js'
import { PeerCacheKeeper } from '../../src/membership/peer-cache-keeper.js'
import { ringIdOf } from '../../src/transport/ring-id.js'
import { silentLogger } from '../helpers/logger.js'
import { waitFor } from '../helpers/wait-for.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { NodeDatabase } from '../../src/storage/database.js'
import type { PeerCache } from '../../src/storage/peer-cache.js'
import type { PeerCacheKeeperComponents } from '../../src/membership/peer-cache-keeper.js'
import type { Connection, PeerId, PeerStore } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

interface Known {
  addrs: string[]
  protocols: string[]
}

/** The slice of libp2p the keeper reads: a peer store of known peers and the open connections */
class FakeLibp2p implements PeerCacheKeeperComponents {
  readonly logger = silentLogger()
  readonly known = new Map<string, Known>()
  readonly merged = new Map<string, string[]>()
  connected: PeerId[] = []

  constructor (readonly peerId: PeerId) {}

  readonly peerStore = {
    get: async (peerId: PeerId) => {
      const known = this.known.get(peerId.toString())
      if (known == null) {
        throw Object.assign(new Error('not found'), { name: 'NotFoundError' })
      }
      return { id: peerId, addresses: known.addrs.map(addr => ({ multiaddr: multiaddr(addr), isCertified: false })), protocols: known.protocols }
    },
    merge: async (peerId: PeerId, data: { multiaddrs: Multiaddr[] }) => {
      this.merged.set(peerId.toString(), data.multiaddrs.map(ma => ma.toString()))
    }
  } as unknown as PeerStore

  getConnections (): Connection[] {
    return this.connected.map(remotePeer => ({ remotePeer }) as unknown as Connection)
  }

  learn (peerId: PeerId, port: number, protocols = [PROTOCOL]): void {
    this.known.set(peerId.toString(), { addrs: [`/ip4/127.0.0.1/tcp/${port}`], protocols })
  }
}

function nodeRef (peerId: PeerId): NodeRef {
  return { id: ringIdOf(peerId), peer: peerId.toString() }
}

describe('the peer cache keeper', () => {
  let database: NodeDatabase
  let cache: PeerCache
  let keeper: PeerCacheKeeper | undefined

  beforeEach(async () => {
    database = await openNodeDatabase()
    cache = await openPeerCache(database)
  })

  afterEach(async () => {
    await keeper?.stop().catch(() => {})
    keeper = undefined
    await database.close()
  })

  it('saves the ring nodes and the other connected ring peers, with their addresses and the time of the save', async () => {
    const libp2p = new FakeLibp2p(await newPeerId())
    const [successor, finger, connected, notRing, noAddresses] = await Promise.all(Array.from({ length: 5 }, newPeerId))
    libp2p.learn(successor, 1)
    libp2p.learn(finger, 2)
    libp2p.learn(connected, 3)
    libp2p.learn(notRing, 4, ['/ipfs/id/1.0.0'])
    libp2p.connected = [connected, notRing, libp2p.peerId]

    keeper = new PeerCacheKeeper(libp2p, {
      cache,
      ringNodes: () => [successor, finger, noAddresses].map(nodeRef),
      now: () => 1234
    })
    assert.equal(await keeper.save(), 3)
    assert.deepEqual(cache.list().map(p => p.peerId).sort(), [successor, finger, connected].map(String).sort())
    assert.deepEqual(cache.list().find(p => p.peerId === finger.toString()), { peerId: finger.toString(), addrs: ['/ip4/127.0.0.1/tcp/2'], lastSeen: 1234 })
  })

  it('writes at most maxPeersPerSave peers a save, ring nodes first', async () => {
    const libp2p = new FakeLibp2p(await newPeerId())
    const ringPeers = await Promise.all(Array.from({ length: 3 }, newPeerId))
    const others = await Promise.all(Array.from({ length: 3 }, newPeerId))
    ;[...ringPeers, ...others].forEach((peerId, i) => { libp2p.learn(peerId, 10 + i) })
    libp2p.connected = others

    keeper = new PeerCacheKeeper(libp2p, { cache, ringNodes: () => ringPeers.map(nodeRef), maxPeersPerSave: 4 })
    assert.equal(await keeper.save(), 4)
    const saved = new Set(cache.list().map(p => p.peerId))
    assert.ok(ringPeers.every(peerId => saved.has(peerId.toString())), 'a ring node was left out')
  })

  it('saves on its interval and once more on stop', async () => {
    const libp2p = new FakeLibp2p(await newPeerId())
    const [first, second] = [await newPeerId(), await newPeerId()]
    libp2p.learn(first, 1)
    libp2p.learn(second, 2)
    const ring: PeerId[] = [first]

    keeper = new PeerCacheKeeper(libp2p, { cache, ringNodes: () => ring.map(nodeRef), intervalMs: 50 })
    keeper.start()
    await waitFor(() => cache.size === 1, 'the first periodic save', 10_000)
    ring.push(second)
    await keeper.stop()
    assert.equal(cache.size, 2)
  })

  it('hands the cached peers back, most recently seen first and never ourselves, and their addresses to the peer store', async () => {
    const libp2p = new FakeLibp2p(await newPeerId())
    const [older, newer] = [await newPeerId(), await newPeerId()]
    await cache.put({ peerId: older.toString(), addrs: ['/ip4/127.0.0.1/tcp/1'], lastSeen: 1 })
    await cache.put({ peerId: newer.toString(), addrs: ['/ip4/127.0.0.1/tcp/2'], lastSeen: 2 })
    await cache.put({ peerId: libp2p.peerId.toString(), addrs: ['/ip4/127.0.0.1/tcp/3'], lastSeen: 3 })
    await cache.put({ peerId: 'not a peer id', addrs: ['/ip4/127.0.0.1/tcp/4'], lastSeen: 4 })

    keeper = new PeerCacheKeeper(libp2p, { cache, ringNodes: () => [] })
    assert.deepEqual(keeper.cachedPeers().map(String), [newer, older].map(String))
    await keeper.restoreAddresses()
    assert.deepEqual([...libp2p.merged], [
      [newer.toString(), ['/ip4/127.0.0.1/tcp/2']],
      [older.toString(), ['/ip4/127.0.0.1/tcp/1']]
    ])
  })
})
