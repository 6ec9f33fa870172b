import assert from 'node:assert/strict'
import { LookupFailedError, LookupVerificationError } from '../../src/errors.js'
import { MAX_LOOKUP_HOPS, MAX_SELF_CONFIRMATIONS, MAX_VERIFY_STEPS } from '../../src/chord/constants.js'
import { distance, hashToRingId, ringIdFromBytes, ringIdToBytes } from '../../src/chord/id.js'
import { createRecord } from '../../src/chord/record.js'
import { Lookup, verifyOwner } from '../../src/chord/lookup.js'
import { RoutingTable } from '../../src/chord/routing-table.js'
import { Simulator, seededRandom } from '../helpers/simulator.js'
import type { RingId } from '../../src/chord/id.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { ChordRpc, FindSuccessorReply, NodeRef } from '../../src/chord/rpc.js'

/**
 * Ways a node answers FIND_SUCCESSOR with a wrong owner, each naming a real, live node: one that
 * follows the id (so the owner sits on the right side of it, as an honest answer's would)
 */
type Lie = (id: RingId, sorted: NodeRef[], liars: NodeRef[]) => NodeRef

/** the node two places after the true owner: a plausible, slightly stale answer */
const twoPastTheOwner: Lie = (id, sorted) => sorted[(ownerIndex(id, sorted) + 2) % sorted.length]
/** the first accomplice after the id */
const anAccomplice: Lie = (id, _sorted, liars) => [...liars].sort((a, b) => (distance(id, a.id) < distance(id, b.id) ? -1 : 1))[0]
/** the node just before the id: a lie a careless check would take, since it names a live ring member */
const thePredecessor: Lie = (id, sorted) => sorted[(ownerIndex(id, sorted) - 1 + sorted.length) % sorted.length]

function ownerIndex (id: RingId, sorted: NodeRef[]): number {
  const index = sorted.findIndex(node => node.id >= id)
  return index === -1 ? 0 : index
}

const RING_SIZE = 16
const KEYS = 300

/** A 16-node simulated ring in which 3 nodes answer every FIND_SUCCESSOR with a wrong owner */
async function ringWithLiars (verifyLookups: boolean, seed: number): Promise<{ sim: Simulator, liars: NodeRef[], random: () => number }> {
  const random = seededRandom(seed)
  const sim = new Simulator({ verifyLookups })
  await sim.grow(RING_SIZE, random)
  await sim.roundsUntil(() => sim.isConsistent(), 200)
  for (let i = 0; i < 3 * Math.ceil(Math.log2(RING_SIZE)); i++) {
    await sim.round()
  }
  const sorted = sim.sortedLiveIds()
  const liars = [sorted[2], sorted[7], sorted[12]]
  const lies = [twoPastTheOwner, anAccomplice, thePredecessor]
  liars.forEach((liar, i) => {
    const ring = sim.ringOf(liar.peer)
    // the lie is told to others; the liar's own maintenance keeps working, so it stays in the ring
    ring.onFindSuccessor = (_from, id): FindSuccessorReply => {
      const owner = lies[i](id, sorted, liars)
      const at = sorted.findIndex(node => node.peer === owner.peer)
      return { done: true, successors: [0, 1, 2].map(k => sorted[(at + k) % sorted.length]) }
    }
  })
  return { sim, liars, random }
}

/** Lookups of random keys from the honest nodes: how many named the true owner, a wrong one, or failed typed */
async function lookupsFromHonestNodes (sim: Simulator, liars: NodeRef[], random: () => number): Promise<{ right: number, wrong: number, refused: number }> {
  const honest = sim.liveRings().filter(ring => !liars.some(liar => liar.peer === ring.self.peer))
  const counts = { right: 0, wrong: 0, refused: 0 }
  for (let k = 0; k < KEYS; k++) {
    const id = hashToRingId(new TextEncoder().encode(`key-${k}-${random()}`))
    const from = honest[Math.floor(random() * honest.length)]
    try {
      const { successors } = await from.lookup(id)
      counts[successors[0].peer === sim.expectedOwner(id).peer ? 'right' : 'wrong']++
    } catch (err) {
      assert.ok(err instanceof LookupVerificationError, `a lookup failed untyped: ${String(err)}`)
      counts.refused++
    }
  }
  return counts
}

/** What `work` returns, and the replica sets the routes of `ring`'s lookups named meanwhile (before each check) */
async function withNamedSets<T> (ring: ChordRing, work: () => Promise<T>): Promise<{ result: T, named: string[][] }> {
  const named: string[][] = []
  const lookup = ring.lookup.bind(ring)
  ring.lookup = async (id, options) => lookup(id, { ...options, onNamed: nodes => { named.push(nodes.map(node => node.peer)); options?.onNamed?.(nodes) } })
  try {
    return { result: await work(), named }
  } finally {
    ring.lookup = lookup
  }
}

describe('verified lookups (simulated network)', function () {
  this.timeout(120_000)

  it('unchecked, 3 lying nodes of 16 make lookups name wrong owners (the attack works)', async () => {
    const { sim, liars, random } = await ringWithLiars(false, 31)
    const { wrong } = await lookupsFromHonestNodes(sim, liars, random)
    assert.ok(wrong > 0, 'no lookup went through a liar: the attack is not exercised')
  })

  it('checked, every lookup names the true owner or fails with LookupVerificationError, and none names a wrong owner', async () => {
    const { sim, liars, random } = await ringWithLiars(true, 31)
    const { right, wrong, refused } = await lookupsFromHonestNodes(sim, liars, random)
    assert.equal(wrong, 0)
    // the liars are outnumbered: nearly every lookup finds its owner (a refusal is allowed, not a wrong answer)
    assert.ok(right >= KEYS * 0.95, `only ${right} of ${KEYS} lookups found their owner (${refused} refused)`)
  })

  it('checked, the replica set is the one the owner names, not the one the liar sent', async () => {
    const { sim, liars, random } = await ringWithLiars(true, 32)
    const sorted = sim.sortedLiveIds()
    const honest = sim.liveRings().filter(ring => !liars.some(liar => liar.peer === ring.self.peer))
    for (let k = 0; k < 100; k++) {
      const id = hashToRingId(new TextEncoder().encode(`replicas-${k}`))
      const at = ownerIndex(id, sorted)
      const { successors } = await honest[Math.floor(random() * honest.length)].lookup(id, { successorCount: 3 })
      assert.deepEqual(successors.map(node => node.peer), [0, 1, 2].map(i => sorted[(at + i) % sorted.length].peer))
    }
  })

  it('checked, a put counts only the replicas the owner names, and reaches every one of them, whatever the liar named', async () => {
    const { sim, liars, random } = await ringWithLiars(true, 34)
    const sorted = sim.sortedLiveIds()
    const honest = sim.liveRings().filter(ring => !liars.some(liar => liar.peer === ring.self.peer))
    let throughALiar = 0
    for (let k = 0; k < 40; k++) {
      const record = createRecord(ringIdToBytes(hashToRingId(new TextEncoder().encode(`put-${k}`))), new Uint8Array([k]), Date.now() + 3_600_000)
      const at = ownerIndex(ringIdFromBytes(record.key), sorted)
      const trueReplicas = [0, 1, 2].map(i => sorted[(at + i) % sorted.length].peer)
      const writer = honest[Math.floor(random() * honest.length)].self.peer
      const { result: { replicas }, named } = await withNamedSets(sim.ringOf(writer), async () => sim.recordsOf(writer).replication.put([record]))
      if (named.some(set => set.join() !== trueReplicas.join())) {
        throughALiar++
      }
      assert.equal(replicas, 3)
      for (const peer of trueReplicas) {
        assert.equal((await sim.recordsOf(peer).store.get(record.key)).length, 1, `${peer}, a true replica, lacks the record`)
      }
    }
    assert.ok(throughALiar > 0, 'no put was routed through a liar: the attack is not exercised')
  })

  it('checked, a get reads only the replicas the owner names: what a liar\'s accomplice holds is not returned', async () => {
    const { sim, liars, random } = await ringWithLiars(true, 35)
    const sorted = sim.sortedLiveIds()
    const honest = sim.liveRings().filter(ring => !liars.some(liar => liar.peer === ring.self.peer))
    let throughALiar = 0
    for (let k = 0; k < 40; k++) {
      const key = ringIdToBytes(hashToRingId(new TextEncoder().encode(`get-${k}`)))
      const at = ownerIndex(ringIdFromBytes(key), sorted)
      const trueReplicas = new Set([0, 1, 2].map(i => sorted[(at + i) % sorted.length].peer))
      // every node outside the key's replica set holds a forged value under it, written into its store directly
      for (const node of sorted.filter(node => !trueReplicas.has(node.peer))) {
        await sim.recordsOf(node.peer).store.put([createRecord(key, new TextEncoder().encode('forged'), Date.now() + 3_600_000)])
      }
      await sim.recordsOf(sorted[at].peer).replication.put([createRecord(key, new TextEncoder().encode('true'), Date.now() + 3_600_000)])
      const reader = honest[Math.floor(random() * honest.length)]
      const { result: values, named } = await withNamedSets(reader, async () => sim.recordsOf(reader.self.peer).replication.get(key))
      if (named.some(set => set.some(peer => !trueReplicas.has(peer)))) {
        throughALiar++
      }
      assert.deepEqual(values.map(r => new TextDecoder().decode(r.value)), ['true'])
    }
    assert.ok(throughALiar > 0, 'no get was routed through a liar: the attack is not exercised')
  })

  it('a named owner that does not answer gives way to the next node, which confirms itself', async () => {
    const { sim, liars } = await ringWithLiars(true, 33)
    const sorted = sim.sortedLiveIds()
    const honest = (node: NodeRef): boolean => !liars.some(liar => liar.peer === node.peer)
    // an honest owner, and an honest asker on the far side of the ring: the answer comes from afar and is checked
    const at = sorted.findIndex((node, i) => honest(node) && honest(sorted[(i + RING_SIZE / 2) % RING_SIZE]))
    const id = sorted[at].id
    sim.kill(sorted[at].peer)
    const result = await sim.ringOf(sorted[(at + RING_SIZE / 2) % RING_SIZE].peer).lookup(id)
    assert.ok(result.hops > 0)
    assert.equal(result.successors[0].peer, sorted[(at + 1) % RING_SIZE].peer)
    assert.equal(result.successors[0].peer, sim.expectedOwner(id).peer)
  })
})

describe('a lookup answer that names the asker itself at a made-up position', function () {
  this.timeout(120_000)

  it('is refused, and leaves no remembered owner to send later writes astray', async () => {
    const random = seededRandom(7)
    const sim = new Simulator({ verifyLookups: true })
    await sim.grow(RING_SIZE, random)
    await sim.roundsUntil(() => sim.isConsistent(), 200)
    for (let i = 0; i < 3 * Math.ceil(Math.log2(RING_SIZE)); i++) {
      await sim.round()
    }
    const sorted = sim.sortedLiveIds()
    const victim = sorted[0]
    const honest = new Map(sim.liveRings().map(ring => [ring, ring.onFindSuccessor.bind(ring)]))
    // every other node tells the victim, and only it, that it owns whatever it asks about, at that very position
    for (const [ring, answer] of honest) {
      if (ring.self.peer !== victim.peer) {
        ring.onFindSuccessor = (from, id): FindSuccessorReply => (from.peer === victim.peer ? { done: true, successors: [{ peer: victim.peer, id }] } : answer(from, id))
      }
    }
    // a key three quarters of the ring on from the victim: most of the ring lies between the two
    const key = sorted[(3 * RING_SIZE) / 4].id - 1n
    await sim.ringOf(victim.peer).lookup(key, { successorCount: 3, useOwnerCache: true }).catch(() => {})
    for (const [ring, answer] of honest) {
      ring.onFindSuccessor = answer
    }
    let astray = 0
    for (let k = 0; k < 40; k++) {
      const id = hashToRingId(new TextEncoder().encode(`after the lie ${k}`))
      const record = createRecord(ringIdToBytes(id), new Uint8Array([k]), Date.now() + 3_600_000)
      await sim.recordsOf(victim.peer).replication.put([record])
      const owner = sim.expectedOwner(id)
      if ((await sim.recordsOf(owner.peer).store.get(record.key)).length === 0) {
        astray++
      }
    }
    assert.equal(astray, 0, `${astray} of 40 puts after the lie missed their true owner`)
  })
})

describe('verifyOwner', () => {
  const node = (id: bigint): NodeRef => ({ id, peer: `n${id}` })
  /** nodes at 100, 200, …: each one's predecessor is the one before it */
  const chain = (length: number): NodeRef[] => Array.from({ length }, (_, i) => node(BigInt(100 * (i + 1))))
  const rpcOver = (nodes: NodeRef[]): ChordRpc => ({
    getNeighbours: async (to: NodeRef) => {
      const at = nodes.findIndex(n => n.peer === to.peer)
      return { predecessor: at > 0 ? nodes[at - 1] : node(1n), successors: nodes.slice(at + 1) }
    }
  } as unknown as ChordRpc)

  it(`walks back through up to ${MAX_VERIFY_STEPS} nodes to the true owner`, async () => {
    const nodes = chain(MAX_VERIFY_STEPS)
    const table = new RoutingTable(node(0n), { successorListLength: 8 })
    const named = nodes[nodes.length - 1]
    const result = await verifyOwner(table, rpcOver(nodes), 50n, { successors: [named], hops: 3 })
    assert.equal(result.successors[0].peer, nodes[0].peer)
    assert.equal(result.checks, MAX_VERIFY_STEPS)
  })

  it(`fails with LookupVerificationError when the owner is more than ${MAX_VERIFY_STEPS} nodes back`, async () => {
    const nodes = chain(MAX_VERIFY_STEPS + 1)
    const table = new RoutingTable(node(0n), { successorListLength: 8 })
    await assert.rejects(verifyOwner(table, rpcOver(nodes), 50n, { successors: [nodes[nodes.length - 1]], hops: 3 }), LookupVerificationError)
  })

  it('asks a node the table knows nearer the key than the named owner, and takes it', async () => {
    const nodes = chain(20)
    const table = new RoutingTable(node(0n), { successorListLength: 8 })
    table.setFinger(5, nodes[0])
    const result = await verifyOwner(table, rpcOver(nodes), 50n, { successors: [nodes[19]], hops: 3 })
    assert.equal(result.successors[0].peer, nodes[0].peer)
    assert.equal(result.checks, 1)
  })

  it('never takes a node at a position the network refuses, whoever names it', async () => {
    const nodes = chain(3)
    // the node nearest the key sits at a position the rules refuse (an unpaid one, say)
    const table = new RoutingTable(node(0n), { successorListLength: 8, admits: candidate => candidate.peer !== nodes[0].peer })
    const result = await verifyOwner(table, rpcOver(nodes), 50n, { successors: [nodes[0], nodes[1]], hops: 2 })
    assert.equal(result.successors[0].peer, nodes[1].peer)
  })

  describe('named as the owner ourselves', () => {
    const down = { getNeighbours: async () => { throw new Error('down') } } as unknown as ChordRpc

    it('with our predecessor known and the key after it, we confirm ourselves from our own table, asking no one', async () => {
      const self = node(300n)
      const table = new RoutingTable(self, { successorListLength: 8 })
      table.setPredecessor(node(200n))
      table.setSuccessors([node(700n)])
      const result = await verifyOwner(table, down, 250n, { successors: [self, node(700n)], hops: 1 })
      assert.deepEqual(result.successors.map(n => n.peer), [self.peer, 'n700'])
      assert.equal(result.checks, 0)
      assert.equal(result.ownerPredecessor?.peer, 'n200')
    })

    it('with our predecessor known and nearer the key, ask it, and take it when it answers', async () => {
      const self = node(300n)
      const table = new RoutingTable(self, { successorListLength: 8 })
      table.setPredecessor(node(260n))
      const rpc = { getNeighbours: async () => ({ predecessor: node(100n), successors: [self] }) } as unknown as ChordRpc
      const result = await verifyOwner(table, rpc, 250n, { successors: [self], hops: 1 })
      assert.equal(result.successors[0].peer, 'n260')
      assert.equal(result.checks, 1)
    })

    it('without a predecessor (it left naming none), the node our table knows nearest before the key confirms nothing lies between: we own it', async () => {
      const self = node(300n)
      const table = new RoutingTable(self, { successorListLength: 8 })
      table.setSuccessors([node(700n)])
      const asked: string[] = []
      const rpc = { getNeighbours: async (to: NodeRef) => { asked.push(to.peer); return { predecessor: node(500n), successors: [self, node(700n)] } } } as unknown as ChordRpc
      const result = await verifyOwner(table, rpc, 250n, { successors: [self, node(700n)], hops: 1 })
      assert.deepEqual(asked, ['n700'])
      assert.deepEqual(result.successors.map(n => n.peer), [self.peer, 'n700'])
      assert.equal(result.checks, 1)
    })

    it('without a predecessor, a node between the key and us that the node before the key names is asked, and taken', async () => {
      const self = node(1000n)
      const table = new RoutingTable(self, { successorListLength: 8 })
      table.setSuccessors([node(1100n)])
      const owner = node(400n)
      const rpc = {
        getNeighbours: async (to: NodeRef) => (to.peer === 'n1100' ? { predecessor: self, successors: [owner, node(800n), self] } : { predecessor: node(1100n), successors: [node(800n)] })
      } as unknown as ChordRpc
      const result = await verifyOwner(table, rpc, 400n, { successors: [self], hops: 1 })
      assert.equal(result.successors[0].peer, owner.peer)
    })

    it('without a predecessor, a list that ends before the key is walked on from its last node, and a node between the key and us it names is taken', async () => {
      const self = node(1000n)
      const table = new RoutingTable(self, { successorListLength: 8 })
      table.setSuccessors([node(1100n)])
      const lists: Record<string, NodeRef[]> = { n1100: [node(1200n), node(1300n), node(1400n)], n1400: [node(1500n), node(600n), self] }
      const asked: string[] = []
      const rpc = {
        getNeighbours: async (to: NodeRef) => { asked.push(to.peer); return { predecessor: node(to.peer === 'n600' ? 300n : to.id - 50n), successors: lists[to.peer] ?? [self] } }
      } as unknown as ChordRpc
      const result = await verifyOwner(table, rpc, 400n, { successors: [self], hops: 1 })
      assert.equal(result.successors[0].peer, 'n600')
      assert.deepEqual(asked, ['n1100', 'n1400', 'n600'])
    })

    it(`without a predecessor, a walk that does not reach the key in MAX_SELF_CONFIRMATIONS (${MAX_SELF_CONFIRMATIONS}) requests leaves us untaken`, async () => {
      const self = node(100_000n)
      const table = new RoutingTable(self, { successorListLength: 8 })
      table.setSuccessors([node(100_100n)])
      // each node knows only the next one, a hundred on: the key is far beyond the walk
      const rpc = { getNeighbours: async (to: NodeRef) => ({ successors: [node(to.id + 100n)] }) } as unknown as ChordRpc
      await assert.rejects(verifyOwner(table, rpc, 50_000n, { successors: [self], hops: 1 }), LookupVerificationError)
    })

    it('without a predecessor, and no node before the key answering, we are not taken: the owner cannot be told', async () => {
      const self = node(1000n)
      const table = new RoutingTable(self, { successorListLength: 8 })
      table.setSuccessors([node(1100n)])
      await assert.rejects(verifyOwner(table, down, 400n, { successors: [self], hops: 1 }), LookupVerificationError)
    })

    it('a relay that names our peer at another position (the key itself) does not make us the owner', async () => {
      const self = node(300n)
      const table = new RoutingTable(self, { successorListLength: 8 })
      table.setPredecessor(node(260n))
      table.setSuccessors([node(700n)])
      // the true owner of 100 is 150, the predecessor of our predecessor 260
      const rpc = { getNeighbours: async (to: NodeRef) => (to.peer === 'n150' ? { predecessor: node(60n), successors: [node(260n)] } : { predecessor: node(150n), successors: [self] }) } as unknown as ChordRpc
      // named only ourselves, at a made-up position: no candidate is left at all
      await assert.rejects(verifyOwner(table, rpc, 100n, { successors: [{ peer: self.peer, id: 100n }], hops: 1 }), LookupVerificationError)
      // named beside a node after us: the walk back from it finds the true owner, never us
      const result = await verifyOwner(table, rpc, 100n, { successors: [{ peer: self.peer, id: 100n }, node(260n)], hops: 1 })
      assert.equal(result.successors[0].peer, 'n150')
    })

    it('a client is never the owner, even when named: it holds no place on the ring', async () => {
      const self = node(300n)
      const table = new RoutingTable(self, { successorListLength: 8, clientMode: true })
      await assert.rejects(verifyOwner(table, down, 250n, { successors: [self], hops: 1 }), LookupVerificationError)
    })
  })

  it('fails with LookupVerificationError when no candidate answers', async () => {
    const table = new RoutingTable(node(0n), { successorListLength: 8 })
    const down = { getNeighbours: async () => { throw new Error('down') } } as unknown as ChordRpc
    await assert.rejects(verifyOwner(table, down, 50n, { successors: [node(100n), node(200n)], hops: 2 }), LookupVerificationError)
  })
})

describe('a walk of the ring', () => {
  const node = (id: bigint): NodeRef => ({ id, peer: `n${id}` })
  const key = 1_000_000n
  const owner = node(key + 1n)

  /**
   * A walk from a node at 0 that knows only the first of `length` nodes at 100, 200, …: each names
   * the next as nearer the key, the last names the owner; and the nodes the walk asked
   */
  function walkThrough (length: number): { lookup: Lookup, asked: string[] } {
    const nodes = Array.from({ length }, (_, i) => node(BigInt(100 * (i + 1))))
    const asked: string[] = []
    const rpc = {
      findSuccessor: async (to: NodeRef): Promise<FindSuccessorReply> => {
        asked.push(to.peer)
        const at = nodes.findIndex(n => n.peer === to.peer)
        return at === length - 1 ? { done: true, successors: [owner] } : { done: false, closer: [nodes[at + 1]] }
      }
    } as unknown as ChordRpc
    const table = new RoutingTable(node(0n), { successorListLength: 8 })
    table.setFinger(0, nodes[0])
    return { lookup: new Lookup(table, rpc), asked }
  }

  it(`finds an owner MAX_LOOKUP_HOPS (${MAX_LOOKUP_HOPS}) nodes away`, async () => {
    const { lookup, asked } = walkThrough(MAX_LOOKUP_HOPS)
    const result = await lookup.findSuccessor(key)
    assert.equal(result.successors[0].peer, owner.peer)
    assert.equal(result.hops, MAX_LOOKUP_HOPS)
    assert.equal(asked.length, MAX_LOOKUP_HOPS)
  })

  it('fails with LookupFailedError when each node names one nearer the key and the owner is MAX_LOOKUP_HOPS + 1 nodes away, asking no more than MAX_LOOKUP_HOPS', async () => {
    const { lookup, asked } = walkThrough(MAX_LOOKUP_HOPS + 1)
    await assert.rejects(lookup.findSuccessor(key), (err: Error) => err instanceof LookupFailedError && err.message.includes(`after ${MAX_LOOKUP_HOPS} hops`))
    assert.equal(asked.length, MAX_LOOKUP_HOPS)
  })

  it('counts the nodes that did not answer against MAX_LOOKUP_HOPS: the way on behind that many dead nodes is not asked, behind one fewer it is', async () => {
    /** a walk from a node at 0 whose fingers are `dead` silent nodes near the key and, farther from it, the owner's predecessor */
    const behindDead = (dead: number): { lookup: Lookup, asked: string[] } => {
      const predecessor = node(100n)
      const asked: string[] = []
      const rpc = {
        findSuccessor: async (to: NodeRef): Promise<FindSuccessorReply> => {
          asked.push(to.peer)
          if (to.peer !== predecessor.peer) {
            throw new Error('no answer')
          }
          return { done: true, successors: [owner] }
        }
      } as unknown as ChordRpc
      const table = new RoutingTable(node(0n), { successorListLength: 8 })
      table.setFinger(0, predecessor)
      for (let i = 1; i <= dead; i++) {
        table.setFinger(i, node(key - BigInt(i)))
      }
      return { lookup: new Lookup(table, rpc), asked }
    }
    const reached = behindDead(MAX_LOOKUP_HOPS - 1)
    assert.equal((await reached.lookup.findSuccessor(key)).successors[0].peer, owner.peer)
    assert.equal(reached.asked.length, MAX_LOOKUP_HOPS)
    const blocked = behindDead(MAX_LOOKUP_HOPS)
    await assert.rejects(blocked.lookup.findSuccessor(key), (err: Error) => err instanceof LookupFailedError && err.message.includes(`${MAX_LOOKUP_HOPS} failures`))
    assert.equal(blocked.asked.length, MAX_LOOKUP_HOPS)
    assert.ok(!blocked.asked.includes(node(100n).peer), 'the owner\'s predecessor was asked')
  })
})
