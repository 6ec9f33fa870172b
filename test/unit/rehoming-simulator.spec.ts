import assert from 'node:assert/strict'
import { equals } from 'uint8arrays/equals'
import { compareIds, distance, hashToRingId, inHalfOpenInterval, inOpenInterval, ringIdFromBytes, ringIdToBytes } from '../../src/chord/id.js'
import { REPLICA_RANGE_GRACE_NODES } from '../../src/chord/constants.js'
import { Rehoming } from '../../src/chord/rehoming.js'
import { createRecord } from '../../src/chord/record.js'
import { Simulator, seededRandom } from '../helpers/simulator.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { NodeRef } from '../../src/chord/rpc.js'

const HOUR = 3_600_000
const REPLICAS = 3

async function settledRing (size: number, seed: number): Promise<Simulator> {
  const sim = new Simulator({ replicas: REPLICAS })
  await sim.grow(size, seededRandom(seed))
  await sim.roundsUntil(() => sim.isConsistent(), 200)
  return sim
}

/** A node's rehoming pass, after it walked its predecessor chain */
async function rehomingFor (sim: Simulator, ring: ChordRing, maxRangesPerRound?: number): Promise<Rehoming> {
  const node = sim.nodes.get(ring.self.peer) ?? assert.fail(`no node ${ring.self.peer}`)
  await node.replicaRange.refresh()
  const { store, replication } = sim.recordsOf(ring.self.peer)
  return new Rehoming({ ring, range: node.replicaRange, replication, store, maxRangesPerRound })
}

/** The true replica set of a ring position, by the sorted list of ids */
function replicaNames (sim: Simulator, key: Uint8Array): string[] {
  const sorted = sim.sortedLiveIds()
  const owner = sorted.indexOf(sim.expectedOwner(ringIdFromBytes(key)))
  return Array.from({ length: REPLICAS }, (_, k) => sorted[(owner + k) % sorted.length].peer)
}

/** A record for each of `count` different owners, none of which has `holder` among its replicas */
function misplacedRecords (sim: Simulator, holder: string, count: number): ChordRecord[] {
  const records: ChordRecord[] = []
  const owners = new Set<string>()
  for (let i = 0; records.length < count; i++) {
    const key = ringIdToBytes(hashToRingId(new TextEncoder().encode(`key-${i}`)))
    const replicas = replicaNames(sim, key)
    if (!replicas.includes(holder) && !owners.has(replicas[0])) {
      owners.add(replicas[0])
      records.push(createRecord(key, new TextEncoder().encode(`value-${i}`), Date.now() + HOUR))
    }
  }
  return records
}

async function holds (sim: Simulator, name: string, record: ChordRecord): Promise<boolean> {
  const found = await sim.recordsOf(name).store.get(record.key)
  return found.some(r => equals(r.id, record.id))
}

describe('rehoming misplaced records (simulated network)', function () {
  this.timeout(60_000)

  it('moves records a node holds outside its replica range to their replica sets, then deletes its own copies', async () => {
    const sim = await settledRing(20, 31)
    const holder = sim.liveRings()[0]
    const records = misplacedRecords(sim, holder.self.peer, 3)
    await sim.recordsOf(holder.self.peer).store.put(records)

    assert.equal(await (await rehomingFor(sim, holder)).rehome(), 3)
    for (const record of records) {
      assert.equal(await holds(sim, holder.self.peer, record), false)
      for (const name of replicaNames(sim, record.key)) {
        assert.ok(await holds(sim, name, record), `${name} is a replica and lacks the record`)
      }
    }
    // a settled ring has nothing misplaced: nothing moves, nothing is deleted
    for (const ring of sim.liveRings()) {
      assert.equal(await (await rehomingFor(sim, ring)).rehome(), 0)
    }
  })

  it('moves at most MAX_REHOMED_RANGES_PER_ROUND owner ranges a round; the rest follow in later rounds', async () => {
    const sim = await settledRing(20, 32)
    const holder = sim.liveRings()[1]
    const records = misplacedRecords(sim, holder.self.peer, 3)
    await sim.recordsOf(holder.self.peer).store.put(records)

    const rehoming = await rehomingFor(sim, holder, 1)
    assert.deepEqual([await rehoming.rehome(), await rehoming.rehome(), await rehoming.rehome(), await rehoming.rehome()], [1, 1, 1, 0])
  })

  it('keeps the records when a replica does not take them', async () => {
    const sim = await settledRing(20, 33)
    const holder = sim.liveRings()[2]
    const [record] = misplacedRecords(sim, holder.self.peer, 1)
    await sim.recordsOf(holder.self.peer).store.put([record])
    const rehoming = await rehomingFor(sim, holder)
    sim.kill(replicaNames(sim, record.key)[1])

    assert.equal(await rehoming.rehome(), 0)
    assert.ok(await holds(sim, holder.self.peer, record))
  })

  it('moves nothing in a ring of r nodes or fewer, where every node replicates everything', async () => {
    const sim = await settledRing(REPLICAS, 34)
    const holder = sim.liveRings()[0]
    const record = createRecord(ringIdToBytes(hashToRingId(new TextEncoder().encode('k'))), new Uint8Array([1]), Date.now() + HOUR)
    await sim.recordsOf(holder.self.peer).store.put([record])
    assert.equal(await (await rehomingFor(sim, holder)).rehome(), 0)
    assert.ok(await holds(sim, holder.self.peer, record))
  })
})

describe('rehoming next to a predecessor that lies about its own predecessor (simulated network)', function () {
  this.timeout(60_000)

  /** Names whose ring positions lie in (from, to), nearest `to` first */
  function namesBetween (from: bigint, to: bigint, count: number, prefix: string): string[] {
    const found: string[] = []
    for (let i = 0; found.length < count; i++) {
      const name = `${prefix}-${i}`
      if (inOpenInterval(hashToRingId(new TextEncoder().encode(name)), from, to)) {
        found.push(name)
      }
    }
    return found.sort((a, b) => compareIds(distance(position(a), to), distance(position(b), to)))
  }

  const position = (name: string): bigint => hashToRingId(new TextEncoder().encode(name))

  /** A record under a key in (from, to] */
  function recordBetween (from: bigint, to: bigint, prefix: string): ChordRecord {
    for (let i = 0; ; i++) {
      const key = ringIdToBytes(hashToRingId(new TextEncoder().encode(`${prefix}-${i}`)))
      if (inHalfOpenInterval(ringIdFromBytes(key), from, to)) {
        return createRecord(key, new TextEncoder().encode(`${prefix}-${i}`), Date.now() + HOUR)
      }
    }
  }

  it('never lets a node delete a record before every node of its new replica set holds it', async () => {
    const sim = await settledRing(12, 35)
    // every node's first r successors settled too, so that lookups name the true replica sets
    await sim.roundsUntil(() => sim.sortedLiveIds().every((node, i, sorted) => sim.ringOf(node.peer).table.getSuccessors().slice(0, REPLICAS)
      .every((successor, k) => successor.peer === sorted[(i + 1 + k) % sorted.length].peer)), 50)
    const sorted = sim.sortedLiveIds()
    const at = (i: number): NodeRef => sorted[(i + sorted.length) % sorted.length]
    // the victim V, its lying predecessor P, and the honest node before P
    const victim = at(6)
    const liar = at(5)
    const beforeLiar = at(4)

    // P names as its predecessor a node of its own between the honest one and itself, which
    // names another, and so on: the victim's view of its predecessors shrinks to (Y4, V]
    const sybils = namesBetween(beforeLiar.id, liar.id, REPLICA_RANGE_GRACE_NODES + REPLICAS - 1, 'sybil')
    const refs: NodeRef[] = []
    for (const name of sybils) {
      // off the ring (a client holds no position), so the oracle does not count them
      const ring = await sim.addNode(name, { clientMode: true })
      refs.push(ring.self)
    }
    const lie = (ring: ChordRing, predecessor: NodeRef): void => {
      const honest = ring.onGetNeighbours.bind(ring)
      ring.onGetNeighbours = from => ({ ...honest(from), predecessor })
    }
    lie(sim.ringOf(liar.peer), refs[0])
    refs.slice(1).forEach((ref, i) => { lie(sim.ringOf(sybils[i]), ref) })
    const victimNode = sim.nodes.get(victim.peer) ?? assert.fail('no victim')
    await victimNode.replicaRange.refresh()
    const lowest = refs[refs.length - 1].id
    assert.equal(victimNode.replicaRange.admits(ringIdToBytes(lowest)), false, 'the lie narrowed what the victim takes')

    // a node far from P's range holds two records of it (as after a merge): one under a key the
    // victim now refuses, one under a key it still takes and that P's story leaves to P (a
    // lookup checks the owner it is told with that owner's own predecessor)
    const holder = at(10)
    const refused = recordBetween(beforeLiar.id, lowest, 'refused')
    const taken = recordBetween(refs[0].id, liar.id, 'taken')
    await sim.recordsOf(holder.peer).store.put([refused, taken])
    assert.deepEqual(replicaNames(sim, refused.key), [liar.peer, victim.peer, at(7).peer])

    await (await rehomingFor(sim, sim.ringOf(holder.peer))).rehome().catch(() => {})
    for (const record of [refused, taken]) {
      if (!await holds(sim, holder.peer, record)) {
        for (const name of replicaNames(sim, record.key)) {
          assert.ok(await holds(sim, name, record), `${holder.peer} deleted a record ${name} does not hold`)
        }
      }
    }
    assert.equal(await holds(sim, holder.peer, taken), false, 'the record every replica took has moved')

    // nor does the victim, which now sees part of its own range as someone else's, move any of it
    const own = recordBetween(at(3).id, at(4).id, 'own')
    await sim.recordsOf(victim.peer).store.put([own])
    assert.equal(await (await rehomingFor(sim, sim.ringOf(victim.peer))).rehome(), 0)
    assert.ok(await holds(sim, victim.peer, own))
  })

  it('keeps the records when a lookup names fewer than r nodes', async () => {
    const sim = await settledRing(12, 36)
    const holder = sim.liveRings()[0]
    const [record] = misplacedRecords(sim, holder.self.peer, 1)
    await sim.recordsOf(holder.self.peer).store.put([record])
    // every node answers that the key's successors are one node alone, and so does the owner
    // when the lookup checks with it
    const [owner] = replicaNames(sim, record.key)
    for (const ring of sim.liveRings()) {
      ring.onFindSuccessor = () => ({ done: true, successors: [sim.ringOf(owner).self] })
    }
    const ownerRing = sim.ringOf(owner)
    const honest = ownerRing.onGetNeighbours.bind(ownerRing)
    ownerRing.onGetNeighbours = from => ({ ...honest(from), successors: [] })
    assert.equal(await (await rehomingFor(sim, holder)).rehome(), 0)
    assert.ok(await holds(sim, holder.self.peer, record))
  })
})
