/**
 * Put and get latency on loopback: `node.put` / `node.get` on a ring of real chord nodes with
 * r = 3 replicas, against `put` / `get` on a network of `@libp2p/kad-dht` nodes built the same way,
 * interleaved in one process (see harness/measure.ts). Each get asks a different random node than
 * the put of the same key, and checks that the value came back.
 */
import { EventTypes } from '@libp2p/kad-dht'
import { equals } from 'uint8arrays/equals'
import { seededRandom } from '../test/helpers/simulator.js'
import { startConvergedRing } from './harness/chord-ring.js'
import { KAD_NAMESPACE, startKadNetwork } from './harness/kad-network.js'
import { timeInterleaved } from './harness/measure.js'
import { mean, summarize } from './harness/stats.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { KadNode } from './harness/kad-network.js'
import type { SeriesSpec } from './harness/measure.js'
import type { Summary } from './harness/stats.js'
import type { ChordNode } from '../src/index.js'

interface Plan {
  chordNodes: number
  kadNodes: number
  replicas: number
  chordOperations: number
  kadOperations: number
  blocks: number
  chordWarmup: number
  kadWarmup: number
  chordSettleMs: number
  kadSettleMs: number
}

const FULL: Plan = {
  chordNodes: 32,
  kadNodes: 32,
  replicas: 3,
  chordOperations: 300,
  kadOperations: 120,
  blocks: 20,
  chordWarmup: 50,
  kadWarmup: 10,
  chordSettleMs: 5000,
  kadSettleMs: 20_000
}

const QUICK: Plan = {
  chordNodes: 12,
  kadNodes: 10,
  replicas: 3,
  chordOperations: 40,
  kadOperations: 10,
  blocks: 2,
  chordWarmup: 10,
  kadWarmup: 2,
  chordSettleMs: 1000,
  kadSettleMs: 3000
}

/** Bytes per value: a short chat message once sealed */
const VALUE_BYTES = 256

const SEED = 0x9e7

interface OperationSeries {
  latencyMs: Summary
  cpuMsPerOperation: number
  /** kad-dht: requests sent (SEND_QUERY events) per operation */
  requestsPerOperation?: number
}

interface DhtResult {
  nodes: number
  put: OperationSeries
  get: OperationSeries
  /** gets that did not return the value put */
  misses: number
}

export const putGet: Benchmark = {
  name: 'put-get',
  description: 'put/get latency of a real chord ring (r = 3) vs kad-dht put/get on 127.0.0.1',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    const ring = await startConvergedRing({ size: plan.chordNodes, replicas: plan.replicas, settleMs: plan.chordSettleMs, progress: context.progress })
    try {
      const network = await startKadNetwork({ size: plan.kadNodes, settleMs: plan.kadSettleMs, progress: context.progress })
      try {
        const { chord, kad, idleCpuMsPerSecond } = await measure(ring.nodes, network.nodes, plan)
        const operation = (name: string, dht: DhtResult, series: OperationSeries): Array<string | number> => [
          name, dht.nodes, series.latencyMs.count, series.latencyMs.p50, series.latencyMs.p90, series.latencyMs.p99,
          series.requestsPerOperation ?? '-', series.cpuMsPerOperation
        ]
        return {
          tables: [{
            title: `Put and get latency on 127.0.0.1, ms (${VALUE_BYTES}-byte values, one operation at a time, chord and kad-dht interleaved)`,
            columns: ['operation', 'N', 'count', 'p50', 'p90', 'p99', 'requests/op', 'CPU ms/op'],
            rows: [
              operation(`chord put (r=${plan.replicas})`, chord, chord.put),
              operation('chord get', chord, chord.get),
              operation('kad-dht put', kad, kad.put),
              operation('kad-dht get', kad, kad.get),
              ['kad-dht put p50 ÷ chord put p50', '', '', kad.put.latencyMs.p50 / chord.put.latencyMs.p50, '', '', '', ''],
              ['kad-dht get p50 ÷ chord get p50', '', '', kad.get.latencyMs.p50 / chord.get.latencyMs.p50, '', '', '', '']
            ],
            notes: [
              `gets that missed the value: chord ${chord.misses} of ${chord.get.latencyMs.count}, kad-dht ${kad.misses} of ${kad.get.latencyMs.count}; idle CPU of both networks ${idleCpuMsPerSecond.toFixed(0)} ms/s`,
              'CPU ms/op: the whole process (every node of the network) per operation, beyond the idle background rate'
            ]
          }],
          results: { valueBytes: VALUE_BYTES, replicas: plan.replicas, chord, kad, kadRoutingTablePeers: summarize(network.routingTableSizes), idleCpuMsPerSecond }
        }
      } finally {
        await network.stop()
      }
    } finally {
      await ring.stop()
    }
  }
}

async function measure (chordNodes: ChordNode[], kadNodes: KadNode[], plan: Plan): Promise<{ chord: DhtResult, kad: DhtResult, idleCpuMsPerSecond: number }> {
  const random = seededRandom(SEED)
  const pick = <T>(nodes: T[], not?: T): T => {
    const node = nodes[Math.floor(random() * nodes.length)]
    return node === not ? nodes[(nodes.indexOf(node) + 1) % nodes.length] : node
  }
  const values = new Map<number, { value: Uint8Array, writer: unknown }>()
  const valueFor = (index: number, writer: unknown): Uint8Array => {
    const value = new Uint8Array(VALUE_BYTES).map(() => Math.floor(random() * 256))
    values.set(index, { value, writer })
    return value
  }
  const chordKey = (index: number): string => `put-get-${SEED}-${index}`
  const kadKey = (index: number): Uint8Array => new TextEncoder().encode(`/${KAD_NAMESPACE}/put-get-${SEED}-${index}`)
  // the two DHTs keep their written values apart: the same index is a different key on each
  const kadIndex = (index: number): number => -1 - index

  const chordPut: SeriesSpec<number> = {
    name: 'chord put',
    count: plan.chordOperations,
    warmup: plan.chordWarmup,
    operation: async index => {
      const node = pick(chordNodes)
      const { replicas } = await node.put(chordKey(index), valueFor(index, node))
      return replicas
    }
  }
  const chordGet: SeriesSpec<boolean> = {
    name: 'chord get',
    count: plan.chordOperations,
    warmup: plan.chordWarmup,
    operation: async index => {
      const written = values.get(index)
      const got = await pick(chordNodes, written?.writer as ChordNode).get(chordKey(index))
      return written != null && got.some(value => equals(value, written.value))
    }
  }
  const kadPut: SeriesSpec<number> = {
    name: 'kad-dht put',
    count: plan.kadOperations,
    warmup: plan.kadWarmup,
    operation: async index => {
      const node = pick(kadNodes)
      return countRequests(node.services.dht.put(kadKey(index), valueFor(kadIndex(index), node)))
    }
  }
  const kadGet: SeriesSpec<{ requests: number, found: boolean }> = {
    name: 'kad-dht get',
    count: plan.kadOperations,
    warmup: plan.kadWarmup,
    operation: async index => {
      const written = values.get(kadIndex(index))
      let requests = 0
      let found = false
      for await (const event of pick(kadNodes, written?.writer as KadNode).services.dht.get(kadKey(index))) {
        if (event.type === EventTypes.SEND_QUERY) {
          requests++
        } else if (event.type === EventTypes.VALUE) {
          found = written != null && equals(event.value, written.value)
        }
      }
      return { requests, found }
    }
  }

  const { series: [cPut, cGet, kPut, kGet], idleCpuMsPerSecond } = await timeInterleaved(plan.blocks, [chordPut, chordGet, kadPut, kadGet])
  const series = (s: Pick<OperationSeries, 'latencyMs' | 'cpuMsPerOperation'>, requestsPerOperation?: number): OperationSeries =>
    ({ latencyMs: s.latencyMs, cpuMsPerOperation: s.cpuMsPerOperation, requestsPerOperation })
  return {
    chord: {
      nodes: chordNodes.length,
      put: series(cPut),
      get: series(cGet),
      misses: cGet.outcomes.filter(found => !found).length
    },
    kad: {
      nodes: kadNodes.length,
      put: series(kPut, mean(kPut.outcomes)),
      get: series(kGet, mean(kGet.outcomes.map(o => o.requests))),
      misses: kGet.outcomes.filter(o => !o.found).length
    },
    idleCpuMsPerSecond
  }
}

async function countRequests (events: AsyncIterable<{ type: EventTypes }>): Promise<number> {
  let requests = 0
  for await (const event of events) {
    if (event.type === EventTypes.SEND_QUERY) {
      requests++
    }
  }
  return requests
}
