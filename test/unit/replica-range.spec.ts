/**
 * Which keys a node takes a STORE for: those of its r + REPLICA_RANGE_GRACE_NODES predecessors'
 * ranges, learnt by walking the predecessor chain, checked against what its own table knows.
 */
import assert from 'node:assert/strict'
import { ringIdToBytes } from '../../src/chord/id.js'
import { REPLICA_RANGE_GRACE_NODES, REPLICA_RANGE_RECHECK_INTERVAL } from '../../src/chord/constants.js'
import { ReplicaRange } from '../../src/chord/replica-range.js'
import { createRecord } from '../../src/chord/record.js'
import { ForbiddenError, QuotaExceededError } from '../../src/errors.js'
import { storedSize } from '../../src/storage/record-layout.js'
import { Simulator, seededRandom } from '../helpers/simulator.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { Neighbours, NodeRef } from '../../src/chord/rpc.js'
import type { LevelRecordStore } from '../../src/storage/level-store.js'
import type { StoreLimits } from '../../src/storage/store-limits.js'

const REPLICAS = 3

async function settledRing (size: number, seed: number, storeLimits?: Partial<StoreLimits>): Promise<Simulator> {
  const sim = new Simulator({ replicas: REPLICAS, storeLimits })
  await sim.grow(size, seededRandom(seed))
  await sim.roundsUntil(() => sim.isConsistent(), 200)
  for (let i = 0; i < 40; i++) {
    await sim.round()
  }
  return sim
}

/** What `to` answers GET_NEIGHBOURS with, in the simulator */
function neighboursOf (sim: Simulator, asker: ChordRing): (to: NodeRef) => Promise<Neighbours> {
  return async to => structuredClone(sim.ringOf(to.peer).onGetNeighbours(asker.self))
}

/** The node `k` places before `name` in the ring (k = 1: its predecessor) */
function predecessorAt (sim: Simulator, name: string, k: number): NodeRef {
  const sorted = sim.sortedLiveIds()
  const at = sorted.findIndex(n => n.peer === name)
  return sorted[(at - k + sorted.length * 2) % sorted.length]
}

describe('the keys a node takes a STORE for', () => {
  it('are those of its r + grace predecessors\' ranges, and its neighbours are that chain and its successors', async () => {
    const sim = await settledRing(16, 5)
    const name = sim.sortedLiveIds()[7].peer
    const ring = sim.ringOf(name)
    const range = new ReplicaRange({ ring, rpc: { getNeighbours: neighboursOf(sim, ring) } })
    // until the chain is walked, every key is taken
    assert.equal(range.known, false)
    assert.equal(range.admits(ringIdToBytes(ring.self.id + 1n)), true)

    await range.refresh()
    assert.equal(range.known, true)
    const lowest = predecessorAt(sim, name, REPLICAS + REPLICA_RANGE_GRACE_NODES)
    const beyond = predecessorAt(sim, name, REPLICAS + REPLICA_RANGE_GRACE_NODES + 1)
    assert.equal(range.admits(ringIdToBytes(ring.self.id)), true)
    assert.equal(range.admits(ringIdToBytes(lowest.id + 1n)), true)
    assert.equal(range.admits(ringIdToBytes(lowest.id)), false)
    assert.equal(range.admits(ringIdToBytes(beyond.id)), false)
    assert.equal(range.admits(ringIdToBytes(ring.self.id + 1n)), false)

    for (let k = 1; k <= REPLICAS + REPLICA_RANGE_GRACE_NODES; k++) {
      assert.equal(range.isNeighbour(predecessorAt(sim, name, k).peer), true, `predecessor ${k}`)
      assert.equal(range.isNeighbour(predecessorAt(sim, name, -k).peer), true, `successor ${k}`)
    }
    assert.equal(range.isNeighbour(beyond.peer), false)
  })

  it('names the range each walked predecessor is the primary of, and none for other peers', async () => {
    const sim = await settledRing(16, 5)
    const name = sim.sortedLiveIds()[7].peer
    const ring = sim.ringOf(name)
    const range = new ReplicaRange({ ring, rpc: { getNeighbours: neighboursOf(sim, ring) } })
    assert.equal(range.rangeReplicatedFor(predecessorAt(sim, name, 1).peer), undefined, 'nothing until walked')
    await range.refresh()
    for (let k = 1; k < REPLICAS + REPLICA_RANGE_GRACE_NODES; k++) {
      assert.deepEqual(range.rangeReplicatedFor(predecessorAt(sim, name, k).peer),
        { from: predecessorAt(sim, name, k + 1).id, until: predecessorAt(sim, name, k).id }, `predecessor ${k}`)
    }
    // the farthest walked, whose own predecessor is not known; a successor; ourselves
    assert.equal(range.rangeReplicatedFor(predecessorAt(sim, name, REPLICAS + REPLICA_RANGE_GRACE_NODES).peer), undefined)
    assert.equal(range.rangeReplicatedFor(predecessorAt(sim, name, -1).peer), undefined)
    assert.equal(range.rangeReplicatedFor(name), undefined)
  })

  it('takes every key in a ring of r + grace nodes or fewer, where every node keeps them all', async () => {
    const sim = await settledRing(REPLICAS + REPLICA_RANGE_GRACE_NODES, 6)
    const ring = sim.liveRings()[0]
    const range = new ReplicaRange({ ring, rpc: { getNeighbours: neighboursOf(sim, ring) } })
    await range.refresh()
    assert.equal(range.known, true)
    assert.equal(range.admits(ringIdToBytes(ring.self.id + 1n)), true)
  })

  it('does not let a predecessor that lies about its own predecessor widen the range past the nodes it knows', async () => {
    const sim = await settledRing(16, 7)
    const name = sim.sortedLiveIds()[3].peer
    const ring = sim.ringOf(name)
    const truthful = neighboursOf(sim, ring)
    const first = predecessorAt(sim, name, 1)
    // the predecessor names as its own predecessor our successor: the whole ring but one range
    const liar = async (to: NodeRef): Promise<Neighbours> => to.peer === first.peer
      ? { predecessor: ring.table.successor, successors: [ring.self] }
      : truthful(to)
    const range = new ReplicaRange({ ring, rpc: { getNeighbours: liar } })
    await range.refresh()
    // the nearest node our own table knows between the claim and the liar is taken instead, and
    // the walk goes on from it: the lie widens the range by the stretch of ring we know nothing
    // of (here from p2 to where our successors and fingers reach), not to the whole ring
    const claimed = ring.table.successor
    assert.equal(range.admits(ringIdToBytes(claimed.id)), false)
    for (const successor of ring.table.getSuccessors().slice(0, 4)) {
      assert.equal(range.admits(ringIdToBytes(successor.id)), false, 'a successor of ours')
    }
    const truthfulRange = new ReplicaRange({ ring, rpc: { getNeighbours: truthful } })
    await truthfulRange.refresh()
    assert.equal(truthfulRange.admits(ringIdToBytes(predecessorAt(sim, name, 8).id)), false)
  })

  it('takes nobody\'s keys on a client', async () => {
    const sim = await settledRing(8, 8)
    const client = await sim.addNode('client', { clientMode: true })
    await client.join(sim.liveRings()[0].self)
    const range = new ReplicaRange({ ring: client, rpc: { getNeighbours: neighboursOf(sim, client) } })
    await range.refresh()
    assert.equal(range.admits(ringIdToBytes(0n)), false)
  })

  it('is what a node\'s STOREs are held to: records of other keys are left out, a STORE of only those refused; what it says it keeps', async () => {
    const sim = await settledRing(16, 9)
    const name = sim.sortedLiveIds()[5].peer
    const node = sim.nodes.get(name)
    assert.ok(node != null)
    await node.replicaRange.refresh()
    const stranger: NodeRef = { id: 1n, peer: 'a stranger' }
    const ours = createRecord(ringIdToBytes(node.self.id), new Uint8Array([1]), Date.now() + 60_000)
    const theirs = createRecord(ringIdToBytes(node.self.id + 1n), new Uint8Array([2]), Date.now() + 60_000)
    const handler = node.handlerOf('records')
    assert.ok(handler != null)

    await assert.rejects(handler.onStoreRecords(stranger, [theirs]), ForbiddenError)
    await handler.onStoreRecords(stranger, [ours, theirs])
    const { store, replication } = sim.recordsOf(name)
    assert.deepEqual([await replication.keeps(ours.key), await replication.keeps(theirs.key)], [true, false])
    assert.equal((await store.get(ours.key)).length, 1)
    assert.equal((await store.get(theirs.key)).length, 0)
    // a node's own writes are its own business
    await handler.onStoreRecords(node.self, [theirs])
    assert.equal((await store.get(theirs.key)).length, 1)
  })

  it('holds the identities of one subnet to its share of the store together, the records they carry for others too', async () => {
    const size = storedSize(1)
    const sim = await settledRing(16, 9, { maxBytesPerWriter: 2 * size, maxBytesPerSubnet: 3 * size })
    const name = sim.sortedLiveIds()[5].peer
    const node = sim.nodes.get(name)
    assert.ok(node != null)
    await node.replicaRange.refresh()
    const handler = node.handlerOf('records')
    assert.ok(handler != null)
    const ours = (i: number): ChordRecord => createRecord(ringIdToBytes(node.self.id), new Uint8Array([i]), Date.now() + 60_000)
    const sybil = (i: number): NodeRef => ({ id: BigInt(i + 1) << 240n, peer: `sybil ${i}` })
    const subnet = '203.0.113.0/24'

    // three identities of one subnet, each under its own share: the third record fills the subnet's
    await handler.onStoreRecords(sybil(0), [ours(0), ours(1)], [], { subnet })
    await handler.onStoreRecords(sybil(1), [ours(2)], [], { subnet })
    await assert.rejects(handler.onStoreRecords(sybil(2), [ours(3)], [], { subnet }), QuotaExceededError)
    // carried for another identity, the record is its relay's, and the relay's subnet's
    await assert.rejects(handler.onStoreRecords(sybil(2), [ours(3)], [], { subnet, carriedFor: sybil(4).peer }), QuotaExceededError)
    // written from another subnet, the record is taken
    await handler.onStoreRecords(sybil(3), [ours(3)], [], { subnet: '198.51.100.0/24' })
    const { store } = sim.recordsOf(name)
    assert.equal((await store.get(ringIdToBytes(node.self.id))).length, 4)
  })

  it('names a writer\'s subnet only to the nodes that replicate with it, and takes one only from them', async () => {
    const sim = await settledRing(16, 9)
    const sorted = sim.sortedLiveIds()
    const name = sorted[5].peer
    const node = sim.nodes.get(name)
    assert.ok(node != null)
    await node.replicaRange.refresh()
    const subnet = '203.0.113.0/24'
    const writer = new Uint8Array(8).fill(0x5a)
    const copy: ChordRecord = { ...createRecord(ringIdToBytes(node.self.id), new Uint8Array([9]), Date.now() + 60_000), writer, writerSubnet: subnet }

    // what a successor (a ring neighbour) and a node far round the ring (rehoming sends there) are handed
    const [neighbour, far] = [sorted[6].peer, sorted[13].peer]
    const handed = new Map<string, Array<string | undefined>>()
    for (const peer of [neighbour, far]) {
      const { replication } = sim.recordsOf(peer)
      const take = replication.onStoreRecords.bind(replication)
      replication.onStoreRecords = async (from, records, deletions, options) => {
        handed.set(peer, records.map(record => record.writerSubnet))
        return take(from, records, deletions, options)
      }
    }
    const { replication, store } = sim.recordsOf(name)
    for (const peer of [neighbour, far]) {
      await replication.storeConfirmed(sorted.find(n => n.peer === peer) as NodeRef, [copy]).catch(() => [])
    }
    assert.deepEqual(Object.fromEntries(handed), { [neighbour]: [subnet], [far]: [undefined] })

    // a stranger's record names its writer's subnet in vain: the stranger is the writer, of no subnet over loopback
    const handler = node.handlerOf('records')
    assert.ok(handler != null)
    await handler.onStoreRecords({ id: 7n << 240n, peer: 'a stranger' }, [copy], [], {})
    assert.deepEqual(await (store as LevelRecordStore).subnetStats(subnet), { records: 0, bytes: 0 })
  })

  it('walks on past a node its table knows between that does not answer, to the one that was named', async () => {
    const sim = await settledRing(16, 8)
    const name = sim.sortedLiveIds()[5].peer
    const ring = sim.ringOf(name)
    const truthful = neighboursOf(sim, ring)
    // the second predecessor is known to our table but cut off: it answers nobody
    const cutOff = predecessorAt(sim, name, 2)
    const range = new ReplicaRange({
      ring,
      rpc: {
        getNeighbours: async to => {
          if (to.peer === cutOff.peer) {
            throw new Error('cut off')
          }
          const answer = await truthful(to)
          // the first predecessor names the one before the cut-off node, as it would once it left
          return answer.predecessor?.peer === cutOff.peer ? { ...answer, predecessor: predecessorAt(sim, name, 3) } : answer
        }
      }
    })
    ring.table.setFinger(0, cutOff)
    ring.table.setFinger(1, cutOff)
    assert.ok(ring.table.knownNodes().some(node => node.peer === cutOff.peer), 'the table knows the cut-off node')

    await range.refresh()
    assert.equal(range.predecessor(1)?.peer, predecessorAt(sim, name, 1).peer)
    assert.equal(range.predecessor(2)?.peer, predecessorAt(sim, name, 3).peer, 'the named node stands in for the one that did not answer')
  })

  it('takes every key while it walks again after its neighbours changed, and holds to the walk once it is done', async () => {
    const sim = await settledRing(16, 9)
    const name = sim.sortedLiveIds()[9].peer
    const ring = sim.ringOf(name)
    const truthful = neighboursOf(sim, ring)
    /** the walk waits here until the test lets it go on */
    const gate: { release?: () => void } = {}
    const letGo = (): void => { gate.release?.() }
    const range = new ReplicaRange({
      ring,
      rpc: {
        getNeighbours: async to => {
          if (gate.release == null) {
            await new Promise<void>(resolve => { gate.release = resolve })
          }
          return truthful(to)
        }
      }
    })
    const walked = range.refresh()
    await waitFor(() => gate.release != null, 'the first walk to ask', 5000)
    letGo()
    await walked
    const outside = ringIdToBytes(ring.self.id + 1n)
    assert.equal(range.admits(outside), false)

    gate.release = undefined
    range.start()
    // start walks again as a change of neighbours does: until it is done, every key is taken
    assert.equal(range.admits(outside), true)
    await waitFor(() => gate.release != null, 'the walk after the change to ask', 5000)
    letGo()
    await waitFor(() => !range.admits(outside), 'the range to hold again once the walk is done', 5000)
    range.stop()
  })
  it(`walks again when a STORE brings a key just outside a stale chain, at most once per REPLICA_RANGE_RECHECK_INTERVAL (${REPLICA_RANGE_RECHECK_INTERVAL} ms)`, async () => {
    const sim = await settledRing(16, 8)
    const name = sim.sortedLiveIds()[7].peer
    const ring = sim.ringOf(name)
    let asked = 0
    const ask = neighboursOf(sim, ring)
    const range = new ReplicaRange({ ring, rpc: { getNeighbours: async to => { asked++; return ask(to) } } })
    range.start()
    await waitFor(() => range.known, 'the first walk')
    const lowest = predecessorAt(sim, name, REPLICAS + REPLICA_RANGE_GRACE_NODES)
    const key = ringIdToBytes(lowest.id)
    assert.equal(range.admits(key), false)

    // the third predecessor dies and the ring mends around it; this node's own neighbours stay
    // as they were, so nothing tells its range that its lower end moved back one node
    sim.kill(predecessorAt(sim, name, 3).peer)
    await sim.roundsUntil(() => sim.isConsistent(), 100)
    assert.equal(range.admits(key), false, 'the chain as last walked')

    const before = asked
    assert.equal(await range.recheck(), true)
    assert.equal(range.admits(key), true, 'the key the dead node\'s range handed on')
    assert.equal(asked - before, REPLICAS + REPLICA_RANGE_GRACE_NODES - 1)
    // a stranger's STOREs asking again and again get no walk until the interval has passed
    for (let i = 0; i < 10; i++) {
      assert.equal(await range.recheck(), false)
    }
    assert.equal(asked - before, REPLICAS + REPLICA_RANGE_GRACE_NODES - 1)
    range.stop()
  })
})
