/**
 * Many lookups at once on a ring of real nodes (TCP on 127.0.0.1): every one answers, with the
 * true owner. In a ring this small a burst concentrates on each owner's last hop, whose requests
 * in flight to the owner are capped (MAX_PASSED_ON_IN_FLIGHT_PER_PEER): past the cap a request waits
 * briefly for a place (MAX_PASS_ON_QUEUE_WAIT), then the relay refuses, and the asker walks the
 * ring instead, which must answer as truly.
 *
 * Most lookups of the burst dial nodes not yet connected, and send many requests at once on the
 * fresh connection: none of them may break it (see stream-pool.ts on early streams).
 */
import assert from 'node:assert/strict'
import { keyPosition, ringIdFromBytes } from '../../src/chord/id.js'
import { MAX_PASSED_ON_IN_FLIGHT_PER_PEER } from '../../src/transport/constants.js'
import { expectedOwner, startRing, stopAll } from '../helpers/ring.js'
import type { ChordNode } from '../../src/index.js'

const NODES = 12

/** Lookups each node starts at once: together many times what one relay may have in flight to one next node */
const LOOKUPS_PER_NODE = 3 * MAX_PASSED_ON_IN_FLIGHT_PER_PEER

describe('bursts of lookups on a ring of real nodes', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it(`${NODES} nodes each starting ${LOOKUPS_PER_NODE} lookups at once: every one answers, with the true owner, recursively or walking the ring`, async () => {
    nodes = await startRing(NODES)
    const keys = nodes.map((_node, i) => Array.from({ length: LOOKUPS_PER_NODE }, (_, j) => `burst-${i}-${j}`))
    const broken: string[] = []
    for (const node of nodes) {
      node.libp2p.addEventListener('connection:close', ({ detail }) => {
        if (detail.status === 'aborted') {
          broken.push(`${node.peerId.toString()} → ${detail.remotePeer.toString()}`)
        }
      })
    }
    const began = Date.now()
    const answers = await Promise.all(nodes.flatMap((node, i) => keys[i].map(async key => ({ key, answer: await node.lookup(key) }))))

    assert.deepEqual(broken, [], 'connections broke during the burst')
    const wrong = answers.filter(({ key, answer }) => answer.peerId.toString() !== expectedOwner(nodes, ringIdFromBytes(keyPosition(key))).peerId.toString())
    assert.deepEqual(wrong.map(({ key }) => key), [], 'lookups answered with another node than the owner')
    const remote = answers.filter(({ answer }) => answer.hops > 0)
    const recursive = remote.filter(({ answer }) => answer.recursive === true).length
    assert.ok(remote.length > 0, 'no lookup asked the ring')
    console.log(`      ${answers.length} lookups at once, ${remote.length} through the ring: ${recursive} answered recursively, the rest walked, in ${Date.now() - began} ms`)
  })
})
