/**
 * Even load by choosing a position (Karger and Ruhl; Byers, Considine and Mitzenmacher): a node
 * joining for the first time has several candidate positions (one nonce, several choices:
 * ring-position.ts), looks up where each would land, and takes the one that splits the widest gap
 * it can see most evenly. With one position per node, gaps between neighbours vary as an
 * exponential distribution does and the 99th percentile of keys per node is ~4.6× the mean; a
 * joiner that fills the widest of k gaps keeps gaps close to 1/N (docs/architecture.md, "Even
 * load", has the measured effect of k).
 *
 * The score of a candidate is the smaller of the two gaps it would leave, between the node that
 * would precede it and itself, and between itself and its successor: a candidate in a wide gap,
 * near its middle, scores highest.
 */
import { LookupFailedError } from '../errors.js'
import { distance } from './id.js'
import type { RingId } from './id.js'
import type { NodeRef } from './rpc.js'

export interface PositionChoiceInit {
  /** the positions the node may take, all its own */
  candidates: NodeRef[]
  /** the successors of an id, the owner first, as the ring answers a lookup */
  successorsOf(id: RingId): Promise<NodeRef[]>
  /** a node's predecessor, as that node says */
  predecessorOf(node: NodeRef): Promise<NodeRef | undefined>
}

/**
 * The candidate that splits the widest gap most evenly; candidates whose lookups fail are left
 * out (ties: the first)
 *
 * @throws LookupFailedError when no candidate could be looked up
 */
export async function choosePosition (init: PositionChoiceInit): Promise<NodeRef> {
  const scores = await Promise.allSettled(init.candidates.map(async candidate => scoreOf(candidate, init)))
  let best: NodeRef | undefined
  let bestScore = -1n
  scores.forEach((score, i) => {
    if (score.status === 'fulfilled' && score.value > bestScore) {
      best = init.candidates[i]
      bestScore = score.value
    }
  })
  if (best == null) {
    const first = scores.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    throw new LookupFailedError(`none of ${init.candidates.length} candidate positions could be looked up`, { cause: first?.reason })
  }
  return best
}

/** The smaller of the two gaps `candidate` would leave between its neighbours-to-be */
async function scoreOf (candidate: NodeRef, init: PositionChoiceInit): Promise<bigint> {
  const successor = (await init.successorsOf(candidate.id)).find(node => node.peer !== candidate.peer)
  if (successor == null) {
    throw new LookupFailedError('the lookup named no other node')
  }
  const predecessor = await init.predecessorOf(successor)
  // a successor without a predecessor (a ring of one) is the whole gap's both ends
  const before = predecessor == null || predecessor.peer === candidate.peer ? successor : predecessor
  const low = distance(before.id, candidate.id)
  const high = distance(candidate.id, successor.id)
  return low < high ? low : high
}
