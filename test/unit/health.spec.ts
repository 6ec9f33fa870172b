import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { RequestTimeoutError } from '../../src/errors.js'
import { RoutingTable } from '../../src/chord/routing-table.js'
import { HealthCheck } from '../../src/observability/health.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { NodeStatus } from '../../src/membership/join.js'
import type { HealthComponents, HealthInit, HealthReport } from '../../src/observability/health.js'
import type { StorePutResult as PutResult } from '../../src/chord/record.js'

const node = (id: bigint): NodeRef => ({ id, peer: `p${id}` })
const INTERVAL = 1000
const NOTHING_WRITTEN: PutResult = { added: [], existing: [], expired: [], overShare: [], writtenBytes: 0 }

/**
 * A node of a settled ring of three (10, 20, 30), seen from 10, whose parts all work; each test
 * breaks one thing
 */
function healthyNode (): HealthComponents & { table: RoutingTable, pings: NodeRef[], state: NodeStatus } {
  const table = new RoutingTable(node(10n), { successorListLength: 8 })
  table.setSuccessors([node(20n), node(30n)])
  table.setPredecessor(node(30n))
  const pings: NodeRef[] = []
  const world: HealthComponents & { table: RoutingTable, pings: NodeRef[], state: NodeStatus } = {
    table,
    pings,
    state: 'joined',
    libp2p: { status: 'started', getMultiaddrs: () => [multiaddr('/ip4/127.0.0.1/tcp/4001')] },
    ring: { table, clientMode: false, stabilizeIntervalMs: INTERVAL, lastStabilizedAt: Date.now(), maintenanceStartedAt: Date.now() - 5000 },
    rpc: { ping: async to => { pings.push(to); return {} } },
    store: { stats: () => ({ records: 2, bytes: 300 }), put: async () => NOTHING_WRITTEN },
    status: () => world.state
  }
  return world
}

async function check (components: HealthComponents, init?: HealthInit): Promise<HealthReport> {
  return new HealthCheck(components, init).check()
}

describe('health check', () => {
  it('is ok when every part works', async () => {
    const world = healthyNode()
    const report = await check(world)
    assert.equal(report.status, 'ok', JSON.stringify(report, null, 2))
    assert.deepEqual(Object.keys(report.checks).sort(), ['join', 'libp2p', 'predecessor', 'stabilize', 'store', 'successor', 'successorList'])
    assert.equal(report.checks.successor.peer, 'p20')
    assert.deepEqual(world.pings, [node(20n)])
    assert.deepEqual({ length: report.checks.successorList.length, expected: report.checks.successorList.expected }, { length: 2, expected: 2 })
    assert.equal(report.checks.store.records, 2)
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(report)))
  })

  it('is degraded while the successor does not answer', async () => {
    const world = healthyNode()
    world.rpc = { ping: async () => { throw new RequestTimeoutError('no answer') } }
    const report = await check(world)
    assert.equal(report.status, 'degraded')
    assert.equal(report.checks.successor.status, 'degraded')
    assert.match(report.checks.successor.detail, /RequestTimeoutError/)
  })

  it('gives up on a successor that stays silent after its deadline', async () => {
    const world = healthyNode()
    world.rpc = { ping: async (_to, options) => await new Promise((_resolve, reject) => { options?.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }) }) }
    const report = await check(world, { successorTimeoutMs: 50 })
    assert.equal(report.checks.successor.status, 'degraded')
  })

  it('is degraded while the predecessor is unknown or the successor list is short of the nodes it knows', async () => {
    const world = healthyNode()
    world.table.setPredecessor(undefined)
    world.table.setFinger(200, node(40n))
    const report = await check(world)
    assert.equal(report.status, 'degraded')
    assert.equal(report.checks.predecessor.status, 'degraded')
    assert.equal(report.checks.successorList.status, 'degraded')
    assert.equal(report.checks.successorList.expected, 3)
  })

  it('is degraded when alone, and needs no predecessor then', async () => {
    const world = healthyNode()
    world.table.removeNode('p20')
    world.table.removeNode('p30')
    world.state = 'alone'
    const report = await check(world)
    assert.equal(report.status, 'degraded')
    assert.equal(report.checks.join.status, 'degraded')
    assert.equal(report.checks.predecessor.status, 'ok')
    assert.equal(report.checks.successorList.status, 'ok')
    assert.deepEqual(world.pings, [])
  })

  it('fails when the store does not take a write in time, or refuses it', async () => {
    const stuck = healthyNode()
    stuck.store = { ...stuck.store, put: async () => await new Promise<PutResult>(() => {}) }
    const report = await check(stuck, { storeTimeoutMs: 50 })
    assert.equal(report.status, 'failing')
    assert.match(report.checks.store.detail, /stuck/)

    const closed = healthyNode()
    closed.store = { ...closed.store, put: async () => { throw new Error('the store is closed') } }
    assert.equal((await check(closed)).checks.store.status, 'failing')
  })

  it('is degraded when stabilize rounds are late, and fails when they have stalled', async () => {
    const late = healthyNode()
    late.ring = { ...late.ring, lastStabilizedAt: Date.now() - 5 * INTERVAL }
    assert.equal((await check(late)).checks.stabilize.status, 'degraded')

    const stalled = healthyNode()
    stalled.ring = { ...stalled.ring, lastStabilizedAt: Date.now() - 60 * INTERVAL, maintenanceStartedAt: Date.now() - 100 * INTERVAL }
    const report = await check(stalled)
    assert.equal(report.status, 'failing')
    assert.equal(report.checks.stabilize.status, 'failing')
  })

  it('names an interval adaptive maintenance stretched in whole milliseconds', async () => {
    const world = healthyNode()
    world.ring = { ...world.ring, stabilizeIntervalMs: 6515.760121177048 }
    const { stabilize } = (await check(world)).checks
    assert.equal(stabilize.intervalMs, 6516)
    assert.match(stabilize.detail, /\(every 6516 ms\)$/)
  })

  it('counts from a restart of maintenance, not from the last round before it', async () => {
    const world = healthyNode()
    world.ring = { ...world.ring, lastStabilizedAt: Date.now() - 60 * INTERVAL, maintenanceStartedAt: Date.now() }
    assert.equal((await check(world)).checks.stabilize.status, 'ok')
  })

  it('is degraded while joining, before maintenance has started', async () => {
    const world = healthyNode()
    world.table.removeNode('p20')
    world.table.removeNode('p30')
    world.state = 'joining'
    world.ring = { ...world.ring, lastStabilizedAt: undefined, maintenanceStartedAt: undefined }
    const report = await check(world)
    assert.equal(report.status, 'degraded')
    assert.equal(report.checks.join.status, 'degraded')
    assert.equal(report.checks.stabilize.status, 'degraded')
  })

  it('fails when libp2p is not running or a ring member listens nowhere', async () => {
    const stopped = healthyNode()
    stopped.libp2p = { ...stopped.libp2p, status: 'stopped' }
    assert.equal((await check(stopped)).checks.libp2p.status, 'failing')

    const deaf = healthyNode()
    deaf.libp2p = { ...deaf.libp2p, getMultiaddrs: () => [] }
    assert.equal((await check(deaf)).checks.libp2p.status, 'failing')
  })

  it('fails for a stopped node', async () => {
    const world = healthyNode()
    world.state = 'stopped'
    const report = await check(world)
    assert.equal(report.status, 'failing')
    assert.equal(report.checks.join.status, 'failing')
  })

  it('lets concurrent callers share one run', async () => {
    const world = healthyNode()
    const health = new HealthCheck(world)
    const [first, second] = await Promise.all([health.check(), health.check()])
    assert.equal(first, second)
    assert.equal(world.pings.length, 1)
    await health.check()
    assert.equal(world.pings.length, 2)
  })
})
