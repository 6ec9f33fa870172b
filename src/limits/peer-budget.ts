/**
 * A per-peer budget of points that refills every window: what one remote peer may spend on one
 * kind of work before it is refused until its window ends.
 *
 * Counting is `RateLimiter`'s (from @libp2p/utils), as peer exchange does: a peer's window starts
 * with its first spend, and its entry is deleted when the window ends, so only peers active within
 * the last window are remembered. Since a peer can change identity at the cost of a new
 * connection, at most `maxPeers` are remembered at once; past that, one is forgotten (its next
 * request starts a fresh window), so memory is bounded whatever the churn: of the
 * EVICTION_CANDIDATES remembered longest, the one that spent least. A flood of new, lightly used
 * entries then cannot wipe out a budget spent, or nearly spent, the entries worth remembering.
 */
import { RateLimiter } from '@libp2p/utils'

/**
 * Entries, the longest remembered, among which the one that spent least is forgotten: enough that
 * a flood of light entries always offers one lighter than a spent budget, few enough that a
 * table full of spent ones costs a bounded look per new peer
 */
export const EVICTION_CANDIDATES = 16

export interface PeerBudgetInit {
  /** points each peer may spend per window */
  points: number
  /** ms of one window */
  windowMs: number
  /** peers remembered at once */
  maxPeers: number
}

export class PeerBudget {
  readonly points: number
  private readonly maxPeers: number
  private readonly limiter: RateLimiter

  constructor (init: PeerBudgetInit) {
    this.points = init.points
    this.maxPeers = init.maxPeers
    // no key prefix: the limiter's keys are the peers themselves
    this.limiter = new RateLimiter({ points: init.points, duration: init.windowMs / 1000, keyPrefix: '' })
  }

  /** Points `peer` has left in its current window */
  remaining (peer: string): number {
    const used = this.limiter.get(peer)
    // an entry whose window has ended is about to be deleted: nothing of it counts
    if (used == null || used.msBeforeNext <= 0) {
      return this.points
    }
    return Math.max(this.points - used.consumedPoints, 0)
  }

  /** ms until `peer`'s window ends and its budget is whole again (0 when it has no window open) */
  msBeforeRefill (peer: string): number {
    return Math.max(this.limiter.get(peer)?.msBeforeNext ?? 0, 0)
  }

  /** Charge `points` to `peer` (which may overdraw it: work already done is charged in full) */
  spend (peer: string, points: number): void {
    const tracked = this.limiter.memoryStorage.storage
    if (!tracked.has(peer) && tracked.size >= this.maxPeers) {
      const forgotten = this.leastWorthRemembering()
      if (forgotten != null) {
        this.limiter.delete(forgotten)
      }
    }
    this.limiter.penalty(peer, points)
  }

  /** Of the EVICTION_CANDIDATES peers remembered longest (a Map iterates in insertion order), the one that spent least */
  private leastWorthRemembering (): string | undefined {
    let lightest: { peer: string, consumed: number } | undefined
    let looked = 0
    for (const [peer, { value: consumed }] of this.limiter.memoryStorage.storage) {
      if (lightest == null || consumed < lightest.consumed) {
        lightest = { peer, consumed }
      }
      if (++looked === EVICTION_CANDIDATES) {
        break
      }
    }
    return lightest?.peer
  }

  /**
   * Give back up to `points` of what `peer` spent in its current window, for work that did not
   * happen after all (a write refused once its rates were spent); nothing once the window ended
   */
  refund (peer: string, points: number): void {
    const used = this.limiter.get(peer)
    if (used == null || used.msBeforeNext <= 0) {
      return
    }
    if (points >= used.consumedPoints) {
      // nothing spent after all: nothing to remember
      this.limiter.delete(peer)
    } else {
      this.limiter.reward(peer, points)
    }
  }

  /** Peers remembered now */
  get trackedPeers (): number {
    return this.limiter.memoryStorage.storage.size
  }
}
