/**
 * What reading the named replica set early saves between distant hosts, measured in pairs on the
 * links of the `wide-area` benchmark (harness/wide-area-links.ts, one-way delays of 10–150 ms): a
 * get's FETCHes leave for the replica set the route named while the named owner confirms itself
 * (`ChordRing.lookup`'s `onNamed`), against waiting for the check. Writes always wait for it.
 *
 * Each trial puts a value under a fresh key (untimed), then gets it twice from the same node, once
 * each way (in alternating order), and closes the connections each run opened before the next, so
 * that both runs start from the same connections. The saving is the difference within each pair,
 * which the spread between random nodes and keys (each new connection costs several round trips)
 * does not drown. The other way is switched in by dropping `onNamed` from the node's lookups.
 */
import { internalsOf } from '../src/testing.js'
import { seededRandom } from '../test/helpers/simulator.js'
import { summarize } from './harness/stats.js'
import { WideAreaNetwork } from './harness/wide-area-links.js'
import { startChordRing } from './wide-area.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'
import type { Summary } from './harness/stats.js'
import type { ChordRing, RingLookupOptions } from '../src/chord/ring.js'
import type { ChordNode } from '../src/index.js'
import type { Connection } from '@libp2p/interface'

interface Plan {
  size: number
  trials: number
}

/** `npm run bench -- --only wide-area-paired`: 128 nodes, 30 trials (about 15 minutes) */
const DEFAULT_PLAN: Plan = { size: 128, trials: 30 }

/** `--quick`: a smoke run */
const QUICK_PLAN: Plan = { size: 32, trials: 4 }

const SEED = 0x9a11

/** Gets measured both ways: ms and the connections each run opened */
interface PairedSeries {
  withMs: number[]
  withoutMs: number[]
  withConnections: number[]
  withoutConnections: number[]
}

/** What the ring does the other way, switched per run */
interface Switches {
  /** reads wait for the owner to confirm itself */
  waitForCheck: boolean
}

export const wideAreaPaired: Benchmark = {
  name: 'wide-area-paired',
  description: 'wide-area links: what reading the named replica set early saves a get, measured in pairs',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const base = context.quick ? QUICK_PLAN : DEFAULT_PLAN
    const plan: Plan = { size: context.sizes?.[0] ?? base.size, trials: context.samples ?? base.trials }
    const network = new WideAreaNetwork(`wide-area-paired-${Date.now()}`, plan.size, seededRandom(SEED + plan.size))
    const oneWayMs = summarize(network.pairDelays())
    context.progress(`N=${plan.size}: one-way delays p50 ${oneWayMs.p50} ms (${oneWayMs.min}–${oneWayMs.max})`)
    const nodes = await startChordRing(network, context)
    try {
      const switches: Switches = { waitForCheck: false }
      nodes.forEach(node => { switchable(internalsOf(node).ring, switches) })
      const series = await measure(nodes, plan, switches, context)
      return { tables: [tableOf(plan, oneWayMs, series)], results: { plan, oneWayMs, series: summaryOf(series) } }
    } finally {
      await Promise.allSettled(nodes.map(async node => node.stop()))
    }
  }
}

/** Let `switches` turn the ring's early reads off */
function switchable (ring: ChordRing, switches: Switches): void {
  const lookup = ring.lookup.bind(ring)
  ring.lookup = async (id, options: RingLookupOptions = {}) => lookup(id, switches.waitForCheck ? { ...options, onNamed: undefined } : options)
}

async function measure (nodes: ChordNode[], plan: Plan, switches: Switches, context: BenchmarkContext): Promise<PairedSeries> {
  const random = seededRandom(SEED * 11 + plan.size)
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]
  const series: PairedSeries = { withMs: [], withoutMs: [], withConnections: [], withoutConnections: [] }
  for (let trial = 0; trial < plan.trials; trial++) {
    const from = pick(nodes)
    const ring = internalsOf(from).ring
    const key = `wide-area-paired-${trial}-${random()}`
    await fromFreshConnections(from, async () => from.put(key, new Uint8Array(256)))
    // both runs of a pair, the improved one first in every other trial
    for (const improved of trial % 2 === 0 ? [true, false] : [false, true]) {
      switches.waitForCheck = !improved
      // a remembered owner would skip the lookup both ways
      ring.owners.clear()
      const { ms, connections } = await fromFreshConnections(from, async () => from.get(key))
      if (improved) {
        series.withMs.push(ms)
        series.withConnections.push(connections)
      } else {
        series.withoutMs.push(ms)
        series.withoutConnections.push(connections)
      }
    }
    switches.waitForCheck = false
    context.progress(`trial ${trial + 1} of ${plan.trials}`)
  }
  return series
}

/** Run `work` from `node`, then close the connections it opened: ms, and how many it opened */
async function fromFreshConnections (node: ChordNode, work: () => Promise<unknown>): Promise<{ ms: number, connections: number }> {
  const opened: Connection[] = []
  const onOpen = (event: CustomEvent<Connection>): void => {
    if (event.detail.direction === 'outbound') {
      opened.push(event.detail)
    }
  }
  node.libp2p.addEventListener('connection:open', onOpen)
  try {
    const started = performance.now()
    await work()
    return { ms: performance.now() - started, connections: opened.length }
  } finally {
    node.libp2p.removeEventListener('connection:open', onOpen)
    await Promise.allSettled(opened.map(async connection => connection.close()))
  }
}

function summaryOf (series: PairedSeries): { with: Summary, without: Summary, saving: Summary, newConnectionsWith: number, newConnectionsWithout: number } {
  return {
    with: summarize(series.withMs),
    without: summarize(series.withoutMs),
    saving: summarize(series.withMs.map((ms, i) => series.withoutMs[i] - ms)),
    newConnectionsWith: summarize(series.withConnections).mean,
    newConnectionsWithout: summarize(series.withoutConnections).mean
  }
}

function tableOf (plan: Plan, oneWayMs: Summary, series: PairedSeries): Table {
  const ms = (value: number): string => value.toFixed(0)
  const summary = summaryOf(series)
  return {
    title: `Paired gets on wide-area links, N = ${plan.size}, ${plan.trials} pairs (median RTT ${2 * oneWayMs.p50} ms)`,
    columns: ['with p50 ms', 'without p50 ms', 'saving p50 ms', 'saving mean ms', 'new connections with / without'],
    rows: [[
      ms(summary.with.p50),
      ms(summary.without.p50),
      ms(summary.saving.p50),
      ms(summary.saving.mean),
      `${summary.newConnectionsWith.toFixed(2)} / ${summary.newConnectionsWithout.toFixed(2)}`
    ]],
    notes: [
      'with: FETCHes leave for the named replica set while the owner confirms it; without: they leave after the check',
      'each pair: one node, one key put just before (untimed), the connections each run opened closed before the next run'
    ]
  }
}
