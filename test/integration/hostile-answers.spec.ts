/**
 * A ring member whose answers name made-up peers. Every FIND_SUCCESSOR answer may name
 * MAX_PEERS_PER_MESSAGE peers with their addresses, and a node stores the addresses of peers it
 * does not know so that it can dial them next. PeerIds cost nothing to make up (a random public
 * key, no private key needed), so a peer that the node asks often enough could grow the node's
 * peer store without bound. The node keeps at most MAX_WIRE_LEARNED_PEERS peers known only from
 * answers; past it, the one named longest ago leaves the peer store, unless the node connected to
 * it or holds it in its routing table. Nor can answers pile addresses onto one peer: a peer known
 * only from answers holds the addresses it was named with last, and a peer known otherwise takes
 * an answer's only while it holds fewer than MAX_ADDRS_PER_PEER.
 */
import { strict as assert } from 'node:assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { frameStream } from '../../src/protocol/framing.js'
import { Request, Response } from '../../src/protocol/generated/chord.js'
import { internalsOf } from '../../src/testing.js'
import { MAX_ADDRS_PER_PEER, MAX_MESSAGE_SIZE, MAX_PEERS_PER_MESSAGE, PROTOCOL } from '../../src/transport/constants.js'
import { ringIdOf } from '../../src/transport/ring-id.js'
import { MAX_WIRE_LEARNED_PEERS } from '../../src/transport/wire-peers.js'
import { madeUpPeer, madeUpPeerId } from '../helpers/made-up-peer.js'
import { loopbackDialsOnly, PRIVATE_ADDRESSES, PUBLIC_ADDRESSES, sorted, storedAddresses } from '../helpers/named-addresses.js'
import { startRing, stopAll } from '../helpers/ring.js'
import { nodesStoppedAfterEach, strangerHandler } from '../helpers/transport.js'
import { waitFor } from '../helpers/wait-for.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { ChordNode } from '../../src/index.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { Peer } from '../../src/protocol/generated/chord.js'
import type { TransportUnderTest } from '../helpers/transport.js'
import type { PeerId } from '@libp2p/interface'

/** Answers enough to name more made-up peers than the node keeps, by a few answers' worth */
const ANSWERS = Math.ceil(MAX_WIRE_LEARNED_PEERS / MAX_PEERS_PER_MESSAGE) + 4

describe('a ring member whose answers name made-up peers', function () {
  this.timeout(180_000)
  let nodes: ChordNode[] = []
  let liar: ChordLibp2p
  /** what the liar names in its next answer; `named` counts the entries it named before */
  let answer: (named: number) => Peer[]
  /** a peer the victim knew before any answer, as its peer cache or peer exchange would have it */
  let cached: PeerId

  before(async () => {
    nodes = await startRing(2)
    liar = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'], peerExchange: false })
    let named = 0
    await liar.handle(PROTOCOL, async stream => {
      const framed = frameStream(stream, MAX_MESSAGE_SIZE)
      try {
        while (true) {
          const request = Request.decode(await framed.read())
          const peers = answer(named)
          named += peers.length
          await framed.write(Response.encode({ type: request.type, status: Response.Status.OK, done: false, peers }))
        }
      } catch {
        stream.abort(new Error('liar done'))
      }
    })
  })

  after(async () => {
    await liar.stop()
    await stopAll(nodes)
  })

  beforeEach(async () => {
    const [victim] = nodes
    cached = madeUpPeerId()
    await victim.libp2p.peerStore.merge(cached, { multiaddrs: [multiaddr('/ip4/203.0.113.7/tcp/4001')] })
    await victim.libp2p.dial(liar.getMultiaddrs()[0])
  })

  /** Ask the liar `count` times; resolves to the peers each answer named, as the victim took them */
  async function ask (count: number): Promise<NodeRef[][]> {
    const { ring } = internalsOf(nodes[0])
    const asked = { id: ringIdOf(liar.peerId), peer: liar.peerId.toString() }
    const replies: NodeRef[][] = []
    for (let i = 0; i < count; i++) {
      const reply = await ring.rpc.findSuccessor(asked, BigInt(i))
      replies.push(reply.done ? [] : reply.closer)
    }
    return replies
  }

  it(`keeps at most MAX_WIRE_LEARNED_PEERS (${MAX_WIRE_LEARNED_PEERS}) of them in the peer store, and the peers it uses or knew otherwise`, async () => {
    const [victim, other] = nodes
    // the first answer names the cached peer too
    answer = named => Array.from({ length: MAX_PEERS_PER_MESSAGE }, (_, i) => named === 0 && i === 0 ? madeUpPeer(named, cached) : madeUpPeer(named + i))

    const replies = await ask(ANSWERS)
    // every answer was taken: the entries were valid, so only the store's bound holds them back
    assert.equal(replies.flat().length, ANSWERS * MAX_PEERS_PER_MESSAGE)
    const last = replies[replies.length - 1]

    // the liar, the other ring member, the cached peer and the victim's own entry may be there besides
    await waitFor(async () => (await victim.libp2p.peerStore.all()).length <= MAX_WIRE_LEARNED_PEERS + 4,
      `the peer store held more than ${MAX_WIRE_LEARNED_PEERS} made-up peers`, 30_000)
    // the peers named last are the ones kept: the node can still dial where an answer sends it
    for (const node of last) {
      assert.ok(await victim.libp2p.peerStore.has(peerIdFromString(node.peer)), 'a peer just named is not in the peer store')
    }
    assert.ok(await victim.libp2p.peerStore.has(other.peerId), 'the ring neighbour left the peer store')
    assert.ok(await victim.libp2p.peerStore.has(liar.peerId), 'a connected peer left the peer store')
    assert.ok(await victim.libp2p.peerStore.has(cached), 'a peer the node knew before the answers left the peer store')
    const owner = await victim.lookup('still routes')
    assert.ok(owner.peerId.equals(victim.peerId) || owner.peerId.equals(other.peerId))
  })

  it(`lets no answer pile addresses onto one peer: one it knows only from answers holds at most MAX_ADDRS_PER_PEER (${MAX_ADDRS_PER_PEER}), one it knew otherwise takes them only below that`, async () => {
    const [victim] = nodes
    const onlyNamed = madeUpPeerId()
    // each answer names one peer over and over, each time with other addresses, and the cached one
    answer = named => [
      ...Array.from({ length: MAX_PEERS_PER_MESSAGE - 1 }, (_, i) => madeUpPeer(named + i, onlyNamed)),
      madeUpPeer(named + MAX_PEERS_PER_MESSAGE, cached)
    ]
    const replies = await ask(20)
    assert.deepEqual(replies[0].map(node => node.peer), [onlyNamed.toString(), cached.toString()], 'a peer named twice in one answer is taken once')

    const addresses = async (peerId: PeerId): Promise<number> => (await victim.libp2p.peerStore.get(peerId)).addresses.length
    assert.ok(await addresses(onlyNamed) <= MAX_ADDRS_PER_PEER, `${await addresses(onlyNamed)} addresses`)
    assert.ok(await addresses(cached) < 2 * MAX_ADDRS_PER_PEER, `${await addresses(cached)} addresses`)
  })
})

/**
 * A peer on the public Internet whose answers name private addresses (10.x, 192.168.x, 127.0.0.1,
 * IPv6 unique-local and link-local) for peers, made up or real: the node stores them to dial the
 * peers later, and each dial would open a connection into its operator's own network and send it
 * the first bytes of a libp2p handshake. All traffic here is on 127.0.0.1, so the node is told
 * which peers to take as reached over a public address.
 */
describe('a peer reached over a public address whose answers name private addresses', function () {
  this.timeout(60_000)
  const { startLibp2p, serve } = nodesStoppedAfterEach({ connectionGater: loopbackDialsOnly })
  let victim: TransportUnderTest
  let victimLibp2p: ChordLibp2p
  let liar: TransportUnderTest
  let liarRef: NodeRef
  /** whether the victim takes the liar to be reached over a public address */
  let liarIsPublic: boolean
  /** named with private and public addresses */
  let mixed: NodeRef
  /** named with private addresses only */
  let onlyPrivate: NodeRef

  beforeEach(async () => {
    liarIsPublic = true
    const liarKey = await generateKeyPair('Ed25519')
    const liarLibp2p = await startLibp2p({ privateKey: liarKey })
    liarRef = { id: ringIdOf(liarLibp2p.peerId), peer: liarLibp2p.peerId.toString() }
    const [mixedId, onlyPrivateId] = [madeUpPeerId(), madeUpPeerId()]
    mixed = { id: ringIdOf(mixedId), peer: mixedId.toString() }
    onlyPrivate = { id: ringIdOf(onlyPrivateId), peer: onlyPrivateId.toString() }
    // the liar names them with the addresses its peer store holds
    await liarLibp2p.peerStore.merge(mixedId, { multiaddrs: [...PRIVATE_ADDRESSES, ...PUBLIC_ADDRESSES] })
    await liarLibp2p.peerStore.merge(onlyPrivateId, { multiaddrs: PRIVATE_ADDRESSES })
    const named = { successors: [mixed, onlyPrivate] }
    liar = await serve(liarLibp2p, {
      privateKey: liarKey,
      handler: strangerHandler({
        onFindSuccessor: () => ({ done: false, closer: named.successors }),
        onGetNeighbours: () => named,
        onDelegatedLookup: async () => named.successors,
        onFindOwner: () => ({ owner: liarRef, neighbours: named })
      })
    })

    victimLibp2p = await startLibp2p()
    victim = await serve(victimLibp2p, {
      // takes the liar's LEAVING as a neighbour's, whose neighbours it decodes
      handler: strangerHandler({ isNeighbour: () => true }),
      isPrivateConnection: connection => !(liarIsPublic && connection.remotePeer.equals(liarLibp2p.peerId))
    })
    await victimLibp2p.dial(liarLibp2p.getMultiaddrs()[0])
    // the liar's LEAVING goes over this connection: it has no address of the victim to dial
    await waitFor(() => liarLibp2p.getConnections(victimLibp2p.peerId).length > 0, 'the liar to hold the victim\'s connection')
  })

  /** What the victim's peer store holds for `node`: its addresses as sorted text, undefined when it does not know it */
  async function stored (node: NodeRef): Promise<string[] | undefined> {
    return storedAddresses(victimLibp2p.peerStore, peerIdFromString(node.peer))
  }

  /** Each way an answer reaches the node: what the victim does to take one in */
  const answers: Array<[string, () => Promise<unknown>]> = [
    ['a FIND_SUCCESSOR answer', async () => victim.findSuccessor(liarRef, 1n)],
    ['a GET_NEIGHBOURS answer', async () => victim.getNeighbours(liarRef)],
    ['a LOOKUP answer', async () => victim.delegateLookup(liarRef, 1n)],
    ['an owner\'s signed statement', async () => victim.findOwner(liarRef, 1n)],
    ['a neighbour\'s LEAVING', async () => liar.leaving({ id: ringIdOf(victimLibp2p.peerId), peer: victimLibp2p.peerId.toString() }, { successors: [mixed, onlyPrivate] })]
  ]

  for (const [answer, take] of answers) {
    it(`stores only the public addresses ${answer} names, and no peer it names with private ones alone`, async () => {
      await take()
      assert.deepEqual(await stored(mixed), sorted(PUBLIC_ADDRESSES))
      assert.equal(await stored(onlyPrivate), undefined)
    })
  }

  it('takes the peers themselves, so a peer it can reach otherwise is still routed to', async () => {
    const reply = await victim.findSuccessor(liarRef, 1n)
    assert.deepEqual(reply, { done: false, closer: [mixed, onlyPrivate] })
  })

  it('stores every address from a peer on its own network (a ring on a LAN, or on one host)', async () => {
    liarIsPublic = false
    await victim.findSuccessor(liarRef, 1n)
    assert.deepEqual(await stored(mixed), sorted([...PRIVATE_ADDRESSES, ...PUBLIC_ADDRESSES]))
    assert.deepEqual(await stored(onlyPrivate), sorted(PRIVATE_ADDRESSES))
  })
})
