/**
 * What writes and reads on the named replica set save between distant hosts, measured in pairs on
 * the links of the `wide-area` benchmark (harness/wide-area-links.ts, one-way delays of 10–150
 * ms): a put's STOREs, a get's FETCHes and a mailbox send's STOREs leave for the replica set the
 * route named while the named owner confirms itself (`ChordRing.lookup`'s `onNamed`), against
 * waiting for the check.
 *
 * Each trial runs one operation twice, from the same node on the same key, once each way (in
 * alternating order), and closes the connections each run opened before the next, so that both
 * runs start from the same connections. The saving is the difference within each pair, which the
 * spread between random nodes and keys (each new connection costs several round trips) does not
 * drown. The other way is switched in by dropping `onNamed` from the node's lookups.
 */
import { createIdentity } from '../src/index.js'
import { internalsOf } from '../src/testing.js'
import { seededRandom } from '../test/helpers/simulator.js'
import { summarize } from './harness/stats.js'
import { WideAreaNetwork } from './harness/wide-area-links.js'
import { startChordRing } from './wide-area.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'
import type { Summary } from './harness/stats.js'
import type { ChordRing, RingLookupOptions } from '../src/chord/ring.js'
import type { ChordNode, MailboxMessage } from '../src/index.js'
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

/** ms a message may take to reach its subscription before it counts as lost */
const DELIVERY_DEADLINE = 30_000

/** One operation measured both ways: ms and the connections each run opened */
interface PairedSeries {
  operation: string
  withMs: number[]
  withoutMs: number[]
  withConnections: number[]
  withoutConnections: number[]
}

/** What the ring does the other way, switched per run */
interface Switches {
  /** writes and reads wait for the owner to confirm itself */
  waitForCheck: boolean
}

export const wideAreaPaired: Benchmark = {
  name: 'wide-area-paired',
  description: 'wide-area links: what writes and reads on the named replica set save, measured in pairs',
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
      return { tables: [tableOf(plan, oneWayMs, series)], results: { plan, oneWayMs, series: series.map(summaryOf) } }
    } finally {
      await Promise.allSettled(nodes.map(async node => node.stop()))
    }
  }
}

/** Let `switches` turn the ring's early writes and reads off */
function switchable (ring: ChordRing, switches: Switches): void {
  const lookup = ring.lookup.bind(ring)
  ring.lookup = async (id, options: RingLookupOptions = {}) => lookup(id, switches.waitForCheck ? { ...options, onNamed: undefined } : options)
}

async function measure (nodes: ChordNode[], plan: Plan, switches: Switches, context: BenchmarkContext): Promise<PairedSeries[]> {
  const random = seededRandom(SEED * 11 + plan.size)
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]
  const series = new Map<string, PairedSeries>()
  const record = (operation: string, improved: boolean, ms: number, connections: number): void => {
    const entry = series.get(operation) ?? { operation, withMs: [], withoutMs: [], withConnections: [], withoutConnections: [] }
    series.set(operation, entry);
    (improved ? entry.withMs : entry.withoutMs).push(ms);
    (improved ? entry.withConnections : entry.withoutConnections).push(connections)
  }
  const mailbox = await subscribedRecipient(pick(nodes))
  try {
    for (let trial = 0; trial < plan.trials; trial++) {
      const from = pick(nodes)
      const ring = internalsOf(from).ring
      const key = `wide-area-paired-${trial}-${random()}`
      // both runs of a pair, the improved one first in every other trial
      const ways = trial % 2 === 0 ? [true, false] : [false, true]
      const operations: Array<[string, () => Promise<unknown>]> = [
        ['put', async () => from.put(key, new Uint8Array(256))],
        ['get', async () => from.get(key)],
        ['mailbox send → callback', async () => mailbox.deliver(from)]
      ]
      for (const [operation, run] of operations) {
        for (const improved of ways) {
          switches.waitForCheck = !improved
          // a remembered owner would skip the lookup both ways
          ring.owners.clear()
          const { ms, connections } = await fromFreshConnections(from, run)
          record(operation, improved, ms, connections)
        }
        switches.waitForCheck = false
      }
      context.progress(`trial ${trial + 1} of ${plan.trials}`)
    }
  } finally {
    await mailbox.close()
  }
  return [...series.values()]
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

/** A recipient subscribed at `at`: `deliver` sends it a message and resolves when its callback has it */
async function subscribedRecipient (at: ChordNode): Promise<{ deliver(from: ChordNode): Promise<void>, close(): Promise<void> }> {
  const sender = await createIdentity()
  const recipient = await createIdentity()
  // the callback can come before send() resolves (the mailbox's node pushes as soon as it stores)
  const received = new Set<string>()
  const waiting = new Map<string, () => void>()
  const subscription = await at.mailbox.subscribe(recipient, (message: MailboxMessage) => {
    received.add(message.id)
    waiting.get(message.id)?.()
  }, { receipts: false })
  return {
    deliver: async from => {
      const { id } = await from.mailbox.send(sender, recipient.address, new TextEncoder().encode('paired'))
      if (!received.has(id)) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => { reject(new Error(`message ${id} not delivered within ${DELIVERY_DEADLINE} ms`)) }, DELIVERY_DEADLINE)
          waiting.set(id, () => { clearTimeout(timer); resolve() })
        })
      }
      waiting.delete(id)
      received.delete(id)
    },
    close: async () => { await subscription.close() }
  }
}

function summaryOf (series: PairedSeries): Record<string, unknown> {
  return {
    operation: series.operation,
    with: summarize(series.withMs),
    without: summarize(series.withoutMs),
    saving: summarize(series.withMs.map((ms, i) => series.withoutMs[i] - ms)),
    newConnectionsWith: summarize(series.withConnections).mean,
    newConnectionsWithout: summarize(series.withoutConnections).mean
  }
}

function tableOf (plan: Plan, oneWayMs: Summary, series: PairedSeries[]): Table {
  const ms = (value: number): string => value.toFixed(0)
  return {
    title: `Paired runs on wide-area links, N = ${plan.size}, ${plan.trials} pairs each (median RTT ${2 * oneWayMs.p50} ms)`,
    columns: ['operation', 'with p50 ms', 'without p50 ms', 'saving p50 ms', 'saving mean ms', 'new connections with / without'],
    rows: series.map(entry => {
      const saving = summarize(entry.withMs.map((value, i) => entry.withoutMs[i] - value))
      return [
        entry.operation,
        ms(summarize(entry.withMs).p50),
        ms(summarize(entry.withoutMs).p50),
        ms(saving.p50),
        ms(saving.mean),
        `${summarize(entry.withConnections).mean.toFixed(2)} / ${summarize(entry.withoutConnections).mean.toFixed(2)}`
      ]
    }),
    notes: [
      'with: requests leave for the named replica set while the owner confirms it; without: they leave after the check',
      'each pair: one node, one key, the connections each run opened closed before the next run'
    ]
  }
}
