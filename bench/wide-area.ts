/**
 * The ring between hosts far apart: chord and `@libp2p/kad-dht` on identical wide-area links
 * (harness/wide-area-links.ts: one-way delays of 10–150 ms between each pair of nodes, from
 * seeded places on a plane), in one process. For each network size, a chord ring is built on the
 * links and measured, stopped, and a kad-dht network is built on the same links (node i in the
 * same place) and measured:
 *
 * - lookup: chord `lookup()` against kad-dht `getClosestPeers()` (the query every kad-dht
 *   operation starts with) and `findPeer()` (to the first answer naming the peer);
 * - put and get of a 256-byte value (chord r = 3; kad-dht to its 20 closest);
 * - chord only: mailbox `send()` to the recipient's subscription callback, from a node that knows
 *   no owner (each send from a random node), and in conversations: one node sends several messages
 *   in a row to one recipient, the first paying the lookup and the next ones finding the owner in
 *   the node's owner cache.
 *
 * Each operation runs alone, from a random node (seeded), so its time is the path's round trips.
 * Lookups take turns between three kinds on the same ring: verified as the library does it (a
 * recursive request first, answered by the owner's signed statement), verified walking the ring
 * (the asker asks each node, then the named owner, itself), and the route alone, so that what
 * each costs on these links shows; each counts the connections it had to open.
 * Chord's answers are checked against the sorted ring; the Chord paper's Internet prototype
 * (180 nodes, median lookup 180–285 ms) is the published point of comparison.
 */
import { EventTypes } from '@libp2p/kad-dht'
import { equals } from 'uint8arrays/equals'
import { keyPosition, ringIdFromBytes } from '../src/chord/id.js'
import { createChordNode, createIdentity } from '../src/index.js'
import { internalsOf } from '../src/testing.js'
import { expectedOwner, waitForConsistentRing } from '../test/helpers/ring.js'
import { seededRandom } from '../test/helpers/simulator.js'
import { waitFor } from '../test/helpers/wait-for.js'
import { fingersAreSettled } from './harness/chord-ring.js'
import { KAD_NAMESPACE, startKadNetwork } from './harness/kad-network.js'
import { summarize } from './harness/stats.js'
import { WideAreaNetwork } from './harness/wide-area-links.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'
import type { KadNode } from './harness/kad-network.js'
import type { Summary } from './harness/stats.js'
import type { ChordNode, Identity, MailboxMessage, Subscription } from '../src/index.js'
import type { Connection } from '@libp2p/interface'

export interface WideAreaPlan {
  /** network sizes, each measured for chord and for kad-dht */
  sizes: number[]
  /** chord lookups per size, of each kind (verified, verified walking the ring, the route alone) */
  lookups: number
  /** kad-dht getClosestPeers per size: each takes seconds over these links, so fewer */
  kadLookups: number
  /** kad-dht findPeer, chord puts and gets, kad-dht puts and gets, per size */
  operations: number
  /** mailbox messages per size */
  messages: number
  /** conversations per size, each CONVERSATION_LENGTH messages from one node to one recipient */
  conversations: number
}

/** `npm run bench -- --only wide-area`: both sizes, a few minutes */
export const DEFAULT_PLAN: WideAreaPlan = { sizes: [64, 128], lookups: 40, kadLookups: 10, operations: 10, messages: 20, conversations: 8 }

/** `--quick`: a smoke run */
export const QUICK_PLAN: WideAreaPlan = { sizes: [32], lookups: 10, kadLookups: 4, operations: 4, messages: 6, conversations: 2 }

const SEED = 0x9a11

/** Recipients subscribed at random nodes, each message to one of them */
const RECIPIENTS = 4

/** Messages in one conversation: the first, then the ones the owner cache serves */
const CONVERSATION_LENGTH = 5

/** The operations chord is measured with first, untimed: connections open, code compiled */
const WARMUP = 5

/** The same for kad-dht, fewer: each of its lookups takes seconds over these links */
const KAD_WARMUP = 1

/** ms any one operation may take before it counts as failed */
const OPERATION_DEADLINE = 30_000

/** ms for a ring's successors and fingers to settle once every node has joined */
const CONVERGE_TIMEOUT = 240_000

/** ms a node may take to join: a join is a few round trips of up to 300 ms each, on a machine that may be busy */
const JOIN_TIMEOUT = 120_000

/**
 * ms one join attempt through one entry may take: a dial, a lookup and a stabilize round, where
 * each new connection costs about five round trips of up to 300 ms (TCP, multistream-select,
 * Noise, Yamux, the stream) and the machine is shared; the library's 5 s is meant for one
 * connection at Internet distances, not a burst of them on a busy CPU
 */
const JOIN_ATTEMPT_TIMEOUT = 20_000

/** ms between checks of the finger tables (each check walks every finger of every node) */
const FINGER_CHECK_INTERVAL = 1000

/** Nodes that join at once while a ring is built: joins over slow links take a few round trips each */
const JOIN_BATCH = 4

/** Bootstrap addresses each joining node is given */
const JOIN_ENTRIES = 3

/** ms the kad-dht network is left alone once its routing tables stopped changing */
const KAD_SETTLE = 10_000

/** Bytes per put value */
const VALUE_BYTES = 256

const MESSAGE = new TextEncoder().encode('see you at the station at eight, by the clock')

interface Timed<T = void> {
  ms: number
  ok: boolean
  outcome?: T
}

interface LookupSeries {
  lookupMs: Summary
  hops: Summary
  /** the verification's round trips (0 for the route alone) */
  checks: Summary
  /** connections the asking node opened during a lookup */
  newConnections: Summary
  /** lookups the owner answered recursively (the rest walked the ring) */
  recursive: number
  wrongOwners: number
  failedLookups: number
}

interface ChordResults extends LookupSeries {
  nodes: number
  convergedMs: number
  /** verified lookups that walk the ring themselves (no recursive request), run in turn with the others */
  iterative: LookupSeries
  /** lookups without verification, run in turn with the verified ones */
  routeOnly: LookupSeries
  putMs: Summary
  failedPuts: number
  getMs: Summary
  missedGets: number
  sendToCallbackMs: Summary
  /** conversations: each one's first message (the sender looks the mailbox up) */
  conversationFirstMs: Summary
  /** conversations: the messages after the first (the sender remembers the mailbox's owner) */
  conversationNextMs: Summary
  lostMessages: number
}

interface KadResults {
  nodes: number
  formedMs: number
  /** why the network could not be measured, when it could not */
  notFormed?: string
  getClosestPeersMs: Summary
  getClosestPeersRequests: Summary
  failedLookups: number
  findPeerMs: Summary
  findPeerRequests: Summary
  failedFindPeers: number
  putMs: Summary
  getMs: Summary
  failedPuts: number
  missedGets: number
}

interface SizeResults {
  nodes: number
  /** the links' one-way delays over every pair of nodes, ms */
  oneWayMs: Summary
  /** twice the median one-way delay */
  medianRttMs: number
  chord: ChordResults
  kad: KadResults
  targets: {
    /** chord lookup p50 ÷ kad-dht getClosestPeers p50: below 1 meets the target */
    lookupOverKad: number
    /** chord lookup p50 ÷ (mean round trips (hops + checks) × median RTT): at most 1.2 meets the target */
    lookupOverHopsTimesRtt: number
    /** the same for verified lookups that walk the ring */
    iterativeOverHopsTimesRtt: number
    /** the same for the route alone (no verification) */
    routeOverHopsTimesRtt: number
    /** 3 × the median one-way delay + 20 ms */
    sendToCallbackBudgetMs: number
  }
}

export const wideArea: Benchmark = {
  name: 'wide-area',
  description: 'chord and kad-dht side by side on links with 10–150 ms one-way delays: lookup, put/get, mailbox delivery',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = planOf(context)
    const results: SizeResults[] = []
    for (const size of plan.sizes) {
      const network = new WideAreaNetwork(`wide-area-${Date.now()}`, size, seededRandom(SEED + size))
      const oneWayMs = summarize(network.pairDelays())
      context.progress(`N=${size}: one-way delays p50 ${oneWayMs.p50} ms (${oneWayMs.min}–${oneWayMs.max})`)
      const chord = await measureChord(network, plan, context)
      const kad = await measureKad(network, plan, context)
      const medianRttMs = 2 * oneWayMs.p50
      results.push({
        nodes: size,
        oneWayMs,
        medianRttMs,
        chord,
        kad,
        targets: {
          lookupOverKad: chord.lookupMs.p50 / kad.getClosestPeersMs.p50,
          lookupOverHopsTimesRtt: chord.lookupMs.p50 / ((chord.hops.mean + chord.checks.mean) * medianRttMs),
          iterativeOverHopsTimesRtt: chord.iterative.lookupMs.p50 / ((chord.iterative.hops.mean + chord.iterative.checks.mean) * medianRttMs),
          routeOverHopsTimesRtt: chord.routeOnly.lookupMs.p50 / (chord.routeOnly.hops.mean * medianRttMs),
          sendToCallbackBudgetMs: 3 * oneWayMs.p50 + 20
        }
      })
    }
    return { tables: tablesFor(results), results: { plan, sizes: results } }
  }
}

function planOf (context: BenchmarkContext): WideAreaPlan {
  const base = context.quick ? QUICK_PLAN : DEFAULT_PLAN
  const samples = context.samples
  return {
    sizes: context.sizes ?? base.sizes,
    lookups: samples ?? base.lookups,
    kadLookups: samples == null ? base.kadLookups : Math.max(1, Math.round(samples / 4)),
    operations: samples == null ? base.operations : Math.max(1, Math.round(samples / 2)),
    messages: samples ?? base.messages,
    conversations: samples == null ? base.conversations : Math.max(2, Math.round(samples / 2))
  }
}

async function measureChord (network: WideAreaNetwork, plan: WideAreaPlan, context: BenchmarkContext): Promise<ChordResults> {
  const size = network.size
  const random = seededRandom(SEED * 3 + size)
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]
  const started = Date.now()
  const nodes = await startChordRing(network, context)
  const subscriptions: Subscription[] = []
  try {
    const convergedMs = Date.now() - started

    const samples: Record<LookupKind, LookupSample[]> = { recursive: [], iterative: [], route: [] }
    for (let i = 0; i < WARMUP + LOOKUP_KINDS.length * plan.lookups; i++) {
      const kind = LOOKUP_KINDS[i % LOOKUP_KINDS.length]
      const sample = await measureLookup(pick(nodes), nodes, `wide-area-lookup-${i}-${random()}`, kind)
      if (i >= WARMUP) {
        samples[kind].push(sample)
      }
    }
    const lookups = lookupSeries(samples.recursive)
    const iterative = lookupSeries(samples.iterative)
    const routes = lookupSeries(samples.route)
    context.progress(`chord N=${size}: lookup p50 ${lookups.lookupMs.p50.toFixed(0)} ms (${lookups.hops.mean.toFixed(2)} hops + ${lookups.checks.mean.toFixed(2)} checks, ${lookups.recursive} recursive), walking the ring ${iterative.lookupMs.p50.toFixed(0)} ms (${iterative.hops.mean.toFixed(2)} hops + ${iterative.checks.mean.toFixed(2)} checks), route alone p50 ${routes.lookupMs.p50.toFixed(0)} ms (${routes.hops.mean.toFixed(2)} hops)`)

    const value = new Uint8Array(VALUE_BYTES).fill(1)
    const puts: Timed[] = []
    const gets: Array<Timed<boolean>> = []
    for (let i = 0; i < plan.operations; i++) {
      const key = `wide-area-put-${i}-${random()}`
      puts.push(await timed(async signal => { await pick(nodes).put(key, value, { signal }) }))
      gets.push(await timed(async signal => (await pick(nodes).get(key, { signal })).some(v => equals(v, value))))
    }
    context.progress(`chord N=${size}: put p50 ${summarize(puts.map(p => p.ms)).p50.toFixed(0)} ms, get p50 ${summarize(gets.map(g => g.ms)).p50.toFixed(0)} ms`)

    const delivery = await deliverMessages(nodes, plan, pick, subscriptions)
    context.progress(`chord N=${size}: send → callback p50 ${delivery.latency.p50.toFixed(0)} ms; conversations: first p50 ${delivery.first.p50.toFixed(0)} ms, next p50 ${delivery.next.p50.toFixed(0)} ms`)

    return {
      nodes: size,
      convergedMs,
      ...lookups,
      iterative,
      routeOnly: routes,
      putMs: summarize(puts.filter(p => p.ok).map(p => p.ms)),
      failedPuts: puts.length - puts.filter(p => p.ok).length,
      getMs: summarize(gets.filter(g => g.ok).map(g => g.ms)),
      missedGets: gets.filter(g => g.outcome !== true).length,
      sendToCallbackMs: delivery.latency,
      conversationFirstMs: delivery.first,
      conversationNextMs: delivery.next,
      lostMessages: delivery.lost
    }
  } finally {
    await Promise.allSettled(subscriptions.map(async s => s.close()))
    await Promise.allSettled(nodes.map(async node => node.stop()))
  }
}

type LookupSample = Timed<{ hops: number, checks: number, newConnections: number, wrong: boolean, recursive: boolean }>

/**
 * What a lookup is measured as: verified as the library does it (recursive first), verified
 * walking the ring itself, or the route alone
 */
type LookupKind = 'recursive' | 'iterative' | 'route'

const LOOKUP_KINDS: LookupKind[] = ['recursive', 'iterative', 'route']

/**
 * One lookup from `node`, of one kind. The kind is the ring's own settings, switched for this
 * lookup so that every kind runs on one ring under the same load.
 */
async function measureLookup (node: ChordNode, nodes: ChordNode[], key: string, kind: LookupKind): Promise<LookupSample> {
  const ring = internalsOf(node).ring as unknown as { verifyLookups: boolean, recursiveLookups: boolean }
  ring.verifyLookups = kind !== 'route'
  ring.recursiveLookups = kind === 'recursive'
  let newConnections = 0
  const onOpen = (event: CustomEvent<Connection>): void => {
    if (event.detail.direction === 'outbound') {
      newConnections++
    }
  }
  node.libp2p.addEventListener('connection:open', onOpen)
  try {
    return await timed(async signal => {
      const id = ringIdFromBytes(keyPosition(key))
      const { successors, hops, checks, recursive } = await internalsOf(node).ring.lookup(id, { signal, successorCount: 1 })
      return { hops, checks: checks ?? 0, newConnections, wrong: successors[0].peer !== expectedOwner(nodes, id).peerId.toString(), recursive: recursive === true }
    })
  } finally {
    node.libp2p.removeEventListener('connection:open', onOpen)
    ring.verifyLookups = true
    ring.recursiveLookups = true
  }
}

function lookupSeries (samples: LookupSample[]): LookupSeries {
  const answered = samples.filter(l => l.ok)
  const of = (measure: (outcome: NonNullable<LookupSample['outcome']>) => number): Summary => summarize(answered.map(l => l.outcome == null ? 0 : measure(l.outcome)))
  return {
    lookupMs: summarize(answered.map(l => l.ms)),
    hops: of(o => o.hops),
    checks: of(o => o.checks),
    newConnections: of(o => o.newConnections),
    recursive: answered.filter(l => l.outcome?.recursive === true).length,
    wrongOwners: answered.filter(l => l.outcome?.wrong === true).length,
    failedLookups: samples.length - answered.length
  }
}

/** Start `network.size` chord nodes on the links, a batch at a time, and wait for exact fingers */
export async function startChordRing (network: WideAreaNetwork, context: BenchmarkContext): Promise<ChordNode[]> {
  const random = seededRandom(SEED * 5 + network.size)
  const nodes: ChordNode[] = []
  const create = async (index: number, bootstrap: string[]): Promise<ChordNode> => createChordNode({
    listen: [network.addressOf('chord', index)],
    bootstrap,
    joinTimeoutMs: JOIN_TIMEOUT,
    joinAttemptTimeoutMs: JOIN_ATTEMPT_TIMEOUT,
    libp2p: { transports: [network.transport(index)] }
  })
  try {
    nodes.push(await create(0, []))
    while (nodes.length < network.size) {
      const batch = Array.from({ length: Math.min(JOIN_BATCH, network.size - nodes.length) }, (_, k) => nodes.length + k)
      // each node is given a few entries, tried in turn: one join in a batch can stall on a busy machine
      const entries = batch.map(() => Array.from({ length: JOIN_ENTRIES }, () => nodes[Math.floor(random() * nodes.length)].getMultiaddrs()[0].toString()))
      nodes.push(...await Promise.all(batch.map(async (index, k) => create(index, entries[k]))))
    }
    context.progress(`chord N=${network.size}: every node joined; waiting for the ring to settle`)
    await waitForConsistentRing(nodes, CONVERGE_TIMEOUT)
    let lastCheck = 0
    await waitFor(() => {
      if (Date.now() - lastCheck < FINGER_CHECK_INTERVAL) {
        return false
      }
      lastCheck = Date.now()
      return fingersAreSettled(nodes)
    }, 'settled finger tables', CONVERGE_TIMEOUT)
    return nodes
  } catch (err) {
    await Promise.allSettled(nodes.map(async node => node.stop()))
    throw err
  }
}

/**
 * Mailbox messages, each timed from `send()` to the recipient's callback: `plan.messages` from
 * random nodes that know no owner, then `plan.conversations` runs of CONVERSATION_LENGTH from one
 * node to one recipient (the node forgets the owners it knew before each run, as a node starting a
 * conversation would not know them)
 */
async function deliverMessages (
  nodes: ChordNode[], plan: WideAreaPlan, pick: <T>(items: T[]) => T, subscriptions: Subscription[]
): Promise<{ latency: Summary, first: Summary, next: Summary, lost: number }> {
  const sender = await createIdentity()
  const recipients: Identity[] = []
  // the callback can come before send() resolves (the mailbox's node pushes as soon as it stores)
  const deliveredAt = new Map<string, number>()
  const waiting = new Map<string, (at: number) => void>()
  const onMessage = (message: MailboxMessage): void => {
    const at = performance.now()
    const waiter = waiting.get(message.id)
    if (waiter == null) {
      deliveredAt.set(message.id, at)
    } else {
      waiter(at)
    }
  }
  for (let i = 0; i < RECIPIENTS; i++) {
    const recipient = await createIdentity()
    recipients.push(recipient)
    subscriptions.push(await pick(nodes).mailbox.subscribe(recipient, onMessage, { receipts: false }))
  }
  let lost = 0
  /** ms from send to callback; NaN (and counted lost) when the callback never came */
  const deliver = async (from: ChordNode, to: Identity): Promise<number> => {
    const started = performance.now()
    const { id } = await from.mailbox.send(sender, to.address, MESSAGE)
    const at = deliveredAt.get(id) ?? await new Promise<number>(resolve => {
      const timer = setTimeout(() => { resolve(Number.NaN) }, OPERATION_DEADLINE)
      waiting.set(id, at => { clearTimeout(timer); resolve(at) })
    })
    waiting.delete(id)
    deliveredAt.delete(id)
    lost += Number.isNaN(at) ? 1 : 0
    return at - started
  }
  const forgetOwners = (node: ChordNode): void => { internalsOf(node).ring.owners.clear() }
  const delivered = (samples: number[]): Summary => summarize(samples.filter(ms => !Number.isNaN(ms)))

  const single: number[] = []
  for (let i = 0; i < WARMUP + plan.messages; i++) {
    const from = pick(nodes)
    forgetOwners(from)
    const ms = await deliver(from, pick(recipients))
    if (i >= WARMUP) {
      single.push(ms)
    }
  }
  const first: number[] = []
  const next: number[] = []
  for (let c = 0; c < plan.conversations; c++) {
    const from = pick(nodes)
    const to = pick(recipients)
    forgetOwners(from)
    for (let k = 0; k < CONVERSATION_LENGTH; k++) {
      (k === 0 ? first : next).push(await deliver(from, to))
    }
  }
  return { latency: delivered(single), first: delivered(first), next: delivered(next), lost }
}

async function measureKad (network: WideAreaNetwork, plan: WideAreaPlan, context: BenchmarkContext): Promise<KadResults> {
  const size = network.size
  const random = seededRandom(SEED * 7 + size)
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]
  let kad
  try {
    kad = await startKadNetwork({
      size,
      settleMs: KAD_SETTLE,
      progress: context.progress,
      links: {
        listen: index => [network.addressOf('kad', index)],
        transports: index => [network.transport(index)]
      }
    })
  } catch (err: any) {
    // chord's numbers of this size are still worth their table
    context.progress(`kad-dht N=${size}: not measured: ${err.message}`)
    const none = summarize([])
    return {
      nodes: size,
      formedMs: Number.NaN,
      notFormed: String(err.message),
      getClosestPeersMs: none,
      getClosestPeersRequests: none,
      failedLookups: 0,
      findPeerMs: none,
      findPeerRequests: none,
      failedFindPeers: 0,
      putMs: none,
      getMs: none,
      failedPuts: 0,
      missedGets: 0
    }
  }
  try {
    const lookups: Array<Timed<number>> = []
    for (let i = 0; i < KAD_WARMUP + plan.kadLookups; i++) {
      const key = keyPosition(`wide-area-lookup-${i}-${random()}`)
      const node = pick(kad.nodes)
      const result = await timed(async signal => countRequests(node.services.dht.getClosestPeers(key, { signal })))
      if (i >= KAD_WARMUP) {
        lookups.push(result)
      }
    }
    context.progress(`kad-dht N=${size}: getClosestPeers p50 ${summarize(lookups.map(l => l.ms)).p50.toFixed(0)} ms`)

    const findPeers: Array<Timed<number>> = []
    for (let i = 0; i < plan.operations; i++) {
      const from = pick(kad.nodes)
      const target = pick(kad.nodes.filter(node => node !== from))
      findPeers.push(await timed(async signal => findPeer(from, target, signal)))
    }

    const value = new Uint8Array(VALUE_BYTES).fill(1)
    const puts: Array<Timed<number>> = []
    const gets: Array<Timed<boolean>> = []
    for (let i = 0; i < plan.operations; i++) {
      const key = new TextEncoder().encode(`/${KAD_NAMESPACE}/wide-area-${i}-${random()}`)
      puts.push(await timed(async signal => countRequests(pick(kad.nodes).services.dht.put(key, value, { signal }))))
      gets.push(await timed(async signal => kadGet(pick(kad.nodes), key, value, signal)))
    }
    context.progress(`kad-dht N=${size}: findPeer p50 ${summarize(findPeers.map(p => p.ms)).p50.toFixed(0)} ms, put p50 ${summarize(puts.map(p => p.ms)).p50.toFixed(0)} ms, get p50 ${summarize(gets.map(g => g.ms)).p50.toFixed(0)} ms`)

    const ok = <T>(series: Array<Timed<T>>): Array<Timed<T>> => series.filter(s => s.ok)
    return {
      nodes: size,
      formedMs: kad.formedMs,
      getClosestPeersMs: summarize(ok(lookups).map(l => l.ms)),
      getClosestPeersRequests: summarize(ok(lookups).map(l => l.outcome ?? 0)),
      failedLookups: lookups.length - ok(lookups).length,
      findPeerMs: summarize(ok(findPeers).map(p => p.ms)),
      findPeerRequests: summarize(ok(findPeers).map(p => p.outcome ?? 0)),
      failedFindPeers: findPeers.length - ok(findPeers).length,
      putMs: summarize(ok(puts).map(p => p.ms)),
      getMs: summarize(ok(gets).map(g => g.ms)),
      failedPuts: puts.length - ok(puts).length,
      missedGets: gets.filter(g => g.outcome !== true).length
    }
  } finally {
    await kad.stop()
  }
}

/** Requests a kad-dht query sent before it ended */
async function countRequests (events: AsyncIterable<{ type: EventTypes }>): Promise<number> {
  let requests = 0
  for await (const event of events) {
    if (event.type === EventTypes.SEND_QUERY) {
      requests++
    }
  }
  return requests
}

/** Requests until the first answer naming `target` (what libp2p's peerRouting.findPeer waits for) */
async function findPeer (from: KadNode, target: KadNode, signal: AbortSignal): Promise<number> {
  let requests = 0
  // the peer's own place, not a cached one: the network is asked
  for await (const event of from.services.dht.findPeer(target.peerId, { signal, useCache: false })) {
    if (event.type === EventTypes.SEND_QUERY) {
      requests++
    }
    if (event.type === EventTypes.FINAL_PEER) {
      return requests
    }
  }
  throw new Error('findPeer ended without the peer')
}

/** Whether a kad-dht get found `value` (its first value event) */
async function kadGet (node: KadNode, key: Uint8Array, value: Uint8Array, signal: AbortSignal): Promise<boolean> {
  for await (const event of node.services.dht.get(key, { signal })) {
    if (event.type === EventTypes.VALUE) {
      return equals(event.value, value)
    }
  }
  return false
}

/** Run `work` under OPERATION_DEADLINE; a failure leaves `outcome` undefined */
async function timed<T> (work: (signal: AbortSignal) => Promise<T>): Promise<Timed<T>> {
  const started = performance.now()
  try {
    const outcome = await work(AbortSignal.timeout(OPERATION_DEADLINE))
    return { ms: performance.now() - started, ok: true, outcome }
  } catch {
    return { ms: performance.now() - started, ok: false }
  }
}

function tablesFor (results: SizeResults[]): Table[] {
  const cells = (s: Summary): Array<string | number> => [s.count, s.p50, s.p90, s.p99]
  return [
    {
      title: 'Wide-area links (one-way 10–150 ms per pair): latency ms, one operation at a time from random nodes',
      columns: ['N', 'DHT', 'operation', 'count', 'p50', 'p90', 'p99', 'hops / requests', 'p50 ÷ median RTT'],
      rows: results.flatMap(r => [
        [r.nodes, 'chord', 'lookup() verified', ...cells(r.chord.lookupMs), `${r.chord.hops.mean.toFixed(2)} hops + ${r.chord.checks.mean.toFixed(2)} checks, ${r.chord.newConnections.mean.toFixed(2)} new conn., ${r.chord.recursive} recursive`, r.chord.lookupMs.p50 / r.medianRttMs],
        [r.nodes, 'chord', 'lookup() verified, walking the ring', ...cells(r.chord.iterative.lookupMs), `${r.chord.iterative.hops.mean.toFixed(2)} hops + ${r.chord.iterative.checks.mean.toFixed(2)} checks, ${r.chord.iterative.newConnections.mean.toFixed(2)} new conn.`, r.chord.iterative.lookupMs.p50 / r.medianRttMs],
        [r.nodes, 'chord', 'lookup() route alone', ...cells(r.chord.routeOnly.lookupMs), `${r.chord.routeOnly.hops.mean.toFixed(2)} hops, ${r.chord.routeOnly.newConnections.mean.toFixed(2)} new conn.`, r.chord.routeOnly.lookupMs.p50 / r.medianRttMs],
        [r.nodes, 'kad-dht', 'getClosestPeers()', ...cells(r.kad.getClosestPeersMs), `${r.kad.getClosestPeersRequests.mean.toFixed(1)} req`, r.kad.getClosestPeersMs.p50 / r.medianRttMs],
        [r.nodes, 'kad-dht', 'findPeer()', ...cells(r.kad.findPeerMs), `${r.kad.findPeerRequests.mean.toFixed(1)} req`, r.kad.findPeerMs.p50 / r.medianRttMs],
        [r.nodes, 'chord', 'put() r = 3', ...cells(r.chord.putMs), '', r.chord.putMs.p50 / r.medianRttMs],
        [r.nodes, 'kad-dht', 'put()', ...cells(r.kad.putMs), '', r.kad.putMs.p50 / r.medianRttMs],
        [r.nodes, 'chord', 'get()', ...cells(r.chord.getMs), '', r.chord.getMs.p50 / r.medianRttMs],
        [r.nodes, 'kad-dht', 'get()', ...cells(r.kad.getMs), '', r.kad.getMs.p50 / r.medianRttMs],
        [r.nodes, 'chord', 'mailbox send() → callback', ...cells(r.chord.sendToCallbackMs), '', r.chord.sendToCallbackMs.p50 / r.medianRttMs],
        [r.nodes, 'chord', 'conversation: first send() → callback', ...cells(r.chord.conversationFirstMs), '', r.chord.conversationFirstMs.p50 / r.medianRttMs],
        [r.nodes, 'chord', 'conversation: next sends → callback', ...cells(r.chord.conversationNextMs), 'owner cached', r.chord.conversationNextMs.p50 / r.medianRttMs]
      ]),
      notes: results.flatMap(r => [
        `N=${r.nodes}: one-way delay p50 ${r.oneWayMs.p50} ms (${r.oneWayMs.min}–${r.oneWayMs.max}), median RTT ${r.medianRttMs} ms; chord ring settled in ${(r.chord.convergedMs / 1000).toFixed(0)} s, kad-dht tables in ${(r.kad.formedMs / 1000).toFixed(0)} s`,
        `N=${r.nodes}: chord wrong owners ${r.chord.wrongOwners + r.chord.iterative.wrongOwners + r.chord.routeOnly.wrongOwners}, failed lookups ${r.chord.failedLookups + r.chord.iterative.failedLookups + r.chord.routeOnly.failedLookups}, failed puts ${r.chord.failedPuts}, missed gets ${r.chord.missedGets}, lost messages ${r.chord.lostMessages}; kad-dht failed lookups ${r.kad.failedLookups}, findPeers ${r.kad.failedFindPeers}, puts ${r.kad.failedPuts}, missed gets ${r.kad.missedGets}`
      ]).concat(results.filter(r => r.kad.notFormed != null).map(r => `N=${r.nodes}: kad-dht not measured: ${r.kad.notFormed ?? ''}`))
        .concat(['Chord paper, 180-node Internet prototype: median lookup 180–285 ms'])
    },
    {
      title: 'Wide-area targets',
      columns: ['N', 'measure', 'value', 'target'],
      rows: results.flatMap(r => [
        [r.nodes, 'chord lookup p50 ÷ kad-dht getClosestPeers p50', r.targets.lookupOverKad, '< 1'],
        [r.nodes, 'chord lookup p50 ÷ ((mean hops + checks) × median RTT)', r.targets.lookupOverHopsTimesRtt, '≤ 1.2'],
        [r.nodes, 'the same, walking the ring', r.targets.iterativeOverHopsTimesRtt, '≤ 1.2'],
        [r.nodes, 'chord route alone p50 ÷ (mean hops × median RTT)', r.targets.routeOverHopsTimesRtt, '≤ 1.2'],
        [r.nodes, 'mailbox send → callback p50, ms', r.chord.sendToCallbackMs.p50, `≤ ${r.targets.sendToCallbackBudgetMs} (3 × median one-way + 20)`],
        [r.nodes, 'conversation, next sends → callback p50, ms', r.chord.conversationNextMs.p50, `≤ ${r.targets.sendToCallbackBudgetMs} (3 × median one-way + 20)`]
      ])
    }
  ]
}
