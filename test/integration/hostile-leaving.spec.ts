/**
 * A stranger says it is leaving: a LEAVING hands over the leaver's neighbours, each with up to a
 * few addresses, so that its predecessor and successor close the ring at once. Only a neighbour's
 * neighbours are taken in; anyone else's are never decoded, so a stranger cannot fill the node's
 * peer store with made-up peers and their addresses, nor move its neighbours.
 */
import { strict as assert } from 'node:assert'
import { frameStream } from '../../src/protocol/framing.js'
import { MessageType, Request, Response } from '../../src/protocol/generated/chord.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { MAX_MESSAGE_SIZE, MAX_PEERS_PER_MESSAGE, PROTOCOL } from '../../src/transport/constants.js'
import { internalsOf } from '../../src/testing.js'
import { madeUpPeer } from '../helpers/made-up-peer.js'
import { startRing, stopAll } from '../helpers/ring.js'
import type { ChordNode } from '../../src/index.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'

/** LEAVINGs the stranger sends, each naming as many made-up peers as a message may */
const LEAVINGS = 20

describe('a stranger\'s LEAVING', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []
  let stranger: ChordLibp2p

  before(async () => {
    nodes = await startRing(3)
    stranger = await createChordLibp2p({ listen: [], peerExchange: false })
  })

  after(async () => {
    await stranger.stop()
    await stopAll(nodes)
  })

  it('adds no peer to the peer store and moves no neighbour', async () => {
    const [victim] = nodes
    const peersBefore = (await victim.libp2p.peerStore.all()).length
    const { ring } = internalsOf(victim)
    const neighboursBefore = ring.getNeighbours()

    await stranger.dial(victim.getMultiaddrs()[0])
    const framed = frameStream(await stranger.dialProtocol(victim.peerId, PROTOCOL), MAX_MESSAGE_SIZE)
    for (let i = 0; i < LEAVINGS; i++) {
      const successors = Array.from({ length: MAX_PEERS_PER_MESSAGE }, (_, j) => madeUpPeer(i * MAX_PEERS_PER_MESSAGE + j))
      await framed.write(Request.encode({ type: MessageType.LEAVING, neighbours: { successors, predecessor: successors[0] } }))
      assert.equal(Response.decode(await framed.read()).status, Response.Status.OK)
    }

    // the stranger's own entry is the one the peer store may gain: it connected
    assert.ok((await victim.libp2p.peerStore.all()).length <= peersBefore + 1, 'made-up peers reached the peer store')
    assert.deepEqual(ring.getNeighbours(), neighboursBefore)
  })
})
