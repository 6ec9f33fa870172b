/**
 * A ring member whose answers name made-up peers. Every FIND_SUCCESSOR answer may name
 * MAX_PEERS_PER_MESSAGE peers with their addresses, and a node stores the addresses of peers it
 * does not know so that it can dial them next. PeerIds cost nothing to make up (a random public
 * key, no private key needed), so a peer that the node asks often enough could grow the node's
 * peer store without bound. The node keeps at most MAX_WIRE_LEARNED_PEERS peers known only from
 * answers; past it, the one named longest ago leaves the peer store, unless the node connected to
 * it or holds it in its routing table.
 */
import { strict as assert } from 'node:assert'
import { peerIdFromString } from '@libp2p/peer-id'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { frameStream } from '../../src/protocol/framing.js'
import { Request, Response } from '../../src/protocol/generated/chord.js'
import { internalsOf } from '../../src/testing.js'
import { MAX_MESSAGE_SIZE, MAX_PEERS_PER_MESSAGE, PROTOCOL } from '../../src/transport/constants.js'
import { ringIdOf } from '../../src/transport/ring-id.js'
import { MAX_WIRE_LEARNED_PEERS } from '../../src/transport/wire-peers.js'
import { madeUpPeer } from '../helpers/made-up-peer.js'
import { startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { ChordNode } from '../../src/index.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'

/** Answers enough to name more made-up peers than the node keeps, by a few answers' worth */
const ANSWERS = Math.ceil(MAX_WIRE_LEARNED_PEERS / MAX_PEERS_PER_MESSAGE) + 4

describe('a ring member whose answers name made-up peers', function () {
  this.timeout(180_000)
  let nodes: ChordNode[] = []
  let liar: ChordLibp2p

  before(async () => {
    nodes = await startRing(2)
    liar = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'], peerExchange: false })
    let named = 0
    await liar.handle(PROTOCOL, async stream => {
      const framed = frameStream(stream, MAX_MESSAGE_SIZE)
      try {
        while (true) {
          const request = Request.decode(await framed.read())
          const peers = Array.from({ length: MAX_PEERS_PER_MESSAGE }, () => madeUpPeer(named++))
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

  it(`keeps at most MAX_WIRE_LEARNED_PEERS (${MAX_WIRE_LEARNED_PEERS}) of them in the peer store, and the peers it uses`, async () => {
    const [victim, other] = nodes
    const { ring } = internalsOf(victim)
    await victim.libp2p.dial(liar.getMultiaddrs()[0])
    const asked = { id: ringIdOf(liar.peerId), peer: liar.peerId.toString() }

    let closer = 0
    let last: NodeRef[] = []
    for (let i = 0; i < ANSWERS; i++) {
      const reply = await ring.rpc.findSuccessor(asked, BigInt(i))
      last = reply.done ? [] : reply.closer
      closer += last.length
    }
    // every answer was taken: the entries were valid, so only the store's bound holds them back
    assert.equal(closer, ANSWERS * MAX_PEERS_PER_MESSAGE)

    // the liar, the other ring member and the victim's own entry may be there besides
    await waitFor(async () => (await victim.libp2p.peerStore.all()).length <= MAX_WIRE_LEARNED_PEERS + 3,
      `the peer store held more than ${MAX_WIRE_LEARNED_PEERS} made-up peers`, 30_000)
    // the peers named last are the ones kept: the node can still dial where an answer sends it
    for (const node of last) {
      assert.ok(await victim.libp2p.peerStore.has(peerIdFromString(node.peer)), 'a peer just named is not in the peer store')
    }
    assert.ok(await victim.libp2p.peerStore.has(other.peerId), 'the ring neighbour left the peer store')
    assert.ok(await victim.libp2p.peerStore.has(liar.peerId), 'a connected peer left the peer store')
    const answer = await victim.lookup('still routes')
    assert.ok(answer.peerId.equals(victim.peerId) || answer.peerId.equals(other.peerId))
  })
})
