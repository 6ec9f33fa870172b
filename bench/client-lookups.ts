/**
 * How a client (a browser, in practice) should find a key's node: walking the ring itself
 * (iterative lookups: it dials every node on the way) or asking a ring node it is connected to
 * to run the lookup (LOOKUP, one request). A ring of nodes on the memory transport with a delay
 * on every link (a browser's distance to the ring). Two kinds of client session, each way:
 *
 * - short: a fresh client joins, looks one key up and puts to it, as a page does when it opens
 *   (its own mailbox, then a send); many such sessions, each with a new client;
 * - long: one client makes many lookups and puts of new keys, as a page left open does.
 *
 * Reported: the time of each operation, and how many ring nodes the client was connected to at the
 * end (for a browser each one a WebSocket, TLS and Noise handshake of its own).
 */
import { memory } from '@libp2p/memory'
import { createChordNode } from '../src/index.js'
import { waitForConsistentRing } from '../test/helpers/ring.js'
import { waitFor } from '../test/helpers/wait-for.js'
import { fingersAreSettled } from './harness/chord-ring.js'
import { summarize } from './harness/stats.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'
import type { Summary } from './harness/stats.js'
import type { ChordNode } from '../src/index.js'

interface Plan {
  ringSize: number
  /** ms added to every buffer a node sends: a round trip costs twice this */
  linkDelayMs: number
  /** lookups and puts of the long session */
  keys: number
  /** short sessions, each a fresh client */
  sessions: number
}

const FULL: Plan = { ringSize: 32, linkDelayMs: 20, keys: 40, sessions: 20 }
const QUICK: Plan = { ringSize: 8, linkDelayMs: 10, keys: 10, sessions: 4 }

/** Maintenance fast enough that the ring settles within seconds despite the delays */
const TIMERS = { stabilizeIntervalMs: 200, fixFingersIntervalMs: 100, checkPredecessorIntervalMs: 400, antiEntropyIntervalMs: 5000 }

const VALUE = new TextEncoder().encode('v')

/** ms for the ring's successors and fingers to settle */
const CONVERGE_TIMEOUT = 120_000

interface ClientResult {
  session: string
  mode: string
  lookupMs: Summary
  putMs: Summary
  connections: Summary
}

export const clientLookups: Benchmark = {
  name: 'client-lookups',
  description: 'a client walking the ring itself against one asking a ring node to run its lookups, on links with a delay',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    const run = `client-lookups-${Date.now()}`
    const nodes: ChordNode[] = []
    const listen = (i: number | string): string[] => [`/memory/${run}-${i}`]
    const transports = [memory({ latency: plan.linkDelayMs })]
    try {
      context.progress(`starting a ring of ${plan.ringSize} with ${plan.linkDelayMs} ms on every link`)
      nodes.push(await createChordNode({ listen: listen(0), timers: TIMERS, libp2p: { transports } }))
      const bootstrap = [nodes[0].getMultiaddrs()[0].toString()]
      for (let i = 1; i < plan.ringSize; i++) {
        nodes.push(await createChordNode({ listen: listen(i), bootstrap, timers: TIMERS, libp2p: { transports } }))
      }
      await waitForConsistentRing(nodes, CONVERGE_TIMEOUT)
      await waitFor(() => fingersAreSettled(nodes), 'settled finger tables', CONVERGE_TIMEOUT)

      const results: ClientResult[] = []
      const client = async (delegateLookups: boolean): Promise<ChordNode> => {
        const node = await createChordNode({ clientMode: true, delegateLookups, listen: [], bootstrap, timers: TIMERS, libp2p: { transports } })
        nodes.push(node)
        return node
      }
      const timed = async (work: () => Promise<unknown>): Promise<number> => {
        const started = performance.now()
        await work()
        return performance.now() - started
      }
      for (const delegateLookups of [false, true]) {
        const mode = delegateLookups ? 'asks a ring node (LOOKUP)' : 'walks the ring itself'
        const short = { lookups: [] as number[], puts: [] as number[], connections: [] as number[] }
        for (let i = 0; i < plan.sessions; i++) {
          const fresh = await client(delegateLookups)
          const key = `${run}-${mode}-short-${i}`
          short.lookups.push(await timed(async () => fresh.lookup(key)))
          short.puts.push(await timed(async () => fresh.put(key, VALUE)))
          short.connections.push(fresh.libp2p.getConnections().length)
          await fresh.stop()
        }
        results.push({ session: 'short', mode, lookupMs: summarize(short.lookups), putMs: summarize(short.puts), connections: summarize(short.connections) })

        const long = await client(delegateLookups)
        const lookups: number[] = []
        const puts: number[] = []
        for (let k = 0; k < plan.keys; k++) {
          const key = `${run}-${mode}-long-${k}`
          lookups.push(await timed(async () => long.lookup(key)))
          puts.push(await timed(async () => long.put(key, VALUE)))
        }
        results.push({ session: 'long', mode, lookupMs: summarize(lookups), putMs: summarize(puts), connections: summarize([long.libp2p.getConnections().length]) })
        context.progress(`${mode}: short-session lookup p50 ${summarize(short.lookups).p50.toFixed(1)} ms, long-session ${summarize(lookups).p50.toFixed(1)} ms`)
      }
      return {
        tables: [tableFor(results, plan)],
        results: { plan, results }
      }
    } finally {
      await Promise.allSettled(nodes.map(async node => node.stop()))
    }
  }
}

function tableFor (results: ClientResult[], plan: Plan): Table {
  const ms = (x: number): string => x.toFixed(1)
  return {
    title: `A client's lookups and puts: ring of ${plan.ringSize}, ${plan.linkDelayMs} ms per link each way (round trip ${2 * plan.linkDelayMs} ms)`,
    columns: ['session', 'client', 'lookup p50', 'lookup p90', 'put p50', 'put p90', 'ring nodes connected (p50)'],
    rows: results.map(r => [r.session, r.mode, ms(r.lookupMs.p50), ms(r.lookupMs.p90), ms(r.putMs.p50), ms(r.putMs.p90), r.connections.p50]),
    notes: [
      `short: ${plan.sessions} fresh clients, each joining, then one lookup and one put; long: one client, ${plan.keys} lookups and puts of new keys`,
      'times in ms; a put looks its key up again, then writes to every replica',
      'ring nodes connected: what the client had dialled by the end; for a browser each is a WebSocket, TLS and Noise handshake'
    ]
  }
}
