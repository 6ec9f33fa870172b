/**
 * Lookups of an id that the asker's own successor list spans (lookup.ts `ownerInSuccessorList`):
 * the node the list names is asked directly whether it owns the id, one round trip, and the
 * answer is checked as any other (`verifyOwner`). In a small ring most ids are such ids.
 */
import assert from 'node:assert/strict'
import { hashToRingId, inHalfOpenInterval, ringIdToBytes } from '../../src/chord/id.js'
import { createRecord } from '../../src/chord/record.js'
import { ownerInSuccessorList } from '../../src/chord/lookup.js'
import { RoutingTable } from '../../src/chord/routing-table.js'
import { settledSimulation } from '../helpers/simulator.js'
import type { Simulator } from '../helpers/simulator.js'
import type { RingId } from '../../src/chord/id.js'
import type { ChordRing } from '../../src/chord/ring.js'

const idOf = (text: string): RingId => hashToRingId(new TextEncoder().encode(text))

/** The rings these lookups run on: recursive, as a deployed ring's */
const RING = { recursiveLookups: true }

/** The first name of the form `${prefix}-k` whose id `fits` */
function firstName (prefix: string, fits: (id: RingId) => boolean): string {
  for (let k = 0; k < 100_000; k++) {
    if (fits(idOf(`${prefix}-${k}`))) {
      return `${prefix}-${k}`
    }
  }
  throw new Error(`no name ${prefix}-k fits`)
}

/** An id between the asker's successors `i` and `i + 1` */
function idBetweenSuccessors (ring: ChordRing, i: number, prefix: string): RingId {
  const successors = ring.table.getSuccessors()
  return idOf(firstName(prefix, id => inHalfOpenInterval(id, successors[i].id, successors[i + 1].id)))
}

/** Remote calls of each kind that `work` makes */
async function callsOf (sim: Simulator, work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = new Map(sim.messagesByKind)
  await work()
  return Object.fromEntries([...sim.messagesByKind].map(([kind, count]) => [kind, count - (before.get(kind) ?? 0)]).filter(([, count]) => count !== 0))
}

describe('lookups of ids the successor list spans (simulated network)', function () {
  this.timeout(60_000)

  it('names the true owner after one question to it: no route, no recursive request', async () => {
    const { sim, random } = await settledSimulation(32, 51, RING)
    const sorted = sim.sortedLiveIds()
    let spanned = 0
    for (let k = 0; k < 200; k++) {
      const id = idOf(`spanned-${k}`)
      const from = sim.liveRings()[Math.floor(random() * sorted.length)]
      if (ownerInSuccessorList(from.table, id) == null) {
        continue
      }
      spanned++
      let answer: Awaited<ReturnType<ChordRing['lookup']>> | undefined
      const calls = await callsOf(sim, async () => { answer = await from.lookup(id) })
      assert.ok(answer != null)
      const owner = sim.expectedOwner(id)
      assert.equal(answer.successors[0].peer, owner.peer)
      assert.equal(answer.ownerPredecessor?.peer, sorted[(sorted.findIndex(node => node.peer === owner.peer) - 1 + sorted.length) % sorted.length].peer)
      assert.deepEqual({ hops: answer.hops, checks: answer.checks, recursive: answer.recursive }, { hops: 0, checks: 1, recursive: undefined })
      assert.deepEqual(calls, { getNeighbours: 1 })
    }
    // 7 of a node's 32 successor gaps lie in its list of 8: about a fifth of the ids
    assert.ok(spanned > 25, `only ${spanned} of 200 ids lay within the asker's successor list`)
  })

  it('a node that joined between two of the list\'s nodes, which the asker has not heard of, is found: the named owner names it', async () => {
    const { sim } = await settledSimulation(16, 52, RING)
    const asker = sim.liveRings()[0]
    const [before, after] = asker.table.getSuccessors().slice(2, 4)
    const id = idBetweenSuccessors(asker, 2, 'late')
    // a newcomer just before the id's named owner: it owns the id once that node takes it for its predecessor
    const name = firstName('newcomer', newcomerId => inHalfOpenInterval(newcomerId, id, after.id) && newcomerId !== after.id)
    const newcomer = await sim.addNode(name)
    await newcomer.join(before)
    await newcomer.stabilize()
    assert.equal(sim.ringOf(after.peer).table.predecessor?.peer, name, 'the named owner has not taken the newcomer for its predecessor')
    assert.ok(!asker.table.knownNodes().some(node => node.peer === name), 'the asker knows the newcomer already')

    const answer = await asker.lookup(id)
    assert.equal(answer.successors[0].peer, name)
    assert.equal(answer.checks, 2)
    assert.equal(answer.correctedFrom?.peer, after.peer)
  })

  it('a named owner that died gives way to the node after it, which owns the id now', async () => {
    const { sim } = await settledSimulation(16, 53, RING)
    const asker = sim.liveRings()[0]
    const [, named, next] = asker.table.getSuccessors().slice(3, 6)
    const id = idBetweenSuccessors(asker, 3, 'dead-owner')
    sim.kill(named.peer)
    const answer = await asker.lookup(id)
    assert.equal(answer.successors[0].peer, next.peer)
    assert.equal(answer.successors[0].peer, sim.expectedOwner(id).peer)
  })

  it('a lookup that carries a record asks the ring, so that the owner stores it as it answers', async () => {
    const { sim } = await settledSimulation(16, 54, RING)
    const asker = sim.liveRings()[0]
    const id = idBetweenSuccessors(asker, 4, 'carried')
    const calls = await callsOf(sim, async () => asker.lookup(id, {
      carry: { namespace: 'records', record: createRecord(ringIdToBytes(id), new TextEncoder().encode('carried'), Date.now() + 60_000) }
    }))
    assert.ok((calls.findOwner ?? 0) >= 1, `the carrying lookup made ${JSON.stringify(calls)}`)
  })

  it('a client\'s list is not its own neighbourhood: it names no owner from it', () => {
    const table = new RoutingTable({ id: 0n, peer: 'client' }, { successorListLength: 8, clientMode: true })
    table.setSuccessors([{ id: 10n, peer: 'a' }, { id: 20n, peer: 'b' }])
    assert.equal(ownerInSuccessorList(table, 15n), undefined)
    const member = new RoutingTable({ id: 0n, peer: 'member' }, { successorListLength: 8 })
    member.setSuccessors([{ id: 10n, peer: 'a' }, { id: 20n, peer: 'b' }])
    assert.equal(ownerInSuccessorList(member, 15n)?.successors[0].peer, 'b')
    assert.equal(ownerInSuccessorList(member, 25n), undefined)
  })
})
