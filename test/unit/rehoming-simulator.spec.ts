import assert from 'node:assert/strict'
import { equals } from 'uint8arrays/equals'
import { hashToRingId, ringIdFromBytes, ringIdToBytes } from '../../src/chord/id.js'
import { Rehoming } from '../../src/chord/rehoming.js'
import { createRecord } from '../../src/chord/record.js'
import { NodeDownError, Simulator, seededRandom } from '../helpers/simulator.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { ChordRecord } from '../../src/chord/record.js'

const HOUR = 3_600_000
const REPLICAS = 3

async function settledRing (size: number, seed: number): Promise<Simulator> {
  const sim = new Simulator({ replicas: REPLICAS })
  await sim.grow(size, seededRandom(seed))
  await sim.roundsUntil(() => sim.isConsistent(), 200)
  return sim
}

function rehomingFor (sim: Simulator, ring: ChordRing, maxRangesPerRound?: number): Rehoming {
  const { store, replication } = sim.recordsOf(ring.self.peer)
  return new Rehoming({
    ring,
    replication,
    store,
    maxRangesPerRound,
    rpc: {
      getNeighbours: async to => {
        if (!sim.alive.has(to.peer)) {
          throw new NodeDownError(`${to.peer} is down`)
        }
        return structuredClone(sim.ringOf(to.peer).onGetNeighbours(ring.self))
      }
    }
  })
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

    assert.equal(await rehomingFor(sim, holder).rehome(), 3)
    for (const record of records) {
      assert.equal(await holds(sim, holder.self.peer, record), false)
      for (const name of replicaNames(sim, record.key)) {
        assert.ok(await holds(sim, name, record), `${name} is a replica and lacks the record`)
      }
    }
    // a settled ring has nothing misplaced: nothing moves, nothing is deleted
    for (const ring of sim.liveRings()) {
      assert.equal(await rehomingFor(sim, ring).rehome(), 0)
    }
  })

  it('moves at most MAX_REHOMED_RANGES_PER_ROUND owner ranges a round; the rest follow in later rounds', async () => {
    const sim = await settledRing(20, 32)
    const holder = sim.liveRings()[1]
    const records = misplacedRecords(sim, holder.self.peer, 3)
    await sim.recordsOf(holder.self.peer).store.put(records)

    const rehoming = rehomingFor(sim, holder, 1)
    assert.deepEqual([await rehoming.rehome(), await rehoming.rehome(), await rehoming.rehome(), await rehoming.rehome()], [1, 1, 1, 0])
  })

  it('keeps the records when a replica does not take them', async () => {
    const sim = await settledRing(20, 33)
    const holder = sim.liveRings()[2]
    const [record] = misplacedRecords(sim, holder.self.peer, 1)
    await sim.recordsOf(holder.self.peer).store.put([record])
    sim.kill(replicaNames(sim, record.key)[1])

    await assert.rejects(rehomingFor(sim, holder).rehome(), { name: 'NodeDownError' })
    assert.ok(await holds(sim, holder.self.peer, record))
  })

  it('moves nothing in a ring of r nodes or fewer, where every node replicates everything', async () => {
    const sim = await settledRing(REPLICAS, 34)
    const holder = sim.liveRings()[0]
    const record = createRecord(ringIdToBytes(hashToRingId(new TextEncoder().encode('k'))), new Uint8Array([1]), Date.now() + HOUR)
    await sim.recordsOf(holder.self.peer).store.put([record])
    assert.equal(await rehomingFor(sim, holder).rehome(), 0)
    assert.ok(await holds(sim, holder.self.peer, record))
  })
})
