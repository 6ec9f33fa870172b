/**
 * The Chord paper's "lookups during stabilization" experiment, run on the real ring core through
 * the simulator and reported next to the paper's figures (Stoica et al., "Chord: A Scalable
 * Peer-to-peer Lookup Service for Internet Applications", SIGCOMM 2001, §6.5; IEEE/ACM ToN 2003,
 * §V): nodes join and fail as Poisson processes at R per second each, every node runs its
 * maintenance round at randomized intervals averaging 30 s, lookups of random keys arrive at a
 * steady rate; a lookup fails unless it names the key's current successor. At the paper's size
 * (500 nodes, R = 0.05 … 0.40) and at 10,000 nodes with the same node lifetime (R scaled by
 * 10,000 / 500). The paper's other failure experiment is failures-simulated.ts.
 */
import { buildSettledRing } from '../test/helpers/settled-ring.js'
import { ChurnProcess, emptyTally, PAPER_MAINTENANCE_INTERVAL } from '../test/helpers/simulated-churn.js'
import { seededRandom } from '../test/helpers/simulator.js'
import { percent, summarizeTally } from './harness/lookup-tally.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'
import type { TallySummary } from './harness/lookup-tally.js'
import type { RingBuild } from '../test/helpers/settled-ring.js'
import type { ChurnCounts, ChurnRates } from '../test/helpers/simulated-churn.js'
import type { Simulator } from '../test/helpers/simulator.js'

const SEED = 0xc4a2

/** The paper's ring size in the churn experiment ("The network starts with 500 nodes") */
const PAPER_NODES = 500

/** The paper's join/fail rates, per second */
const PAPER_RATES = [0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40]

/** The paper's mean stabilization interval, s: R · 30 failures happen between two rounds of a node */
const PAPER_STABILIZE_S = 30

/**
 * The paper's own rough model of its result (SIGCOMM §6.5): lookup paths of about 5 hops in 500
 * nodes, so with k failures between stabilizations a lookup meets a failed node with probability
 * about 5k / 500. Not a measured value: the paper's figure is "in this ball-park, but slightly worse".
 */
function paperEstimate (rate: number): number {
  return 5 * rate * PAPER_STABILIZE_S / PAPER_NODES
}

/** Maintenance rounds a ring may take to be consistent again once churn stops, before the run is declared broken */
const MAX_REPAIR_ROUNDS = 60

interface ChurnSetting {
  nodes: number
  rates: number[]
  /** R is multiplied by this: nodes / 500 keeps each node's expected lifetime the paper's */
  rateScale: number
  lookupsPerSecond: number
  warmUpS: number
  measureS: number
}

const FULL = {
  paperSize: { nodes: PAPER_NODES, rates: PAPER_RATES, rateScale: 1, lookupsPerSecond: 4, warmUpS: 120, measureS: 1800 },
  large: { nodes: 10_000, rates: [0.05, 0.10, 0.20, 0.40], rateScale: 10_000 / PAPER_NODES, lookupsPerSecond: 10, warmUpS: 90, measureS: 240 }
} satisfies Record<string, ChurnSetting>

const QUICK = {
  paperSize: { nodes: PAPER_NODES, rates: [0.10, 0.40], rateScale: 1, lookupsPerSecond: 4, warmUpS: 60, measureS: 300 },
  large: { nodes: 1000, rates: [0.10, 0.40], rateScale: 1000 / PAPER_NODES, lookupsPerSecond: 4, warmUpS: 60, measureS: 120 }
} satisfies Record<string, ChurnSetting>

interface ChurnRow {
  rate: number
  joinsPerSecond: number
  failuresPerStabilization: number
  paperEstimate: number
  startNodes: number
  endNodes: number
  warmUp: ChurnCounts
  measured: ChurnCounts
  lookups: TallySummary
  /** maintenance rounds (every node once) until the ring was consistent once churn stopped */
  roundsToConsistent: number
  cpuMs: number
}

export const churnSimulated: Benchmark = {
  name: 'churn-simulated',
  description: 'the Chord paper\'s lookups during churn (joins and failures at R per second) on simulated rings of 500 and 10,000 nodes',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const settings = context.quick ? QUICK : FULL
    const paperSize = await churnAtRates(settings.paperSize, context)
    const { sim, build } = await settledRing(settings.large.nodes, seededRandom(SEED + settings.large.nodes), context)
    const large = await churnAtRates(settings.large, context, sim)
    return {
      tables: [
        churnTable(`Lookups during churn, ${settings.paperSize.nodes} nodes (the paper's size): joins and failures at R per second each`, paperSize, settings.paperSize),
        churnTable(`Lookups during churn, ${settings.large.nodes.toLocaleString('en')} nodes: R × ${settings.large.rateScale} per second each (the same node lifetime as R at 500 nodes)`, large, settings.large)
      ],
      results: {
        model: {
          maintenanceIntervalS: PAPER_MAINTENANCE_INTERVAL,
          maintenanceRound: 'checkPredecessor, stabilize (successor list), fixFingers (one finger and the run of fingers it also covers)',
          paperSource: 'Stoica et al., SIGCOMM 2001 §6.5 (Figure 12); IEEE/ACM ToN 2003 §V'
        },
        settings,
        paperSize,
        large: { build, rows: large }
      }
    }
  }
}

async function settledRing (nodes: number, random: () => number, context: BenchmarkContext): Promise<{ sim: Simulator, build: RingBuild }> {
  const built = await buildSettledRing(nodes, random)
  context.progress(`N=${nodes}: built in ${(built.build.ms / 1000).toFixed(1)} s, ${built.build.rounds} rounds`)
  return built
}

/** The churn experiment at each rate; on one ring carried from rate to rate when `ring` is given */
async function churnAtRates (setting: ChurnSetting, context: BenchmarkContext, ring?: Simulator): Promise<ChurnRow[]> {
  const rows: ChurnRow[] = []
  for (const [i, rate] of setting.rates.entries()) {
    const random = seededRandom(SEED + setting.nodes + i)
    const sim = ring ?? (await settledRing(setting.nodes, random, context)).sim
    rows.push(await churnAtRate(sim, rate, setting, random))
    const row = rows[rows.length - 1]
    context.progress(`N=${setting.nodes} R=${rate}: ${(100 * row.lookups.failedFraction).toFixed(2)}% of ${row.lookups.lookups} lookups failed, consistent ${row.roundsToConsistent} rounds after churn stopped`)
  }
  return rows
}

async function churnAtRate (sim: Simulator, rate: number, setting: ChurnSetting, random: () => number): Promise<ChurnRow> {
  const cpuStart = process.cpuUsage()
  const churn = new ChurnProcess(sim, random)
  const startNodes = churn.size
  const rates: ChurnRates = { joinsPerSecond: rate * setting.rateScale, failuresPerSecond: rate * setting.rateScale, lookupsPerSecond: setting.lookupsPerSecond }
  const warmUp = await churn.run(setting.warmUpS, rates)
  const tally = emptyTally()
  const measured = await churn.run(setting.measureS, rates, tally)
  const roundsToConsistent = await sim.roundsUntil(() => sim.isConsistent(), MAX_REPAIR_ROUNDS)
  const cpu = process.cpuUsage(cpuStart)
  return {
    rate,
    joinsPerSecond: rates.joinsPerSecond,
    failuresPerStabilization: rates.failuresPerSecond * PAPER_STABILIZE_S,
    paperEstimate: paperEstimate(rate),
    startNodes,
    endNodes: churn.size,
    warmUp,
    measured,
    lookups: summarizeTally(tally),
    roundsToConsistent,
    cpuMs: (cpu.user + cpu.system) / 1000
  }
}

function churnTable (title: string, rows: ChurnRow[], setting: ChurnSetting): Table {
  return {
    title,
    columns: ['R /s', 'fails per 30 s', 'paper est. (500 nodes)', 'failed', 'wrong owner', 'unconfirmed', 'no route', 'corrected', 'mean hops', 'timeouts/lookup', 'lookups', 'nodes end', 'rounds to consistent'],
    rows: rows.map(r => [
      r.rate, r.failuresPerStabilization, percent(r.paperEstimate), percent(r.lookups.failedFraction),
      r.lookups.wrongOwner, r.lookups.unconfirmed, r.lookups.noRoute, r.lookups.corrected,
      r.lookups.meanHops, r.lookups.timeoutsPerLookup, r.lookups.lookups, r.endNodes, r.roundsToConsistent
    ]),
    notes: [
      `each node runs a maintenance round every ${PAPER_MAINTENANCE_INTERVAL.minS}–${PAPER_MAINTENANCE_INTERVAL.maxS} s (uniform, 30 s mean); ${setting.lookupsPerSecond} lookups/s; ${setting.warmUpS} s of churn before ${setting.measureS} s measured`,
      'failed = did not name the key\'s current successor: wrong owner + unconfirmed (LookupVerificationError) + no route (LookupFailedError)',
      'corrected = named the right owner only because the owner check replaced the one the route named',
      'paper est. = the paper\'s own rough model, 5 hops × R·30 failures / 500 nodes; its measured figure is "slightly worse"'
    ]
  }
}
