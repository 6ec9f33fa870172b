/**
 * What the library's wrappers of Noise and yamux save on a round trip: pairs of libp2p nodes on
 * 127.0.0.1 (TCP, Noise, yamux), each pair built with one more of the wrappers than the last, the
 * same echo timed on every pair, interleaved (harness/measure.ts):
 *
 * - as they come: `noise()` and `yamux()`;
 * - `wholeMessageWrites`: each Noise message in one socket write, not its length and its
 *   ciphertext in two;
 * - `quietLengthDecoding`: no `RangeError` (and stack trace) from Noise's length decoder after
 *   every message read;
 * - `fewerWindowUpdates`: a yamux stream grants its sender more window once half of it is used,
 *   not after every data frame (the last is the node builds' stack).
 *
 * Besides time and CPU, each series counts the socket writes of a round trip (both ends), by
 * wrapping `net.Socket`'s `write` while the bench runs; the wrapping is taken off before it returns.
 */
import net from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { fewerWindowUpdates, quietLengthDecoding, wholeMessageWrites } from '../src/index.js'
import { EchoClients, serveEcho } from './harness/echo.js'
import { timeInterleaved } from './harness/measure.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { SeriesSpec } from './harness/measure.js'
import type { Libp2p } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'

interface Plan {
  /** timed round trips per series */
  count: number
  blocks: number
}

const FULL: Plan = { count: 4000, blocks: 20 }
const QUICK: Plan = { count: 200, blocks: 4 }

/** Round trips before timing: the connection and stream open, the code compiled */
const WARMUP = 200

interface Stack {
  name: string
  encrypter: NonNullable<Libp2pOptions['connectionEncrypters']>[number]
  muxer: NonNullable<Libp2pOptions['streamMuxers']>[number]
}

const STACKS: Stack[] = [
  { name: 'Noise and yamux as they come', encrypter: noise(), muxer: yamux() },
  { name: '+ wholeMessageWrites', encrypter: wholeMessageWrites(noise()), muxer: yamux() },
  { name: '+ quietLengthDecoding', encrypter: quietLengthDecoding(wholeMessageWrites(noise())), muxer: yamux() },
  { name: '+ fewerWindowUpdates (the node builds)', encrypter: quietLengthDecoding(wholeMessageWrites(noise())), muxer: fewerWindowUpdates(yamux()) }
]

export const transportOverheads: Benchmark = {
  name: 'transport-overheads',
  description: 'what the library\'s Noise and yamux wrappers save on a 64-byte echo over TCP loopback, one wrapper added at a time',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    const nodes: Libp2p[] = []
    const writes = countSocketWrites()
    try {
      const specs: Array<SeriesSpec<void>> = []
      for (const stack of STACKS) {
        const [client, server] = await Promise.all([nodeWith(stack), nodeWith(stack)])
        nodes.push(client, server)
        await serveEcho(server)
        await client.dial(server.getMultiaddrs())
        const echo = new EchoClients()
        specs.push({
          name: stack.name,
          count: plan.count,
          warmup: WARMUP,
          operation: async index => writes.during(index < plan.count ? stack.name : undefined, async () => echo.roundTrip(client, server.peerId))
        })
      }
      context.progress(`${specs.length} series of ${plan.count} echoes, interleaved in ${plan.blocks} blocks`)
      const { series, idleCpuMsPerSecond } = await timeInterleaved(plan.blocks, specs)
      const [base] = series
      const rows = series.map(one => [
        one.name,
        one.latencyMs.p50.toFixed(3), one.latencyMs.p90.toFixed(3),
        one.cpuMsPerOperation.toFixed(3),
        one === base ? '' : percent(one.latencyMs.p50, base.latencyMs.p50),
        one === base ? '' : percent(one.cpuMsPerOperation, base.cpuMsPerOperation),
        (writes.of(one.name) / one.latencyMs.count).toFixed(2)
      ])
      return {
        tables: [{
          title: `64-byte echo on an open stream, two libp2p nodes on 127.0.0.1 per stack (ms; each series ${plan.count} round trips)`,
          columns: ['stack', 'p50', 'p90', 'CPU ms per round trip', 'p50 change', 'CPU change', 'socket writes per round trip'],
          rows,
          notes: [
            `CPU per round trip: the whole process (both ends), the background rate of ${idleCpuMsPerSecond.toFixed(0)} ms/s taken out`,
            'changes are against the stack as it comes, measured in the same blocks'
          ]
        }],
        results: { idleCpuMsPerSecond, series: series.map(one => ({ ...one, outcomes: undefined, socketWritesPerRoundTrip: writes.of(one.name) / one.latencyMs.count })) }
      }
    } finally {
      writes.remove()
      await Promise.all(nodes.map(async node => node.stop()))
    }
  }
}

async function nodeWith ({ encrypter, muxer }: Stack): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [encrypter],
    streamMuxers: [muxer]
  })
}

interface SocketWrites {
  /** run `operation`, its socket writes counted for `series` (none for a warm-up's) */
  during(series: string | undefined, operation: () => Promise<void>): Promise<void>
  of(series: string): number
  remove(): void
}

function countSocketWrites (): SocketWrites {
  const counts = new Map<string, number>()
  let current: string | undefined
  const write = net.Socket.prototype.write
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    if (current != null) {
      counts.set(current, (counts.get(current) ?? 0) + 1)
    }
    return (write as (...args: unknown[]) => boolean).apply(this, args)
  } as typeof write
  return {
    async during (series, operation) {
      current = series
      try {
        await operation()
      } finally {
        current = undefined
      }
    },
    of: series => counts.get(series) ?? 0,
    remove () {
      net.Socket.prototype.write = write
    }
  }
}

function percent (value: number, base: number): string {
  const change = (value / base - 1) * 100
  return `${change > 0 ? '+' : ''}${change.toFixed(0)}%`
}
