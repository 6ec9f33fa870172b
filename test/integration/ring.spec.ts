import assert from 'node:assert/strict'
import { hashToRingId, keyPosition, ringIdFromBytes } from '../../src/chord/id.js'
import { ownerInSuccessorList } from '../../src/chord/lookup.js'
import { crash, expectedOwner, sortedByRingId, startNode, startRing, stopAll, waitForConsistentRing, ringOf } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'

/** Lookups of `keys` random keys from every node: how many answers differ from the sorted-id oracle */
async function wrongLookups (nodes: ChordNode[], keys: number): Promise<number> {
  let wrong = 0
  for (let k = 0; k < keys; k++) {
    const key = `key-${k}-${Math.random()}`
    const owner = expectedOwner(nodes, ringIdFromBytes(keyPosition(key)))
    const answers = await Promise.all(nodes.map(async node => node.lookup(key)))
    wrong += answers.filter(a => !a.peerId.equals(owner.peerId)).length
  }
  return wrong
}

describe('a ring of real libp2p nodes on 127.0.0.1', function () {
  this.timeout(180_000)
  let nodes: ChordNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('16 nodes form one ring in which every lookup finds the true owner', async () => {
    nodes = await startRing(16)

    // following successors visits every node exactly once
    const visited = new Set<string>()
    let current = nodes[0]
    for (let i = 0; i < nodes.length; i++) {
      visited.add(current.peerId.toString())
      const next = nodes.find(n => ringOf(n).self.peer === ringOf(current).table.successor.peer)
      assert.ok(next, 'every successor is a ring member')
      current = next
    }
    assert.equal(visited.size, nodes.length)
    assert.equal(current, nodes[0])

    // pred(succ(n)) = n
    for (const node of nodes) {
      const successor = nodes.find(n => ringOf(n).self.peer === ringOf(node).table.successor.peer)
      assert.ok(successor != null)
      assert.equal(ringOf(successor).table.predecessor?.peer, ringOf(node).self.peer)
    }

    assert.equal(await wrongLookups(nodes, 200), 0)
  })

  it('converges again after graceful stops and crashes, with correct lookups', async () => {
    nodes = await startRing(12)

    const leaving = nodes.splice(3, 2)
    await Promise.all(leaving.map(async node => node.stop()))
    await waitForConsistentRing(nodes, 10_000)
    assert.equal(await wrongLookups(nodes, 30), 0)

    const crashed = nodes.splice(5, 3)
    await Promise.all(crashed.map(crash))
    const took = await waitForConsistentRing(nodes, 20_000)
    console.log(`      ring healed ${took} ms after 3 of 10 nodes crashed`)
    await waitFor(async () => (await wrongLookups(nodes, 10)) === 0, 'correct lookups', 20_000)
    assert.equal(await wrongLookups(nodes, 30), 0)
    await stopAll(crashed)

    // and new nodes can still join, through different members
    nodes.push(await startNode(nodes[0]))
    nodes.push(await startNode(nodes[4]))
    await waitForConsistentRing(nodes)
    assert.equal(await wrongLookups(nodes, 30), 0)
  })

  it('a graceful stop closes the ring at once', async () => {
    nodes = await startRing(6)
    await waitForConsistentRing(nodes)
    const sorted = sortedByRingId(nodes)
    const [before, leaver, after] = [sorted[1], sorted[2], sorted[3]]
    nodes.splice(nodes.indexOf(leaver), 1)
    await leaver.stop()
    // the neighbours were told before stop() returned: no stabilize round or failure detection
    // was needed for them to point at each other
    assert.equal(ringOf(before).table.successor.peer, ringOf(after).self.peer)
    assert.equal(ringOf(after).table.predecessor?.peer, ringOf(before).self.peer)
    await waitForConsistentRing(nodes)
  })

  it('reports hop counts and ring ids for lookups', async () => {
    nodes = await startRing(8)
    const answer = await nodes[0].lookup('some key')
    const owner = expectedOwner(nodes, hashToRingId(new TextEncoder().encode('some key')))
    assert.equal(answer.ringId, owner.ringId)
    assert.ok(answer.hops >= 0 && answer.hops <= 8)
  })

  it('a key between two of a node\'s successors is confirmed by its owner in one round trip, without a route or a signed statement', async () => {
    nodes = await startRing(8)
    let spanned = 0
    for (let k = 0; k < 40; k++) {
      const key = `spanned-${k}`
      const position = ringIdFromBytes(keyPosition(key))
      const owner = expectedOwner(nodes, position)
      for (const node of nodes.filter(node => ownerInSuccessorList(ringOf(node).table, position) != null)) {
        spanned++
        const answer = await node.lookup(key)
        assert.ok(answer.peerId.equals(owner.peerId))
        assert.deepEqual({ hops: answer.hops, checks: answer.checks, recursive: answer.recursive }, { hops: 0, checks: 1, recursive: undefined })
      }
    }
    // of a node's 8 gaps, 6 lie between two nodes of its list (the first is its own, the last after the list)
    assert.ok(spanned > 100, `only ${spanned} of 320 lookups were of keys a successor list spans`)
  })
})
