import assert from 'node:assert/strict'
import { hashToRingId, ringIdToBytes } from '../../src/chord/id.js'
import { InvalidOptionsError, LookupFailedError, createChordNode } from '../../src/index.js'
import { createRecord } from '../../src/chord/record.js'
import { Simulator, seededRandom } from '../helpers/simulator.js'
import type { ChordRing } from '../../src/chord/ring.js'

const HOUR = 3_600_000
const RING_SIZE = 12
const CLIENT = 'client'

/** Every ring member that has the client anywhere in its routing table */
function membersThatKnowTheClient (sim: Simulator): string[] {
  return sim.liveRings()
    .filter(ring => ring.self.peer !== CLIENT)
    .filter(ring => ring.table.knownNodes().some(node => node.peer === CLIENT))
    .map(ring => ring.self.peer)
}

describe('client mode', function () {
  this.timeout(60_000)

  it('uses the ring without ever notifying or being adopted by a member (simulated network)', async () => {
    const random = seededRandom(31)
    const sentByClient = new Map<string, number>()
    const sim = new Simulator({
      onMessage: (from, _to, kind) => {
        if (from.peer === CLIENT) {
          sentByClient.set(kind, (sentByClient.get(kind) ?? 0) + 1)
        }
      }
    })
    await sim.grow(RING_SIZE, random)
    await sim.roundsUntil(() => sim.isConsistent(), 100)

    const client = await sim.addNode(CLIENT, { clientMode: true })
    await client.join(sim.liveRings()[0].self)
    for (let round = 0; round < 30; round++) {
      await sim.round()
    }

    assert.ok((sentByClient.get('getNeighbours') ?? 0) > 0, 'the client kept its view of the ring fresh')
    assert.equal(sentByClient.get('notify') ?? 0, 0)
    assert.deepEqual(membersThatKnowTheClient(sim), [])
    assert.ok(sim.isConsistent())

    for (let k = 0; k < 50; k++) {
      const id = hashToRingId(new TextEncoder().encode(`key-${k}`))
      const { successors } = await client.lookup(id)
      assert.equal(successors[0].peer, sim.expectedOwner(id).peer)
    }

    const key = ringIdToBytes(hashToRingId(new TextEncoder().encode('note')))
    const record = createRecord(key, new TextEncoder().encode('from the client'), Date.now() + HOUR)
    const { replicas } = await sim.recordsOf(CLIENT).replication.put([record])
    assert.equal(replicas, 3)
    assert.deepEqual(await sim.recordsOf(CLIENT).store.get(key), [], 'the client keeps no records')
    const member = sim.recordsOf(sim.expectedOwner(hashToRingId(key)).peer)
    assert.equal((await member.replication.get(key)).length, 1)
  })

  it('names nobody, itself included, while it knows no ring node', async () => {
    const sim = new Simulator()
    const client: ChordRing = await sim.addNode(CLIENT, { clientMode: true })
    const id = hashToRingId(new TextEncoder().encode('anything'))

    assert.deepEqual(client.onFindSuccessor(client.self, id), { done: false, closer: [] })
    await assert.rejects(client.lookup(id), LookupFailedError)
  })

  it('cannot start a ring of its own', async () => {
    await assert.rejects(createChordNode({ clientMode: true }), InvalidOptionsError)
  })
})
