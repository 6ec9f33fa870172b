/**
 * What two per-message costs of the libp2p transport, both upstream, take from a request on
 * loopback, measured by switching each off in this process only and timing the same round trips
 * interleaved (harness/measure.ts):
 *
 * - yamux's window update: `@chainsafe/libp2p-yamux` answers every data frame a stream receives
 *   with a `WindowUpdate` frame of its own, which is encrypted, written, decrypted and parsed like
 *   any other. hashicorp/yamux (the reference), go- and rust-yamux send one only once half the
 *   window is used up; switched off, the stream follows that rule.
 * - the length decoder on an empty buffer: `@libp2p/utils`' `LengthPrefixedDecoder`, which Noise
 *   reads its messages with, asks its length decoder once more after each whole frame, on an
 *   empty buffer, and Noise's decoder answers with a new `RangeError`, a stack trace captured,
 *   that the loop catches: one for every Noise message. Switched off, the empty buffer gets a
 *   `RangeError` made once, with no stack to capture: a lower bound of what checking for an empty
 *   buffer before the call would save.
 *
 * The patches are on shared prototypes, so they are taken off again before the benchmark returns.
 * Nothing of them is in the library. The series "as shipped" run through the patches too (a
 * generator more per Noise message, a call more per window update), which makes them a little
 * slower than the unpatched modules and the changes a little larger than they would be.
 */
import { YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { seededRandom } from '../test/helpers/simulator.js'
import { internalsOf } from '../src/testing.js'
import { startConvergedRing } from './harness/chord-ring.js'
import { connectedPairs } from './harness/connected-pairs.js'
import { EchoClients, serveEcho } from './harness/echo.js'
import { timeInterleaved } from './harness/measure.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { Pair } from './harness/connected-pairs.js'
import type { Series, SeriesSpec } from './harness/measure.js'
import type { ChordNode } from '../src/index.js'
import type { Uint8ArrayList } from 'uint8arraylist'

interface Plan {
  nodes: number
  /** timed operations per series */
  count: number
  blocks: number
  settleMs: number
}

const FULL: Plan = { nodes: 32, count: 1000, blocks: 20, settleMs: 5000 }
const QUICK: Plan = { nodes: 8, count: 100, blocks: 4, settleMs: 1000 }

const SEED = 23

/** Which of the two costs are switched off */
interface Variant {
  name: string
  halfWindowUpdates: boolean
  emptyBufferGuard: boolean
}

const VARIANTS: Variant[] = [
  { name: 'as shipped', halfWindowUpdates: false, emptyBufferGuard: false },
  { name: 'yamux: window update at half the window', halfWindowUpdates: true, emptyBufferGuard: false },
  { name: 'length decoder: no new error for an empty buffer', halfWindowUpdates: false, emptyBufferGuard: true },
  { name: 'both', halfWindowUpdates: true, emptyBufferGuard: true }
]

type Operation = 'echo' | 'findSuccessor' | 'lookup'

const OPERATIONS: Record<Operation, string> = {
  echo: '64-byte echo on an open stream',
  findSuccessor: 'FIND_SUCCESSOR for one successor, to its owner',
  lookup: 'lookup(key) from a random node'
}

export const transportOverheads: Benchmark = {
  name: 'transport-overheads',
  description: 'what yamux\'s window update per frame and the length decoder\'s error per Noise message cost a request (upstream, switched off here only)',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    const ring = await startConvergedRing({ size: plan.nodes, settleMs: plan.settleMs, progress: context.progress })
    const patches = patchTransport()
    try {
      await Promise.all(ring.nodes.map(async node => serveEcho(node.libp2p)))
      const random = seededRandom(SEED)
      const pairs = connectedPairs(ring.nodes, random)
      const specs = VARIANTS.flatMap(variant => (Object.keys(OPERATIONS) as Operation[]).map(operation =>
        seriesOf(operation, variant, ring.nodes, pairs, plan, random, patches)))
      context.progress(`${specs.length} series of ${plan.count}, interleaved in ${plan.blocks} blocks`)
      const { series, idleCpuMsPerSecond } = await timeInterleaved(plan.blocks, specs)
      const windowUpdates = patches.windowUpdatesPer(series)
      const rows = series.map((one, i) => {
        const shipped = series[i % Object.keys(OPERATIONS).length]
        return [
          one.name,
          one.latencyMs.p50.toFixed(3), one.latencyMs.p90.toFixed(3),
          one.cpuMsPerOperation.toFixed(3),
          one === shipped ? '' : percent(one.latencyMs.p50, shipped.latencyMs.p50),
          one === shipped ? '' : percent(one.cpuMsPerOperation, shipped.cpuMsPerOperation),
          windowUpdates[i].toFixed(2)
        ]
      })
      return {
        tables: [{
          title: `upstream transport costs, ${plan.nodes} nodes on 127.0.0.1 (ms; each series ${plan.count} operations)`,
          columns: ['operation, variant', 'p50', 'p90', 'CPU ms per op', 'p50 change', 'CPU change', 'window updates per op'],
          rows,
          notes: [
            `CPU per operation: the whole process (both ends of every request), the background rate of ${idleCpuMsPerSecond.toFixed(0)} ms/s taken out`,
            'changes are against the same operation as shipped, measured in the same blocks'
          ]
        }],
        results: { nodes: plan.nodes, idleCpuMsPerSecond, series: series.map((one, i) => ({ ...one, outcomes: undefined, windowUpdatesPerOperation: windowUpdates[i] })) }
      }
    } finally {
      patches.remove()
      await ring.stop()
    }
  }
}

function seriesOf (operation: Operation, variant: Variant, nodes: ChordNode[], pairs: Pair[], plan: Plan, random: () => number, patches: TransportPatches): SeriesSpec<void> {
  const echoClients = new EchoClients()
  const run = async (index: number): Promise<void> => {
    const { from, to } = pairs[index % pairs.length]
    switch (operation) {
      case 'echo':
        return echoClients.roundTrip(from.libp2p, to.peerId)
      case 'findSuccessor': {
        const owner = internalsOf(to).ring.self
        await internalsOf(from).ring.rpc.findSuccessor(owner, owner.id, { successorCount: 1 })
        return
      }
      case 'lookup':
        await nodes[Math.floor(random() * nodes.length)].lookup(`overheads-${index}-${random()}`)
    }
  }
  const name = `${OPERATIONS[operation]}, ${variant.name}`
  return {
    name,
    count: plan.count,
    // every pair once, so that each has its streams open
    warmup: pairs.length,
    // the warm-up's stream openings send window updates with flags, which both variants send
    operation: async index => { await patches.during(variant, index < plan.count ? name : undefined, async () => run(index)) }
  }
}

interface TransportPatches {
  /**
   * run one operation with the costs `variant` switches off, counting its window updates for the
   * series `name` (none for an operation of the warm-up)
   */
  during(variant: Variant, name: string | undefined, operation: () => Promise<void>): Promise<void>
  /** window updates sent per timed operation of each series (the ring's own traffic meanwhile included) */
  windowUpdatesPer(series: Array<Series<void>>): number[]
  remove(): void
}

/** Yamux's stream state once established (`StreamState.Established`): updates carry no flags then */
const ESTABLISHED = 3

/** The frame length decoder's answer to an empty buffer, made once: no stack is captured per throw */
const NOTHING_YET = new RangeError('no length prefix yet')

/** The two patches, both off until `use` says otherwise, and a count of the window updates sent */
function patchTransport (): TransportPatches {
  /** what is switched off: nothing between operations (the ring's own traffic goes as shipped) */
  let current: Variant = VARIANTS[0]
  let seriesName: string | undefined
  const counts = new Map<string, { operations: number, updates: number }>()
  const countOf = (name: string): { operations: number, updates: number } => {
    const count = counts.get(name) ?? { operations: 0, updates: 0 }
    counts.set(name, count)
    return count
  }

  type YamuxInternals = { state: number, recvWindow: number, recvWindowCapacity: number, sendWindowUpdate(): void }
  const stream = YamuxStream.prototype as unknown as YamuxInternals
  const sendWindowUpdate = stream.sendWindowUpdate
  stream.sendWindowUpdate = function (this: YamuxInternals) {
    if (current.halfWindowUpdates && this.state === ESTABLISHED && this.recvWindowCapacity > this.recvWindow / 2) {
      return
    }
    if (seriesName != null) {
      countOf(seriesName).updates++
    }
    sendWindowUpdate.call(this)
  }

  type DecoderInternals = { lengthDecoder(buffer: Uint8ArrayList): number, decode(buffer: Uint8Array | Uint8ArrayList): Generator<Uint8ArrayList> }
  const decoder = LengthPrefixedDecoder.prototype as unknown as DecoderInternals
  const decode = decoder.decode
  decoder.decode = function * (this: DecoderInternals, buffer: Uint8Array | Uint8ArrayList) {
    if (!current.emptyBufferGuard) {
      return yield * decode.call(this, buffer)
    }
    const lengthDecoder = this.lengthDecoder
    this.lengthDecoder = (data: Uint8ArrayList) => {
      if (data.byteLength === 0) {
        throw NOTHING_YET
      }
      return lengthDecoder(data)
    }
    try {
      return yield * decode.call(this, buffer)
    } finally {
      this.lengthDecoder = lengthDecoder
    }
  }

  return {
    async during (variant, name, operation) {
      current = variant
      seriesName = name
      if (name != null) {
        countOf(name).operations++
      }
      try {
        await operation()
      } finally {
        current = VARIANTS[0]
        seriesName = undefined
      }
    },
    windowUpdatesPer (series) {
      return series.map(({ name }) => countOf(name).updates / countOf(name).operations)
    },
    remove () {
      stream.sendWindowUpdate = sendWindowUpdate
      decoder.decode = decode
    }
  }
}

function percent (value: number, base: number): string {
  const change = (value / base - 1) * 100
  return `${change > 0 ? '+' : ''}${change.toFixed(0)}%`
}
