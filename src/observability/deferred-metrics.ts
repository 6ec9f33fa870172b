/**
 * A node's metrics, loaded when the node starts (`load`), so that prom-client is imported only by
 * a node that keeps metrics: `chord-node` without `--http` never loads it (docs/benchmarks.md,
 * memory). Until they load, and for good in a node that keeps none, reports go nowhere; nothing
 * is reported before a node starts anyway. What the metrics are to watch is kept, and handed to
 * them when they load.
 */
import { createNodeMetrics as noMetrics } from './metrics.browser.js'
import type { MailboxMetrics, NodeMetrics, WatchedMailbox, WatchedNode } from './metrics.js'
import type { AntiEntropyRound, PutOutcome } from '../chord/replication.js'
import type { LookupOutcome } from '../chord/ring.js'
import type { HealingOutcome } from '../membership/partition-healer.js'
import type { ObservedRequest } from '../transport/observed-request.js'

export class DeferredNodeMetrics implements NodeMetrics {
  private target: NodeMetrics = noMetrics()
  private loading?: Promise<void>
  /** what was given to `watch` and `watchMailbox`, for the metrics once they load */
  private readonly watchers: Array<(metrics: NodeMetrics) => void> = []

  readonly mailbox: MailboxMetrics = {
    stored: count => { this.target.mailbox.stored(count) },
    pushed: count => { this.target.mailbox.pushed(count) },
    acknowledged: count => { this.target.mailbox.acknowledged(count) },
    expired: count => { this.target.mailbox.expired(count) },
    refused: reason => { this.target.mailbox.refused(reason) }
  }

  /** Import prom-client and make the metrics (once; a node started again keeps its counts) */
  async load (): Promise<void> {
    this.loading ??= import('./metrics.js').then(({ createNodeMetrics }) => {
      const metrics = createNodeMetrics()
      for (const watch of this.watchers) {
        watch(metrics)
      }
      this.target = metrics
    })
    await this.loading
  }

  watch (node: WatchedNode): void {
    this.watchers.push(metrics => { metrics.watch(node) })
    this.target.watch(node)
  }

  watchMailbox (mailbox: WatchedMailbox): void {
    this.watchers.push(metrics => { metrics.watchMailbox(mailbox) })
    this.target.watchMailbox(mailbox)
  }

  healingRound (outcome: HealingOutcome): void {
    this.target.healingRound(outcome)
  }

  peerExchangeRound (ok: boolean, learned: number): void {
    this.target.peerExchangeRound(ok, learned)
  }

  lookupFinished (outcome: LookupOutcome): void {
    this.target.lookupFinished(outcome)
  }

  requestSent (request: ObservedRequest): void {
    this.target.requestSent(request)
  }

  requestServed (request: ObservedRequest): void {
    this.target.requestServed(request)
  }

  antiEntropyRound (round: AntiEntropyRound): void {
    this.target.antiEntropyRound(round)
  }

  async observePut<T extends PutOutcome>(put: () => Promise<T>): Promise<T> {
    return this.target.observePut(put)
  }

  async observeGet<T>(get: () => Promise<T>): Promise<T> {
    return this.target.observeGet(get)
  }

  async expose (): Promise<string> {
    return this.target.expose()
  }
}
