/**
 * Memory of a standalone node idle in a ring of 32: every node its own `chord-node run` process
 * (the compiled bin that `npm start` and operators run, on plain Node, with a LevelDB data
 * directory), joined through earlier nodes on 127.0.0.1. Once every node's successor is right, as
 * seen by lookups from an observer outside the ring, the observer leaves, the ring is left alone
 * to settle, and the kernel's resident set size of each process is sampled.
 *
 * Most nodes run the bin (the bundled dist/chord-node.mjs) as it is meant to be run, with V8's
 * young generation capped (--max-semi-space-size=1), some with /metrics and /health served
 * (--http); the others show what each choice saves: the default young generation, and the same
 * program unbundled (tsc's dist/src/cli/main.js).
 * Baseline processes show what Node alone and Node with the library's imports take before any
 * node starts. Each node's CPU use while idle is measured over the settling time.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { RING_SIZE } from '../src/chord/id.js'
import { internalsOf } from '../src/testing.js'
import { createChordNode } from '../src/index.js'
import { waitFor } from '../test/helpers/wait-for.js'
import { REPOSITORY_ROOT, buildPackage } from './harness/compile.js'
import { readProcessCpuMs, readProcessMemory } from './harness/process-stats.js'
import { startStandaloneNode, stopProcesses } from './harness/standalone-nodes.js'
import { summarize } from './harness/stats.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'
import type { ProcessMemory } from './harness/process-stats.js'
import type { Launcher, StandaloneNode } from './harness/standalone-nodes.js'
import type { Summary } from './harness/stats.js'
import type { ChordNode } from '../src/index.js'
import type { ChildProcess } from 'node:child_process'

interface Plan {
  nodes: number
  /** ms the ring is left alone after it is consistent, before sampling */
  settleMs: number
  samples: number
  sampleIntervalMs: number
}

const FULL: Plan = { nodes: 32, settleMs: 60_000, samples: 5, sampleIntervalMs: 3000 }
const QUICK: Plan = { nodes: 6, settleMs: 5000, samples: 2, sampleIntervalMs: 1000 }

/** The design's target for an idle standalone node */
const TARGET_RSS_BYTES = 100e6

/** The bin, as `npm run build` (and `npm install`, through prepare) leaves it */
const BIN = join(REPOSITORY_ROOT, 'dist', 'chord-node.mjs')
/** The same program unbundled: tsc's output, one file per module */
const UNBUNDLED = join(REPOSITORY_ROOT, 'dist', 'src', 'cli', 'main.js')

/** ms for one node process to start and print its address */
const START_TIMEOUT = 120_000

/** ms for every successor to be right once all nodes are up (stabilize runs once a second) */
const CONSISTENT_TIMEOUT = 180_000

/** ms between the observer's checks of the ring */
const CHECK_INTERVAL = 2000

/** ms a node is given to leave gracefully before it is killed */
const STOP_GRACE = 10_000

/** Earlier nodes each new node is given as bootstrap addresses */
const BOOTSTRAP_ADDRESSES = 3

/** How long a baseline process is left before it is sampled */
const BASELINE_SETTLE = 5000

interface LauncherResult {
  launcher: string
  nodes: number
  rssBytes: Summary
  /** of the RSS, the file pages the processes share (the Node binary's) */
  fileRssBytes: Summary
  peakRssBytes: Summary
  idleCpuMsPerSecond: Summary
}

export const memory: Benchmark = {
  name: 'memory',
  description: 'RSS of standalone node processes idle in a ring of 32 on 127.0.0.1',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    context.progress('building the package (npm run build)')
    await buildPackage()
    const http = ['--http', '127.0.0.1:0']
    // as npm start, the Dockerfile and the systemd unit run it (the bin's own shebang says the same)
    const flags = ['--max-semi-space-size=1']
    const launchers: Launcher[] = [
      { name: 'chord-node run', command: process.execPath, args: [...flags, BIN, 'run', '--admin', 'off'] },
      { name: 'chord-node run --http', command: process.execPath, args: [...flags, BIN, 'run', '--admin', 'off', ...http] },
      { name: 'chord-node run, default young generation', command: process.execPath, args: [BIN, 'run', '--admin', 'off'] },
      { name: 'unbundled dist/src/cli/main.js run', command: process.execPath, args: [...flags, UNBUNDLED, 'run', '--admin', 'off'] }
    ]

    const dataRoot = await mkdtemp(join(os.tmpdir(), 'chord-memory-'))
    const children: ChildProcess[] = []
    const killAll = (): void => { for (const child of children) { child.kill('SIGKILL') } }
    const onSignal = (): void => { killAll(); process.exit(130) }
    process.once('exit', killAll)
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      const baselines = await measureBaselines(children)
      const nodes = await startRing(plan, launchers, dataRoot, children, context)
      const convergedMs = await waitUntilConsistent(nodes, context)
      context.progress(`ring of ${nodes.length} processes consistent; settling ${plan.settleMs / 1000} s`)
      const idleFrom = await cpuReadings(nodes)
      await new Promise(resolve => setTimeout(resolve, plan.settleMs))
      const perNode = await sample(nodes, plan, idleFrom)
      const byLauncher = launchers.map(launcher => summarizeLauncher(launcher.name, nodes, perNode))
      return {
        tables: [tableFor(byLauncher, baselines, nodes.length)],
        results: {
          nodes: nodes.length,
          settleMs: plan.settleMs,
          convergedMs,
          targetRssBytes: TARGET_RSS_BYTES,
          byLauncher,
          baselines,
          perNode: nodes.map((node, i) => ({ launcher: node.launcher, peerId: node.peerId, ...perNode[i] }))
        }
      }
    } finally {
      await stopProcesses(children, STOP_GRACE)
      process.removeListener('exit', killAll)
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
      await rm(dataRoot, { recursive: true, force: true })
    }
  }
}

/** Start the nodes one at a time, alternating launchers, each joining through earlier nodes */
async function startRing (plan: Plan, launchers: Launcher[], dataRoot: string, children: ChildProcess[], context: BenchmarkContext): Promise<StandaloneNode[]> {
  const nodes: StandaloneNode[] = []
  for (let i = 0; i < plan.nodes; i++) {
    const earlier = [...new Set([i - 1, Math.floor(i / 2), 0])].filter(j => j >= 0 && j < i).slice(0, BOOTSTRAP_ADDRESSES)
    const node = await startStandaloneNode(launchers[i % launchers.length], {
      dataDir: join(dataRoot, `node-${i}`),
      bootstrap: earlier.map(j => nodes[j].address),
      startTimeoutMs: START_TIMEOUT,
      cwd: REPOSITORY_ROOT
    })
    children.push(node.child)
    nodes.push(node)
    if ((i + 1) % 8 === 0) {
      context.progress(`${i + 1} of ${plan.nodes} node processes started`)
    }
  }
  return nodes
}

/**
 * Wait until a lookup of the position just after each node finds that node's true successor: every
 * successor pointer on the ring is then right. The observer is a client-mode node (it takes no ring
 * position) and leaves before anything is sampled.
 */
async function waitUntilConsistent (nodes: StandaloneNode[], context: BenchmarkContext): Promise<number> {
  const sorted = [...nodes].sort((a, b) => (a.ringId < b.ringId ? -1 : 1))
  const observer = await createChordNode({
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: nodes.slice(0, BOOTSTRAP_ADDRESSES).map(node => node.address),
    clientMode: true
  })
  try {
    let lastCheck = 0
    return await waitFor(async () => {
      if (Date.now() - lastCheck < CHECK_INTERVAL) {
        return false
      }
      lastCheck = Date.now()
      const wrong = await wrongSuccessors(observer, sorted)
      context.progress(`successors not yet right: ${wrong} of ${sorted.length}`)
      return wrong === 0
    }, 'every successor right', CONSISTENT_TIMEOUT)
  } finally {
    await observer.stop()
  }
}

async function wrongSuccessors (observer: ChordNode, sorted: StandaloneNode[]): Promise<number> {
  let wrong = 0
  for (const [i, node] of sorted.entries()) {
    const next = sorted[(i + 1) % sorted.length]
    try {
      const { successors } = await internalsOf(observer).ring.lookup((node.ringId + 1n) % RING_SIZE)
      if (successors[0]?.peer !== next.peerId) {
        wrong++
      }
    } catch {
      wrong++
    }
  }
  return wrong
}

interface NodeMemory {
  /** median of the samples */
  rssBytes: number
  /** median of the samples: of the RSS, file pages shared between processes */
  fileRssBytes: number
  peakRssBytes: number
  /** CPU used per second from the start of settling to the last sample */
  idleCpuMsPerSecond: number
}

interface CpuReading {
  cpuMs: number
  at: number
}

async function cpuReadings (nodes: StandaloneNode[]): Promise<CpuReading[]> {
  return Promise.all(nodes.map(async node => ({ cpuMs: await readProcessCpuMs(node.pid), at: performance.now() })))
}

async function sample (nodes: StandaloneNode[], plan: Plan, idleFrom: CpuReading[]): Promise<NodeMemory[]> {
  const samples: ProcessMemory[][] = nodes.map(() => [])
  for (let s = 0; s < plan.samples; s++) {
    if (s > 0) {
      await new Promise(resolve => setTimeout(resolve, plan.sampleIntervalMs))
    }
    for (const [i, node] of nodes.entries()) {
      samples[i].push(await readProcessMemory(node.pid))
    }
  }
  const idleTo = await cpuReadings(nodes)
  return Promise.all(nodes.map(async (node, i) => ({
    rssBytes: summarize(samples[i].map(m => m.rssBytes)).p50,
    fileRssBytes: summarize(samples[i].map(m => m.fileRssBytes)).p50,
    peakRssBytes: (await readProcessMemory(node.pid)).peakRssBytes,
    idleCpuMsPerSecond: (idleTo[i].cpuMs - idleFrom[i].cpuMs) / ((idleTo[i].at - idleFrom[i].at) / 1000)
  })))
}

function summarizeLauncher (launcher: string, nodes: StandaloneNode[], perNode: NodeMemory[]): LauncherResult {
  const mine = perNode.filter((_, i) => nodes[i].launcher === launcher)
  return {
    launcher,
    nodes: mine.length,
    rssBytes: summarize(mine.map(m => m.rssBytes)),
    fileRssBytes: summarize(mine.map(m => m.fileRssBytes)),
    peakRssBytes: summarize(mine.map(m => m.peakRssBytes)),
    idleCpuMsPerSecond: summarize(mine.map(m => m.idleCpuMsPerSecond))
  }
}

interface Baseline {
  what: string
  rssBytes: number
  fileRssBytes: number
}

/** What a process takes before any node starts: Node alone, and Node with the library imported (through tsx, and compiled) */
async function measureBaselines (children: ChildProcess[]): Promise<Baseline[]> {
  const idle = 'setInterval(() => {}, 1000)'
  const compiledLibrary = pathToFileURL(join(REPOSITORY_ROOT, 'dist', 'src', 'index.js')).href
  const programs = [
    { what: 'Node, nothing loaded', args: ['-e', idle] },
    { what: 'Node + the compiled library imported', args: ['--input-type=module', '-e', `await import('${compiledLibrary}'); ${idle}`] },
    { what: 'Node + libp2p alone imported', args: ['--input-type=module', '-e', `await import('libp2p'); ${idle}`] },
    { what: 'Node + prom-client alone imported', args: ['--input-type=module', '-e', `await import('prom-client'); ${idle}`] }
  ]
  const started = programs.map(program => {
    const child = spawn(process.execPath, program.args, { cwd: REPOSITORY_ROOT, stdio: 'ignore' })
    children.push(child)
    return { what: program.what, child }
  })
  await new Promise(resolve => setTimeout(resolve, BASELINE_SETTLE))
  const baselines = await Promise.all(started.map(async ({ what, child }) => {
    const { rssBytes, fileRssBytes } = await readProcessMemory(child.pid ?? -1)
    return { what, rssBytes, fileRssBytes }
  }))
  await stopProcesses(started.map(s => s.child), STOP_GRACE)
  return baselines
}

function tableFor (byLauncher: LauncherResult[], baselines: Baseline[], ringSize: number): Table {
  const mb = (bytes: number): number => bytes / 1e6
  return {
    title: `Resident memory of standalone node processes idle in a ring of ${ringSize}, MB (10^6 bytes)`,
    columns: ['process', 'nodes', 'RSS p50', 'RSS max', 'peak RSS max', 'of it shared file pages p50', 'target', 'idle CPU ms/s p50'],
    rows: [
      ...byLauncher.map(r => [r.launcher, r.nodes, mb(r.rssBytes.p50), mb(r.rssBytes.max), mb(r.peakRssBytes.max), mb(r.fileRssBytes.p50), `< ${mb(TARGET_RSS_BYTES)}`, r.idleCpuMsPerSecond.p50]),
      ...baselines.map(b => [`baseline: ${b.what}`, 1, mb(b.rssBytes), '', '', mb(b.fileRssBytes), '', ''])
    ],
    notes: [
      'RSS: VmRSS from /proc, median of the samples per node; peak RSS: VmHWM (the most the process ever held, start-up included)',
      'shared file pages: RssFile, the Node binary\'s code and read-only data the process has touched; the kernel keeps one copy for every process on the machine',
      'idle CPU: user + system time of the process per second of settling, from /proc/<pid>/stat'
    ]
  }
}
