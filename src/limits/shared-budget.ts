/**
 * Work a node does on its own account for whoever asks: passing a recursive lookup on, running a
 * client's lookup. Each request it sends for them is charged to its own budget at the next node,
 * so without caps of its own, strangers asking it for such work could spend that budget and have
 * its maintenance refused. A cap for all askers together per window, and a share of it for each,
 * so that one asker cannot take the whole and send everyone else the long way.
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
   * Whether one more piece of work for `asker` fits both budgets
   *
   * @throws RateLimitedError when its share, or the node's budget, is spent for this window
   */
  check (asker: string): void {
    if (this.perAsker.remaining(asker) < 1) {
      throw new RateLimitedError(`this node takes at most ${this.perAsker.points} ${this.work} per asker per ${this.windowMs} ms`, { retryAfterMs: this.perAsker.msBeforeRefill(asker) })
    }
    if (this.all.remaining(ALL) < 1) {
      throw new RateLimitedError(`this node takes at most ${this.all.points} ${this.work} per ${this.windowMs} ms`, { retryAfterMs: this.all.msBeforeRefill(ALL) })
    }
  }

  /** Count one piece of work for `asker`, checked first */
  spend (asker: string): void {
    this.all.spend(ALL, 1)
    this.perAsker.spend(asker, 1)
  }
}
