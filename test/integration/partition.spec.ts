import assert from 'node:assert/strict'
import { Partition, startGatedRing } from '../helpers/partition.js'
import { ringIsConsistent, sortedByRingId, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'

/** Whether every node reads back every value written (nodes ask in parallel) */
async function readableEverywhere (nodes: ChordNode[], written: Map<string, Uint8Array[]>): Promise<boolean> {
  const canRead = async (node: ChordNode): Promise<boolean> => {
    for (const [key, values] of written) {
      const found = await node.get(key).catch(() => [])
      if (!values.every(value => found.some(f => Buffer.from(f).equals(value)))) {
        return false
      }
    }
    return true
  }
  return (await Promise.all(nodes.map(canRead))).every(Boolean)
}

describe('healing a partitioned ring', function () {
  this.timeout(180_000)
  let nodes: ChordNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  const splits: Array<{ shape: string, sides: (sorted: ChordNode[]) => ChordNode[][] }> = [{
    // every node loses its successor and its predecessor
    shape: 'every other node in ring order',
    sides: sorted => [sorted.filter((_, i) => i % 2 === 0), sorted.filter((_, i) => i % 2 === 1)]
  }, {
    // a side's records under keys in the other side's arc end up on nodes that are, after the
    // merge, up to six nodes past the keys' new replicas
    shape: 'two arcs of six',
    sides: sorted => [sorted.slice(0, 6), sorted.slice(6)]
  }]

  for (const split of splits) {
    it(`merges halves split as ${split.shape} into one ring where every record written on either side during the split is readable`, async () => {
      const partition = new Partition()
      const ring = await startGatedRing(partition, 12, nodes)
      const sorted = sortedByRingId(ring)
      const sides = split.sides(sorted)
      await partition.split(sides)
      const apart = await waitFor(() => sides.every(side => ringIsConsistent(side)), 'each half to be a ring of its own', 60_000)
      console.log(`      each half formed its own ring ${apart} ms after the split`)

      // both sides accept writes, under their own keys and under one key they share
      const written = new Map<string, Uint8Array[]>()
      for (const [s, side] of sides.entries()) {
        for (let i = 0; i < 8; i++) {
          const value = new TextEncoder().encode(`side ${s} record ${i}`)
          const { replicas } = await side[i % side.length].put(`side-${s}-${i}`, value)
          assert.equal(replicas, 3)
          written.set(`side-${s}-${i}`, [value])
        }
        const shared = new TextEncoder().encode(`shared, from side ${s}`)
        await side[5].put('shared', shared)
        written.set('shared', [...written.get('shared') ?? [], shared])
      }
      // still two rings: nothing crosses while the split lasts
      assert.ok(sides.every(side => ringIsConsistent(side)))

      partition.heal()
      const merged = await waitForConsistentRing(ring, 60_000)
      console.log(`      one consistent ring of 12 again ${merged} ms after the split ended`)
      assert.ok(ring.every(node => node.status === 'joined'))

      const reconciled = await waitFor(async () => readableEverywhere(ring, written), 'every record readable from every node', 60_000)
      console.log(`      every record written during the split readable from all 12 nodes ${reconciled} ms later`)
    })
  }
})
