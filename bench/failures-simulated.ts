/**
 * The Chord paper's simultaneous-failure experiment, run on the real ring core through the
 * simulator and reported next to the paper's figure (Stoica et al., "Chord: A Scalable
 * Peer-to-peer Lookup Service for Internet Applications", SIGCOMM 2001, §6.4, Figure 11; IEEE/ACM
 * ToN 2003, §V): a fraction p of a settled 10,000-node ring fails at once; lookups right after (no
 * repair yet), then maintenance rounds until the ring is consistent, then lookups of keys recorded
 * before the failure. The paper counts the keys whose owner before the failure is gone.
 */
import { buildSettledRing, fixEveryFinger } from '../test/helpers/settled-ring.js'
import { TrueRing, emptyTally, judgeLookup, randomKey } from '../test/helpers/simulated-churn.js'
import { seededRandom } from '../test/helpers/simulator.js'
import { percent, summarizeTally } from './harness/lookup-tally.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'
import type { TallySummary } from './harness/lookup-tally.js'
import type { Simulator } from '../test/helpers/simulator.js'

const SEED = 0xfa11

/**
 * Maintenance rounds (every node once) a ring is given to be consistent again after a mass
 * failure; a ring that is not is reported as such, with its lookups measured all the same
 */
const MAX_REPAIR_ROUNDS = 60

interface FailureSetting {
  nodes: number
  fractions: number[]
  /** lookups right after the failure, and of the recorded keys after repair */
  lookups: number
}

const FULL: FailureSetting = { nodes: 10_000, fractions: [0.05, 0.10, 0.20, 0.30, 0.40, 0.50], lookups: 2000 }
const QUICK: FailureSetting = { nodes: 1000, fractions: [0.10, 0.30, 0.50], lookups: 500 }

interface FailureRow {
  fraction: number
  failedNodes: number
  /** right after the failure, before any maintenance round */
  beforeRepair: TallySummary
  /** rounds until the ring was consistent; undefined when it was not within MAX_REPAIR_ROUNDS */
  roundsToConsistent?: number
  /** recorded keys whose owner before the failure died: the paper's failed lookups (no replication) */
  ownerDiedFraction: number
  /** recorded keys whose whole replica set died: what is lost with r replicas */
  replicaSetDiedFraction: number
  /** lookups of the recorded keys after the repair rounds, judged against the ring as it is */
  afterRepair: TallySummary
}

export const failuresSimulated: Benchmark = {
  name: 'failures-simulated',
  description: 'the Chord paper\'s simultaneous failures (a fraction p of 10,000 simulated nodes fails at once): lookups before and after repair',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const setting = context.quick ? QUICK : FULL
    const random = seededRandom(SEED + setting.nodes)
    const { sim, build } = await buildSettledRing(setting.nodes, random)
    context.progress(`N=${setting.nodes}: built in ${(build.ms / 1000).toFixed(1)} s, ${build.rounds} rounds`)
    const rows = await simultaneousFailures(sim, setting, random, context)
    return {
      tables: [failureTable(setting, rows)],
      results: { paperSource: 'Stoica et al., SIGCOMM 2001 §6.4 (Figure 11); IEEE/ACM ToN 2003 §V', setting, build, rows }
    }
  }
}

/**
 * For each fraction: fail it at once on the settled ring, look up right away, repair, look up the
 * recorded keys again; then bring the failed nodes back and settle the ring for the next fraction
 * (the same ring each time, as the paper fails a fraction of one network). A ring that cannot be
 * settled again ends the series.
 */
async function simultaneousFailures (sim: Simulator, setting: FailureSetting, random: () => number, context: BenchmarkContext): Promise<FailureRow[]> {
  const rows: FailureRow[] = []
  for (const fraction of setting.fractions) {
    const before = new TrueRing(sim.sortedLiveIds())
    const replicas = sim.liveRings()[0].replicas
    const keys = Array.from({ length: setting.lookups }, () => randomKey(random))
    const replicaSets = keys.map(id => before.successorsOf(id, replicas))

    const names = [...sim.alive]
    const victims = new Set<string>()
    while (victims.size < Math.round(fraction * names.length)) {
      victims.add(names[Math.floor(random() * names.length)])
    }
    for (const name of victims) {
      sim.kill(name)
    }
    const after = new TrueRing(sim.sortedLiveIds())
    const survivors = sim.liveRings()
    const pick = (): ReturnType<Simulator['ringOf']> => survivors[Math.floor(random() * survivors.length)]

    const beforeRepair = emptyTally()
    for (let i = 0; i < setting.lookups; i++) {
      await judgeLookup(sim, pick(), randomKey(random), after, beforeRepair)
    }
    const roundsToConsistent = await repair(sim)
    const afterRepair = emptyTally()
    for (const id of keys) {
      await judgeLookup(sim, pick(), id, after, afterRepair)
    }
    rows.push({
      fraction,
      failedNodes: victims.size,
      beforeRepair: summarizeTally(beforeRepair),
      roundsToConsistent,
      ownerDiedFraction: replicaSets.filter(set => victims.has(set[0].peer)).length / keys.length,
      replicaSetDiedFraction: replicaSets.filter(set => set.every(node => victims.has(node.peer))).length / keys.length,
      afterRepair: summarizeTally(afterRepair)
    })
    context.progress(`N=${setting.nodes} p=${fraction}: ${percent(rows[rows.length - 1].beforeRepair.failedFraction)} failed before repair, ${roundsToConsistent == null ? `not consistent after ${MAX_REPAIR_ROUNDS}` : `consistent after ${roundsToConsistent}`} rounds`)

    for (const name of victims) {
      sim.revive(name)
    }
    if (await repair(sim) == null) {
      context.progress(`the ring did not settle again within ${MAX_REPAIR_ROUNDS} rounds after the failed nodes came back: the series ends here`)
      break
    }
    await fixEveryFinger(sim)
  }
  return rows
}

/** Maintenance rounds until the ring is consistent: how many, or undefined when MAX_REPAIR_ROUNDS were not enough */
async function repair (sim: Simulator): Promise<number | undefined> {
  for (let rounds = 0; rounds <= MAX_REPAIR_ROUNDS; rounds++) {
    if (sim.isConsistent()) {
      return rounds
    }
    await sim.round()
  }
  return undefined
}

function failureTable (setting: FailureSetting, rows: FailureRow[]): Table {
  return {
    title: `Simultaneous failures, ${setting.nodes.toLocaleString('en')} nodes: a fraction p fails at once`,
    columns: ['p', 'paper: ≈ p', 'owner died', 'replica set died', 'failed before repair', 'corrected', 'mean hops', 'timeouts/lookup', 'rounds to consistent', 'failed after repair'],
    rows: rows.map(r => [
      r.fraction, percent(r.fraction), percent(r.ownerDiedFraction), percent(r.replicaSetDiedFraction),
      percent(r.beforeRepair.failedFraction), r.beforeRepair.corrected, r.beforeRepair.meanHops, r.beforeRepair.timeoutsPerLookup,
      r.roundsToConsistent ?? `> ${MAX_REPAIR_ROUNDS}`, percent(r.afterRepair.failedFraction)
    ]),
    notes: [
      `${setting.lookups} lookups of random keys right after the failure (no maintenance yet), then of ${setting.lookups} keys recorded before it after the repair rounds`,
      'paper: the fraction of keys whose lookup does not find the node responsible before the failure is "almost exactly p" (no replication)',
      'owner died = our count of that same quantity; replica set died = keys whose every replica (r = 3) failed, what replication loses',
      'failed before/after repair = did not name the key\'s current successor (wrong owner, unconfirmed or no route)'
    ]
  }
}
