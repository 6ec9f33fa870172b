import assert from 'node:assert/strict'
import { hashToRingId, ringIdToBytes } from '../../src/chord/id.js'
import { ForbiddenError, InvalidOptionsError, LookupFailedError, createChordNode } from '../../src/index.js'
import { createRecord } from '../../src/chord/record.js'
import { MAX_LOOKUP_DELEGATES } from '../../src/chord/constants.js'
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

  it('asks a ring node to run each lookup (one request), and walks the ring itself when its delegates fail', async () => {
    const random = seededRandom(7)
    let counting = false
    let delegatesFail = false
    const sent = new Map<string, number>()
    const sim = new Simulator({
      onMessage: (from, _to, kind) => {
        if (counting && from.peer === CLIENT) {
          sent.set(kind, (sent.get(kind) ?? 0) + 1)
        }
        if (delegatesFail && kind === 'delegateLookup') {
          throw new Error('this ring node runs no lookups for others')
        }
      }
    })
    await sim.grow(RING_SIZE, random)
    await sim.roundsUntil(() => sim.isConsistent(), 100)
    const client = await sim.addNode(CLIENT, { clientMode: true })
    await client.join(sim.liveRings()[0].self)
    await sim.round()

    const ids = Array.from({ length: 20 }, (_, k) => hashToRingId(new TextEncoder().encode(`key-${k}`)))
    counting = true
    for (const id of ids) {
      const { successors, hops } = await client.lookup(id)
      assert.equal(successors[0].peer, sim.expectedOwner(id).peer)
      assert.ok(hops <= 1)
    }
    counting = false
    // ids the client owns no closer knowledge of are each one request to a delegate, never a walk
    assert.ok((sent.get('delegateLookup') ?? 0) <= ids.length)
    assert.equal(sent.get('findSuccessor') ?? 0, 0, 'the client walked the ring itself')

    // its delegates refuse (an older node, an overloaded one): it finds the owner node by node
    delegatesFail = true
    sent.clear()
    counting = true
    for (const id of ids.slice(0, 5)) {
      assert.equal((await client.lookup(id)).successors[0].peer, sim.expectedOwner(id).peer)
    }
    assert.ok((sent.get('findSuccessor') ?? 0) > 0, 'the client fell back to walking the ring')
    assert.ok((sent.get('delegateLookup') ?? 0) <= MAX_LOOKUP_DELEGATES, 'once every delegate failed, the next lookups do not ask them again at once')
  })

  it('runs lookups for clients as a ring member, and refuses to as a client', async () => {
    const sim = new Simulator()
    await sim.grow(4, seededRandom(3))
    await sim.roundsUntil(() => sim.isConsistent(), 100)
    const client = await sim.addNode(CLIENT, { clientMode: true })
    await client.join(sim.liveRings()[0].self)
    const id = hashToRingId(new TextEncoder().encode('some key'))
    const member = sim.liveRings()[1]
    assert.equal((await member.onDelegatedLookup(client.self, id))[0].peer, sim.expectedOwner(id).peer)
    await assert.rejects(client.onDelegatedLookup(member.self, id), ForbiddenError)
  })

  it('names nobody, itself included, while it knows no ring node', async () => {
    const sim = new Simulator()
    const client: ChordRing = await sim.addNode(CLIENT, { clientMode: true })
    const id = hashToRingId(new TextEncoder().encode('anything'))

    assert.deepEqual(client.onFindSuccessor(client.self, id), { done: false, closer: [] })
    await assert.rejects(client.lookup(id), (err: Error) => err instanceof LookupFailedError && /knows no ring node .* try again shortly/.test(err.message))
  })

  it('cannot start a ring of its own', async () => {
    await assert.rejects(createChordNode({ clientMode: true }), InvalidOptionsError)
  })
})
