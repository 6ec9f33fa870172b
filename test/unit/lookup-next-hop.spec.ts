/**
 * Which node a lookup asks next when it is connected to some candidates and not to others: a new
 * connection costs several round trips, a hop over an open one costs one.
 */
import assert from 'node:assert/strict'
import { CONNECTED_DETOUR_FACTOR } from '../../src/chord/constants.js'
import { Lookup } from '../../src/chord/lookup.js'
import { RoutingTable } from '../../src/chord/routing-table.js'
import type { RingId } from '../../src/chord/id.js'
import type { ChordRpc, FindSuccessorReply, NodeRef } from '../../src/chord/rpc.js'

const node = (id: bigint): NodeRef => ({ id, peer: `n${id}` })

/** the id every lookup here looks up; its owner is the node at 1001 */
const KEY = 1000n
const OWNER = node(1001n)
const self = node(5n)
/** where each route starts: it names the nodes below as closer to KEY */
const entry = node(10n)

/**
 * A ring where the entry names `named` as closer to the key, each named node knows the owner at
 * once, and every node that is asked is written down in order
 */
function ringAnswering (named: NodeRef[]): { rpc: ChordRpc, asked: string[] } {
  const asked: string[] = []
  const rpc = {
    findSuccessor: async (to: NodeRef, _id: RingId): Promise<FindSuccessorReply> => {
      asked.push(to.peer)
      return to.peer === entry.peer ? { done: false, closer: named } : { done: true, successors: [OWNER] }
    }
  } as unknown as ChordRpc
  return { rpc, asked }
}

function lookupOver (rpc: ChordRpc, connected?: string[]): Lookup {
  return new Lookup(new RoutingTable(self, { successorListLength: 3 }), rpc, {
    isConnected: connected == null ? undefined : peer => connected.includes(peer)
  })
}

describe('a lookup\'s next hop', () => {
  // distances to the key: 100, 300, 100 × CONNECTED_DETOUR_FACTOR, and one just beyond that
  const nearest = node(KEY - 100n)
  const threeTimes = node(KEY - 300n)
  const atTheFactor = node(KEY - 100n * BigInt(CONNECTED_DETOUR_FACTOR))
  const beyondTheFactor = node(KEY - 100n * BigInt(CONNECTED_DETOUR_FACTOR) - 1n)

  it('asks the node nearest before the id when it knows nothing of connections', async () => {
    const { rpc, asked } = ringAnswering([beyondTheFactor, threeTimes, nearest])
    const result = await lookupOver(rpc).findSuccessorVia(entry, KEY)
    assert.deepEqual(asked, [entry.peer, nearest.peer])
    assert.equal(result.successors[0].peer, OWNER.peer)
  })

  it('asks the nearest node when it is connected to it, though others are connected too', async () => {
    const { rpc, asked } = ringAnswering([threeTimes, nearest])
    await lookupOver(rpc, [entry.peer, nearest.peer, threeTimes.peer]).findSuccessorVia(entry, KEY)
    assert.deepEqual(asked, [entry.peer, nearest.peer])
  })

  it('asks a connected node nearly as near instead of dialling the nearest, and still finds the owner', async () => {
    const { rpc, asked } = ringAnswering([beyondTheFactor, threeTimes, nearest])
    const result = await lookupOver(rpc, [entry.peer, threeTimes.peer, beyondTheFactor.peer]).findSuccessorVia(entry, KEY)
    assert.deepEqual(asked, [entry.peer, threeTimes.peer])
    assert.equal(result.successors[0].peer, OWNER.peer)
  })

  it(`takes a connected node up to CONNECTED_DETOUR_FACTOR (${CONNECTED_DETOUR_FACTOR}) times as far, and no farther`, async () => {
    const at = ringAnswering([atTheFactor, nearest])
    await lookupOver(at.rpc, [entry.peer, atTheFactor.peer]).findSuccessorVia(entry, KEY)
    assert.deepEqual(at.asked, [entry.peer, atTheFactor.peer])

    const beyond = ringAnswering([beyondTheFactor, nearest])
    await lookupOver(beyond.rpc, [entry.peer, beyondTheFactor.peer]).findSuccessorVia(entry, KEY)
    assert.deepEqual(beyond.asked, [entry.peer, nearest.peer])
  })

  it('never goes back to a connected node farther from the id than a node that already answered', async () => {
    // the entry names two connected nodes; the nearer one names a node far nearer still, which
    // is not connected, while the other, still a candidate, is within the factor of it but behind
    // the node that answered
    const answered = node(KEY - 300n)
    const behindIt = node(KEY - 310n)
    const near = node(KEY - 80n)
    const asked: string[] = []
    const rpc = {
      findSuccessor: async (to: NodeRef): Promise<FindSuccessorReply> => {
        asked.push(to.peer)
        if (to.peer === entry.peer) {
          return { done: false, closer: [answered, behindIt] }
        }
        return to.peer === answered.peer ? { done: false, closer: [near] } : { done: true, successors: [OWNER] }
      }
    } as unknown as ChordRpc
    await lookupOver(rpc, [entry.peer, answered.peer, behindIt.peer]).findSuccessorVia(entry, KEY)
    assert.deepEqual(asked, [entry.peer, answered.peer, near.peer])
  })
})
