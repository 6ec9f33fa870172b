/**
 * Work a node caps for all askers together, not only per asker: since PeerIds cost nothing, a
 * budget per asker alone lets enough identities take as much as they like. Work done on the
 * node's own account for whoever asks (passing a recursive lookup on, running a client's lookup)
 * is charged to its own budget at the next node, so strangers asking for it could spend that
 * budget and have its maintenance refused; records read for strangers take CPU from everyone. A
 * cap for all askers together per window, and a share of it for each, so that one asker cannot
 * take the whole and leave everyone else refused.
 *
 * Work is counted in points: one per lookup, one per record read. Work whose cost is known only
 * once it is done is checked for a point left and charged in full afterwards; to overdraw by
 * nothing, it asks what is `remaining` and does no more than that.
 */
import { RateLimitedError } from '../errors.js'
import { PeerBudget } from './peer-budget.js'

export interface SharedBudgetInit {
  /** what is counted, for the refusals: "lookups passed on" */
  work: string
  /** work done per window, whoever asks */
  perWindow: number
  /** work done per window for one asker */
  perAskerPerWindow: number
  /** ms of one window */
  windowMs: number
  /** askers remembered at once (see PeerBudget) */
  maxAskers: number
}

/** The one key of the node-wide budget: it is the node's, not any asker's */
const ALL = 'all'

export class SharedBudget {
  private readonly work: string
  private readonly windowMs: number
  private readonly all: PeerBudget
  private readonly perAsker: PeerBudget

  constructor (init: SharedBudgetInit) {
    this.work = init.work
    this.windowMs = init.windowMs
    this.all = new PeerBudget({ points: init.perWindow, windowMs: init.windowMs, maxPeers: 1 })
    this.perAsker = new PeerBudget({ points: init.perAskerPerWindow, windowMs: init.windowMs, maxPeers: init.maxAskers })
  }

  /**
   * Whether `points` more of work for `asker` fit both budgets (by default one: something is left)
   *
   * @throws RateLimitedError when its share, or the node's budget, cannot pay for it in this window
   */
  check (asker: string, points = 1): void {
    if (this.perAsker.remaining(asker) < points) {
      throw new RateLimitedError(`this node takes at most ${this.perAsker.points} ${this.work} per asker per ${this.windowMs} ms`, { retryAfterMs: this.perAsker.msBeforeRefill(asker) })
    }
    if (this.all.remaining(ALL) < points) {
      throw new RateLimitedError(`this node takes at most ${this.all.points} ${this.work} per ${this.windowMs} ms`, { retryAfterMs: this.all.msBeforeRefill(ALL) })
    }
  }

  /** Points of work `asker` may still have done in this window: the less of its share's and the node's */
  remaining (asker: string): number {
    return Math.min(this.perAsker.remaining(asker), this.all.remaining(ALL))
  }

  /** Count `points` of work for `asker` (one by default), checked first or already done */
  spend (asker: string, points = 1): void {
    this.all.spend(ALL, points)
    this.perAsker.spend(asker, points)
  }
}
