/**
 * Recursive lookups (chord/recursive-lookup.ts) on the simulated network: the request goes from
 * node to node until the owner answers for itself, and the asker takes the answer only if it holds
 * (else it walks the ring). On libp2p the owner signs its statement; the simulator gives the
 * statement to the node that made it, whatever that node names, which is what the signature
 * guarantees (test/integration/find-owner.spec.ts shows the signature's side).
 */
import assert from 'node:assert/strict'
import { ForbiddenError, LookupFailedError, LookupVerificationError, QuotaExceededError, RemoteError, RequestTimeoutError } from '../../src/errors.js'
import { MAX_CARRIED_VALUE_BYTES } from '../../src/chord/constants.js'
import { distance, hashToRingId, ringIdFromBytes, ringIdToBytes } from '../../src/chord/id.js'
import { answerFindSuccessor } from '../../src/chord/lookup.js'
import { createRecord, writerTag } from '../../src/chord/record.js'
import { findOwnerRecursively, stepTowardsOwner } from '../../src/chord/recursive-lookup.js'
import { RoutingTable } from '../../src/chord/routing-table.js'
import { MAX_OWNER_ROUTE_HOPS, MIN_PASS_ON_WAIT, REQUEST_TIMEOUT } from '../../src/transport/constants.js'
import { passOnTimeout, silenceBlames } from '../../src/transport/handlers/find-owner.js'
import { settledSimulation } from '../helpers/simulator.js'
import type { Simulator } from '../helpers/simulator.js'
import type { RingId } from '../../src/chord/id.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { ChordRpc, FindOwnerStep, FindSuccessorReply, NodeRef, OwnerStatement } from '../../src/chord/rpc.js'

const idOf = (text: string): RingId => hashToRingId(new TextEncoder().encode(text))

async function settledRing (size: number, seed: number, init: { recursiveLookups?: boolean } = { recursiveLookups: true }): Promise<{ sim: Simulator, random: () => number }> {
  return settledSimulation(size, seed, init)
}

function pick<T> (items: T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]
}

describe('recursive lookups (simulated network)', function () {
  this.timeout(120_000)

  it('in a settled ring of 128, every lookup is answered by its owner through the nodes\' own tables, in about as many steps as walking the ring', async () => {
    const { sim, random } = await settledRing(128, 41)
    const rings = sim.liveRings()
    let recursive = 0
    let recursiveSteps = 0
    let walkedSteps = 0
    let remote = 0
    for (let k = 0; k < 200; k++) {
      const id = idOf(`recursive-${k}`)
      const from = pick(rings, random)
      const answer = await from.lookup(id)
      assert.equal(answer.successors[0].peer, sim.expectedOwner(id).peer)
      if (answer.hops === 0) {
        continue
      }
      remote++
      assert.equal(answer.recursive, true, 'a lookup in a settled ring walked the ring')
      assert.equal(answer.ownerPredecessor?.peer, sim.sortedLiveIds().find((_node, i, sorted) => sorted[(i + 1) % sorted.length].peer === answer.successors[0].peer)?.peer)
      recursive++
      recursiveSteps += answer.hops
      const walked = await (from as unknown as { walkedLookup: ChordRing['lookup'] }).walkedLookup(id, {})
      walkedSteps += walked.hops + (walked.checks ?? 0)
    }
    assert.ok(remote > 150, `only ${remote} lookups left their node`)
    assert.equal(recursive, remote)
    // each walked step is one of the asker's round trips; each recursive one, a node passing it on
    const perLookup = { recursive: recursiveSteps / remote, walked: walkedSteps / remote }
    assert.ok(Math.abs(perLookup.recursive - perLookup.walked) <= 0.5, `recursive ${perLookup.recursive} steps against ${perLookup.walked} walking the ring`)
  })

  it('a replica set from a recursive lookup is the one the owner names', async () => {
    const { sim, random } = await settledRing(32, 42)
    const sorted = sim.sortedLiveIds()
    for (let k = 0; k < 60; k++) {
      const id = idOf(`replicas-${k}`)
      const at = sorted.findIndex(node => node.peer === sim.expectedOwner(id).peer)
      const { successors } = await pick(sim.liveRings(), random).lookup(id, { successorCount: 3 })
      assert.deepEqual(successors.map(node => node.peer), [0, 1, 2].map(i => sorted[(at + i) % sorted.length].peer))
    }
  })

  it('3 nodes of 16 that pass lookups on wrongly, round in circles, or claim ids they do not own: no lookup names a wrong owner', async () => {
    const { sim, random } = await settledRing(16, 43)
    const sorted = sim.sortedLiveIds()
    const liars = [sorted[2], sorted[7], sorted[12]]
    const ownerAt = (id: RingId): number => sorted.findIndex(node => node.peer === sim.expectedOwner(id).peer)
    const lies: Array<(ring: ChordRing, from: NodeRef, id: RingId) => FindOwnerStep> = [
      // the node two past the owner: it passes the request on the long way round
      (_ring, _from, id) => ({ next: sorted[(ownerAt(id) + 2) % sorted.length] }),
      // back where it came from, for ever: the hops run out
      (_ring, from) => ({ next: from }),
      // "I own it", with its true neighbours: the id is not between them
      (ring) => ({ owner: ring.self, neighbours: { predecessor: ring.table.predecessor, successors: [...ring.table.getSuccessors()] } })
    ]
    let throughALiar = 0
    liars.forEach((liar, i) => {
      const ring = sim.ringOf(liar.peer)
      ring.onFindOwner = (from, id) => { throughALiar++; return lies[i](ring, from, id) }
      // the iterative lookup it falls back on meets the same liar telling the same kind of lie
      ring.onFindSuccessor = (_from, id): FindSuccessorReply => ({ done: true, successors: [0, 1, 2].map(k => sorted[(ownerAt(id) + 2 + k) % sorted.length]) })
    })
    const honest = sim.liveRings().filter(ring => !liars.some(liar => liar.peer === ring.self.peer))
    // in a ring of 16 many ids lie within the asker's successor list, answered without the ring
    const counts = { right: 0, wrong: 0, refused: 0, recursive: 0, throughTheRing: 0 }
    for (let k = 0; k < 200; k++) {
      const id = idOf(`hostile-${k}-${random()}`)
      try {
        const answer = await pick(honest, random).lookup(id)
        counts[answer.successors[0].peer === sim.expectedOwner(id).peer ? 'right' : 'wrong']++
        counts.recursive += answer.recursive === true ? 1 : 0
        counts.throughTheRing += answer.hops > 0 ? 1 : 0
      } catch (err) {
        assert.ok(err instanceof LookupVerificationError, `a lookup failed untyped: ${String(err)}`)
        counts.refused++
      }
    }
    assert.ok(throughALiar > 20, `only ${throughALiar} recursive lookups reached a liar: the attack is not exercised`)
    assert.equal(counts.wrong, 0)
    assert.ok(counts.right >= 190, `only ${counts.right} of 200 lookups found their owner (${counts.refused} refused)`)
    // the liars cost the lookups that met them their recursive answer, not the others theirs
    assert.ok(counts.throughTheRing > 50, `only ${counts.throughTheRing} lookups asked the ring`)
    assert.ok(counts.recursive > 0.25 * counts.throughTheRing && counts.recursive < counts.throughTheRing, `${counts.recursive} of ${counts.throughTheRing} that asked the ring answered recursively`)
  })

  it('a ring of 64 that lost a tenth of its nodes at once: lookups name the true owner or fail typed, and recursive answers come back as it heals', async () => {
    const { sim, random } = await settledRing(64, 44)
    const victims = sim.sortedLiveIds().filter((_node, i) => i % 10 === 3)
    for (const victim of victims) {
      sim.kill(victim.peer)
    }
    const lookups = async (): Promise<{ right: number, wrong: number, refused: number, recursive: number, throughTheRing: number }> => {
      const counts = { right: 0, wrong: 0, refused: 0, recursive: 0, throughTheRing: 0 }
      for (let k = 0; k < 100; k++) {
        const id = idOf(`churn-${k}-${random()}`)
        try {
          const answer = await pick(sim.liveRings(), random).lookup(id)
          counts[answer.successors[0].peer === sim.expectedOwner(id).peer ? 'right' : 'wrong']++
          counts.recursive += answer.recursive === true ? 1 : 0
          counts.throughTheRing += answer.hops > 0 ? 1 : 0
        } catch (err) {
          assert.ok(err instanceof LookupFailedError, `a lookup failed untyped: ${String(err)}`)
          counts.refused++
        }
      }
      return counts
    }
    const before = await lookups()
    assert.equal(before.wrong, 0, 'a lookup named a wrong owner before the ring healed')
    await sim.roundsUntil(() => sim.isConsistent(), 300)
    for (let i = 0; i < 2 * Math.ceil(Math.log2(64)); i++) {
      await sim.round()
    }
    const after = await lookups()
    assert.equal(after.wrong, 0)
    assert.equal(after.refused, 0)
    assert.ok(after.throughTheRing >= 70, `only ${after.throughTheRing} of 100 lookups asked the ring`)
    assert.ok(after.recursive >= 0.95 * after.throughTheRing, `only ${after.recursive} of ${after.throughTheRing} lookups that asked the ring were answered recursively once the ring healed`)
  })

  it('a node that takes the id\'s successor to own it passes the request on as the last hop: a successor that disagrees does not send it round the ring', async () => {
    const { sim, random } = await settledRing(64, 46)
    const sorted = sim.sortedLiveIds()
    // the owner has lost its predecessor (it died a moment ago): it owns nothing it can prove
    const at = 20
    const id = sorted[at - 1].id + 1n
    const owner = sim.ringOf(sorted[at].peer)
    owner.table.setPredecessor(undefined)
    const from = sim.liveRings().filter(ring => ring !== owner && ring.self.peer !== sorted[at - 1].peer)
    const before = sim.messagesByKind.get('findOwner') ?? 0
    const answer = await pick(from, random).lookup(id)
    const asked = (sim.messagesByKind.get('findOwner') ?? 0) - before
    // the walk it falls back on finds the owner; the recursive attempt stopped at it
    assert.equal(answer.successors[0].peer, owner.self.peer)
    assert.notEqual(answer.recursive, true)
    assert.ok(asked >= 1 && asked <= 8, `the recursive attempt went through ${asked} nodes`)
  })

  it('the node a recursive attempt went to and got no answer from is not asked first again by the walk after it', async () => {
    const { sim } = await settledRing(32, 47)
    const asker = sim.liveRings()[5]
    const successors = asker.table.getSuccessors()
    // an id the asker's last successor precedes most closely: the attempt goes to it, a successor
    // (which, unlike a finger, a failure leaves in the table); the list does not span the id, so
    // the lookup asks the ring
    const last = successors[successors.length - 1]
    const id = last.id + 1n
    sim.kill(last.peer)
    const timeouts = sim.timeouts
    const answer = await asker.lookup(id)
    assert.equal(answer.successors[0].peer, sim.expectedOwner(id).peer)
    assert.equal(sim.timeouts - timeouts, 1, 'the dead node was asked more than once')
  })

  it('is not tried when switched off: lookups walk the ring as before', async () => {
    const { sim, random } = await settledRing(16, 45, { recursiveLookups: false })
    const asked: string[] = []
    for (const ring of sim.liveRings()) {
      const answer = ring.onFindOwner.bind(ring)
      ring.onFindOwner = (from, id) => { asked.push(ring.self.peer); return answer(from, id) }
    }
    for (let k = 0; k < 30; k++) {
      const id = idOf(`off-${k}`)
      const answer = await pick(sim.liveRings(), random).lookup(id)
      assert.equal(answer.successors[0].peer, sim.expectedOwner(id).peer)
      assert.notEqual(answer.recursive, true)
    }
    assert.deepEqual(asked, [])
  })
})

describe('one step of a recursive lookup', () => {
  const self: NodeRef = { id: 100n, peer: 'self' }
  const before: NodeRef = { id: 50n, peer: 'before' }
  const after: NodeRef = { id: 200n, peer: 'after' }
  const far: NodeRef = { id: 2n ** 200n, peer: 'far' }
  const table = (clientMode = false): RoutingTable => new RoutingTable(self, { successorListLength: 8, clientMode })

  it('answers as the owner with its neighbours when the id lies between its predecessor and itself', () => {
    const t = table()
    t.setSuccessors([after, far])
    t.setPredecessor(before)
    assert.deepEqual(stepTowardsOwner(t, 80n), { owner: self, neighbours: { predecessor: before, successors: [after, far] } })
  })

  it('passes the request to its successor as the last hop when the id is the successor\'s, and to the nearest node before the id otherwise', () => {
    const t = table()
    t.setSuccessors([after, far])
    t.setPredecessor(before)
    assert.deepEqual(stepTowardsOwner(t, 150n), { next: after, lastHop: true })
    const step = stepTowardsOwner(t, 2n ** 201n)
    assert.ok('next' in step && distance(step.next.id, 2n ** 201n) < distance(self.id, 2n ** 201n), 'the next node is not nearer the id')
    assert.equal('lastHop' in step, false)
  })

  it('refuses as a client, and fails when it would own the id but knows no predecessor to say from where', () => {
    assert.throws(() => stepTowardsOwner(table(true), 80n), ForbiddenError)
    assert.throws(() => stepTowardsOwner(table(), 80n), LookupFailedError)
  })
})

describe('what a recursive lookup takes from an owner statement', () => {
  const self: NodeRef = { id: 100n, peer: 'self' }
  const successor: NodeRef = { id: 200n, peer: 'successor' }
  const target = 1_000n
  const owner: NodeRef = { id: 1_100n, peer: 'owner' }
  const ownerPredecessor: NodeRef = { id: 900n, peer: 'owner-predecessor' }
  const statement = (neighbours: Partial<OwnerStatement['neighbours']> = {}): OwnerStatement =>
    ({ owner, neighbours: { predecessor: ownerPredecessor, successors: [{ id: 1_200n, peer: 'after-owner' }], ...neighbours }, hops: 3 })

  /** A table whose nearest node before the target is its successor, which the lookup asks */
  function tableOf (init: { admits?: (node: NodeRef) => boolean, knows?: NodeRef } = {}): RoutingTable {
    const table = new RoutingTable(self, { successorListLength: 8, admits: init.admits })
    table.setSuccessors([successor])
    table.setPredecessor({ id: 50n, peer: 'predecessor' })
    if (init.knows != null) {
      // finger 9 covers [self + 512, self + 1024)
      table.setFinger(9, init.knows)
    }
    return table
  }

  function answering (answer: () => Promise<OwnerStatement>, asked: NodeRef[] = []): ChordRpc {
    return { findOwner: async (to: NodeRef) => { asked.push(to); return answer() } } as unknown as ChordRpc
  }

  it('takes a statement that holds: the owner, the successors it states, its predecessor, asked through the nearest node before the target', async () => {
    const asked: NodeRef[] = []
    const result = await findOwnerRecursively(tableOf(), answering(async () => statement(), asked), target)
    assert.deepEqual(asked, [successor])
    assert.deepEqual(result, { successors: [owner, { id: 1_200n, peer: 'after-owner' }], hops: 3, checks: 0, ownerPredecessor, recursive: true })
  })

  it('leaves to the walk a statement refuted by a node it knows between the target and the owner', async () => {
    assert.equal(await findOwnerRecursively(tableOf({ knows: { id: 1_050n, peer: 'nearer' } }), answering(async () => statement()), target), undefined)
  })

  it('leaves to the walk a statement whose owner the network\'s rules refuse', async () => {
    const table = tableOf({ admits: node => node.peer !== owner.peer })
    assert.equal(await findOwnerRecursively(table, answering(async () => statement()), target), undefined)
  })

  it('leaves to the walk a statement whose predecessor does not leave the target to the owner, or that names none', async () => {
    assert.equal(await findOwnerRecursively(tableOf(), answering(async () => statement({ predecessor: { id: 1_050n, peer: 'past-the-target' } })), target), undefined)
    assert.equal(await findOwnerRecursively(tableOf(), answering(async () => statement({ predecessor: undefined })), target), undefined)
  })

  it('takes the node it asked out of its routing when it gave no answer in time, not when it answered with an error or reset the stream', async () => {
    const failed: NodeRef[] = []
    const onNodeFailed = (node: NodeRef): void => { failed.push(node) }
    assert.equal(await findOwnerRecursively(tableOf(), answering(async () => { throw new RemoteError('a node further on failed') }), target, {}, onNodeFailed), undefined)
    // a node of an earlier version resets a stream that carries a message it does not know
    assert.equal(await findOwnerRecursively(tableOf(), answering(async () => { throw new Error('the stream was reset') }), target, {}, onNodeFailed), undefined)
    assert.deepEqual(failed, [])
    assert.equal(await findOwnerRecursively(tableOf(), answering(async () => { throw new RequestTimeoutError('no answer') }), target, {}, onNodeFailed), undefined)
    assert.deepEqual(failed, [successor])
  })

  it('gives up at once, with the caller\'s reason, when the caller aborts', async () => {
    const controller = new AbortController()
    controller.abort(new Error('the caller gave up'))
    await assert.rejects(findOwnerRecursively(tableOf(), answering(async () => { throw new Error('aborted') }), target, { signal: controller.signal }), { message: 'aborted' })
  })
})

describe('records carried to the owner (simulated network)', function () {
  this.timeout(120_000)

  /** Nodes holding the put's records, and the STOREs it sent */
  async function putFrom (sim: Simulator, writer: ChordRing, value: Uint8Array, key: Uint8Array, count = 1): Promise<{ holders: string[], stores: number, replicas: number }> {
    const records = Array.from({ length: count }, (_, i) => createRecord(key, Uint8Array.from([...value, i]), Date.now() + 60_000))
    const before = sim.messagesByKind.get('storeRecords') ?? 0
    const { replicas } = await sim.recordsOf(writer.self.peer).replication.put(records)
    const stores = (sim.messagesByKind.get('storeRecords') ?? 0) - before
    const holders: string[] = []
    for (const ring of sim.liveRings()) {
      if ((await sim.recordsOf(ring.self.peer).store.get(key)).length === count) {
        holders.push(ring.self.peer)
      }
    }
    return { holders, stores, replicas }
  }

  /** The key's owner and the r - 1 nodes after it */
  function replicaSet (sim: Simulator, id: RingId): string[] {
    const sorted = sim.sortedLiveIds()
    const owner = sorted.findIndex(node => node.peer === sim.expectedOwner(id).peer)
    return [0, 1, 2].map(i => sorted[(owner + i) % sorted.length].peer).sort()
  }

  it('a put of one small record rides on the recursive lookup: the owner takes it as the writer\'s STORE, the other replicas by STORE', async () => {
    const { sim, random } = await settledRing(64, 47)
    let carried = 0
    for (let k = 0; k < 30; k++) {
      const id = idOf(`carried-${k}`)
      const writer = pick(sim.liveRings(), random)
      const viaRing = answerFindSuccessor(writer.table, id).done === false
      const { holders, stores, replicas } = await putFrom(sim, writer, new TextEncoder().encode(`value ${k}`), ringIdToBytes(id))
      assert.deepEqual(holders.sort(), replicaSet(sim, id))
      assert.equal(replicas, 3)
      // the writer stores on itself without a STORE; the owner that took the carried record gets none
      const uncarried = replicaSet(sim, id).includes(writer.self.peer) ? 2 : 3
      if (viaRing && stores === uncarried - 1) {
        carried++
      } else {
        assert.equal(stores, uncarried, `a put from ${viaRing ? 'a lookup through the ring' : 'its own table'} sent ${stores} STOREs`)
      }
    }
    assert.ok(carried >= 10, `only ${carried} of 30 puts were carried to their owner`)
  })

  it(`a record over MAX_CARRIED_VALUE_BYTES (${MAX_CARRIED_VALUE_BYTES}), or a batch of records, goes to every replica by STORE`, async () => {
    const { sim, random } = await settledRing(64, 53)
    for (let k = 0; k < 10; k++) {
      const id = idOf(`large-${k}`)
      const writer = pick(sim.liveRings().filter(ring => answerFindSuccessor(ring.table, id).done === false && !replicaSet(sim, id).includes(ring.self.peer)), random)
      // a byte over the limit (putFrom adds one to the value); or two small records
      const { holders, stores } = k % 2 === 0
        ? await putFrom(sim, writer, new Uint8Array(MAX_CARRIED_VALUE_BYTES).fill(k), ringIdToBytes(id))
        : await putFrom(sim, writer, new Uint8Array(8).fill(k), ringIdToBytes(id), 2)
      assert.deepEqual(holders.sort(), replicaSet(sim, id))
      assert.equal(stores, 3)
    }
    // and exactly MAX_CARRIED_VALUE_BYTES is carried (putFrom adds one)
    const id = idOf('at the limit')
    const writer = pick(sim.liveRings().filter(ring => answerFindSuccessor(ring.table, id).done === false && !replicaSet(sim, id).includes(ring.self.peer)), random)
    assert.equal((await putFrom(sim, writer, new Uint8Array(MAX_CARRIED_VALUE_BYTES - 1), ringIdToBytes(id))).stores, 2)
  })

  it('a record a ring neighbour hands over carried counts as that neighbour\'s write, not as a repair', async () => {
    const { sim } = await settledRing(16, 61)
    const sorted = sim.sortedLiveIds()
    const [predecessor, owner] = [sorted[3], sorted[4]]
    const handler = sim.nodes.get(owner.peer)?.handlerOf('records')
    assert.ok(handler != null)
    const store = sim.recordsOf(owner.peer).store
    const carried = createRecord(ringIdToBytes(owner.id), new TextEncoder().encode('carried'), Date.now() + 60_000)
    const repaired = createRecord(ringIdToBytes(owner.id), new TextEncoder().encode('repaired'), Date.now() + 60_000)
    await handler.onStoreRecords(predecessor, [carried], [], { carriedFor: 'the writer' })
    await handler.onStoreRecords(predecessor, [repaired])
    const writers = new Map((await store.get(carried.key, { withWriters: true })).map(record => [new TextDecoder().decode(record.value), record.writer]))
    assert.deepEqual(writers.get('carried'), writerTag(predecessor))
    assert.equal(writers.get('repaired'), undefined)
  })

  it('a record the owner refuses is sent again by STORE, which it refuses too: the put counts the other replicas', async () => {
    const { sim, random } = await settledRing(32, 59)
    const id = idOf('refused')
    const owner = sim.expectedOwner(id)
    const writer = pick(sim.liveRings().filter(ring => answerFindSuccessor(ring.table, id).done === false && !replicaSet(sim, id).includes(ring.self.peer)), random)
    const handler = sim.nodes.get(owner.peer)?.handlerOf('records')
    assert.ok(handler != null)
    const refusing = handler.onStoreRecords.bind(handler)
    let refused = 0
    handler.onStoreRecords = async (from, records, deletions, options) => {
      if (ringIdFromBytes(records[0].key) === id) {
        refused++
        throw new QuotaExceededError('the owner is full')
      }
      return refusing(from, records, deletions, options)
    }
    const { holders, stores, replicas } = await putFrom(sim, writer, new TextEncoder().encode('refused'), ringIdToBytes(id))
    assert.equal(refused, 2, 'the carried record and the STORE after it')
    assert.equal(stores, 3)
    assert.equal(replicas, 2)
    assert.deepEqual(holders.sort(), replicaSet(sim, id).filter(peer => peer !== owner.peer))
  })
})

describe('how long a relay waits for the node after it', () => {
  it('less the deeper the request, by a hop\'s share of the request timeout, and never less than MIN_PASS_ON_WAIT', () => {
    const first = passOnTimeout(REQUEST_TIMEOUT, MAX_OWNER_ROUTE_HOPS)
    const second = passOnTimeout(REQUEST_TIMEOUT, MAX_OWNER_ROUTE_HOPS - 1)
    assert.ok(first < REQUEST_TIMEOUT, 'the first relay waits as long as its asker')
    assert.equal(first - second, REQUEST_TIMEOUT / (MAX_OWNER_ROUTE_HOPS + 1))
    assert.equal(passOnTimeout(REQUEST_TIMEOUT, 1), MIN_PASS_ON_WAIT)
    assert.equal(passOnTimeout(REQUEST_TIMEOUT, 0), MIN_PASS_ON_WAIT)
  })

  it('blames the silent node only when the wait was its share of a request\'s time, not the floor', () => {
    assert.equal(silenceBlames(REQUEST_TIMEOUT, MAX_OWNER_ROUTE_HOPS), true)
    assert.equal(silenceBlames(REQUEST_TIMEOUT, 1), false)
    // a node with short request timeouts waits the floor at every depth, and blames nobody
    assert.equal(silenceBlames(MIN_PASS_ON_WAIT, MAX_OWNER_ROUTE_HOPS), false)
  })
})
