import assert from 'node:assert/strict'
import { RoutingTable } from '../../src/chord/routing-table.js'
import { MessageType } from '../../src/protocol/generated/chord.js'
import * as nodeMetrics from '../../src/observability/metrics.js'
import * as browserMetrics from '../../src/observability/metrics.browser.js'
import { DeferredNodeMetrics } from '../../src/observability/deferred-metrics.js'
import { hasMetric, metricSum } from '../helpers/prometheus.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { NodeMetrics, WatchedNode } from '../../src/observability/metrics.js'
import type { StoreStats } from '../../src/chord/record.js'

const node = (id: bigint): NodeRef => ({ id, peer: `p${id}` })

interface World {
  metrics: NodeMetrics
  table: RoutingTable
  stats: StoreStats
  ring: { lastStabilizedAt?: number, intervals: { stabilize: number, fixFingers: number, checkPredecessor: number } }
  connections: number
  ringSize: number
}

/** Metrics over a routing table, a store's counters and a connection count the test sets */
function world (): World {
  const table = new RoutingTable(node(10n), { successorListLength: 8 })
  const state: Omit<World, 'metrics'> = {
    table,
    stats: { records: 0, bytes: 0 },
    ring: { intervals: { stabilize: 1000, fixFingers: 1000, checkPredecessor: 2000 } },
    connections: 0,
    ringSize: 1
  }
  const watched: WatchedNode = {
    ring: {
      self: table.self,
      table,
      get lastStabilizedAt () { return state.ring.lastStabilizedAt },
      get maintenanceIntervals () { return state.ring.intervals }
    },
    store: { stats: () => state.stats },
    libp2p: { getConnections: () => new Array(state.connections) },
    ringSize: () => state.ringSize
  }
  const metrics = nodeMetrics.createNodeMetrics()
  metrics.watch(watched)
  return Object.assign(state, { metrics })
}

describe('node metrics', () => {
  it('counts lookups by outcome, with their hops and durations', async () => {
    const { metrics } = world()
    metrics.lookupFinished({ ok: true, hops: 2, durationMs: 3 })
    metrics.lookupFinished({ ok: true, hops: 4, durationMs: 5 })
    metrics.lookupFinished({ ok: false, durationMs: 2000 })
    const text = await metrics.expose()
    assert.equal(metricSum(text, 'chord_lookups_total', { outcome: 'ok' }), 2)
    assert.equal(metricSum(text, 'chord_lookups_total', { outcome: 'failed' }), 1)
    assert.equal(metricSum(text, 'chord_lookup_hops_count'), 2)
    assert.equal(metricSum(text, 'chord_lookup_hops_sum'), 6)
    assert.equal(metricSum(text, 'chord_lookup_hops_bucket', { le: '2' }), 1)
    assert.equal(metricSum(text, 'chord_lookup_duration_seconds_count'), 3)
    assert.ok(Math.abs(metricSum(text, 'chord_lookup_duration_seconds_sum') - 2.008) < 1e-9)
  })

  it('counts the lookups the owner cache answered, among all lookups', async () => {
    const { metrics } = world()
    metrics.lookupFinished({ ok: true, hops: 2, durationMs: 3 })
    metrics.lookupFinished({ ok: true, hops: 0, durationMs: 0, cached: true })
    const text = await metrics.expose()
    assert.equal(metricSum(text, 'chord_lookups_total', { outcome: 'ok' }), 2)
    assert.equal(metricSum(text, 'chord_lookups_cached_total'), 1)
  })

  it('counts the lookups the owner answered recursively, among all lookups, and those whose record it stored', async () => {
    const { metrics } = world()
    metrics.lookupFinished({ ok: true, hops: 3, durationMs: 3, recursive: true })
    metrics.lookupFinished({ ok: true, hops: 3, durationMs: 3, recursive: true, carried: true })
    metrics.lookupFinished({ ok: true, hops: 2, durationMs: 3 })
    const text = await metrics.expose()
    assert.equal(metricSum(text, 'chord_lookups_total', { outcome: 'ok' }), 3)
    assert.equal(metricSum(text, 'chord_lookups_recursive_total'), 2)
    assert.equal(metricSum(text, 'chord_lookups_carried_total'), 1)
  })

  it('counts requests sent and served by message type and outcome', async () => {
    const { metrics } = world()
    metrics.requestSent({ type: MessageType.FIND_SUCCESSOR, outcome: 'ok', durationMs: 1 })
    metrics.requestSent({ type: MessageType.FIND_SUCCESSOR, outcome: 'timeout', durationMs: 5000 })
    metrics.requestSent({ type: MessageType.PING, outcome: 'failed', durationMs: 1 })
    metrics.requestServed({ type: MessageType.STORE, outcome: 'error', durationMs: 1 })
    const text = await metrics.expose()
    assert.equal(metricSum(text, 'chord_rpc_requests_sent_total', { type: 'FIND_SUCCESSOR', outcome: 'ok' }), 1)
    assert.equal(metricSum(text, 'chord_rpc_requests_sent_total', { type: 'FIND_SUCCESSOR', outcome: 'timeout' }), 1)
    assert.equal(metricSum(text, 'chord_rpc_requests_sent_total', { type: 'PING', outcome: 'failed' }), 1)
    assert.equal(metricSum(text, 'chord_rpc_sent_duration_seconds_count', { type: 'FIND_SUCCESSOR' }), 2)
    assert.equal(metricSum(text, 'chord_rpc_requests_served_total', { type: 'STORE', outcome: 'error' }), 1)
    assert.equal(metricSum(text, 'chord_rpc_served_duration_seconds_count', { type: 'STORE' }), 1)
  })

  it('times puts and gets, counting failures and the replicas that acknowledged', async () => {
    const { metrics } = world()
    assert.deepEqual(await metrics.observePut(async () => ({ replicas: 3 })), { replicas: 3 })
    await metrics.observePut(async () => ({ replicas: 2 }))
    await assert.rejects(metrics.observePut(async () => { throw new Error('no replica') }))
    assert.deepEqual(await metrics.observeGet(async () => ['a']), ['a'])
    const text = await metrics.expose()
    assert.equal(metricSum(text, 'chord_puts_total', { outcome: 'ok' }), 2)
    assert.equal(metricSum(text, 'chord_puts_total', { outcome: 'failed' }), 1)
    assert.equal(metricSum(text, 'chord_put_duration_seconds_count'), 3)
    assert.equal(metricSum(text, 'chord_put_replicas_acknowledged_sum'), 5)
    assert.equal(metricSum(text, 'chord_put_replicas_acknowledged_bucket', { le: '2' }), 1)
    assert.equal(metricSum(text, 'chord_gets_total', { outcome: 'ok' }), 1)
    assert.equal(metricSum(text, 'chord_gets_total', { outcome: 'failed' }), 0)
  })

  it('counts anti-entropy rounds, failed comparisons and repaired records', async () => {
    const { metrics } = world()
    metrics.antiEntropyRound({ replicas: 2, failed: 1, recordsSent: 3, recordsFetched: 1 })
    metrics.antiEntropyRound({ replicas: 2, failed: 0, recordsSent: 0, recordsFetched: 0 })
    const text = await metrics.expose()
    assert.equal(metricSum(text, 'chord_anti_entropy_rounds_total'), 2)
    assert.equal(metricSum(text, 'chord_anti_entropy_replica_failures_total'), 1)
    assert.equal(metricSum(text, 'chord_anti_entropy_records_repaired_total', { direction: 'sent' }), 3)
    assert.equal(metricSum(text, 'chord_anti_entropy_records_repaired_total', { direction: 'fetched' }), 1)
  })

  it('reads the store, the ring and the connections afresh at every scrape', async () => {
    const w = world()
    let text = await w.metrics.expose()
    assert.equal(metricSum(text, 'chord_successor_list_length'), 0)
    assert.equal(metricSum(text, 'chord_has_predecessor'), 0)
    assert.equal(metricSum(text, 'chord_last_stabilize_timestamp_seconds'), 0)

    w.table.setSuccessors([node(20n), node(30n)])
    w.table.setPredecessor(node(30n))
    w.table.setFinger(0, node(20n))
    w.table.setFinger(5, node(30n))
    w.stats = { records: 7, bytes: 1234 }
    w.ring.lastStabilizedAt = 1_700_000_000_500
    w.connections = 2
    text = await w.metrics.expose()
    assert.equal(metricSum(text, 'chord_successor_list_length'), 2)
    assert.equal(metricSum(text, 'chord_successor_list_capacity'), 8)
    assert.equal(metricSum(text, 'chord_has_predecessor'), 1)
    assert.equal(metricSum(text, 'chord_fingers_filled'), 2)
    assert.equal(metricSum(text, 'chord_store_records'), 7)
    assert.equal(metricSum(text, 'chord_store_bytes'), 1234)
    assert.equal(metricSum(text, 'chord_last_stabilize_timestamp_seconds'), 1_700_000_000.5)
    assert.equal(metricSum(text, 'chord_libp2p_connections'), 2)
    assert.equal(metricSum(text, 'chord_node_info', { peer_id: 'p10' }), 1)
  })

  it('counts what happens to mailbox envelopes, refused subscriptions, and reads the mailbox afresh at every scrape', async () => {
    const { metrics } = world()
    const mailbox = { stats: { records: 0, bytes: 0 }, subscriptions: 0 }
    metrics.watchMailbox({ store: { stats: () => mailbox.stats }, subscriptions: () => mailbox.subscriptions })
    metrics.mailbox.stored(3)
    metrics.mailbox.pushed(2)
    metrics.mailbox.acknowledged(1)
    metrics.mailbox.expired(4)
    metrics.mailbox.refused('BAD_SIGNATURE')
    metrics.mailbox.refused('BAD_SIGNATURE')
    mailbox.stats = { records: 5, bytes: 900 }
    mailbox.subscriptions = 7

    const text = await metrics.expose()
    for (const [event, count] of [['stored', 3], ['pushed', 2], ['acknowledged', 1], ['expired', 4]] as const) {
      assert.equal(metricSum(text, 'chord_mailbox_envelopes_total', { event }), count, event)
    }
    assert.equal(metricSum(text, 'chord_mailbox_subscriptions_refused_total', { reason: 'BAD_SIGNATURE' }), 2)
    assert.equal(metricSum(text, 'chord_mailbox_subscriptions'), 7)
    assert.equal(metricSum(text, 'chord_mailbox_store_envelopes'), 5)
    assert.equal(metricSum(text, 'chord_mailbox_store_bytes'), 900)
  })

  it('counts healing and peer exchange rounds, and shows the estimated ring size', async () => {
    const state = world()
    state.metrics.healingRound('merged')
    state.metrics.healingRound('unchanged')
    state.metrics.healingRound('unchanged')
    state.metrics.healingRound('failed')
    state.metrics.peerExchangeRound(true, 5)
    state.metrics.peerExchangeRound(false, 0)
    state.ringSize = 42

    const text = await state.metrics.expose()
    assert.deepEqual(['merged', 'unchanged', 'failed'].map(outcome => metricSum(text, 'chord_healing_rounds_total', { outcome })), [1, 2, 1])
    assert.equal(metricSum(text, 'chord_peer_exchange_rounds_total', { outcome: 'ok' }), 1)
    assert.equal(metricSum(text, 'chord_peer_exchange_rounds_total', { outcome: 'failed' }), 1)
    assert.equal(metricSum(text, 'chord_peer_exchange_peers_learned_total'), 5)
    assert.equal(metricSum(text, 'chord_ring_size_estimate'), 42)
  })

  it('reports the interval each maintenance loop works at, as it backs off', async () => {
    const w = world()
    let text = await w.metrics.expose()
    assert.equal(metricSum(text, 'chord_maintenance_interval_seconds', { loop: 'stabilize' }), 1)
    assert.equal(metricSum(text, 'chord_maintenance_interval_seconds', { loop: 'checkPredecessor' }), 2)
    w.ring.intervals = { stabilize: 30_000, fixFingers: 16_000, checkPredecessor: 60_000 }
    text = await w.metrics.expose()
    assert.equal(metricSum(text, 'chord_maintenance_interval_seconds', { loop: 'stabilize' }), 30)
    assert.equal(metricSum(text, 'chord_maintenance_interval_seconds', { loop: 'fixFingers' }), 16)
    assert.equal(metricSum(text, 'chord_maintenance_interval_seconds', { loop: 'checkPredecessor' }), 60)
  })

  it('loads the metrics only when asked (a node keeping none never imports prom-client), watching what it was given before', async () => {
    const { table } = world()
    const metrics = new DeferredNodeMetrics()
    metrics.watch({ ring: { self: table.self, table, lastStabilizedAt: undefined, maintenanceIntervals: { stabilize: 1000, fixFingers: 1000, checkPredecessor: 2000 } }, store: { stats: () => ({ records: 7, bytes: 0 }) }, libp2p: { getConnections: () => [] }, ringSize: () => 1 })
    metrics.watchMailbox({ store: { stats: () => ({ records: 3, bytes: 0 }) }, subscriptions: () => 2 })
    metrics.lookupFinished({ ok: true, hops: 1, durationMs: 1 })
    assert.equal(await metrics.expose(), '', 'nothing is kept before the metrics load')

    await metrics.load()
    await metrics.load()
    metrics.lookupFinished({ ok: true, hops: 2, durationMs: 1 })
    metrics.mailbox.stored(4)
    const text = await metrics.expose()
    assert.equal(metricSum(text, 'chord_lookups_total', { outcome: 'ok' }), 1)
    assert.equal(metricSum(text, 'chord_store_records'), 7)
    assert.equal(metricSum(text, 'chord_mailbox_subscriptions'), 2)
    assert.equal(metricSum(text, 'chord_mailbox_envelopes_total', { event: 'stored' }), 4)
  })

  it('keeps each node\'s metrics apart, though several run in one process', async () => {
    const first = world()
    const second = world()
    first.metrics.lookupFinished({ ok: true, hops: 1, durationMs: 1 })
    assert.equal(metricSum(await first.metrics.expose(), 'chord_lookups_total', { outcome: 'ok' }), 1)
    assert.equal(metricSum(await second.metrics.expose(), 'chord_lookups_total', { outcome: 'ok' }), 0)
  })

  it('names every metric with the chord_ prefix and a unit or _total where it has one', async () => {
    const text = await world().metrics.expose()
    const names = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name, type }))
    assert.ok(names.length > 0)
    for (const { name, type } of names) {
      assert.match(name, /^chord_/)
      if (type === 'counter') {
        assert.match(name, /_total$/)
      }
      assert.doesNotMatch(name, /_ms$|_milliseconds/, `${name}: Prometheus durations are in seconds`)
    }
    assert.ok(hasMetric(text, 'chord_lookup_duration_seconds'))
  })

  it('has a browser stand-in with the same exports, which records nothing and exposes nothing', async () => {
    // a compile-time check that the browser build's module can replace the Node one
    const swapped: typeof nodeMetrics = browserMetrics
    const { table } = world()
    const metrics = swapped.createNodeMetrics()
    metrics.watch({ ring: { self: table.self, table, lastStabilizedAt: undefined, maintenanceIntervals: { stabilize: 1000, fixFingers: 1000, checkPredecessor: 2000 } }, store: { stats: () => ({ records: 0, bytes: 0 }) }, libp2p: { getConnections: () => [] }, ringSize: () => 1 })
    metrics.lookupFinished({ ok: true, hops: 1, durationMs: 1 })
    assert.deepEqual(await metrics.observePut(async () => ({ replicas: 2 })), { replicas: 2 })
    await assert.rejects(metrics.observeGet(async () => { throw new Error('no replica') }), /no replica/)
    assert.equal(await metrics.expose(), '')
  })
})
