/**
 * Several named budgets per remote peer, charged together: a piece of work that costs points of
 * more than one budget (a STORE costs records and bytes) is refused whole with
 * `RateLimitedError` if any of them cannot pay, and then charges nothing, so a batch too large
 * for what is left does not use up the room for smaller work.
 *
 * Some costs are only known once the work is done (how many records a digest read, how many
 * bytes a STORE wrote): those are charged afterwards (`charge`), and may overdraw a budget; work
 * that draws on such a budget is refused while it is spent (`admit`'s `needs`).
 */
import { RateLimitedError } from '../errors.js'
import { PeerBudget } from './peer-budget.js'

export interface PeerBudgetsInit {
  /** ms of one counting window, shared by every budget */
  windowMs: number
  /** peers remembered at once, per budget */
  maxPeers: number
  /** who a refusal names for `key`, e.g. "the peers of 203.0.113.0/24"; default none (the asker itself) */
  subject?(key: string): string
}

export class PeerBudgets<Name extends string> {
  private readonly points: Readonly<Record<Name, number>>
  private readonly windowMs: number
  private readonly budgets: Record<Name, PeerBudget>
  private readonly subject?: (key: string) => string

  constructor (points: Record<Name, number>, init: PeerBudgetsInit) {
    this.points = { ...points }
    this.windowMs = init.windowMs
    this.subject = init.subject
    this.budgets = Object.fromEntries(Object.entries<number>(points).map(([name, budget]) =>
      [name, new PeerBudget({ points: budget, windowMs: init.windowMs, maxPeers: init.maxPeers })])) as Record<Name, PeerBudget>
  }

  /**
   * Charge `costs` to `peer`'s budgets, once each of `needs` (budgets charged after the work) has
   * something left.
   *
   * @throws RateLimitedError when one of them cannot pay; then nothing is charged
   */
  admit (peer: string, costs: Array<[Name, number]>, needs: Name[] = []): void {
    this.check(peer, costs, needs)
    this.charge(peer, costs)
  }

  /**
   * Whether `peer`'s budgets could pay `costs`, each of `needs` having something left; charges nothing
   *
   * @throws RateLimitedError when one of them cannot pay
   */
  check (peer: string, costs: Array<[Name, number]>, needs: Name[] = []): void {
    for (const name of needs) {
      if (this.budgets[name].remaining(peer) <= 0) {
        throw this.refusal(peer, name, `${name}: spent for this ${this.windowMs} ms window`)
      }
    }
    for (const [name, cost] of costs) {
      const left = this.budgets[name].remaining(peer)
      if (cost > left) {
        throw this.refusal(peer, name, `${name}: ${cost} asked, ${left} of ${this.points[name]} left in this ${this.windowMs} ms window`)
      }
    }
  }

  /** Charge `costs` to `peer`'s budgets whatever is left: work already done */
  charge (peer: string, costs: Array<[Name, number]>): void {
    for (const [name, cost] of costs) {
      if (cost > 0) {
        this.budgets[name].spend(peer, cost)
      }
    }
  }

  /** Peers whose budgets are remembered now (the most over all budgets) */
  get trackedPeers (): number {
    return Math.max(...Object.values<PeerBudget>(this.budgets).map(budget => budget.trackedPeers))
  }

  private refusal (peer: string, name: Name, message: string): RateLimitedError {
    return new RateLimitedError(this.subject == null ? message : `${this.subject(peer)}: ${message}`, { retryAfterMs: this.budgets[name].msBeforeRefill(peer) })
  }
}
