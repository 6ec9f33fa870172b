import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ringIdOf, ringIdToWire } from '../../src/transport/ring-id.js'
import { MAX_PEERS_PER_MESSAGE } from '../../src/transport/constants.js'
import { MAX_WIRE_LEARNED_PEERS, WIRE_PEER_CACHE_SIZE, WirePeers } from '../../src/transport/wire-peers.js'
import { madeUpPeer, madeUpPeerId } from '../helpers/made-up-peer.js'
import { waitFor } from '../helpers/wait-for.js'
import { silentLogger } from '../helpers/logger.js'
import { connectionFrom, PRIVATE_ADDRESSES, PUBLIC_ADDRESSES, sorted } from '../helpers/named-addresses.js'
import type { Peer as WirePeer } from '../../src/protocol/generated/chord.js'
import type { Connection, PeerId, PeerStore } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Where the messages these tests decode come from: a peer on this host, whose every address is taken */
const fromLoopback = connectionFrom('/ip4/127.0.0.1/tcp/4001')

/** A peer store that only counts what is asked of it */
function countingPeerStore (): { store: PeerStore, merges: string[], reads: string[] } {
  const merges: string[] = []
  const reads: string[] = []
  const store = {
    merge: async (peerId: PeerId) => { merges.push(peerId.toString()) },
    get: async (peerId: PeerId) => {
      reads.push(peerId.toString())
      return { addresses: [{ multiaddr: multiaddr('/ip4/127.0.0.1/tcp/4001'), isCertified: false }] }
    }
  } as unknown as PeerStore
  return { store, merges, reads }
}

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function entryFor (peerId: PeerId, port: number): WirePeer {
  return { peerId: peerId.toMultihash().bytes, ringId: ringIdToWire(ringIdOf(peerId)), addrs: [multiaddr(`/ip4/127.0.0.1/tcp/${port}`).bytes] }
}

describe('wire peers', () => {
  let self: PeerId
  let sender: PeerId

  beforeEach(async () => {
    self = await newPeerId()
    sender = await newPeerId()
  })

  function wirePeers (store: PeerStore): WirePeers {
    return new WirePeers({ peerId: self, peerStore: store, logger: silentLogger(), getMultiaddrs: () => [], getConnections: () => [] })
  }

  it('merges a peer\'s addresses into the peer store once, and again only when they change', async () => {
    const { store, merges } = countingPeerStore()
    const peers = wirePeers(store)
    const other = await newPeerId()
    await peers.decode([entryFor(other, 4001)], sender, fromLoopback)
    await peers.decode([entryFor(other, 4001)], sender, fromLoopback)
    assert.equal(merges.length, 1)
    await peers.decode([entryFor(other, 4002)], sender, fromLoopback)
    assert.equal(merges.length, 2)
  })

  it('stores only the public addresses a peer on a public address names, and every address from one on our networks', async () => {
    const stored = new Map<string, string[]>()
    const store = {
      get: async (peerId: PeerId) => {
        const addresses = stored.get(peerId.toString())
        if (addresses == null) {
          throw Object.assign(new Error('not found'), { name: 'NotFoundError' })
        }
        return { addresses: addresses.map(address => ({ multiaddr: multiaddr(address) })) }
      },
      patch: async (peerId: PeerId, { multiaddrs }: { multiaddrs: Multiaddr[] }) => { stored.set(peerId.toString(), sorted(multiaddrs)) }
    } as unknown as PeerStore
    const peers = wirePeers(store)
    const fromPublic = connectionFrom('/ip4/1.2.3.4/tcp/50123')
    const [mixed, onlyPrivate] = [madeUpPeerId(), madeUpPeerId()]
    const entry = (peerId: PeerId, addresses: Multiaddr[]): WirePeer => ({ ...entryFor(peerId, 4001), addrs: addresses.map(address => address.bytes) })

    const named = await peers.decode([entry(mixed, [...PRIVATE_ADDRESSES, ...PUBLIC_ADDRESSES]), entry(onlyPrivate, PRIVATE_ADDRESSES)], sender, fromPublic)
    assert.deepEqual(named.map(node => node.peer), [mixed.toString(), onlyPrivate.toString()], 'both peers are taken, one without addresses')
    assert.deepEqual(stored.get(mixed.toString()), sorted(PUBLIC_ADDRESSES))
    assert.equal(stored.has(onlyPrivate.toString()), false)
    // the diversity cap counts the subnet of the addresses taken, not of those dropped
    assert.equal(peers.subnetOf(mixed.toString()), '1.2.3.0/24')
    assert.equal(peers.subnetOf(onlyPrivate.toString()), undefined)

    // the same address sets from a peer on our networks are new: what a public peer named left them out
    await peers.decode([entry(mixed, [...PRIVATE_ADDRESSES, ...PUBLIC_ADDRESSES]), entry(onlyPrivate, PRIVATE_ADDRESSES)], sender, fromLoopback)
    assert.deepEqual(stored.get(mixed.toString()), sorted([...PRIVATE_ADDRESSES, ...PUBLIC_ADDRESSES]))
    assert.deepEqual(stored.get(onlyPrivate.toString()), sorted(PRIVATE_ADDRESSES))
  })

  it('still drops a spoofed ring id or a bad address set for a peer it has checked before', async () => {
    const { store } = countingPeerStore()
    const peers = wirePeers(store)
    const other = await newPeerId()
    assert.equal((await peers.decode([entryFor(other, 4001)], sender, fromLoopback)).length, 1)
    const spoofed = { ...entryFor(other, 4001), ringId: ringIdToWire(ringIdOf(sender)) }
    assert.deepEqual(await peers.decode([spoofed], sender, fromLoopback), [])
    const garbage = { ...entryFor(other, 4001), addrs: [Uint8Array.from([0xff, 0xff, 0xff])] }
    assert.deepEqual(await peers.decode([garbage], sender, fromLoopback), [])
    assert.equal((await peers.decode([entryFor(other, 4001)], sender, fromLoopback)).length, 1)
  })

  it('reads a peer\'s addresses from the peer store once for many messages', async () => {
    const { store, reads } = countingPeerStore()
    const peers = wirePeers(store)
    const other = await newPeerId()
    const node = { id: ringIdOf(other), peer: other.toString() }
    for (let i = 0; i < 10; i++) {
      const [entry] = await peers.encode([node])
      assert.equal(entry.addrs.length, 1)
    }
    assert.equal(reads.length, 1)
  })

  it('names a peer with the addresses it has now once they change, not with the copy it kept', async () => {
    let port = 4001
    const store = {
      get: async () => ({ addresses: [{ multiaddr: multiaddr(`/ip4/127.0.0.1/tcp/${port}`), isCertified: false }] })
    } as unknown as PeerStore
    const peers = wirePeers(store)
    const other = await newPeerId()
    const node = { id: ringIdOf(other), peer: other.toString() }
    const portNamed = async (): Promise<string> => multiaddr((await peers.encode([node]))[0].addrs[0]).toString()
    assert.equal(await portNamed(), '/ip4/127.0.0.1/tcp/4001')
    // the peer restarted on another port and identify stored it
    port = 4002
    assert.equal(await portNamed(), '/ip4/127.0.0.1/tcp/4001', 'the kept copy, until told')
    peers.addressesChanged(other)
    assert.equal(await portNamed(), '/ip4/127.0.0.1/tcp/4002')
  })

  it('keeps at most WIRE_PEER_CACHE_SIZE peers: the oldest is read again', async () => {
    const { store, reads } = countingPeerStore()
    const peers = wirePeers(store)
    const ids = await Promise.all(Array.from({ length: WIRE_PEER_CACHE_SIZE + 1 }, newPeerId))
    for (const id of ids) {
      await peers.encode([{ id: ringIdOf(id), peer: id.toString() }])
    }
    assert.equal(reads.length, WIRE_PEER_CACHE_SIZE + 1)
    await peers.encode([{ id: ringIdOf(ids[0]), peer: ids[0].toString() }])
    assert.equal(reads.length, WIRE_PEER_CACHE_SIZE + 2)
  })

  it(`keeps at most MAX_WIRE_LEARNED_PEERS (${MAX_WIRE_LEARNED_PEERS}) peers learned from answers, the ones it uses or knew otherwise besides`, async () => {
    const deleted = new Set<string>()
    const held = new Map<string, { protocols: string[], tags: Map<string, unknown>, addresses: unknown[] }>()
    const record = (peerId: PeerId): { protocols: string[], tags: Map<string, unknown>, addresses: unknown[] } => held.get(peerId.toString()) ?? { protocols: [], tags: new Map(), addresses: [] }
    const store = {
      merge: async (peerId: PeerId) => { held.set(peerId.toString(), record(peerId)) },
      patch: async (peerId: PeerId) => { held.set(peerId.toString(), record(peerId)) },
      get: async (peerId: PeerId) => {
        const known = held.get(peerId.toString())
        if (known == null) {
          throw Object.assign(new Error('not found'), { name: 'NotFoundError' })
        }
        return known
      },
      delete: async (peerId: PeerId) => {
        held.delete(peerId.toString())
        deleted.add(peerId.toString())
      }
    } as unknown as PeerStore
    const [routedThrough, connected, identified, tagged, plain, namedOften, knownOtherwise] = Array.from({ length: 7 }, () => madeUpPeerId())
    // as the peer cache or peer exchange would have put it there
    held.set(knownOtherwise.toString(), record(knownOtherwise))
    let connectedNow = false
    let routing = true
    const peers = new WirePeers({
      peerId: self,
      peerStore: store,
      logger: silentLogger(),
      getMultiaddrs: () => [],
      getConnections: peerId => connectedNow && peerId?.equals(connected) === true ? [{} as unknown as Connection] : []
    }, { inUse: peer => routing && peer === routedThrough.toString() })

    const first = [routedThrough, connected, identified, tagged, plain, namedOften, knownOtherwise]
    await peers.decode(first.map((peerId, i) => madeUpPeer(i, peerId)), sender, fromLoopback)
    // connected only after its addresses came: a connection since keeps them too
    connectedNow = true
    held.get(identified.toString())?.protocols.push('/ipfs/id/1.0.0')
    held.get(tagged.toString())?.tags.set('keep', { value: 1 })
    const flood = async (from: number): Promise<void> => {
      for (let i = 0; i < MAX_WIRE_LEARNED_PEERS; i += MAX_PEERS_PER_MESSAGE) {
        const named = Array.from({ length: MAX_PEERS_PER_MESSAGE }, (_, j) => madeUpPeer(from + i + j))
        await peers.decode([...named, madeUpPeer(5, namedOften)], sender, fromLoopback)
      }
    }
    await flood(first.length)

    await waitFor(async () => !held.has(plain.toString()), 'the peer named longest ago stayed in the peer store', 5_000)
    for (const kept of [routedThrough, connected, identified, tagged, namedOften, knownOtherwise]) {
      assert.ok(held.has(kept.toString()), `${kept.toString()} left the peer store`)
    }
    assert.ok(held.size <= MAX_WIRE_LEARNED_PEERS + 5)
    assert.ok(deleted.size > 0 && !deleted.has(namedOften.toString()), 'a peer named in every answer left the peer store')
    // named again, its addresses are stored again
    await peers.decode([madeUpPeer(0, plain)], sender, fromLoopback)
    assert.ok(held.has(plain.toString()))

    // the peers kept for being connected or routed through leave once they are no longer
    connectedNow = false
    routing = false
    await flood(first.length + MAX_WIRE_LEARNED_PEERS)
    await waitFor(async () => !held.has(connected.toString()) && !held.has(routedThrough.toString()), 'the peers no longer used to leave', 5_000)
  })
})
