/**
 * Prometheus metrics of one node, on the node's own registry: several nodes may run in one
 * process, and each must report only itself.
 *
 * Counters and histograms are fed by what the parts report as they work (lookups from the ring,
 * requests from the service, anti-entropy rounds from replication, puts and gets from the node).
 * Gauges read the node's state when scraped, so they cost nothing in between.
 *
 * prom-client needs Node built-ins, so a browser build swaps this module for `metrics.browser.ts`
 * through the package's `browser` field.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { ringIdToHex } from '../chord/id.js'
import { ErrorCode } from '../transport/constants.js'
import { HOP_BUCKETS, LATENCY_BUCKETS, REPLICA_BUCKETS } from './constants.js'
import { knownErrorCode } from './refused-requests.js'
import type { AntiEntropyRound, PutOutcome } from '../chord/replication.js'
import type { ChordRing, LookupOutcome } from '../chord/ring.js'
import type { RecordStore } from '../chord/record.js'
import type { HealingOutcome } from '../membership/partition-healer.js'
import type { ObservedRequest } from '../transport/observed-request.js'
import type { Libp2p } from '@libp2p/interface'

/** What the gauges read at each scrape */
export interface WatchedNode {
  ring: Pick<ChordRing, 'self' | 'table' | 'lastStabilizedAt' | 'maintenanceIntervals'>
  store: Pick<RecordStore, 'stats'>
  libp2p: Pick<Libp2p, 'getConnections'>
  /** about how many nodes the ring has, from the spacing of the successors */
  ringSize(): number
}

/** What the mailbox gauges read at each scrape */
export interface WatchedMailbox {
  /** the envelopes this node holds for others */
  store: Pick<RecordStore, 'stats'>
  /** live subscriptions this node serves */
  subscriptions(): number
}

/** Why a subscription was refused, as the mailbox protocol's error codes say */
export type SubscriptionRefusal = 'BAD_REQUEST' | 'BAD_SIGNATURE' | 'FORBIDDEN' | 'TOO_MANY_SUBSCRIBERS' | 'RATE_LIMITED' | string

/** What the mailbox reports as it works */
export interface MailboxMetrics {
  /** envelopes stored here for the first time (sends, replication, handoff) */
  stored(count: number): void
  /** envelopes written to a subscriber */
  pushed(count: number): void
  /** envelopes deleted on their owner's signed acknowledgement */
  acknowledged(count: number): void
  /** envelopes removed because their TTL ran out */
  expired(count: number): void
  /** a subscription this node refused */
  refused(reason: SubscriptionRefusal): void
}

/**
 * What a node reports to its metrics, and how they are read out. The counters are fed by the
 * parts as they work, so the metrics exist before the parts; the gauges that read the parts'
 * state are added once they exist (`watch`).
 */
export interface NodeMetrics {
  /** Add the gauges that read the node's state at each scrape (once) */
  watch(node: WatchedNode): void
  /** Add the mailbox's gauges (once, by the mailbox service) */
  watchMailbox(mailbox: WatchedMailbox): void
  readonly mailbox: MailboxMetrics
  healingRound(outcome: HealingOutcome): void
  /** one peer exchange round: whether the asked peer answered, and how many new peers it named */
  peerExchangeRound(ok: boolean, learned: number): void
  lookupFinished(outcome: LookupOutcome): void
  requestSent(request: ObservedRequest): void
  requestServed(request: ObservedRequest): void
  antiEntropyRound(round: AntiEntropyRound): void
  /** Runs a put, counting its outcome, its duration and the replicas that acknowledged it */
  observePut<T extends PutOutcome>(put: () => Promise<T>): Promise<T>
  /** Runs a get, counting its outcome and duration */
  observeGet<T>(get: () => Promise<T>): Promise<T>
  /** Every metric in the Prometheus text format (version 0.0.4) */
  expose(): Promise<string>
}

export function createNodeMetrics (): NodeMetrics {
  return new PrometheusNodeMetrics()
}

type Outcome = 'ok' | 'failed'
const OUTCOMES: Array<{ outcome: Outcome }> = [{ outcome: 'ok' }, { outcome: 'failed' }]
const HEALING_OUTCOMES: HealingOutcome[] = ['merged', 'unchanged', 'failed']
const ENVELOPE_EVENTS = ['stored', 'pushed', 'acknowledged', 'expired'] as const

class PrometheusNodeMetrics implements NodeMetrics {
  private readonly registry = new Registry()
  private readonly lookups: Counter<'outcome'>
  private readonly cachedLookups: Counter
  private readonly recursiveLookups: Counter
  private readonly carriedLookups: Counter
  private readonly lookupHops: Histogram
  private readonly lookupDuration: Histogram
  private readonly requestsSent: Counter<'type' | 'outcome'>
  private readonly sentDuration: Histogram<'type'>
  private readonly requestsServed: Counter<'type' | 'outcome'>
  private readonly requestsRefused: Counter<'code'>
  private readonly servedDuration: Histogram<'type'>
  private readonly puts: Counter<'outcome'>
  private readonly putDuration: Histogram
  private readonly putReplicas: Histogram
  private readonly gets: Counter<'outcome'>
  private readonly getDuration: Histogram
  private readonly antiEntropyRounds: Counter
  private readonly antiEntropyFailures: Counter
  private readonly recordsRepaired: Counter<'direction'>
  private readonly healingRounds: Counter<'outcome'>
  private readonly pxRounds: Counter<'outcome'>
  private readonly pxPeersLearned: Counter
  private readonly envelopes: Counter<'event'>
  private readonly refusals: Counter<'reason'>
  readonly mailbox: MailboxMetrics

  constructor () {
    const registers = [this.registry]
    const counter = <L extends string = never>(name: string, help: string, labelNames: L[] = [], series: Array<Record<L, string>> = []): Counter<L> => {
      const metric = new Counter({ name, help, labelNames, registers })
      // series known in advance exist from the first scrape, so rates over them work at once
      for (const labels of series) {
        metric.inc(labels, 0)
      }
      return metric
    }
    const histogram = <L extends string = never>(name: string, help: string, buckets: number[], labelNames: L[] = []): Histogram<L> =>
      new Histogram({ name, help, buckets, labelNames, registers })
    this.lookups = counter('chord_lookups_total', 'Lookups of a key\'s successor (for users and for replication), by outcome', ['outcome'], OUTCOMES)
    this.cachedLookups = counter('chord_lookups_cached_total', 'Lookups answered from the owner cache, no node asked (counted in chord_lookups_total too)')
    this.recursiveLookups = counter('chord_lookups_recursive_total', 'Lookups the owner answered through the ring (FIND_OWNER), not walked (counted in chord_lookups_total too)')
    this.carriedLookups = counter('chord_lookups_carried_total', 'Recursive lookups whose owner stored the record they carried: writes that needed no STORE to the owner (counted in chord_lookups_recursive_total too)')
    this.lookupHops = histogram('chord_lookup_hops', 'Remote nodes that answered during each successful lookup', HOP_BUCKETS)
    this.lookupDuration = histogram('chord_lookup_duration_seconds', 'Time each lookup took, failed ones included', LATENCY_BUCKETS)

    this.requestsSent = counter('chord_rpc_requests_sent_total', '/chord/1.0.0 requests sent, by message type and outcome (ok, error, timeout, failed)', ['type', 'outcome'])
    this.sentDuration = histogram('chord_rpc_sent_duration_seconds', 'Time from sending a request to its answer or failure, by message type', LATENCY_BUCKETS, ['type'])
    this.requestsServed = counter('chord_rpc_requests_served_total', '/chord/1.0.0 requests answered, by message type and outcome (ok, error)', ['type', 'outcome'])
    this.requestsRefused = counter('chord_rpc_requests_refused_total', '/chord/1.0.0 requests answered with an ERROR, by its code: RATE_LIMITED and QUOTA_EXCEEDED are peers over this node\'s limits; FORBIDDEN and TOO_LARGE come with the ring\'s own churn too (counted in chord_rpc_requests_served_total too)', ['code'], Object.values(ErrorCode).map(code => ({ code })))
    this.servedDuration = histogram('chord_rpc_served_duration_seconds', 'Time spent answering a request, by message type', LATENCY_BUCKETS, ['type'])

    this.puts = counter('chord_puts_total', 'put() calls, by outcome', ['outcome'], OUTCOMES)
    this.putDuration = histogram('chord_put_duration_seconds', 'Time each put() took, failed ones included', LATENCY_BUCKETS)
    this.putReplicas = histogram('chord_put_replicas_acknowledged', 'Replicas that durably stored each successful put()', REPLICA_BUCKETS)
    this.gets = counter('chord_gets_total', 'get() calls, by outcome', ['outcome'], OUTCOMES)
    this.getDuration = histogram('chord_get_duration_seconds', 'Time each get() took, failed ones included', LATENCY_BUCKETS)

    this.antiEntropyRounds = counter('chord_anti_entropy_rounds_total', 'Anti-entropy rounds run as primary of a range (a node without a predecessor skips them)')
    this.antiEntropyFailures = counter('chord_anti_entropy_replica_failures_total', 'Replica comparisons that failed: the replica did not answer, or refused')
    this.recordsRepaired = counter('chord_anti_entropy_records_repaired_total', 'Records sent to replicas that lacked them, or fetched because this node lacked them', ['direction'], [{ direction: 'sent' }, { direction: 'fetched' }])

    this.healingRounds = counter('chord_healing_rounds_total', 'Partition-healing rounds: merged (a closer successor was found through a node off the successor path), unchanged, or failed (the peer picked did not answer)', ['outcome'], HEALING_OUTCOMES.map(outcome => ({ outcome })))
    this.pxRounds = counter('chord_peer_exchange_rounds_total', 'Peer exchange requests this node made, by whether the peer answered', ['outcome'], OUTCOMES)
    this.pxPeersLearned = counter('chord_peer_exchange_peers_learned_total', 'Peers learned through peer exchange that the peer store did not know (or knew without those addresses)')

    this.envelopes = counter('chord_mailbox_envelopes_total', 'Mailbox envelopes, by what happened to them: stored here for the first time, pushed to a subscriber, acknowledged (deleted by their owner), expired (TTL)', ['event'], ENVELOPE_EVENTS.map(event => ({ event })))
    this.refusals = counter('chord_mailbox_subscriptions_refused_total', 'Subscriptions refused, by the mailbox protocol\'s error code', ['reason'])
    const envelopes = (event: typeof ENVELOPE_EVENTS[number]) => (count: number): void => { this.envelopes.inc({ event }, count) }
    this.mailbox = {
      stored: envelopes('stored'),
      pushed: envelopes('pushed'),
      acknowledged: envelopes('acknowledged'),
      expired: envelopes('expired'),
      refused: reason => { this.refusals.inc({ reason }) }
    }
  }

  watchMailbox (mailbox: WatchedMailbox): void {
    const registers = [this.registry]
    const gauge = (name: string, help: string, read: () => number): void => {
      const metric: Gauge = new Gauge({ name, help, registers, collect: () => { metric.set(read()) } })
    }
    gauge('chord_mailbox_subscriptions', 'Live mailbox subscriptions this node serves', () => mailbox.subscriptions())
    gauge('chord_mailbox_store_envelopes', 'Envelopes this node holds for others, expired ones not yet swept included', () => mailbox.store.stats().records)
    gauge('chord_mailbox_store_bytes', 'Bytes the mailbox store\'s quotas count', () => mailbox.store.stats().bytes)
  }

  healingRound (outcome: HealingOutcome): void {
    this.healingRounds.inc({ outcome })
  }

  peerExchangeRound (ok: boolean, learned: number): void {
    this.pxRounds.inc({ outcome: ok ? 'ok' : 'failed' })
    this.pxPeersLearned.inc(learned)
  }

  watch (node: WatchedNode): void {
    const registers = [this.registry]
    const gauge = (name: string, help: string, read: () => number): void => {
      const metric: Gauge = new Gauge({ name, help, registers, collect: () => { metric.set(read()) } })
    }
    const { ring, store, libp2p } = node
    const { table } = ring
    gauge('chord_store_records', 'Records in the store, expired ones not yet swept included', () => store.stats().records)
    gauge('chord_store_bytes', 'Bytes the store\'s quotas count: values plus a fixed overhead per record', () => store.stats().bytes)
    gauge('chord_successor_list_length', 'Nodes in the successor list', () => table.getSuccessors().length)
    gauge('chord_successor_list_capacity', 'Nodes the successor list holds once the ring is large enough', () => table.successorListLength)
    gauge('chord_has_predecessor', '1 when the predecessor is known, else 0', () => (table.predecessor == null ? 0 : 1))
    gauge('chord_fingers_filled', `Finger table entries that name a node, of ${table.fingerCount}`, () => filledFingers(ring))
    gauge('chord_last_stabilize_timestamp_seconds', 'When the last stabilize round finished, seconds since the epoch; 0 before the first', () => (ring.lastStabilizedAt ?? 0) / 1000)
    gauge('chord_libp2p_connections', 'Open libp2p connections', () => libp2p.getConnections().length)
    gauge('chord_ring_size_estimate', 'About how many nodes the ring has, as this node can tell: exact while its successor list holds the whole rest of the ring, else from how densely its successors sit after it', () => node.ringSize())
    const intervals: Gauge<'loop'> = new Gauge({
      name: 'chord_maintenance_interval_seconds',
      help: 'The interval each maintenance loop works at now: its short one while the ring around the node changes, longer while nothing does',
      labelNames: ['loop'],
      registers,
      collect: () => {
        for (const [loop, ms] of Object.entries(ring.maintenanceIntervals)) {
          intervals.set({ loop }, ms / 1000)
        }
      }
    })

    new Gauge({ name: 'chord_node_info', help: 'Always 1, labelled with the node\'s PeerId and ring position', labelNames: ['peer_id', 'ring_id'], registers })
      .set({ peer_id: ring.self.peer, ring_id: ringIdToHex(ring.self.id) }, 1)
  }

  lookupFinished (outcome: LookupOutcome): void {
    this.lookupDuration.observe(outcome.durationMs / 1000)
    if (outcome.ok) {
      this.lookups.inc({ outcome: 'ok' })
      this.lookupHops.observe(outcome.hops)
      if (outcome.cached === true) {
        this.cachedLookups.inc()
      }
      if (outcome.recursive === true) {
        this.recursiveLookups.inc()
      }
      if (outcome.carried === true) {
        this.carriedLookups.inc()
      }
    } else {
      this.lookups.inc({ outcome: 'failed' })
    }
  }

  requestSent ({ type, outcome, durationMs }: ObservedRequest): void {
    this.requestsSent.inc({ type, outcome })
    this.sentDuration.observe({ type }, durationMs / 1000)
  }

  requestServed ({ type, outcome, durationMs, errorCode }: ObservedRequest): void {
    this.requestsServed.inc({ type, outcome })
    if (outcome === 'error') {
      this.requestsRefused.inc({ code: knownErrorCode(errorCode) })
    }
    this.servedDuration.observe({ type }, durationMs / 1000)
  }

  antiEntropyRound (round: AntiEntropyRound): void {
    this.antiEntropyRounds.inc()
    this.antiEntropyFailures.inc(round.failed)
    this.recordsRepaired.inc({ direction: 'sent' }, round.recordsSent)
    this.recordsRepaired.inc({ direction: 'fetched' }, round.recordsFetched)
  }

  async observePut<T extends PutOutcome>(put: () => Promise<T>): Promise<T> {
    const result = await timed(this.puts, this.putDuration, put)
    this.putReplicas.observe(result.replicas)
    return result
  }

  async observeGet<T>(get: () => Promise<T>): Promise<T> {
    return timed(this.gets, this.getDuration, get)
  }

  async expose (): Promise<string> {
    return this.registry.metrics()
  }
}

/** Runs `work`, counting its outcome and observing its duration in seconds */
async function timed<T> (count: Counter<'outcome'>, duration: Histogram, work: () => Promise<T>): Promise<T> {
  const stopTimer = duration.startTimer()
  let outcome: Outcome = 'failed'
  try {
    const result = await work()
    outcome = 'ok'
    return result
  } finally {
    stopTimer()
    count.inc({ outcome })
  }
}

function filledFingers (ring: Pick<ChordRing, 'table'>): number {
  let filled = 0
  for (let i = 0; i < ring.table.fingerCount; i++) {
    if (ring.table.getFinger(i) != null) {
      filled++
    }
  }
  return filled
}
