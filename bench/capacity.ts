/**
 * What one node carries for the mailbox and the record store, on 127.0.0.1. The node under test
 * runs in a process of its own (a ring of one, so it is responsible for every key), and the
 * kernel's counts of that process give its CPU and resident memory at each load. Everything else
 * runs here:
 *
 * - subscribers: lightweight libp2p peers with no ring, each holding `perPeer` owners'
 *   subscriptions (the node is started with `maxSubscriptionsPerPeer` = `perPeer`, the setting a
 *   gateway carrying many users would have; with the default of 16, 10,000 subscribers need 625
 *   peers, more connections than a node takes from strangers);
 * - load clients: client-mode chord nodes that send mailbox messages and put and get plain
 *   records through the node, round robin, so that no one peer meets its per-peer budgets.
 *
 * Steps, each bounded in count and time:
 * 1. subscriptions held: subscribers are added step by step; at each step the node's memory, its
 *    idle CPU, and messages at `steadyRate` msg/s to random subscribers (each must be pushed
 *    within a second of its send() call; target: 10,000 subscriptions at 100 msg/s);
 * 2. messages: at the largest step, offered rates rise until deliveries fall behind (p99 over a
 *    second, lost messages, or less than 90% of the offered rate);
 * 3. records: puts, then gets of what was put, at rising offered rates.
 */
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createChordNode, createIdentity } from '../src/index.js'
import { subscribeMany } from '../test/helpers/many-subscribers.js'
import { waitFor } from '../test/helpers/wait-for.js'
import { PRODUCTION_TIMERS } from './harness/chord-ring.js'
import { cpuMsSince, cpuNow } from './harness/cpu-time.js'
import { readProcessCpuMs, readProcessMemory } from './harness/process-stats.js'
import { summarize } from './harness/stats.js'
import type { CapacityNodeCommand, CapacityNodeReply } from './harness/capacity-node.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { Summary } from './harness/stats.js'
import type { ManySubscribers } from '../test/helpers/many-subscribers.js'
import type { ChordNode, ChordNodeOptions, Identity } from '../src/index.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ChildProcess } from 'node:child_process'

interface Plan {
  /** live subscriptions held at each step, rising */
  subscriptionSteps: number[]
  /** subscriptions each subscriber peer holds */
  perPeer: number
  /** users each on a peer (and connection) of their own, measured first, within the default connection limits */
  usersAsPeers: number
  /** msg/s sent to random subscribers at each step */
  steadyRate: number
  /** msg/s offered at the largest step */
  messageRates: number[]
  /** puts/s, then gets/s, offered */
  recordRates: number[]
  /** s each rate is offered for */
  phaseSeconds: number
  loadClients: number
}

const FULL: Plan = {
  subscriptionSteps: [2500, 5000, 10_000, 15_000],
  perPeer: 250,
  usersAsPeers: 200,
  steadyRate: 100,
  messageRates: [100, 200, 400, 800],
  recordRates: [250, 500, 1000, 2000],
  phaseSeconds: 10,
  loadClients: 4
}
const QUICK: Plan = {
  subscriptionSteps: [250, 500],
  perPeer: 125,
  usersAsPeers: 20,
  steadyRate: 50,
  messageRates: [50, 100],
  recordRates: [100, 200],
  phaseSeconds: 3,
  loadClients: 2
}

/** The targets: subscriptions held, each message pushed within this many ms at TARGET_RATE msg/s */
const TARGET_SUBSCRIPTIONS = 10_000
const TARGET_PUSH_MS = 1000
const TARGET_RATE = 100

/** Operations in flight at most; one more due is counted as not offered (the load fell behind) */
const MAX_IN_FLIGHT = 512

/** ms after which an operation counts as failed (a message as lost) */
const OPERATION_DEADLINE = 10_000

/** ms over which the node's idle CPU is measured at each step */
const IDLE_SAMPLE_MS = 3000

/** Bytes of one plain record's value */
const RECORD_VALUE_BYTES = 1024

/** A chat message's worth of text */
const MESSAGE = new TextEncoder().encode('see you at the station at eight, by the clock')

/** A rate "degrades" below this share of what was offered */
const KEPT_UP_SHARE = 0.9

export const capacity: Benchmark = {
  name: 'capacity',
  description: 'one node\'s live subscriptions, messages pushed, records stored and served per second, with its CPU and RSS',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    const largest = plan.subscriptionSteps[plan.subscriptionSteps.length - 1]
    context.progress('starting the node under test')
    // on disk, as a deployed node keeps its records: each write synced before it is acknowledged
    const dataDir = await mkdtemp(join(os.tmpdir(), 'chord-capacity-'))
    const node = await startNodeUnderTest({ dataDir, mailbox: { maxSubscriptions: largest, maxSubscriptionsPerPeer: plan.perPeer } })
    const subscribers: ManySubscribers[] = []
    const clients: ChordNode[] = []
    try {
      const baseline = await readProcessMemory(node.pid)
      const loadClients = new LoadClients(clients, node.address.toString())
      await loadClients.start(plan.loadClients)
      const messages = new MessageLoad(clients, await createIdentity(), id => subscribers.find(s => s.received.has(id))?.received.get(id))

      // what a user costs the node when each is a device of its own: a connection and a subscription
      context.progress(`subscribing ${plan.usersAsPeers} owners each through a peer of its own`)
      const beforeUsers = await readProcessMemory(node.pid)
      const users = await subscribeMany({ node, peers: plan.usersAsPeers, perPeer: 1 })
      await waitFor(async () => await node.subscriptions() === plan.usersAsPeers, `the node to count ${plan.usersAsPeers} subscriptions`, 60_000)
      const rssPerUserAsPeerBytes = ((await readProcessMemory(node.pid)).rssBytes - beforeUsers.rssBytes) / plan.usersAsPeers
      await users.stop()
      await waitFor(async () => await node.subscriptions() === 0, 'the node to let go of them', 60_000)

      const steps: SubscriptionStep[] = []
      for (const target of plan.subscriptionSteps) {
        const held = subscribers.reduce((sum, s) => sum + s.identities.length, 0)
        const peers = Math.ceil((target - held) / plan.perPeer)
        context.progress(`subscribing ${target - held} more owners through ${peers} peers (${target} in all)`)
        const started = performance.now()
        subscribers.push(await subscribeMany({ node, peers, perPeer: plan.perPeer, onReceived: messages.onReceived }))
        const subscribeSeconds = (performance.now() - started) / 1000
        const identities = subscribers.flatMap(s => s.identities)
        await waitFor(async () => await node.subscriptions() === identities.length, `the node to count ${identities.length} subscriptions`, 60_000)
        const idleCpu = await node.cpuPercentOver(async () => sleep(IDLE_SAMPLE_MS))
        context.progress(`${plan.steadyRate} msg/s for ${plan.phaseSeconds} s to ${identities.length} subscribers`)
        await loadClients.replaceLost()
        const load = await node.measure(async () => offerLoad(plan.steadyRate, plan.phaseSeconds, async () => messages.sendTo(pick(identities))))
        const memory = await readProcessMemory(node.pid)
        steps.push({
          subscriptions: identities.length,
          subscriberPeers: subscribers.reduce((sum, s) => sum + s.identities.length / plan.perPeer, 0),
          subscribedPerSecond: (target - held) / subscribeSeconds,
          rssBytes: memory.rssBytes,
          rssPerSubscriptionBytes: (memory.rssBytes - baseline.rssBytes) / identities.length,
          idleCpuPercent: idleCpu,
          dropped: subscribers.reduce((sum, s) => sum + s.closed, 0),
          ...load
        })
      }

      const identities = subscribers.flatMap(s => s.identities)
      const messageRuns: RateRun[] = []
      for (const rate of plan.messageRates) {
        context.progress(`messages: ${rate} msg/s for ${plan.phaseSeconds} s to ${identities.length} subscribers`)
        await loadClients.replaceLost()
        messageRuns.push(await node.measure(async () => offerLoad(rate, plan.phaseSeconds, async () => messages.sendTo(pick(identities)))))
      }

      const records = new RecordLoad(clients)
      const putRuns: RateRun[] = []
      const getRuns: RateRun[] = []
      for (const rate of plan.recordRates) {
        context.progress(`records: ${rate} puts/s for ${plan.phaseSeconds} s`)
        await loadClients.replaceLost()
        putRuns.push(await node.measure(async () => offerLoad(rate, plan.phaseSeconds, async () => records.put())))
      }
      for (const rate of plan.recordRates) {
        context.progress(`records: ${rate} gets/s for ${plan.phaseSeconds} s`)
        await loadClients.replaceLost()
        getRuns.push(await node.measure(async () => offerLoad(rate, plan.phaseSeconds, async () => records.get())))
      }
      const dropped = subscribers.reduce((sum, s) => sum + s.closed, 0)
      return report(plan, { baselineRssBytes: baseline.rssBytes, rssPerUserAsPeerBytes, steps, messageRuns, putRuns, getRuns, dropped, loadClientsReplaced: loadClients.replaced })
    } finally {
      await Promise.allSettled(subscribers.map(async s => s.stop()))
      await Promise.allSettled(clients.map(async client => client.stop()))
      await node.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

interface RateRun {
  /** per second */
  offeredRate: number
  /** operations due */
  offered: number
  /** due while MAX_IN_FLIGHT were in flight, so never started */
  notOffered: number
  done: number
  failed: number
  /** why operations failed: error name and message → how many */
  failures: Record<string, number>
  /** operations done per wall second, from the first start to the last end */
  donePerSecond: number
  latency: Summary
  /** the node's CPU over the run, % of one core */
  nodeCpuPercent: number
  nodeRssBytes: number
  /** this process's CPU over the run (subscribers and load clients), % of one core */
  loadCpuPercent: number
  /** the node's CPU per operation done, ms: what bounds its rate once it has a core to itself */
  nodeCpuMsPerOperation: number
  /** the machine's 1-minute load average at the end of the run */
  loadAverage: number
}

interface SubscriptionStep extends RateRun {
  subscriptions: number
  subscriberPeers: number
  subscribedPerSecond: number
  rssBytes: number
  rssPerSubscriptionBytes: number
  idleCpuPercent: number
  /** subscriptions the node ended so far */
  dropped: number
}

interface Results {
  baselineRssBytes: number
  rssPerUserAsPeerBytes: number
  steps: SubscriptionStep[]
  messageRuns: RateRun[]
  putRuns: RateRun[]
  getRuns: RateRun[]
  dropped: number
  /** load clients that lost their way to the node and were started again */
  loadClientsReplaced: number
}

function report (plan: Plan, results: Results): BenchmarkReport {
  const mb = (bytes: number): number => bytes / 1e6
  const atTarget = results.steps.find(step => step.subscriptions >= TARGET_SUBSCRIPTIONS)
  const targetMet = atTarget != null && plan.steadyRate >= TARGET_RATE && keptUp(atTarget) && atTarget.latency.max <= TARGET_PUSH_MS
  const rateRows = (runs: RateRun[]): Array<Array<string | number>> => runs.map(run => [
    run.offeredRate, run.donePerSecond, run.latency.p50, run.latency.p99, run.latency.max, run.failed, run.notOffered,
    run.nodeCpuPercent, run.nodeCpuMsPerOperation, mb(run.nodeRssBytes), run.loadCpuPercent, run.loadAverage, keptUp(run) ? 'yes' : 'no'
  ])
  const rateColumns = ['offered /s', 'done /s', 'p50 ms', 'p99 ms', 'max ms', 'failed', 'not offered', 'node CPU %', 'node CPU ms/op', 'node RSS MB', 'load CPU %', 'load avg', 'kept up']
  return {
    tables: [{
      title: `live subscriptions held by one node (${plan.perPeer} per subscriber peer), ${plan.steadyRate} msg/s to random subscribers, ms from send() to push`,
      columns: ['subscriptions', 'peers', 'subscribed /s', 'node RSS MB', 'RSS per sub KB', 'idle CPU %', 'p50 ms', 'p99 ms', 'max ms', 'lost', 'node CPU %', 'load CPU %', 'load avg', 'dropped', 'kept up'],
      rows: results.steps.map(step => [
        step.subscriptions, step.subscriberPeers, step.subscribedPerSecond, mb(step.rssBytes), step.rssPerSubscriptionBytes / 1000,
        step.idleCpuPercent, step.latency.p50, step.latency.p99, step.latency.max, step.failed, step.nodeCpuPercent, step.loadCpuPercent, step.loadAverage, step.dropped, keptUp(step) ? 'yes' : 'no'
      ]),
      notes: [
        `node RSS before any load: ${mb(results.baselineRssBytes).toFixed(0)} MB; RSS per subscription: the growth since then over the subscriptions held`,
        `a user on a peer of its own (a connection and a subscription, ${plan.usersAsPeers} of them): ${(results.rssPerUserAsPeerBytes / 1000).toFixed(0)} KB of node RSS each`,
        `target: ${TARGET_SUBSCRIPTIONS} subscriptions, each message pushed within ${TARGET_PUSH_MS} ms at ${TARGET_RATE} msg/s: ${atTarget == null ? 'not reached in this plan' : targetMet ? 'met' : 'missed'}`,
        `kept up: no message lost or left unsent, p99 ≤ ${TARGET_PUSH_MS} ms, at least ${KEPT_UP_SHARE * 100}% of the offered rate done`,
        'node CPU: the node under test\'s process; load CPU: this process (subscribers and load clients, sealing each message); % of one core',
        'load avg: the machine\'s 1-minute load average (2 cores): above 2, the processes wait for a core, and latency and rates say more about the machine than the node; node CPU ms/op does not'
      ]
    }, {
      title: `messages sent and pushed, ${results.steps[results.steps.length - 1]?.subscriptions ?? 0} subscribers (ms from send() to push)`,
      columns: rateColumns,
      rows: rateRows(results.messageRuns),
      notes: [`degrades from: ${degradesFrom(results.messageRuns)}; subscriptions dropped by the node over the whole run: ${results.dropped}; load clients that lost the ring and were started again: ${results.loadClientsReplaced}`, perCore(results.messageRuns, 'message'), commonestFailure(results.messageRuns)]
    }, {
      title: `plain records put (${RECORD_VALUE_BYTES} B values), ms per put`,
      columns: rateColumns,
      rows: rateRows(results.putRuns),
      notes: [`degrades from: ${degradesFrom(results.putRuns)}`, perCore(results.putRuns, 'put'), commonestFailure(results.putRuns)]
    }, {
      title: 'plain records got (those put above), ms per get',
      columns: rateColumns,
      rows: rateRows(results.getRuns),
      notes: [`degrades from: ${degradesFrom(results.getRuns)}`, perCore(results.getRuns, 'get'), commonestFailure(results.getRuns)]
    }],
    results: { plan, targets: { subscriptions: TARGET_SUBSCRIPTIONS, pushMs: TARGET_PUSH_MS, rate: TARGET_RATE, met: targetMet }, ...results }
  }
}

/** What one core of the node would carry, from its CPU per operation (the median over the runs) */
function perCore (runs: RateRun[], what: string): string {
  const costs = runs.filter(run => run.done > 0).map(run => run.nodeCpuMsPerOperation).sort((a, b) => a - b)
  if (costs.length === 0) {
    return 'nothing done: no CPU per operation'
  }
  const median = costs[Math.floor(costs.length / 2)]
  return `node CPU per ${what}: ${median.toFixed(2)} ms (median over the rates), so one core of the node carries about ${Math.round(1000 / median)} ${what}s/s`
}

/** The commonest reason operations failed, over runs, for a table's notes */
function commonestFailure (runs: RateRun[]): string {
  const all: Record<string, number> = {}
  for (const run of runs) {
    for (const [why, count] of Object.entries(run.failures)) {
      all[why] = (all[why] ?? 0) + count
    }
  }
  const [why, count] = Object.entries(all).sort((a, b) => b[1] - a[1])[0] ?? []
  return why == null ? 'none failed' : `most failed with ${why} (${count})`
}

function keptUp (run: RateRun): boolean {
  return run.failed === 0 && run.notOffered === 0 && run.latency.p99 <= TARGET_PUSH_MS && run.donePerSecond >= KEPT_UP_SHARE * run.offeredRate
}

function degradesFrom (runs: RateRun[]): string {
  const first = runs.find(run => !keptUp(run))
  return first == null ? `not within the rates offered (up to ${runs[runs.length - 1]?.offeredRate ?? 0}/s)` : `${first.offeredRate}/s`
}

/**
 * The client-mode nodes that send messages and put and get records. A client knows the ring only
 * through the node; when the node's answers time out under load, the client forgets it and fails
 * its lookups until it finds the node again (at once, then a second later, doubling). Before each
 * load, a client still lost is replaced by a new one (and counted), so that one overloaded moment
 * does not fail the next load.
 */
class LoadClients {
  replaced = 0

  constructor (private readonly clients: ChordNode[], private readonly bootstrap: string) {}

  async start (count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.clients.push(await this.client())
    }
  }

  async replaceLost (): Promise<void> {
    for (const [i, client] of this.clients.entries()) {
      const lost = await client.lookup(randomBytes(32), { signal: AbortSignal.timeout(OPERATION_DEADLINE) }).then(() => false, () => true)
      if (lost) {
        await client.stop()
        this.clients[i] = await this.client()
        this.replaced++
      }
    }
  }

  private async client (): Promise<ChordNode> {
    return createChordNode({ clientMode: true, listen: [], bootstrap: [this.bootstrap], timers: PRODUCTION_TIMERS })
  }
}

/** Mailbox messages from the load clients in turn, each resolving once its recipient got the push */
class MessageLoad {
  private next = 0
  private readonly waiters = new Map<string, (at: number) => void>()

  /** `arrivedAt`: when an envelope was pushed, if it was */
  constructor (private readonly clients: ChordNode[], private readonly sender: Identity, private readonly arrivedAt: (id: string) => number | undefined) {}

  /** For the subscribers to call with each envelope pushed */
  readonly onReceived = (id: string, at: number): void => { this.waiters.get(id)?.(at) }

  /** @returns ms from the send() call to the push reaching the recipient's session */
  async sendTo (recipient: Identity): Promise<number> {
    const client = this.clients[this.next++ % this.clients.length]
    const started = performance.now()
    const { id } = await client.mailbox.send(this.sender, recipient.publicKey, MESSAGE)
    // the push can come before send() resolves (the node pushes as soon as it stores)
    const at = this.arrivedAt(id) ?? await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { this.waiters.delete(id); reject(new Error('lost')) }, OPERATION_DEADLINE)
      this.waiters.set(id, at => { clearTimeout(timer); this.waiters.delete(id); resolve(at) })
    })
    return at - started
  }
}

/** Plain records put and got through the load clients in turn */
class RecordLoad {
  private next = 0
  private readonly keys: string[] = []
  private got = 0

  constructor (private readonly clients: ChordNode[]) {}

  private client (): ChordNode {
    return this.clients[this.next++ % this.clients.length]
  }

  async put (): Promise<number> {
    const key = `capacity-${this.keys.length}-${randomBytes(8).toString('hex')}`
    const started = performance.now()
    await this.client().put(key, randomBytes(RECORD_VALUE_BYTES), { signal: AbortSignal.timeout(OPERATION_DEADLINE) })
    this.keys.push(key)
    return performance.now() - started
  }

  async get (): Promise<number> {
    if (this.keys.length === 0) {
      throw new Error('no put succeeded, so there is nothing to get')
    }
    const key = this.keys[this.got++ % this.keys.length]
    const started = performance.now()
    const values = await this.client().get(key, { signal: AbortSignal.timeout(OPERATION_DEADLINE) })
    if (values.length === 0) {
      throw new Error(`${key} was put but is not there`)
    }
    return performance.now() - started
  }
}

/**
 * Start `rate` operations a second for `seconds` (at most MAX_IN_FLIGHT at once) and wait for
 * all of them; each resolves to its latency in ms, or fails
 */
async function offerLoad (rate: number, seconds: number, operation: () => Promise<number>): Promise<Omit<RateRun, 'nodeCpuPercent' | 'nodeRssBytes' | 'loadCpuPercent' | 'nodeCpuMsPerOperation' | 'loadAverage'>> {
  const offered = Math.round(rate * seconds)
  const latencies: number[] = []
  const running: Array<Promise<void>> = []
  let failed = 0
  const failures: Record<string, number> = {}
  let notOffered = 0
  let inFlight = 0
  let started = 0
  const begin = performance.now()
  while (started < offered) {
    const due = Math.min(offered, Math.floor((performance.now() - begin) * rate / 1000) + 1)
    for (; started < due; started++) {
      if (inFlight >= MAX_IN_FLIGHT) {
        notOffered++
        continue
      }
      inFlight++
      running.push(operation().then(ms => { latencies.push(ms) }, (err: Error) => {
        failed++
        const why = `${err.name}: ${err.message}`.slice(0, 200)
        failures[why] = (failures[why] ?? 0) + 1
      }).finally(() => { inFlight-- }))
    }
    await sleep(Math.max(1, Math.floor(1000 / rate)))
  }
  await Promise.all(running)
  const wallSeconds = (performance.now() - begin) / 1000
  return { offeredRate: rate, offered, notOffered, done: latencies.length, failed, failures, donePerSecond: latencies.length / wallSeconds, latency: summarize(latencies) }
}

interface NodeUnderTest {
  pid: number
  peerId: PeerId
  address: Multiaddr
  subscriptions(): Promise<number>
  /** the node's CPU over `during`, % of one core */
  cpuPercentOver(during: () => Promise<unknown>): Promise<number>
  /** run a load and add the node's CPU over it and its RSS after it */
  measure<T extends { done: number }>(load: () => Promise<T>): Promise<T & Pick<RateRun, 'nodeCpuPercent' | 'nodeRssBytes' | 'loadCpuPercent' | 'nodeCpuMsPerOperation' | 'loadAverage'>>
  stop(): Promise<void>
}

/** ms for the node process to start */
const NODE_START_TIMEOUT = 60_000

async function startNodeUnderTest (settings: Pick<ChordNodeOptions, 'dataDir' | 'mailbox'>): Promise<NodeUnderTest> {
  const child = fork(new URL('./harness/capacity-node.ts', import.meta.url), [JSON.stringify(settings)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const started = await replyOf(child, 'started', NODE_START_TIMEOUT)
  const pid = child.pid ?? -1
  const cpuPercentOver = async (during: () => Promise<unknown>): Promise<number> => {
    const cpuStart = await readProcessCpuMs(pid)
    const wallStart = performance.now()
    await during()
    return (await readProcessCpuMs(pid) - cpuStart) / (performance.now() - wallStart) * 100
  }
  return {
    pid,
    peerId: peerIdFromString(started.peerId),
    address: multiaddr(started.address),
    subscriptions: async () => {
      child.send('count' satisfies CapacityNodeCommand)
      return (await replyOf(child, 'count', 10_000)).subscriptions
    },
    cpuPercentOver,
    measure: async <T extends { done: number }>(load: () => Promise<T>) => {
      const loadCpuStart = cpuNow()
      const nodeCpuStart = await readProcessCpuMs(pid)
      const wallStart = performance.now()
      const result = await load()
      const wallMs = performance.now() - wallStart
      const nodeCpuMs = await readProcessCpuMs(pid) - nodeCpuStart
      return {
        ...result,
        nodeCpuPercent: nodeCpuMs / wallMs * 100,
        nodeRssBytes: (await readProcessMemory(pid)).rssBytes,
        loadCpuPercent: cpuMsSince(loadCpuStart) / wallMs * 100,
        nodeCpuMsPerOperation: result.done === 0 ? Number.NaN : nodeCpuMs / result.done,
        loadAverage: os.loadavg()[0]
      }
    },
    stop: async () => {
      if (child.exitCode != null) {
        return
      }
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.send('stop' satisfies CapacityNodeCommand)
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}

async function replyOf<T extends CapacityNodeReply['type']> (child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<CapacityNodeReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', onMessage); reject(new Error(`no ${type} from the node under test within ${timeoutMs} ms`)) }, timeoutMs)
    const onMessage = (message: CapacityNodeReply): void => {
      if (message.type === type) {
        clearTimeout(timer)
        child.off('message', onMessage)
        resolve(message as Extract<CapacityNodeReply, { type: T }>)
      }
    }
    child.on('message', onMessage)
  })
}

function pick<T> (items: T[]): T {
  return items[Math.floor(Math.random() * items.length)]
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
