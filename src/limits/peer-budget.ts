/**
 * A per-peer budget of points that refills every window: what one remote peer may spend on one
 * kind of work before it is refused until its window ends.
 *
 * Counting is `RateLimiter`'s (from @libp2p/utils), as peer exchange does: a peer's window starts
 * with its first spend, and its entry is deleted when the window ends, so only peers active within
 * the last window are remembered. Since a peer can change identity at the cost of a new
 * connection, at most `maxPeers` are remembered at once; past that, the one remembered longest is
 * forgotten (its next request starts a fresh window), so memory is bounded whatever the churn.
 */
import { RateLimiter } from '@libp2p/utils'

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
      // a Map iterates in insertion order: the first entry is the one remembered longest
      const oldest = tracked.keys().next().value
      if (oldest != null) {
        this.limiter.delete(oldest)
      }
    }
    this.limiter.penalty(peer, points)
  }

  /**
   * Give back up to `points` of what `peer` spent in its current window, for work that did not
   * happen after all (a write refused once its rates were spent); nothing once the window ended
   */
  refund (peer: string, points: number): void {
    const used = this.limiter.get(peer)
    if (used != null && used.msBeforeNext > 0) {
      this.limiter.reward(peer, Math.min(points, used.consumedPoints))
    }
  }

  /** Peers remembered now */
  get trackedPeers (): number {
    return this.limiter.memoryStorage.storage.size
  }
}
