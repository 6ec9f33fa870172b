/**
 * What a ring costs when nothing happens, and what it costs when something does: rings of real
 * chord nodes, every node in this one process on 127.0.0.1, with the library's production timers.
 *
 * For each ring size, twice, interleaved: with adaptive maintenance as shipped, and with every
 * maintenance loop pinned to its short interval and libp2p's connection monitor at its own 10 s
 * default (what a node ran before maintenance adapted):
 *
 *   1. burst: a few seed nodes, then all the others at once, each joining through a seed (and
 *      trying again in the background when an attempt times out, as it does when a hundred nodes
 *      share one core); the time until every node has joined, and until a lookup of random keys
 *      from every node names the true owner each time;
 *   2. quiet: once the ring is consistent and has been left alone for a while, the process's CPU
 *      time and the bytes on its sockets, per node and second, and the requests each node sends;
 *   3. failure detection: a node crashes; the time until its predecessor has moved past it (a new
 *      node joins in its place before the next one);
 *   4. churn: every few seconds a node crashes and a new one joins; CPU and bytes per node and
 *      second over the window, then the time until the ring is consistent again.
 */
import { DEFAULT_ANTI_ENTROPY_INTERVAL, DEFAULT_CHECK_PREDECESSOR_INTERVAL, DEFAULT_FIX_FINGERS_INTERVAL, DEFAULT_STABILIZE_INTERVAL } from '../src/chord/constants.js'
import { HEAL_INTERVAL } from '../src/membership/partition-healer.js'
import { POOLED_STREAM_IDLE_TIMEOUT } from '../src/transport/constants.js'
import { minute, second } from '../src/units.js'
import { crash, lookupsAllCorrect, ringIsConsistent, ringOf, sortedByRingId, startNode, stopAll } from '../test/helpers/ring.js'
import { seededRandom } from '../test/helpers/simulator.js'
import { waitFor } from '../test/helpers/wait-for.js'
import { PRODUCTION_TIMERS } from './harness/chord-ring.js'
import { cpuMsSince, cpuNow } from './harness/cpu-time.js'
import { ed25519VerifyMicros } from './harness/crypto-calibration.js'
import { summarize } from './harness/stats.js'
import { SocketTraffic } from './harness/traffic.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'
import type { Summary } from './harness/stats.js'
import type { TrafficReading } from './harness/traffic.js'
import type { ChordNode, ChordNodeOptions } from '../src/index.js'

interface Plan {
  sizes: number[]
  /** nodes started one after another before the burst; the burst joins through them */
  seeds: number
  /** ms from the start of a burst for every lookup to be correct before the benchmark moves on */
  burstDeadlineMs: number
  /** ms to wait for a consistent ring (after the burst, after churn) before moving on regardless */
  consistentDeadlineMs: number
  /** ms the consistent ring is left alone before the quiet window */
  settleMs: number
  /** ms measured; the full plan's spans a renewal of every ready stream, which comes once per POOLED_STREAM_IDLE_TIMEOUT */
  quietMs: number
  /** crashes whose detection is timed */
  detections: number
  churnMs: number
  /** ms between two churn events (a crash and a join) */
  churnEveryMs: number
}

const FULL: Plan = {
  sizes: [32, 128],
  seeds: 4,
  burstDeadlineMs: 4 * minute,
  consistentDeadlineMs: 2 * minute,
  settleMs: 2 * minute,
  quietMs: POOLED_STREAM_IDLE_TIMEOUT,
  detections: 4,
  churnMs: 1 * minute,
  churnEveryMs: 5 * second
}

const QUICK: Plan = {
  sizes: [16],
  seeds: 4,
  burstDeadlineMs: 1 * minute,
  consistentDeadlineMs: 1 * minute,
  settleMs: 15 * second,
  quietMs: 10 * second,
  detections: 2,
  churnMs: 10 * second,
  churnEveryMs: 5 * second
}

/** The targets */
const TARGET_CPU_MS_PER_SECOND = 2
const TARGET_BYTES_PER_SECOND = 1000
const TARGET_BURST_CORRECT_MS = 120 * second
/** within three stabilize rounds of the short interval */
const TARGET_DETECTION_MS = 3 * DEFAULT_STABILIZE_INTERVAL

/** Random keys looked up from every node in each check of a burst ring */
const CHECK_KEYS = 3

/** ms between two checks of a burst ring (a check that fails ends at the first wrong answer) */
const CHECK_PAUSE = 2 * second

/** ms a crashed node's predecessor is given to move past it before the sample counts as missed */
const DETECTION_DEADLINE = 30 * second

/** ms the ring is given to take in the node that replaces a crashed one, before the next crash */
const REPLACEMENT_DEADLINE = 30 * second

/** Every adaptive loop pinned to its short interval: maintenance as it ran before it adapted */
const PINNED_TIMERS = {
  stabilizeMaxIntervalMs: DEFAULT_STABILIZE_INTERVAL,
  fixFingersMaxIntervalMs: DEFAULT_FIX_FINGERS_INTERVAL,
  checkPredecessorMaxIntervalMs: DEFAULT_CHECK_PREDECESSOR_INTERVAL,
  antiEntropyMaxIntervalMs: DEFAULT_ANTI_ENTROPY_INTERVAL,
  healMaxIntervalMs: HEAL_INTERVAL,
  // the peer cache was saved every minute
  peerCacheSaveIntervalMs: 1 * minute
}

interface Arm {
  name: string
  options: ChordNodeOptions
}

/** The production settings (the test helpers' shorter timers and request deadline unset) */
const PRODUCTION: ChordNodeOptions = { timers: PRODUCTION_TIMERS, requestTimeoutMs: undefined }

const ARMS: Arm[] = [
  { name: 'adaptive', options: PRODUCTION },
  // libp2p's connection monitor at its default, as nodes had it
  { name: 'pinned', options: { ...PRODUCTION, timers: { ...PRODUCTION_TIMERS, ...PINNED_TIMERS }, libp2p: { connectionMonitor: {} } } }
]

interface Rates {
  cpuMsPerNodeSecond: number
  sentBytesPerNodeSecond: number
  receivedBytesPerNodeSecond: number
  /** requests each node sent per second, by message type */
  requestsPerNodeSecond: Record<string, number>
}

interface RunResult {
  arm: string
  nodes: number
  burst: { joinedMs?: number, correctMs?: number, consistentMs?: number }
  quiet: Rates & { yardstickMicros: number[], connectionsPerNode: number, intervalsMs: { stabilize: number, fixFingers: number, checkPredecessor: number } }
  detectionMs: Summary & { missed: number }
  churn: Rates & { crashes: number, joins: number, consistentAgainMs?: number, correctAfter: boolean }
}

export const maintenanceCost: Benchmark = {
  name: 'maintenance-cost',
  description: 'idle and churn CPU and bytes per node, burst-join convergence and failure detection, adaptive against pinned maintenance',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    const traffic = new SocketTraffic()
    traffic.start()
    const results: RunResult[] = []
    const failures: Array<{ arm: string, nodes: number, error: string }> = []
    try {
      for (const size of context.sizes ?? plan.sizes) {
        for (const arm of ARMS) {
          context.progress(`${arm.name}, ${size} nodes`)
          try {
            results.push(await runOne(arm, size, plan, traffic, context))
          } catch (err) {
            // the other runs still count; this one is reported as failed
            context.progress(`  failed: ${String(err)}`)
            failures.push({ arm: arm.name, nodes: size, error: String(err) })
          }
        }
      }
    } finally {
      traffic.stop()
    }
    const tables = tablesOf(results, plan)
    if (failures.length > 0) {
      tables.push({ title: 'Runs that failed', columns: ['maintenance', 'nodes', 'error'], rows: failures.map(f => [f.arm, f.nodes, f.error]) })
    }
    return { tables, results: { plan, runs: results, failures } }
  }
}

async function runOne (arm: Arm, size: number, plan: Plan, traffic: SocketTraffic, context: BenchmarkContext): Promise<RunResult> {
  const random = seededRandom(size)
  const started = Date.now()
  let nodes: ChordNode[] = []
  try {
    for (let i = 0; i < plan.seeds; i++) {
      nodes.push(await startNode(nodes[i - 1], arm.options))
    }
    const seeded = [...nodes]
    const seeds = new Set(seeded)
    nodes.push(...await Promise.all(Array.from({ length: size - plan.seeds }, async (_, i) =>
      startNode(seeded[i % seeded.length], { ...arm.options, joinInBackground: true }))))
    const allJoined = await timeUntil(() => nodes.every(node => node.status === 'joined'), started + plan.burstDeadlineMs, 100)
    const joinedMs = allJoined == null ? undefined : Date.now() - started
    const sinceStart = (ms: number | undefined): number | undefined => (ms == null ? undefined : Date.now() - started)
    const correctMs = sinceStart(await timeUntil(async () => lookupsAllCorrect(nodes, CHECK_KEYS), started + plan.burstDeadlineMs, CHECK_PAUSE))
    const consistentMs = sinceStart(await timeUntil(() => ringIsConsistent(nodes), started + plan.burstDeadlineMs + plan.consistentDeadlineMs, 250))
    context.progress(`  all joined after ${seconds(joinedMs)}, lookups correct after ${seconds(correctMs)}, consistent after ${seconds(consistentMs)}; settling ${seconds(plan.settleMs)}`)

    await sleep(plan.settleMs)
    // the machine's speed before and after: on a shared machine the same work takes more CPU when others load it
    const yardstickMicros = [ed25519VerifyMicros()]
    const quietWindow = await measure(nodes, traffic, async () => { await sleep(plan.quietMs) })
    yardstickMicros.push(ed25519VerifyMicros())
    const intervals = nodes.map(node => ringOf(node).maintenanceIntervals)
    const median = (values: number[]): number => summarize(values).p50
    const quiet = {
      ...quietWindow,
      yardstickMicros,
      connectionsPerNode: nodes.reduce((sum, node) => sum + node.libp2p.getConnections().length, 0) / nodes.length,
      intervalsMs: {
        stabilize: median(intervals.map(i => i.stabilize)),
        fixFingers: median(intervals.map(i => i.fixFingers)),
        checkPredecessor: median(intervals.map(i => i.checkPredecessor))
      }
    }
    context.progress(`  quiet: ${quiet.cpuMsPerNodeSecond.toFixed(2)} ms/s and ${quiet.sentBytesPerNodeSecond.toFixed(0)} B/s sent per node`)

    const pickVictim = (): ChordNode => {
      const candidates = nodes.filter(node => !seeds.has(node))
      return candidates[Math.floor(random() * candidates.length)]
    }
    const joinSomewhere = async (): Promise<void> => {
      nodes.push(await startNode(nodes[Math.floor(random() * nodes.length)], arm.options))
    }

    const detections: number[] = []
    let missed = 0
    for (let i = 0; i < plan.detections; i++) {
      const sorted = sortedByRingId(nodes)
      const victim = pickVictim()
      const predecessor = sorted[(sorted.indexOf(victim) - 1 + sorted.length) % sorted.length]
      const victimPeer = ringOf(victim).self.peer
      nodes = nodes.filter(node => node !== victim)
      const crashedAt = Date.now()
      const crashing = crash(victim)
      const detected = await timeUntil(() => ringOf(predecessor).table.successor.peer !== victimPeer, crashedAt + DETECTION_DEADLINE, 5)
      await crashing
      if (detected == null) {
        missed++
      } else {
        detections.push(detected)
      }
      await joinSomewhere()
      await timeUntil(() => ringIsConsistent(nodes), Date.now() + REPLACEMENT_DEADLINE, 250)
    }
    context.progress(`  failed successor found after ${detections.map(seconds).join(', ')}`)

    let crashes = 0
    let joins = 0
    const churnWindow = await measure(nodes, traffic, async () => {
      const until = Date.now() + plan.churnMs
      while (Date.now() < until) {
        const next = Date.now() + plan.churnEveryMs
        const victim = pickVictim()
        nodes = nodes.filter(node => node !== victim)
        await crash(victim)
        crashes++
        await joinSomewhere()
        joins++
        await sleep(Math.max(0, next - Date.now()))
      }
    })
    const churnEnded = Date.now()
    const consistentAgain = await timeUntil(() => ringIsConsistent(nodes), churnEnded + plan.consistentDeadlineMs, 250)
    const correctAfter = await lookupsAllCorrect(nodes, CHECK_KEYS)
    context.progress(`  churn: ${churnWindow.cpuMsPerNodeSecond.toFixed(2)} ms/s and ${churnWindow.sentBytesPerNodeSecond.toFixed(0)} B/s sent per node; consistent again after ${seconds(consistentAgain)}`)

    return {
      arm: arm.name,
      nodes: size,
      burst: { joinedMs, correctMs, consistentMs },
      quiet,
      detectionMs: { ...summarize(detections), missed },
      churn: { ...churnWindow, crashes, joins, consistentAgainMs: consistentAgain, correctAfter }
    }
  } finally {
    await stopAll(nodes)
  }
}

/** CPU, socket bytes and requests sent while `body` runs, per node of the ring and second */
async function measure (nodes: ChordNode[], traffic: SocketTraffic, body: () => Promise<void>): Promise<Rates> {
  const size = nodes.length
  const requestsBefore = await requestsSent(nodes)
  const before: TrafficReading = traffic.read()
  const cpu = cpuNow()
  const began = Date.now()
  await body()
  const elapsedSeconds = (Date.now() - began) / 1000
  const cpuMs = cpuMsSince(cpu)
  const after = traffic.read()
  // nodes that left during the window took their counts with them: the survivors' are counted
  const requestsAfter = await requestsSent(nodes)
  const requestsPerNodeSecond: Record<string, number> = {}
  for (const [type, count] of requestsAfter) {
    requestsPerNodeSecond[type] = Math.max(0, count - (requestsBefore.get(type) ?? 0)) / nodes.length / elapsedSeconds
  }
  return {
    cpuMsPerNodeSecond: cpuMs / size / elapsedSeconds,
    sentBytesPerNodeSecond: (after.sentBytes - before.sentBytes) / size / elapsedSeconds,
    receivedBytesPerNodeSecond: (after.receivedBytes - before.receivedBytes) / size / elapsedSeconds,
    requestsPerNodeSecond
  }
}

/** /chord/1.0.0 requests the nodes have sent, by message type (from their metrics) */
async function requestsSent (nodes: ChordNode[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (const node of nodes) {
    for (const line of (await node.metrics()).split('\n')) {
      const match = /^chord_rpc_requests_sent_total\{type="(\w+)",outcome="\w+"\} (\d+)/.exec(line)
      if (match != null) {
        counts.set(match[1], (counts.get(match[1]) ?? 0) + Number(match[2]))
      }
    }
  }
  return counts
}

/**
 * ms from now until `condition` holds, checked every `pauseMs`; undefined when it does not hold
 * by `deadline` (ms since the epoch)
 */
async function timeUntil (condition: () => boolean | Promise<boolean>, deadline: number, pauseMs: number): Promise<number | undefined> {
  const started = Date.now()
  try {
    await waitFor(async () => {
      if (await condition()) {
        return true
      }
      await sleep(Math.min(pauseMs, Math.max(0, deadline - Date.now())))
      return false
    }, 'the condition', Math.max(0, deadline - started))
    return Date.now() - started
  } catch {
    return undefined
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

function seconds (ms: number | undefined): string {
  return ms == null ? 'not within the deadline' : `${(ms / 1000).toFixed(1)} s`
}

function requestsColumn (rates: Rates): string {
  return Object.entries(rates.requestsPerNodeSecond)
    .filter(([, rate]) => rate >= 0.005)
    .sort(([, a], [, b]) => b - a)
    .map(([type, rate]) => `${type} ${rate.toFixed(2)}`)
    .join(', ')
}

function tablesOf (results: RunResult[], plan: Plan): Table[] {
  const mark = (ok: boolean): string => (ok ? '✔' : '✘')
  return [{
    title: `Quiet ring: per node, after ${plan.settleMs / 1000} s of quiet, over ${plan.quietMs / 1000} s (targets: ≤ ${TARGET_CPU_MS_PER_SECOND} ms/s CPU, ≤ ${TARGET_BYTES_PER_SECOND} B/s)`,
    columns: ['maintenance', 'nodes', 'CPU ms/s', 'sent B/s', 'received B/s', 'targets', 'connections', 'requests sent /s', 'stabilize / fingers / predecessor interval s', 'yardstick µs'],
    rows: results.map(r => [
      r.arm, r.nodes, r.quiet.cpuMsPerNodeSecond, r.quiet.sentBytesPerNodeSecond, r.quiet.receivedBytesPerNodeSecond,
      mark(r.quiet.cpuMsPerNodeSecond <= TARGET_CPU_MS_PER_SECOND && r.quiet.sentBytesPerNodeSecond <= TARGET_BYTES_PER_SECOND && r.quiet.receivedBytesPerNodeSecond <= TARGET_BYTES_PER_SECOND),
      r.quiet.connectionsPerNode.toFixed(1),
      requestsColumn(r.quiet),
      [r.quiet.intervalsMs.stabilize, r.quiet.intervalsMs.fixFingers, r.quiet.intervalsMs.checkPredecessor].map(ms => (ms / 1000).toFixed(1)).join(' / '),
      r.quiet.yardstickMicros.map(us => us.toFixed(0)).join(' / ')
    ]),
    notes: [
      'CPU: this process\'s user + system time over the node count; bytes: every TCP socket of the process (Noise and Yamux framing included); connections: open per node at the end, each carrying Yamux keep-alive pings both ways every 30 s',
      'yardstick: CPU µs of one Ed25519 verification before and after the quiet window (a quiet modern core: about 50 µs); the same ring costs more CPU on a slower or busier machine'
    ]
  }, {
    title: `Churn: per node, a crash and a join every ${plan.churnEveryMs / 1000} s for ${plan.churnMs / 1000} s`,
    columns: ['maintenance', 'nodes', 'crashes', 'joins', 'CPU ms/s', 'sent B/s', 'received B/s', 'consistent again after s', 'lookups correct after', 'requests sent /s'],
    rows: results.map(r => [
      r.arm, r.nodes, r.churn.crashes, r.churn.joins, r.churn.cpuMsPerNodeSecond, r.churn.sentBytesPerNodeSecond, r.churn.receivedBytesPerNodeSecond,
      r.churn.consistentAgainMs == null ? `> ${plan.consistentDeadlineMs / 1000}` : r.churn.consistentAgainMs / 1000,
      r.churn.correctAfter ? 'yes' : 'no',
      requestsColumn(r.churn)
    ])
  }, {
    title: `Burst join: ${plan.seeds} seeds, then every other node at once (target: every lookup correct within ${TARGET_BURST_CORRECT_MS / 1000} s)`,
    columns: ['maintenance', 'nodes', 'all joined s', 'every lookup correct s', 'target', 'every successor list exact s'],
    rows: results.map(r => [
      r.arm, r.nodes, r.burst.joinedMs == null ? `> ${plan.burstDeadlineMs / 1000}` : r.burst.joinedMs / 1000,
      r.burst.correctMs == null ? `> ${plan.burstDeadlineMs / 1000}` : r.burst.correctMs / 1000,
      mark(r.burst.correctMs != null && r.burst.correctMs <= TARGET_BURST_CORRECT_MS),
      r.burst.consistentMs == null ? 'not within the deadline' : r.burst.consistentMs / 1000
    ]),
    notes: [
      'times from the start of the first seed; a check looks up random keys from every node, one lookup at a time, every 2 s',
      'successor lists are checked once every lookup is correct'
    ]
  }, {
    title: `Failed successor: ms from a crash until its predecessor moved past it (target ≤ ${TARGET_DETECTION_MS} ms, three short stabilize intervals)`,
    columns: ['maintenance', 'nodes', 'crashes', 'p50 ms', 'max ms', 'missed', 'target'],
    rows: results.map(r => [
      r.arm, r.nodes, r.detectionMs.count + r.detectionMs.missed, r.detectionMs.p50, r.detectionMs.max, r.detectionMs.missed,
      mark(r.detectionMs.missed === 0 && r.detectionMs.max <= TARGET_DETECTION_MS)
    ])
  }]
}
