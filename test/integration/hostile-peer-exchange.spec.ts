/**
 * Strangers in a ring node's peer store. Anyone can connect with a fresh key, be identified as
 * speaking /chord/1.0.0, and leave: libp2p keeps every identified peer for hours, and a rate
 * limit per PeerId does not stop a fresh key a round. A node that answered peer exchange from its
 * peer store would scan all of them for every request and pass them on to honest nodes as ring
 * nodes. Answers come from the peers the ring itself vouches for instead: its routing table and
 * its peer cache.
 */
import { strict as assert } from 'node:assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { MAX_PX_REQUEST_SIZE, PX_PROTOCOL } from '../../src/peer-exchange/constants.js'
import { decodePxRequest } from '../../src/peer-exchange/validate.js'
import { frameStream } from '../../src/protocol/framing.js'
import { PxResponse } from '../../src/protocol/generated/px.js'
import { PROTOCOL as CHORD_PROTOCOL } from '../../src/transport/constants.js'
import { madeUpPeerId } from '../helpers/made-up-peer.js'
import { loopbackDialsOnly, PRIVATE_ADDRESSES, PUBLIC_ADDRESSES, sorted, storedAddresses } from '../helpers/named-addresses.js'
import { startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { PeerExchange } from '../../src/peer-exchange/peer-exchange.js'
import type { PxPeer } from '../../src/protocol/generated/px.js'
import type { PeerId } from '@libp2p/interface'

/** Strangers put into the node's peer store, as many fresh keys that came and went would leave */
const STRANGERS = 3000

describe('a ring node whose peer store holds thousands of strangers claiming the ring protocol', function () {
  this.timeout(120_000)
  let ring: ChordNode[] = []
  let asker: ChordLibp2p | undefined
  let strangers: Set<string>

  before(async () => {
    ring = await startRing(4)
    strangers = new Set()
    const [node] = ring
    for (let i = 0; i < STRANGERS; i++) {
      const peerId = madeUpPeerId()
      strangers.add(peerId.toString())
      await node.libp2p.peerStore.merge(peerId, {
        protocols: [CHORD_PROTOCOL],
        multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${1024 + i}`)]
      })
    }
  })

  after(async () => {
    await asker?.stop()
    await stopAll(ring)
  })

  it('answers peer exchange with ring nodes only, passing on none of the strangers', async () => {
    const [node, ...others] = ring
    asker = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const px = asker.services.peerExchange
    assert.ok(px != null)
    const announced = new Set<string>()
    px.addEventListener('peer', event => { announced.add(event.detail.id.toString()) })
    await asker.dial(node.getMultiaddrs()[0])

    // the round the connection starts, then as many more as the rate limit lets one peer ask
    await waitFor(() => announced.size > 0, 'the first round to name someone', 10_000)
    const named = new Set(announced)
    for (let i = 0; i < 2; i++) {
      for (const peer of await px.exchange(node.peerId)) {
        named.add(peer.id.toString())
      }
    }

    const passedOn = [...named].filter(peer => strangers.has(peer))
    assert.deepEqual(passedOn, [], `${passedOn.length} strangers passed on`)
    assert.deepEqual([...named].sort(), others.map(other => other.peerId.toString()).sort())
  })
})

/**
 * A peer on the public Internet whose peer exchange answers name private addresses, plainly or in
 * records signed by keys it made up for the purpose: libp2p stores the addresses of every peer
 * discovered, and a node dials them later (partition healing picks from them), so each would open
 * a connection into its operator's own network. All traffic here is on 127.0.0.1, so the node is
 * told which peers to take as reached over a public address.
 */
describe('a peer reached over a public address whose peer exchange answers name private addresses', function () {
  this.timeout(60_000)
  let nodes: ChordLibp2p[] = []
  let victim: ChordLibp2p
  let liar: ChordLibp2p
  /** whether the victim takes the liar to be reached over a public address */
  let liarIsPublic: boolean
  let mixed: PeerId
  let signed: PeerId
  let onlyPrivate: PeerId

  beforeEach(async () => {
    liarIsPublic = true
    const signer = await generateKeyPair('Ed25519')
    signed = peerIdFromPrivateKey(signer)
    mixed = madeUpPeerId()
    onlyPrivate = madeUpPeerId()
    const record = await RecordEnvelope.seal(new PeerRecord({ peerId: signed, multiaddrs: [...PRIVATE_ADDRESSES, ...PUBLIC_ADDRESSES] }), signer)
    const entries: PxPeer[] = [
      { peerId: mixed.toMultihash().bytes, addrs: [...PRIVATE_ADDRESSES, ...PUBLIC_ADDRESSES].map(address => address.bytes) },
      { peerId: signed.toMultihash().bytes, signedPeerRecord: record.marshal() as Uint8Array<ArrayBuffer>, addrs: [] },
      { peerId: onlyPrivate.toMultihash().bytes, addrs: PRIVATE_ADDRESSES.map(address => address.bytes) }
    ]
    liar = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'], peerExchange: false, connectionGater: loopbackDialsOnly })
    await liar.handle(PX_PROTOCOL, async stream => {
      const framed = frameStream(stream, MAX_PX_REQUEST_SIZE)
      const numPeers = decodePxRequest(await framed.read())
      await framed.write(PxResponse.encode({ status: PxResponse.Status.OK, peers: entries.slice(0, numPeers) }))
      await stream.close()
    })
    victim = await createChordLibp2p({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      connectionGater: loopbackDialsOnly,
      peerExchange: { isPrivateConnection: connection => !(liarIsPublic && connection.remotePeer.equals(liar.peerId)) }
    })
    nodes = [liar, victim]
  })

  afterEach(async () => {
    await Promise.all(nodes.map(async node => node.stop()))
  })

  /** What the victim's peer store holds for `peer`: its addresses as sorted text, undefined when it does not know it */
  async function stored (peer: PeerId): Promise<string[] | undefined> {
    return storedAddresses(victim.peerStore, peer)
  }

  /** The victim asks the liar; resolves to the peers it took from the answer, by PeerId */
  async function exchange (): Promise<Map<string, string[]>> {
    await victim.dial(liar.getMultiaddrs()[0])
    const peers = await peerExchangeOf(victim).exchange(liar.peerId)
    return new Map(peers.map(peer => [peer.id.toString(), sorted(peer.multiaddrs)]))
  }

  it('stores only the public addresses it names, plain or signed, and no peer it names with private ones alone', async () => {
    const taken = await exchange()
    assert.deepEqual([...taken.keys()].sort(), [mixed, signed].map(String).sort())
    assert.deepEqual(taken.get(mixed.toString()), sorted(PUBLIC_ADDRESSES))
    assert.deepEqual(taken.get(signed.toString()), sorted(PUBLIC_ADDRESSES))
    // libp2p stores what the peer events announce, and the records the service keeps, on its own time
    await waitFor(async () => (await stored(mixed))?.length === PUBLIC_ADDRESSES.length && (await stored(signed))?.length === PUBLIC_ADDRESSES.length,
      'the peers\' public addresses to be stored')
    assert.deepEqual(await stored(mixed), sorted(PUBLIC_ADDRESSES))
    assert.deepEqual(await stored(signed), sorted(PUBLIC_ADDRESSES))
    // the record names private addresses too: kept whole it would pass them on to whoever asks us
    assert.equal((await victim.peerStore.get(signed)).peerRecordEnvelope, undefined)
    assert.equal(await stored(onlyPrivate), undefined)
    assert.ok(!peerExchangeOf(victim).learnedPeers().some(peer => peer.equals(onlyPrivate)), 'a peer without an address to dial is a partition-healing candidate')
  })

  it('stores every address, and the signed record, from a peer on its own network', async () => {
    liarIsPublic = false
    const taken = await exchange()
    const all = sorted([...PRIVATE_ADDRESSES, ...PUBLIC_ADDRESSES])
    assert.deepEqual(taken.get(mixed.toString()), all)
    assert.deepEqual(taken.get(signed.toString()), all)
    assert.deepEqual(taken.get(onlyPrivate.toString()), sorted(PRIVATE_ADDRESSES))
    await waitFor(async () => (await stored(mixed))?.length === all.length && (await stored(onlyPrivate))?.length === PRIVATE_ADDRESSES.length,
      'the peers\' addresses to be stored')
    assert.deepEqual(await stored(signed), all)
    assert.ok((await victim.peerStore.get(signed)).peerRecordEnvelope != null)
  })
})

function peerExchangeOf (node: ChordLibp2p): PeerExchange {
  const service = node.services.peerExchange
  assert.ok(service != null)
  return service
}
