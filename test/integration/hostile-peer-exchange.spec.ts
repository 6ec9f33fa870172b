/**
 * Strangers in a ring node's peer store. Anyone can connect with a fresh key, be identified as
 * speaking /chord/1.0.0, and leave: libp2p keeps every identified peer for hours, and a rate
 * limit per PeerId does not stop a fresh key a round. A node that answered peer exchange from its
 * peer store would scan all of them for every request and pass them on to honest nodes as ring
 * nodes. Answers come from the peers the ring itself vouches for instead: its routing table and
 * its peer cache.
 */
import { strict as assert } from 'node:assert'
import { multiaddr } from '@multiformats/multiaddr'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { PROTOCOL as CHORD_PROTOCOL } from '../../src/transport/constants.js'
import { madeUpPeerId } from '../helpers/made-up-peer.js'
import { startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'

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
