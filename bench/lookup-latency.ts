/**
 * Lookup latency on loopback: a ring of real chord nodes against networks of `@libp2p/kad-dht`
 * nodes built the same way, in the same process, measured interleaved (see harness/measure.ts).
 *
 * Chord: `node.lookup(key)` from random nodes, each answer checked against the sorted ring. Its
 * floors, all between nodes that are already connected, as a ladder from the transport up to one
 * step of a lookup: a 64-byte echo on an open stream (harness/echo.ts); a PING on a pooled stream
 * (the ring protocol's request machinery with nothing to do); a FIND_SUCCESSOR asking for one
 * successor, as `lookup()` does, and one asking for the whole list, both sent straight to the node
 * that owns the position; a FIND_OWNER to that node (a recursive lookup's last step: the owner
 * signs, the asker checks). A lookup of h hops cannot beat h × any of them.
 * Kad-dht: `getClosestPeers(key)`, the query every kad-dht operation starts with.
 */
import { EventTypes } from '@libp2p/kad-dht'
import { ringIdFromBytes, keyPosition } from '../src/chord/id.js'
import { expectedOwner } from '../test/helpers/ring.js'
import { seededRandom } from '../test/helpers/simulator.js'
import { internalsOf } from '../src/testing.js'
import { startConvergedRing } from './harness/chord-ring.js'
import { connectedPairs } from './harness/connected-pairs.js'
import { EchoClients, serveEcho } from './harness/echo.js'
import { idleCpuMsPerSecond } from './harness/cpu-time.js'
import { startKadNetwork } from './harness/kad-network.js'
import { timeInterleaved } from './harness/measure.js'
import { mean, summarize } from './harness/stats.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'
import type { Pair } from './harness/connected-pairs.js'
import type { KadNetwork, KadNode } from './harness/kad-network.js'
import type { SeriesSpec } from './harness/measure.js'
import type { Summary } from './harness/stats.js'
import type { ChordNode } from '../src/index.js'

interface Plan {
  chordNodes: number
  /** one phase per kad-dht network size; the chord ring is measured again in each */
  kadNodes: number[]
  /** per phase */
  chordLookups: number
  floorRoundTrips: number
  kadLookups: number
  blocks: number
  chordWarmup: number
  kadWarmup: number
  chordSettleMs: number
  kadSettleMs: number
}

const FULL: Plan = {
  chordNodes: 32,
  kadNodes: [20, 32],
  chordLookups: 500,
  floorRoundTrips: 500,
  kadLookups: 250,
  blocks: 20,
  chordWarmup: 300,
  kadWarmup: 20,
  chordSettleMs: 5000,
  kadSettleMs: 20_000
}

const QUICK: Plan = {
  chordNodes: 12,
  kadNodes: [10],
  chordLookups: 100,
  floorRoundTrips: 100,
  kadLookups: 20,
  blocks: 4,
  chordWarmup: 30,
  kadWarmup: 3,
  chordSettleMs: 1000,
  kadSettleMs: 3000
}

/** ms of quiet to learn what the chord ring alone burns in the background */
const IDLE_CPU_SAMPLE = 5000

/** Calls timed to price the core's answer to one FIND_SUCCESSOR, transport excluded */
const ANSWER_COST_CALLS = 20_000

const SEED = 0x1007

interface LookupSeries {
  nodes: number
  latencyMs: Summary
  /** requests sent per lookup: FIND_SUCCESSOR for chord, kad-dht's SEND_QUERY events */
  requestsPerLookup: number
  /** process CPU per lookup beyond the idle background */
  cpuMsPerLookup: number
}

interface RoundTrips {
  latencyMs: Summary
  cpuMsPerRoundTrip: number
  /** mean lookup round trips (hops and the owner's check) × the round trip's p50 */
  hopsTimesP50Ms: number
}

/** The floors, from the transport's up to a lookup step's */
const FLOORS = ['echo', 'ping', 'findSuccessorOne', 'findSuccessor', 'findOwner'] as const
type Floor = typeof FLOORS[number]

const FLOOR_NAMES: Record<Floor, string> = {
  echo: '64-byte echo on an open stream',
  ping: 'PING on a pooled stream',
  findSuccessorOne: 'FIND_SUCCESSOR for 1 successor',
  findSuccessor: 'FIND_SUCCESSOR for the whole successor list',
  findOwner: 'FIND_OWNER answered by the owner (signed), 1 successor'
}

/**
 * How a lookup found its owner: its own table named it (no round trip), its successor list named
 * it and the owner confirmed itself (one round trip, unsigned), or it asked the ring (a recursive
 * request through the nodes' tables, or a walk, and the owner's word)
 */
const ROUTES = ['ownTable', 'ownerAsked', 'throughTheRing'] as const
type Route = typeof ROUTES[number]

const ROUTE_NAMES: Record<Route, string> = {
  ownTable: 'its own table (hops 0, no check)',
  ownerAsked: 'its successor list, the owner asked directly (hops 0, 1 check)',
  throughTheRing: 'through the ring (hops > 0)'
}

interface RouteSeries {
  share: number
  latencyMs: Summary
  meanRoundTrips: number
  /** p50 ÷ (mean round trips × echo p50); NaN without round trips */
  overEchoFloor: number
}

interface LookupOutcome {
  hops: number
  checks: number
  owner: string
  key: string
  /** this lookup's own time */
  ms: number
}

function routeOf ({ hops, checks }: LookupOutcome): Route {
  return hops > 0 ? 'throughTheRing' : checks > 0 ? 'ownerAsked' : 'ownTable'
}

interface Phase {
  chord: LookupSeries & { meanHops: number, meanRoundTrips: number, wrongOwners: number, routes: Record<Route, RouteSeries> }
  floors: Record<Floor, RoundTrips>
  kad: LookupSeries & { routingTablePeers: Summary }
  idleCpuMsPerSecond: number
  ratios: {
    /** lookup p50 ÷ (mean round trips × echo p50): the design's target */
    chordMedianOverEchoFloor: number
    /** lookup p50 ÷ (mean round trips × FIND_SUCCESSOR p50) */
    chordMedianOverFindSuccessorFloor: number
    /** lookup p50 ÷ (mean round trips × FIND_OWNER p50): what a recursive lookup adds to its steps */
    chordMedianOverFindOwnerFloor: number
    kadMedianOverChordMedian: number
    kadCpuOverChordCpu: number
  }
}

export const lookupLatency: Benchmark = {
  name: 'lookup-latency',
  description: 'lookup latency of a real chord ring vs kad-dht getClosestPeers on 127.0.0.1',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    const ring = await startConvergedRing({ size: plan.chordNodes, settleMs: plan.chordSettleMs, progress: context.progress })
    try {
      await Promise.all(ring.nodes.map(async node => serveEcho(node.libp2p)))
      const chordIdleCpuMsPerSecond = await idleCpuMsPerSecond(IDLE_CPU_SAMPLE)
      const phases: Phase[] = []
      for (const size of plan.kadNodes) {
        const network = await startKadNetwork({ size, settleMs: plan.kadSettleMs, progress: context.progress })
        try {
          phases.push(await measurePhase(ring.nodes, network, plan, context))
        } finally {
          await network.stop()
        }
      }
      const answerCost = answerCostUs(ring.nodes[0])
      return {
        tables: tablesFor(phases, answerCost, chordIdleCpuMsPerSecond),
        results: { chordNodes: plan.chordNodes, chordConvergedMs: ring.convergedMs, chordIdleCpuMsPerSecond, answerCostUs: answerCost, phases }
      }
    } finally {
      await ring.stop()
    }
  }
}

async function measurePhase (chordNodes: ChordNode[], network: KadNetwork, plan: Plan, context: BenchmarkContext): Promise<Phase> {
  const kadNodes = network.nodes
  const random = seededRandom(SEED + kadNodes.length)
  const pairs = connectedPairs(chordNodes, random)
  // kad-dht last in each block: its lookups leave work behind them (late answers, closing
  // connections), which would land on the short blocks of the floors
  const floor = (name: Floor): SeriesSpec<void> => floorRoundTrips(name, pairs, plan)
  const { series: [chord, echo, ping, findSuccessorOne, findSuccessor, findOwner, kad], idleCpuMsPerSecond } = await timeInterleaved(plan.blocks, [
    chordLookups(chordNodes, plan, random),
    floor('echo'), floor('ping'), floor('findSuccessorOne'), floor('findSuccessor'), floor('findOwner'),
    kadLookups(kadNodes, plan, random)
  ])
  const floorSeries = { echo, ping, findSuccessorOne, findSuccessor, findOwner }

  const meanHops = mean(chord.outcomes.map(o => o.hops))
  // a lookup's sequential round trips: its route, then the check of the owner it was told
  const meanRoundTrips = mean(chord.outcomes.map(o => o.hops + o.checks))
  const wrongOwners = chord.outcomes.filter(o => o.owner !== expectedOwner(chordNodes, ringIdFromBytes(keyPosition(o.key))).peerId.toString()).length
  const floors = Object.fromEntries(FLOORS.map(name => [name, {
    latencyMs: floorSeries[name].latencyMs,
    cpuMsPerRoundTrip: floorSeries[name].cpuMsPerOperation,
    hopsTimesP50Ms: meanRoundTrips * floorSeries[name].latencyMs.p50
  }])) as Record<Floor, RoundTrips>
  const routes = Object.fromEntries(ROUTES.map(route => {
    const of = chord.outcomes.filter(o => routeOf(o) === route)
    const latencyMs = summarize(of.map(o => o.ms))
    const roundTrips = mean(of.map(o => o.hops + o.checks))
    return [route, { share: of.length / chord.outcomes.length, latencyMs, meanRoundTrips: roundTrips, overEchoFloor: latencyMs.p50 / (roundTrips * echo.latencyMs.p50) }]
  })) as Record<Route, RouteSeries>
  const kadRequests = mean(kad.outcomes)
  context.progress(`kad-dht N=${kadNodes.length}: getClosestPeers p50 ${kad.latencyMs.p50.toFixed(1)} ms; chord lookup p50 ${chord.latencyMs.p50.toFixed(2)} ms`)
  return {
    chord: {
      nodes: chordNodes.length,
      latencyMs: chord.latencyMs,
      meanHops,
      meanRoundTrips,
      wrongOwners,
      routes,
      // an iterative lookup sends one FIND_SUCCESSOR per hop (and one more per node that failed), then GET_NEIGHBOURS to check the owner
      requestsPerLookup: meanRoundTrips,
      cpuMsPerLookup: chord.cpuMsPerOperation
    },
    floors,
    kad: {
      nodes: kadNodes.length,
      latencyMs: kad.latencyMs,
      requestsPerLookup: kadRequests,
      cpuMsPerLookup: kad.cpuMsPerOperation,
      routingTablePeers: summarize(network.routingTableSizes)
    },
    idleCpuMsPerSecond,
    ratios: {
      chordMedianOverEchoFloor: chord.latencyMs.p50 / floors.echo.hopsTimesP50Ms,
      chordMedianOverFindSuccessorFloor: chord.latencyMs.p50 / floors.findSuccessor.hopsTimesP50Ms,
      chordMedianOverFindOwnerFloor: chord.latencyMs.p50 / floors.findOwner.hopsTimesP50Ms,
      kadMedianOverChordMedian: kad.latencyMs.p50 / chord.latencyMs.p50,
      kadCpuOverChordCpu: kad.cpuMsPerOperation / chord.cpuMsPerOperation
    }
  }
}

function chordLookups (nodes: ChordNode[], plan: Plan, random: () => number): SeriesSpec<LookupOutcome> {
  return {
    name: 'chord lookup',
    count: plan.chordLookups,
    warmup: plan.chordWarmup,
    operation: async index => {
      const key = `lookup-${random()}-${index}`
      const started = performance.now()
      const answer = await nodes[Math.floor(random() * nodes.length)].lookup(key)
      return { hops: answer.hops, checks: answer.checks, owner: answer.peerId.toString(), key, ms: performance.now() - started }
    }
  }
}

/**
 * One round trip of `floor` over each pair in turn. The ring requests ask the peer for its own
 * position, which it owns: it answers at once, one request and one response
 */
function floorRoundTrips (floor: Floor, pairs: Pair[], plan: Plan): SeriesSpec<void> {
  const echoClients = new EchoClients()
  const roundTrip = async ({ from, to }: Pair): Promise<void> => {
    const { rpc } = internalsOf(from).ring
    const self = internalsOf(to).ring.self
    switch (floor) {
      case 'echo': return echoClients.roundTrip(from.libp2p, to.peerId)
      case 'ping': return rpc.ping(self).then(() => {})
      case 'findSuccessorOne': return rpc.findSuccessor(self, self.id, { successorCount: 1 }).then(() => {})
      case 'findSuccessor': return rpc.findSuccessor(self, self.id).then(() => {})
      case 'findOwner': return rpc.findOwner(self, self.id, { successorCount: 1 }).then(() => {})
    }
  }
  return {
    name: FLOOR_NAMES[floor],
    count: plan.floorRoundTrips,
    // every pair once, so that each has its stream open
    warmup: pairs.length,
    operation: async index => { await roundTrip(pairs[index % pairs.length]) }
  }
}

function kadLookups (nodes: KadNode[], plan: Plan, random: () => number): SeriesSpec<number> {
  return {
    name: 'kad-dht getClosestPeers',
    count: plan.kadLookups,
    warmup: plan.kadWarmup,
    operation: async index => {
      const node = nodes[Math.floor(random() * nodes.length)]
      let requests = 0
      for await (const event of node.services.dht.getClosestPeers(keyPosition(`lookup-${random()}-${index}`))) {
        if (event.type === EventTypes.SEND_QUERY) {
          requests++
        }
      }
      return requests
    }
  }
}

/** µs the ring core spends answering one FIND_SUCCESSOR for a random position, transport excluded */
function answerCostUs (node: ChordNode): number {
  const ids = Array.from({ length: 1000 }, (_, i) => ringIdFromBytes(keyPosition(`answer-${i}`)))
  const started = performance.now()
  for (let i = 0; i < ANSWER_COST_CALLS; i++) {
    internalsOf(node).ring.onFindSuccessor(internalsOf(node).ring.self, ids[i % ids.length])
  }
  return (performance.now() - started) * 1000 / ANSWER_COST_CALLS
}

function roundTripCell ({ latencyMs, cpuMsPerRoundTrip }: RoundTrips): string {
  return `${[latencyMs.p50, latencyMs.p90, latencyMs.p99].map(ms => ms.toFixed(3)).join(' / ')} (${cpuMsPerRoundTrip.toFixed(3)})`
}

function tablesFor (phases: Phase[], answerCost: number, chordIdleCpuMsPerSecond: number): Table[] {
  const row = (name: string, r: LookupSeries, hops: number | string): Array<string | number> => [
    name, r.nodes, r.latencyMs.count, r.latencyMs.p50, r.latencyMs.p90, r.latencyMs.p99, hops, r.requestsPerLookup, r.cpuMsPerLookup
  ]
  return [
    {
      title: 'Lookup latency on 127.0.0.1, ms (one lookup at a time, from random nodes; chord and kad-dht interleaved)',
      columns: ['phase', 'DHT', 'N', 'lookups', 'p50', 'p90', 'p99', 'mean hops (+ owner checks)', 'requests/lookup', 'CPU ms/lookup'],
      rows: phases.flatMap((phase, i) => [
        [`${i + 1}`, ...row('chord lookup()', phase.chord, `${phase.chord.meanHops.toFixed(2)} (+ ${(phase.chord.meanRoundTrips - phase.chord.meanHops).toFixed(2)})`)],
        [`${i + 1}`, ...row('kad-dht getClosestPeers()', phase.kad, '-')]
      ]),
      notes: [
        ...phases.map((phase, i) => `phase ${i + 1}: chord answers differing from the sorted ring: ${phase.chord.wrongOwners} of ${phase.chord.latencyMs.count}; idle CPU of both networks ${phase.idleCpuMsPerSecond.toFixed(0)} ms/s`),
        ...phases.map((phase, i) => `phase ${i + 1}: kad-dht routing tables held ${phase.kad.routingTablePeers.min}–${phase.kad.routingTablePeers.max} peers (median ${phase.kad.routingTablePeers.p50}) of ${phase.kad.nodes - 1}`),
        `idle CPU of the chord ring alone: ${chordIdleCpuMsPerSecond.toFixed(0)} ms/s (production maintenance timers)`,
        'CPU ms/lookup: the whole process (every node of the network) per lookup, beyond the idle background rate'
      ]
    },
    {
      title: 'Chord against its floor and against kad-dht',
      columns: ['phase', 'measure', 'value', 'target'],
      rows: [
        ...phases.flatMap((phase, i) => [
          ...FLOORS.map(floor => [`${i + 1}`, `${FLOOR_NAMES[floor]}, p50 / p90 / p99 ms (CPU ms)`, roundTripCell(phase.floors[floor]), floor === 'echo' ? '0.14–0.30 p50' : '']),
          [`${i + 1}`, 'chord lookup p50 ÷ (mean round trips, hops and owner checks, × echo p50)', phase.ratios.chordMedianOverEchoFloor, '≤ 1.5'],
          [`${i + 1}`, 'chord lookup p50 ÷ (mean round trips × FIND_SUCCESSOR p50)', phase.ratios.chordMedianOverFindSuccessorFloor, ''],
          [`${i + 1}`, 'chord lookup p50 ÷ (mean round trips × FIND_OWNER p50)', phase.ratios.chordMedianOverFindOwnerFloor, ''],
          [`${i + 1}`, `kad-dht p50 (N=${phase.kad.nodes}) ÷ chord p50 (N=${phase.chord.nodes})`, phase.ratios.kadMedianOverChordMedian, '≥ 20'],
          [`${i + 1}`, `kad-dht CPU per lookup (N=${phase.kad.nodes}) ÷ chord's`, phase.ratios.kadCpuOverChordCpu, '']
        ]),
        ['', 'ring core CPU to answer one FIND_SUCCESSOR (no transport), µs', answerCost, '']
      ]
    },
    {
      title: 'Chord lookups by how they found the owner (ms, each lookup timed on its own)',
      columns: ['phase', 'owner named by', 'share', 'p50', 'p90', 'p99', 'mean round trips', 'p50 ÷ (round trips × echo p50)'],
      rows: phases.flatMap((phase, i) => ROUTES.map(route => {
        const r = phase.chord.routes[route]
        return [`${i + 1}`, ROUTE_NAMES[route], `${(100 * r.share).toFixed(0)}%`, r.latencyMs.p50, r.latencyMs.p90, r.latencyMs.p99, r.meanRoundTrips, Number.isFinite(r.overEchoFloor) ? r.overEchoFloor : '-']
      }))
    }
  ]
}
