/**
 * Lookup hops on large simulated rings: N = 1,000 and 10,000 ring cores in one process, talking
 * through the test simulator (no libp2p). Shows the O(log N) routing of the real core at sizes no
 * single machine can run as libp2p nodes, against the bound ½·log2 N + 1.
 */
import { hashToRingId } from '../src/chord/id.js'
import { buildSettledRing } from '../test/helpers/settled-ring.js'
import { seededRandom } from '../test/helpers/simulator.js'
import { summarize } from './harness/stats.js'
import type { RingBuild } from '../test/helpers/settled-ring.js'
import type { Simulator } from '../test/helpers/simulator.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { Summary } from './harness/stats.js'

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
  build: RingBuild
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

async function buildRing (nodes: number, random: () => number, context: BenchmarkContext): Promise<{ sim: Simulator, build: RingBuild }> {
  const { sim, build } = await buildSettledRing(nodes, random)
  context.progress(`N=${nodes}: built in ${(build.ms / 1000).toFixed(1)} s, ${build.batches} batches, ${build.rounds} rounds`)
  return { sim, build }
}
