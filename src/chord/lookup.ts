/**
 * Iterative find-successor. The asking node keeps control of the route: it asks one node at a
 * time, which answers either "the key's successor is X (and these follow it)" or "these nodes are
 * closer". A node that fails is skipped and the next-closest candidate is asked, so one dead
 * finger costs a timeout, not the lookup.
 */
import { LookupFailedError, LookupVerificationError } from '../errors.js'
import { CLOSER_NODES_PER_REPLY, DELEGATION_PAUSE, MAX_LOOKUP_DELEGATES, MAX_LOOKUP_HOPS, MAX_SELF_CONFIRMATIONS, MAX_VERIFY_STEPS } from './constants.js'
import { distance, inHalfOpenInterval, inOpenInterval } from './id.js'
import type { RingId } from './id.js'
import type { RoutingTable } from './routing-table.js'
import type { ChordRpc, FindSuccessorOptions, FindSuccessorReply, Neighbours, NodeRef, RpcOptions } from './rpc.js'

export interface LookupResult {
  /** the node responsible for the id, followed by the nodes after it (the id's replica set) */
  successors: NodeRef[]
  /** how many remote nodes answered on the way */
  hops: number
  /** how many nodes answered to confirm the owner (a verified lookup's extra round trips, one when nobody lied) */
  checks?: number
  /** the owner the route named, when the check found a nearer live node instead: a stale (or false) answer it corrected */
  correctedFrom?: NodeRef
  /** a checked answer: the owner's predecessor, as the owner named it (the owner answers for the ids after it) */
  ownerPredecessor?: NodeRef
  /** true when the answer came from the owner cache (no node was asked: hops 0) */
  cached?: true
  /** true when the owner answered a recursive lookup itself (recursive-lookup.ts): `hops` counts the nodes it went through, the owner included */
  recursive?: true
  /** true when the owner (`successors[0]`) stored the record the lookup carried (RingLookupOptions.carry) */
  carried?: true
}

/** One lookup step answered from a routing table: ours for the first step, any node's in a handler */
export function answerFindSuccessor (table: RoutingTable, id: RingId): FindSuccessorReply {
  const successors = table.getSuccessors()
  if (successors.length > 0) {
    return answerWithSuccessors(table, id, successors)
  }
  // a client that has lost its successors knows nobody to name
  if (table.clientMode) {
    return { done: false, closer: [] }
  }
  // a node that lost every successor (while it finds its place again) takes the nearest node it
  // knows after itself for one, rather than claim every id to whoever asks; a ring of one owns all
  const nearest = table.nearestFollower()
  if (nearest == null) {
    return { done: true, successors: [table.self] }
  }
  if (inHalfOpenInterval(id, table.self.id, nearest.id)) {
    return { done: true, successors: [nearest] }
  }
  const predecessor = table.predecessor
  if (predecessor != null && inHalfOpenInterval(id, predecessor.id, table.self.id)) {
    return { done: true, successors: [table.self, nearest] }
  }
  return { done: false, closer: table.closestPreceding(id, CLOSER_NODES_PER_REPLY) }
}

function answerWithSuccessors (table: RoutingTable, id: RingId, successors: readonly NodeRef[]): FindSuccessorReply {
  if (inHalfOpenInterval(id, table.self.id, successors[0].id)) {
    return { done: true, successors: followersOfSelf(table) }
  }
  if (table.isResponsibleFor(id)) {
    return { done: true, successors: [table.self, ...successors].slice(0, table.successorListLength) }
  }
  const closer = table.closestPreceding(id, CLOSER_NODES_PER_REPLY)
  if (closer.length === 0) {
    // cannot happen with a non-empty successor list (the successor precedes any id it does not own); kept total
    return { done: true, successors: [...successors] }
  }
  return { done: false, closer }
}

/**
 * The nodes after us, nearest first. A successor list that holds the whole rest of the ring (it
 * was cut where it came back round to us, leaving nobody out) is followed by us: in a
 * ring smaller than the replica set, we are part of every replica set.
 */
function followersOfSelf (table: RoutingTable): NodeRef[] {
  const successors = [...table.getSuccessors()]
  return !table.clientMode && table.holdsWholeRing ? [...successors, table.self] : successors
}

export interface LookupInit {
  maxHops?: number
  /** ask a known ring node to run each lookup (a client's way), walking the ring only if none can */
  delegate?: boolean
  /** told when a node did not answer, so the table can stop routing through it */
  onNodeFailed?(node: NodeRef): void
}

export class Lookup {
  private readonly table: RoutingTable
  private readonly rpc: ChordRpc
  private readonly maxHops: number
  private readonly onNodeFailed: (node: NodeRef) => void
  private readonly delegate: boolean
  /** ms since the epoch before which no delegate is asked: the last ones all failed */
  private delegationPausedUntil = 0

  constructor (table: RoutingTable, rpc: ChordRpc, init: LookupInit = {}) {
    this.table = table
    this.rpc = rpc
    this.maxHops = init.maxHops ?? MAX_LOOKUP_HOPS
    this.delegate = init.delegate ?? false
    this.onNodeFailed = init.onNodeFailed ?? (() => {})
  }

  /**
   * The successor of `id`, starting from our own routing table. With `successorCount`, the
   * answer may hold only that many of the id's successors (the owner first). `unanswered`: nodes
   * that just gave no answer (to this lookup's recursive attempt), not to be asked first again
   */
  async findSuccessor (id: RingId, options: FindSuccessorOptions = {}, unanswered: ReadonlySet<string> = new Set()): Promise<LookupResult> {
    const first = answerFindSuccessor(this.table, id)
    if (first.done) {
      return { successors: first.successors, hops: 0 }
    }
    if (this.table.clientMode && this.table.knownNodes().length === 0) {
      throw new LookupFailedError('this client knows no ring node at the moment; it is looking for the ring again through the peers and bootstrap addresses it knows: try again shortly')
    }
    if (this.delegate && Date.now() >= this.delegationPausedUntil) {
      const delegated = await this.delegated(id, options, unanswered)
      if (delegated != null) {
        return delegated
      }
      // every delegate failed (old nodes, overloaded ones): walk the ring for a while
      this.delegationPausedUntil = Date.now() + DELEGATION_PAUSE
    }
    // every preceding node we know is a fallback, not just the few a remote reply would carry
    return this.route(id, this.table.closestPreceding(id, Infinity), options, this.table.self, undefined, unanswered)
  }

  /**
   * The successor of `id` as a ring node we know answers it, our successors first (the nodes a
   * client is connected to); undefined when none of them can
   */
  private async delegated (id: RingId, options: RpcOptions, unanswered: ReadonlySet<string>): Promise<LookupResult | undefined> {
    for (const node of this.table.getSuccessors().slice(0, MAX_LOOKUP_DELEGATES).filter(node => !unanswered.has(node.peer))) {
      try {
        const successors = await this.rpc.delegateLookup(node, id, options)
        if (successors.length > 0) {
          return { successors, hops: 1 }
        }
      } catch (err) {
        if (options.signal?.aborted === true) {
          throw err
        }
        this.onNodeFailed(node)
      }
    }
    return undefined
  }

  /**
   * The successor of `id`, asking `entry` first (joining, or looking through a peer outside our
   * path). The entry's position may be a guess (a bootstrap address names no paid position), so
   * its answer is not held to it.
   */
  async findSuccessorVia (entry: NodeRef, id: RingId, options: RpcOptions = {}): Promise<LookupResult> {
    return this.route(id, [entry], options, undefined, entry.peer)
  }

  /**
   * Ask node after node, nearest the id first. `origin`, when the start came from its routing
   * table, is where the route stands before anyone answered (see `pastTheDead`); `unplaced`, a
   * node whose position is a guess, whose answer is not held to it; `unanswered`, nodes taken to
   * have failed already, whoever names them
   */
  private async route (id: RingId, start: NodeRef[], options: FindSuccessorOptions, origin?: NodeRef, unplaced?: string, unanswered: ReadonlySet<string> = new Set()): Promise<LookupResult> {
    const candidates = new Map<string, NodeRef>()
    const asked = new Set<string>([this.table.self.peer, ...unanswered])
    const failed = new Set<string>(unanswered)
    const addCandidates = (nodes: NodeRef[]): void => {
      for (const node of nodes) {
        if (!asked.has(node.peer)) {
          candidates.set(node.peer, node)
        }
      }
    }
    addCandidates(start)
    let hops = 0
    let failures = 0
    // the node nearest before the id that answered, or the origin
    let nearest = origin
    let fellBack = false

    while (hops + failures < this.maxHops) {
      // the node that most closely precedes the id
      const next = least(candidates.values(), node => distance(node.id, id))
      // nothing left nearer the id than the nearest node that answered: the way on through it
      // failed, and going back to nodes farther away would only lead to it again, node by node
      if (!fellBack && nearest != null && (next == null || distance(next.id, id) > distance(nearest.id, id))) {
        fellBack = true
        const past = await this.pastTheDead(id, nearest, failed, options)
        if (past != null && 'successors' in past) {
          return { successors: past.successors, hops: hops + past.hops }
        }
        if (past != null) {
          hops += past.hops
          addCandidates(past.closer)
          continue
        }
      }
      if (next == null) {
        break
      }
      candidates.delete(next.peer)
      asked.add(next.peer)

      let reply: FindSuccessorReply
      try {
        reply = await this.rpc.findSuccessor(next, id, options)
      } catch (err) {
        if (options.signal?.aborted === true) {
          throw err
        }
        failures++
        failed.add(next.peer)
        this.onNodeFailed(next)
        continue
      }
      hops++
      if (nearest == null || distance(next.id, id) < distance(nearest.id, id)) {
        nearest = next
      }
      if (reply.done) {
        // the node asked claims to precede the id with the owner next after it: an owner on the
        // wrong side of the id is stale or a lie, and the route goes on without it
        if (reply.successors.length > 0 && (next.peer === unplaced || inHalfOpenInterval(id, next.id, reply.successors[0].id))) {
          return { successors: reply.successors, hops }
        }
        continue
      }
      // only nodes between the one asked and the id bring us closer; anything else is stale or a lie
      addCandidates(reply.closer.filter(n => inOpenInterval(n.id, next.id, id)))
    }
    throw new LookupFailedError(`no route to the successor of ${id.toString(16)} after ${hops} hops and ${failures} failures`)
  }

  /**
   * Every node named between `nearest` and the id failed: the id's predecessor died, and
   * `nearest`, before it, has not noticed yet, so it keeps naming the dead node as the way on. Its
   * successor list reaches past the dead, as Chord's lookups fall back on the successor list when
   * the closest preceding node fails: a live successor before the id is the way on (`closer`);
   * if none is left, the first of them after the id that answers is the owner. Undefined when
   * `nearest` names nobody who answers.
   */
  private async pastTheDead (id: RingId, nearest: NodeRef, failed: Set<string>, options: RpcOptions): Promise<{ closer: NodeRef[], hops: number } | { successors: NodeRef[], hops: number } | undefined> {
    let successors: readonly NodeRef[]
    let hops = 0
    if (nearest.peer === this.table.self.peer) {
      // a client's successors follow a position it does not hold: they say nothing of the id's owner
      if (this.table.clientMode) {
        return undefined
      }
      successors = this.table.getSuccessors()
    } else {
      try {
        successors = (await this.rpc.getNeighbours(nearest, options)).successors
        hops++
      } catch (err) {
        if (options.signal?.aborted === true) {
          throw err
        }
        return undefined
      }
    }
    const alive = successors.filter(node => !failed.has(node.peer))
    const closer = alive.filter(node => inOpenInterval(node.id, nearest.id, id))
    if (closer.some(node => node.peer !== this.table.self.peer)) {
      return { closer, hops }
    }
    const beyond = alive.filter(node => !inOpenInterval(node.id, nearest.id, id))
    for (const [i, node] of beyond.entries()) {
      try {
        // we answer for ourselves
        if (node.peer !== this.table.self.peer) {
          await this.rpc.ping(node, options)
          hops++
        }
        return { successors: beyond.slice(i), hops }
      } catch (err) {
        if (options.signal?.aborted === true) {
          throw err
        }
        this.onNodeFailed(node)
      }
    }
    return undefined
  }
}

/**
 * The owner our successor list names for `id`, when the id lies between two of its nodes: the list
 * holds consecutive nodes of the ring, so the later one owns the id unless a node joined between
 * them since (or the list passed over a node of a full subnet), which `verifyOwner` finds: asked
 * directly, the node names its predecessor. Undefined when the list does not span the id, when we
 * own it, and for a client, whose list is not its own neighbourhood
 */
export function ownerInSuccessorList (table: RoutingTable, id: RingId): LookupResult | undefined {
  if (table.clientMode || table.isResponsibleFor(id)) {
    return undefined
  }
  const successors = table.getSuccessors()
  for (let i = 0; i + 1 < successors.length; i++) {
    if (inHalfOpenInterval(id, successors[i].id, successors[i + 1].id)) {
      return { successors: successors.slice(i + 1), hops: 0 }
    }
  }
  return undefined
}

/**
 * Confirms the owner a lookup was told, or finds the true one, by asking the nodes themselves.
 * The owner of an id is the first live node at or after it, so any node nearer the id than the
 * named owner refutes the answer if it answers. Candidates are the named owner and the nodes named
 * after it, and every node our table knows between the id and the named owner; each node asked
 * names its predecessor, a candidate too when it lies between the id and that node. The nearest
 * candidate that answers is the owner, and its replica set is the one it names itself. We are a
 * candidate like any other at our own position (a client never), answering from our own table
 * (`ownNeighbours`).
 *
 * A node that answers lookups with a wrong owner is caught as long as the nodes between the id and
 * the owner it names tell the truth about their own predecessors (what stabilize runs on, and what
 * a node cannot lie about without breaking the ring around itself).
 */
export async function verifyOwner (table: RoutingTable, rpc: ChordRpc, id: RingId, answer: LookupResult, init: VerifyInit = {}): Promise<LookupResult> {
  const named = answer.successors
  if (named.length === 0) {
    throw new LookupVerificationError(`the lookup of ${id.toString(16)} named no owner`)
  }
  const nearness = (node: NodeRef): RingId => distance(id, node.id)
  const asked = new Set<string>()
  const candidates = new Map<string, NodeRef>()
  const consider = (node: NodeRef | undefined): void => {
    if (node == null || asked.has(node.peer)) {
      return
    }
    if (node.peer === table.self.peer) {
      // ourselves only at our own position, whatever position a relay names us at; a client holds none
      if (!table.clientMode && node.id === table.self.id) {
        candidates.set(node.peer, table.self)
      }
      return
    }
    // a node at a position the network's rules refuse owns nothing, whoever names it
    if (table.admits(node)) {
      candidates.set(node.peer, node)
    }
  }
  named.forEach(consider)
  table.knownNodes().filter(node => nearness(node) < nearness(named[0])).forEach(consider)

  let owner: { node: NodeRef, neighbours: Neighbours } | undefined
  let answered = 0
  for (let step = 0; step < MAX_VERIFY_STEPS; step++) {
    const next = least(candidates.values(), nearness)
    if (next == null || (owner != null && nearness(next) >= nearness(owner.node))) {
      break
    }
    candidates.delete(next.peer)
    asked.add(next.peer)
    const found = next.peer === table.self.peer ? await ownNeighbours(table, rpc, id, init) : await askedNeighbours(rpc, next, init)
    if (found == null) {
      continue
    }
    answered += found.checks
    owner = { node: next, neighbours: found.neighbours }
    const { predecessor } = found.neighbours
    if (predecessor != null && nearness(predecessor) < nearness(next)) {
      consider(predecessor)
    }
  }

  const nearer = least(candidates.values(), nearness)
  if (owner == null || (nearer != null && nearness(nearer) < nearness(owner.node))) {
    throw new LookupVerificationError(`the owner of ${id.toString(16)} could not be confirmed: ${owner == null ? 'no candidate answered' : `nodes nearer than ${owner.node.peer} were left unasked after ${MAX_VERIFY_STEPS}`}`)
  }
  const followers = owner.neighbours.successors.filter(node => node.peer !== owner?.node.peer)
  const corrected = owner.node.peer === named[0].peer ? {} : { correctedFrom: named[0] }
  const predecessor = owner.neighbours.predecessor == null ? {} : { ownerPredecessor: owner.neighbours.predecessor }
  // as long a list as an answer from the ring would be
  return { successors: [owner.node, ...followers].slice(0, table.successorListLength), hops: answer.hops, checks: answered, ...corrected, ...predecessor }
}

interface FoundNeighbours {
  neighbours: Neighbours
  /** nodes that answered to tell them */
  checks: number
}

/** What `node` says its neighbours are; undefined when it did not answer (and `onNodeFailed` is told) */
async function askedNeighbours (rpc: ChordRpc, node: NodeRef, init: VerifyInit): Promise<FoundNeighbours | undefined> {
  try {
    return { neighbours: await rpc.getNeighbours(node, init), checks: 1 }
  } catch (err) {
    if (init.signal?.aborted === true) {
      throw err
    }
    init.onNodeFailed?.(node)
    return undefined
  }
}

/**
 * Our own neighbours, to confirm ourselves as the owner of `id` with: our table's, while we know
 * our predecessor. Without one (it left knowing none to hand on, or we have just joined), nodes of
 * our own table are asked instead of taking a relay's word, from the one nearest before `id`, for
 * their successors, walking on from the last of a list that ends before `id`. A list that reaches
 * `id` settles it: the one of its nodes nearest `id` between it and us stands where our
 * predecessor would, and the walk goes on to it; none, and nothing lies between, the list's last
 * node before `id` taken as our predecessor. Undefined when MAX_SELF_CONFIRMATIONS requests did
 * not settle it: we cannot tell.
 */
async function ownNeighbours (table: RoutingTable, rpc: ChordRpc, id: RingId, init: VerifyInit): Promise<FoundNeighbours | undefined> {
  const successors = [...table.getSuccessors()]
  if (table.predecessor != null) {
    return { neighbours: { predecessor: table.predecessor, successors }, checks: 0 }
  }
  const toAsk = table.closestPreceding(id, MAX_SELF_CONFIRMATIONS)
  if (toAsk.length === 0) {
    // every node we know lies between id and us, each a candidate asked before us
    return { neighbours: { successors }, checks: 0 }
  }
  const ours = distance(id, table.self.id)
  let checks = 0
  for (let asked = 0; asked < MAX_SELF_CONFIRMATIONS && toAsk.length > 0; asked++) {
    const node = toAsk.shift() as NodeRef
    const theirs = await askedNeighbours(rpc, node, init)
    if (theirs == null) {
      continue
    }
    checks++
    const list = theirs.neighbours.successors.filter(successor => successor.peer !== node.peer)
    const before = list.filter(successor => inOpenInterval(successor.id, node.id, id))
    const lastBefore = least(before, successor => distance(successor.id, id))
    if (before.length < list.length) {
      const between = list.filter(successor => successor.peer !== table.self.peer && distance(id, successor.id) < ours)
      return { neighbours: { predecessor: least(between, successor => distance(id, successor.id)) ?? lastBefore ?? node, successors }, checks }
    }
    if (lastBefore != null) {
      toAsk.unshift(lastBefore)
    }
  }
  return undefined
}

export interface VerifyInit extends RpcOptions {
  /** told when a node did not answer, so the table can stop routing through it */
  onNodeFailed?(node: NodeRef): void
}

/** The node of least `measure` (a clockwise distance to or from an id) */
function least (nodes: Iterable<NodeRef>, measure: (node: NodeRef) => RingId): NodeRef | undefined {
  let best: NodeRef | undefined
  let bestDistance = 0n
  for (const node of nodes) {
    const d = measure(node)
    if (best == null || d < bestDistance) {
      best = node
      bestDistance = d
    }
  }
  return best
}
