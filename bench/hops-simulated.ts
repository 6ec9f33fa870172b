/**
 * Lookup hops on large simulated rings: N = 1,000 and 10,000 ring cores in one process, talking
 * through the test simulator (no libp2p). Shows the O(log N) routing of the real core at sizes no
 * single machine can run as libp2p nodes, against the bound ½·log2 N + 1.
 */
import { hashToRingId } from '../src/chord/id.js'
import { Simulator, seededRandom } from '../test/helpers/simulator.js'
import { summarize } from './harness/stats.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { Summary } from './harness/stats.js'

/** Each batch of joins adds this fraction of the ring, so a ring of N is built in about log(N) batches */
const GROWTH_PER_BATCH = 0.25

/** Rounds a batch of joins may take to become one consistent ring before the build is declared broken */
const MAX_ROUNDS_PER_BATCH = 100

/**
 * Finger-fixing rounds run on the complete ring before measuring, beyond log2(N). One round
 * refreshes one distinct finger per node and a node has about log2(N) + 1 distinct fingers, so
 * log2(N) + 2 rounds take every node once through its whole finger table.
 */
const EXTRA_FINGER_ROUNDS = 2

const SEED = 0x0c40d

interface RingSize {
  nodes: number
  lookups: number
}

const FULL: RingSize[] = [{ nodes: 1000, lookups: 4000 }, { nodes: 10_000, lookups: 4000 }]
const QUICK: RingSize[] = [{ nodes: 1000, lookups: 1000 }]

interface SimulatedRingResult {
  nodes: number
  bound: number
  build: { ms: number, batches: number, rounds: number, cpuMs: number }
  lookups: number
  wrongOwners: number
  hops: Summary
  messagesPerLookup: number
}

export const hopsSimulated: Benchmark = {
  name: 'hops-simulated',
  description: 'lookup hops and messages on simulated rings of 1,000 and 10,000 nodes',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const results: SimulatedRingResult[] = []
    for (const size of context.quick ? QUICK : FULL) {
      results.push(await measureRing(size, context))
    }
    return {
      tables: [{
        title: 'Lookup hops, simulated ring (iterative lookups from random nodes to random keys)',
        columns: ['N', 'lookups', 'mean hops', 'p50', 'p99', 'max', 'bound ½·log2N+1', 'msgs/lookup', 'wrong owner', 'build s', 'build rounds'],
        rows: results.map(r => [
          r.nodes, r.lookups, r.hops.mean, r.hops.p50, r.hops.p99, r.hops.max, r.bound,
          r.messagesPerLookup, r.wrongOwners, r.build.ms / 1000, r.build.rounds
        ]),
        notes: ['msgs = FIND_SUCCESSOR requests sent (each answered by one response)']
      }],
      results: { rings: results }
    }
  }
}

async function measureRing (size: RingSize, context: BenchmarkContext): Promise<SimulatedRingResult> {
  const random = seededRandom(SEED + size.nodes)
  const { sim, build } = await buildRing(size.nodes, random, context)

  const hops: number[] = []
  let wrongOwners = 0
  const messagesBefore = sim.messages
  const rings = sim.liveRings()
  for (let i = 0; i < size.lookups; i++) {
    const id = hashToRingId(new TextEncoder().encode(`key-${i}-${random()}`))
    const from = rings[Math.floor(random() * rings.length)]
    const result = await from.lookup(id)
    if (!sim.owns(result.successors[0], id)) {
      wrongOwners++
    }
    hops.push(result.hops)
  }
  const summary = summarize(hops)
  context.progress(`N=${size.nodes}: mean hops ${summary.mean.toFixed(2)}`)
  return {
    nodes: size.nodes,
    bound: 0.5 * Math.log2(size.nodes) + 1,
    build,
    lookups: size.lookups,
    wrongOwners,
    hops: summary,
    messagesPerLookup: (sim.messages - messagesBefore) / size.lookups
  }
}

/**
 * Grow a ring to `nodes` in batches, each a quarter of the ring so far, running maintenance rounds
 * after each batch until the ring is consistent again; then let every finger table fill.
 */
async function buildRing (nodes: number, random: () => number, context: BenchmarkContext): Promise<{ sim: Simulator, build: SimulatedRingResult['build'] }> {
  const sim = new Simulator()
  const started = performance.now()
  const cpuStart = process.cpuUsage()
  let batches = 0
  let rounds = 0
  while (sim.rings.size < nodes) {
    const batch = Math.min(nodes - sim.rings.size, Math.max(1, Math.ceil(sim.rings.size * GROWTH_PER_BATCH)))
    await sim.grow(batch, random)
    rounds += await sim.roundsUntil(() => sim.isConsistent(), MAX_ROUNDS_PER_BATCH)
    batches++
  }
  // the ring is consistent: only the fingers still need work, so these rounds skip stabilizing
  const fingerRounds = Math.ceil(Math.log2(nodes)) + EXTRA_FINGER_ROUNDS
  for (let i = 0; i < fingerRounds; i++) {
    await Promise.all(sim.liveRings().map(async ring => ring.fixFingers().catch(() => {})))
  }
  rounds += fingerRounds
  const cpu = process.cpuUsage(cpuStart)
  const ms = performance.now() - started
  context.progress(`N=${nodes}: built in ${(ms / 1000).toFixed(1)} s, ${batches} batches, ${rounds} rounds`)
  return { sim, build: { ms, batches, rounds, cpuMs: (cpu.user + cpu.system) / 1000 } }
}
