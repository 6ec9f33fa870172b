/**
 * Recursive lookups. The iterative lookup (`lookup.ts`) asks each node on the way itself, and on
 * wide-area links most of its time goes to the new connections that takes: the nodes of a route
 * are in other nodes' tables, seldom in the asker's, and the owner it then checks with is rarer
 * still. A recursive lookup sends one request to the nearest node of the asker's own table, and
 * each node passes it to the nearest of its own, over connections it holds already (a ring node is
 * connected to the nodes of its table), until the owner answers for itself.
 *
 * The owner's answer is the one a verified lookup would get by asking it directly: its
 * predecessor and successors, which the transport has it sign for the asker's request (a nonce),
 * so that no node on the way can change or replay it. The asker holds it to the same rules as
 * `verifyOwner` holds a direct answer, and a node of its own table between the id and the owner
 * refutes it. Anything less (no answer, a statement that does not check out) and the asker walks
 * the ring itself, as before.
 */
import { ForbiddenError, LookupFailedError, RequestTimeoutError } from '../errors.js'
import { distance, inHalfOpenInterval } from './id.js'
import { answerFindSuccessor } from './lookup.js'
import type { RingId } from './id.js'
import type { LookupResult } from './lookup.js'
import type { RoutingTable } from './routing-table.js'
import type { ChordRpc, FindOwnerOptions, FindOwnerStep, NodeRef, OwnerStatement } from './rpc.js'

/**
 * What this node does with a recursive lookup of `id`: answer as its owner, or pass it on to the
 * node its table names: the nearest node before the id, which is nearer the id than itself, or
 * the id's successor as the last hop.
 */
export function stepTowardsOwner (table: RoutingTable, id: RingId): FindOwnerStep {
  if (table.clientMode) {
    throw new ForbiddenError('a client holds no ring position: it passes no lookups on')
  }
  const predecessor = table.predecessor
  if (predecessor != null && table.isResponsibleFor(id)) {
    return { owner: table.self, neighbours: { predecessor, successors: [...table.getSuccessors()] } }
  }
  const answer = answerFindSuccessor(table, id)
  const next = answer.done ? answer.successors[0] : answer.closer[0]
  if (next == null || next.peer === table.self.peer) {
    // we would be the owner, but without a predecessor we cannot say from where
    throw new LookupFailedError(`no way on towards ${id.toString(16)} from ${table.self.peer}`)
  }
  // the node we take to own the id answers, or says it does not: were it to pass the request on
  // (it knows a newer predecessor, or none), it could come back to us, and round again
  return answer.done ? { next, lastHop: true } : { next }
}

/**
 * The owner of `id` and its successors, as the owner stated them to a recursive lookup through
 * the nearest node of our table; undefined when our own table answers (nothing to ask), or the
 * lookup failed, or the statement does not check out: then the caller walks the ring itself.
 * With `successorCount`, the owner states at most that many of its successors (itself included);
 * with `carry`, the owner stores the record as it answers (`carried` says it did)
 */
export async function findOwnerRecursively (table: RoutingTable, rpc: ChordRpc, id: RingId, options: FindOwnerOptions = {}, onNodeFailed?: (node: NodeRef) => void): Promise<LookupResult | undefined> {
  const first = answerFindSuccessor(table, id)
  const via = first.done ? undefined : first.closer[0]
  if (via == null) {
    return undefined
  }
  let statement: OwnerStatement
  try {
    statement = await rpc.findOwner(via, id, options)
  } catch (err) {
    if (options.signal?.aborted === true) {
      throw err
    }
    // no answer in time blames the node asked, and the walk that follows should not wait for it
    // again; an error answer, a reset stream, a failed dial come from or about a node that is there
    // (the way failed further on, it does not know FIND_OWNER) or is gone for maintenance to see
    if (err instanceof RequestTimeoutError) {
      onNodeFailed?.(via)
    }
    return undefined
  }
  return confirmedOwner(table, id, statement)
}

/**
 * The statement as a lookup's answer, if it holds: the owner's position is one the network admits,
 * the id lies between its predecessor and itself, and no node we know lies nearer the id (we would
 * have to ask it, as `verifyOwner` does, and the iterative lookup will)
 */
function confirmedOwner (table: RoutingTable, id: RingId, { owner, neighbours, hops, stored }: OwnerStatement): LookupResult | undefined {
  const predecessor = neighbours.predecessor
  if (predecessor == null || !inHalfOpenInterval(id, predecessor.id, owner.id) || !table.admits(owner)) {
    return undefined
  }
  const nearness = (node: { id: RingId }): RingId => distance(id, node.id)
  if (table.knownNodes().some(node => nearness(node) < nearness(owner))) {
    return undefined
  }
  const followers = neighbours.successors.filter(node => node.peer !== owner.peer)
  return {
    successors: [owner, ...followers].slice(0, table.successorListLength),
    hops,
    checks: 0,
    ownerPredecessor: predecessor,
    recursive: true,
    ...(stored === true ? { carried: true } : {})
  }
}
