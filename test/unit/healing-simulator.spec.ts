import assert from 'node:assert/strict'
import { equals } from 'uint8arrays/equals'
import { distance, hashToRingId, inOpenInterval, ringIdToBytes } from '../../src/chord/id.js'
import { createRecord } from '../../src/chord/record.js'
import { Simulator, seededRandom } from '../helpers/simulator.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { ChordRecord } from '../../src/chord/record.js'

const HOUR = 3_600_000

function recordFor (name: string): ChordRecord {
  const key = ringIdToBytes(hashToRingId(new TextEncoder().encode(`key-${name}`)))
  return createRecord(key, new TextEncoder().encode(`value-${name}`), Date.now() + HOUR)
}

/**
 * Two rings that never met, as after a partition: ring A is built, then frozen (marked down)
 * while ring B grows among the live nodes only, then A comes back. Neither ring knows the other.
 */
async function twoRings (sizeA: number, sizeB: number, seed: number): Promise<{ sim: Simulator, random: () => number, a: string[], b: string[] }> {
  const random = seededRandom(seed)
  const sim = new Simulator()
  await sim.grow(sizeA, random, 'a')
  await sim.roundsUntil(() => sim.isConsistent(), 200)
  const a = [...sim.alive]
  a.forEach(name => { sim.kill(name) })
  await sim.grow(sizeB, random, 'b')
  await sim.roundsUntil(() => sim.isConsistent(), 200)
  const b = [...sim.alive]
  a.forEach(name => sim.alive.add(name))
  return { sim, random, a, b }
}

/** One healing round: every node looks itself up through a random node outside its routing table */
async function healRound (sim: Simulator, random: () => number): Promise<number> {
  const everyone = sim.liveRings()
  const results = await Promise.all(everyone.map(async ring => {
    const known = new Set([ring.self.peer, ...ring.table.knownNodes().map(n => n.peer)])
    const outside = everyone.filter(other => !known.has(other.self.peer))
    if (outside.length === 0) {
      return false
    }
    const entry = outside[Math.floor(random() * outside.length)]
    return ring.healThrough(entry.self).catch(() => false)
  }))
  return results.filter(Boolean).length
}

function successorsOf (ring: ChordRing): string[] {
  return ring.table.getSuccessors().map(s => s.peer)
}

describe('partition healing in the ring core (simulated network)', function () {
  this.timeout(120_000)

  it('a lookup through a node of the same ring changes nothing', async () => {
    const { sim, random } = await twoRings(12, 1, 21)
    const before = sim.liveRings().map(successorsOf)
    // the one b node is a ring of its own: take the a nodes only
    const aRings = sim.liveRings().filter(r => r.self.peer.startsWith('a'))
    for (const ring of aRings) {
      const entry = aRings[Math.floor(random() * aRings.length)]
      if (entry !== ring) {
        assert.equal(await ring.healThrough(entry.self), false)
      }
    }
    assert.deepEqual(sim.liveRings().map(successorsOf), before)
  })

  it('a node alone adopts the successor a lookup through another ring names', async () => {
    const { sim, b } = await twoRings(10, 1, 22)
    const alone = sim.ringOf(b[0])
    assert.equal(alone.table.getSuccessors().length, 0)
    assert.equal(await alone.healThrough(sim.ringOf('a-0').self), true)
    await sim.roundsUntil(() => sim.isConsistent(), 50)
  })

  it('does not adopt a node that does not answer', async () => {
    const { sim, a, b } = await twoRings(10, 10, 23)
    // a node of ring A with a node of ring B between it and its successor: the one a lookup names
    const bRings = b.map(name => sim.ringOf(name))
    const pairs = a.map(name => sim.ringOf(name)).map(node => {
      const after = bRings.filter(other => inOpenInterval(other.self.id, node.self.id, node.table.successor.id))
      return { node, closer: after.sort((x, y) => (distance(node.self.id, x.self.id) < distance(node.self.id, y.self.id) ? -1 : 1))[0] }
    })
    const { node, closer } = pairs.find(pair => pair.closer != null) ?? assert.fail('no b node falls inside an a node\'s successor interval')
    sim.kill(closer.self.peer)
    const entry = bRings.find(other => other !== closer) ?? assert.fail('ring B has one node')

    const before = successorsOf(node)
    await assert.rejects(node.healThrough(entry.self), { name: 'NodeDownError' })
    assert.deepEqual(successorsOf(node), before)
  })

  it('merges two rings of 30 into one consistent ring, and every record written on either side is readable from every node', async () => {
    const { sim, random, a, b } = await twoRings(30, 30, 24)
    assert.equal(sim.isConsistent(), false)

    // each side writes while the rings are apart, one key on both sides
    const written: ChordRecord[] = []
    for (const [side, names] of [['a', a], ['b', b]] as const) {
      for (let i = 0; i < 10; i++) {
        const record = recordFor(`${side}-${i}`)
        await sim.recordsOf(names[i]).replication.put([record])
        written.push(record)
      }
      const shared = createRecord(recordFor('shared').key, new TextEncoder().encode(`shared from ${side}`), Date.now() + HOUR)
      await sim.recordsOf(names[0]).replication.put([shared])
      written.push(shared)
    }

    let rounds = 0
    while (!sim.isConsistent()) {
      assert.ok(rounds++ < 100, 'the rings did not merge within 100 rounds')
      await healRound(sim, random)
      await sim.round()
    }
    console.log(`      two rings of 30 merged in ${rounds} healing + maintenance rounds`)

    // handoff ran as predecessors changed; rehoming brings home what landed beyond the new
    // replica sets, and anti-entropy evens out the replicas
    for (let i = 0; i < 2; i++) {
      await sim.rehomeRound()
      await sim.antiEntropyRound()
    }
    for (const ring of sim.liveRings()) {
      for (const record of written) {
        const found = await sim.recordsOf(ring.self.peer).replication.get(record.key)
        assert.ok(found.some(r => equals(r.id, record.id)), `${ring.self.peer} cannot read a record written during the split`)
      }
    }
  })
})
