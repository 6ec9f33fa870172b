import assert from 'node:assert/strict'
import { equals } from 'uint8arrays/equals'
import { MAX_RECORDS_PER_STORE, MAX_STORE_BATCH_BYTES, MAX_SUMMARIES_PER_REPLY, MAX_SYNC_DEPTH, MAX_SYNC_REQUESTS } from '../../src/chord/constants.js'
import { RING_SIZE, hashToRingId, ringIdFromBytes, ringIdToBytes } from '../../src/chord/id.js'
import { createRecord } from '../../src/chord/record.js'
import { Replication } from '../../src/chord/replication.js'
import { DEFAULT_TTL_POLICY } from '../../src/chord/ttl.js'
import { RateLimitedError, TooLargeError } from '../../src/errors.js'
import { MessageType, Request, Response } from '../../src/protocol/generated/chord.js'
import { MAX_VALUE_SIZE } from '../../src/storage/constants.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import { Simulator, seededRandom } from '../helpers/simulator.js'
import type { RingId } from '../../src/chord/id.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { NodeRef, RecordRpc } from '../../src/chord/rpc.js'
import type { LevelRecordStore } from '../../src/storage/level-store.js'

const HOUR = 3_600_000

function recordFor (n: number): ChordRecord {
  const key = ringIdToBytes(hashToRingId(new TextEncoder().encode(`key-${n}`)))
  return createRecord(key, new TextEncoder().encode(`value-${n}`), Date.now() + HOUR)
}

async function ringWithRecords (size: number, seed: number, replicas: number): Promise<{ sim: Simulator, random: () => number }> {
  const random = seededRandom(seed)
  const sim = new Simulator({ replicas })
  await sim.grow(size, random)
  await sim.roundsUntil(() => sim.isConsistent(), 100)
  for (let i = 0; i < 20; i++) {
    await sim.round()
  }
  return { sim, random }
}

/** Which of `records` every live node can read back */
async function readableEverywhere (sim: Simulator, records: ChordRecord[]): Promise<number> {
  let readable = 0
  for (const record of records) {
    let everywhere = true
    for (const ring of sim.liveRings()) {
      const found = await sim.recordsOf(ring.self.peer).replication.get(record.key).catch(() => [])
      everywhere &&= found.some(r => equals(r.id, record.id))
    }
    if (everywhere) {
      readable++
    }
  }
  return readable
}

interface Message { from: string, to: string, kind: string }

/**
 * A settled ring of 16 whose remote calls are written down from now on, a node of it, and a record
 * under a key half the ring away from that node, whose owner the node's own table does not name
 */
async function farKeyOnWatchedRing (seed: number): Promise<{ sim: Simulator, messages: Message[], reader: NodeRef, owner: NodeRef, record: ChordRecord }> {
  const messages: Message[] = []
  const sim = new Simulator({ replicas: 3, onMessage: (from, to, kind) => { messages.push({ from: from.peer, to: to.peer, kind }) } })
  await sim.grow(16, seededRandom(seed))
  await sim.roundsUntil(() => sim.isConsistent(), 100)
  const sorted = sim.sortedLiveIds()
  const owner = sorted[8]
  const record = createRecord(ringIdToBytes(owner.id), new TextEncoder().encode('far'), Date.now() + HOUR)
  messages.length = 0
  return { sim, messages, reader: sorted[0], owner, record }
}

describe('replication (simulated network)', function () {
  this.timeout(120_000)

  it('puts on the key\'s r successors and reads the union back', async () => {
    const { sim } = await ringWithRecords(10, 11, 3)
    const writer = sim.recordsOf(sim.liveRings()[0].self.peer).replication
    const record = recordFor(1)
    const { replicas } = await writer.put([record])
    assert.equal(replicas, 3)
    const holders: string[] = []
    for (const ring of sim.liveRings()) {
      if ((await sim.recordsOf(ring.self.peer).store.get(record.key)).length > 0) {
        holders.push(ring.self.peer)
      }
    }
    assert.deepEqual(holders.sort(), expectedReplicas(sim, record, 3).sort())
    const values = await sim.recordsOf(sim.liveRings()[5].self.peer).replication.get(record.key)
    assert.deepEqual(values.map(r => new TextDecoder().decode(r.value)), ['value-1'])
  })

  it('a get asks the replicas the route named while the owner is asked to confirm itself, not after', async () => {
    const { sim, messages, reader, owner, record } = await farKeyOnWatchedRing(13)
    await sim.recordsOf(owner.peer).replication.put([record])
    messages.length = 0
    const values = await sim.recordsOf(reader.peer).replication.get(record.key)
    assert.deepEqual(values.map(r => new TextDecoder().decode(r.value)), ['far'])
    const toOwner = messages.filter(m => m.from === reader.peer && m.to === owner.peer).map(m => m.kind)
    assert.ok(toOwner.includes('getNeighbours'), `the reader asked the owner ${toOwner.join(', ')}`)
    assert.ok(toOwner.indexOf('fetchRecords') < toOwner.indexOf('getNeighbours'), `the reader asked the owner ${toOwner.join(', ')}`)
  })

  it('a put no replica stored rejects with a replica\'s refusal rather than another\'s failure to answer', async () => {
    // the Simulator's onMessage hook runs before each call: a store a replica is to fail throws there
    const failing = new Map<string, Error>()
    const sim = new Simulator({
      replicas: 3,
      onMessage: (_from, to, kind) => {
        const err = failing.get(to.peer)
        if (kind === 'storeRecords' && err != null) {
          throw err
        }
      }
    })
    await sim.grow(6, seededRandom(23))
    await sim.roundsUntil(() => sim.isConsistent(), 100)
    const record = recordFor(1)
    const replicas = expectedReplicas(sim, record, 3)
    const [first, ...others] = replicas
    const writer = sim.recordsOf(sim.liveRings().find(ring => !replicas.includes(ring.self.peer))?.self.peer ?? '').replication
    const unreachable = (): Error => Object.assign(new Error('the connection is closed'), { name: 'ConnectionClosedError' })

    // the first replica in order cannot be reached; the others refuse the writer, over its share
    failing.set(first, unreachable())
    for (const peer of others) {
      failing.set(peer, new RateLimitedError('over its share', { retryAfterMs: 1000 }))
    }
    await assert.rejects(writer.put([record]), (err: Error) => err instanceof RateLimitedError && err.retryAfterMs === 1000)

    // none refused: the first failure is all there is to tell
    for (const peer of others) {
      failing.set(peer, unreachable())
    }
    await assert.rejects(writer.put([record]), { name: 'ConnectionClosedError' })
  })

  it('keeps every record readable while a third of the nodes leave one at a time', async () => {
    const { sim, random } = await ringWithRecords(12, 12, 3)
    const records = Array.from({ length: 200 }, (_, i) => recordFor(i))
    const writer = sim.recordsOf(sim.liveRings()[0].self.peer).replication
    for (const record of records) {
      await writer.put([record])
    }
    for (let i = 0; i < 4; i++) {
      const names = [...sim.alive]
      await sim.leave(names[Math.floor(random() * names.length)])
      await sim.roundsUntil(() => sim.isConsistent(), 20)
      await sim.antiEntropyRound()
    }
    assert.equal(await readableEverywhere(sim, records), records.length)
  })

  it('a leaving node takes no records back while it hands its own away, so a repair on its successor cannot undo the handoff', async () => {
    // the Simulator's onMessage hook runs before each call: when the leaving node hands a record
    // to its successor, the successor (whose ring still names the leaver as the owner) tries to
    // push that record straight back, as a rehoming round would
    let leaver = ''
    const pushedBack: Array<Promise<unknown>> = []
    const random = seededRandom(17)
    const sim: Simulator = new Simulator({
      replicas: 1,
      onMessage: (from, to, kind) => {
        if (from.peer === leaver && kind === 'storeRecords' && pushedBack.length === 0) {
          const handed = [...owned]
          pushedBack.push(sim.nodes.get(leaver)?.handlerOf('records')?.onStoreRecords(to, handed) ?? Promise.resolve())
        }
      }
    })
    const owned: ChordRecord[] = []
    await sim.grow(8, random)
    await sim.roundsUntil(() => sim.isConsistent(), 100)
    const node = sim.liveRings()[3]
    leaver = node.self.peer
    for (let i = 0; owned.length < 3 && i < 1000; i++) {
      const record = recordFor(i)
      if (sim.expectedOwner(ringIdFromBytes(record.key)).peer === leaver) {
        owned.push(record)
      }
    }
    await sim.recordsOf(leaver).replication.put(owned)

    await sim.leave(leaver)
    assert.equal(pushedBack.length, 1, 'the successor tried to push the records back during the handoff')
    await assert.rejects(pushedBack[0], (err: Error) => err.name === 'NotStartedError')
    await sim.roundsUntil(() => sim.isConsistent(), 100)
    assert.equal(await readableEverywhere(sim, owned), owned.length)
  })

  it('after half the nodes die at once, loses only records whose whole replica set died', async () => {
    for (const replicas of [3, 7]) {
      const { sim, random } = await ringWithRecords(16, 13 + replicas, replicas)
      const records = Array.from({ length: 300 }, (_, i) => recordFor(i))
      const writer = sim.recordsOf(sim.liveRings()[0].self.peer).replication
      const replicaSets = new Map<ChordRecord, string[]>()
      for (const record of records) {
        replicaSets.set(record, (await writer.replicaSet(record.key)).map(n => n.peer))
        await writer.put([record])
      }
      const names = [...sim.alive]
      for (let i = 0; i < 8; i++) {
        sim.kill(names.splice(Math.floor(random() * names.length), 1)[0])
      }
      await sim.roundsUntil(() => sim.isConsistent(), 30)
      await sim.antiEntropyRound()
      await sim.antiEntropyRound()
      const survivors = records.filter(r => replicaSets.get(r)?.some(p => sim.alive.has(p)))
      const readable = await readableEverywhere(sim, survivors)
      const lost = 1 - survivors.length / records.length
      console.log(`      r = ${replicas}: lost ${(lost * 100).toFixed(1)}% (0.5^r = ${(0.5 ** replicas * 100).toFixed(1)}%), ${readable}/${survivors.length} survivors readable everywhere`)
      assert.equal(readable, survivors.length)
    }
  })

  it('costs one small digest exchange per replica when nothing needs repair', async () => {
    const { sim } = await ringWithRecords(10, 15, 3)
    const writer = sim.recordsOf(sim.liveRings()[0].self.peer).replication
    for (let i = 0; i < 100; i++) {
      await writer.put([recordFor(i)])
    }
    await sim.antiEntropyRound()
    sim.messagesByKind.clear()
    await sim.antiEntropyRound()
    // every node, as primary, asks each of its r - 1 replicas for one digest, and nothing else
    assert.deepEqual([...sim.messagesByKind], [['rangeDigest', 10 * 2]])
    const request = Request.encode({ type: MessageType.RANGE_DIGEST, rangeStart: new Uint8Array(32), rangeEnd: new Uint8Array(32) })
    const response = Response.encode({ type: MessageType.RANGE_DIGEST, status: Response.Status.OK, done: false, more: false, count: 100, digest: new Uint8Array(32), peers: [], records: [], summaries: [] })
    const perExchange = request.byteLength + response.byteLength + 2
    console.log(`      a quiet round: ${perExchange} bytes of messages per replica (before Noise and Yamux framing)`)
    assert.ok(perExchange < 160)
  })

  it('anti-entropy refills a replica whose store was wiped', async () => {
    const { sim } = await ringWithRecords(8, 14, 3)
    const writer = sim.recordsOf(sim.liveRings()[0].self.peer).replication
    const records = Array.from({ length: 50 }, (_, i) => recordFor(i))
    for (const record of records) {
      await writer.put([record])
    }
    const victim = sim.liveRings()[3].self.peer
    const before = sim.recordsOf(victim).store.stats().records
    assert.ok(before > 0)
    const { store } = sim.recordsOf(victim)
    const all: ChordRecord[] = []
    for await (const r of store.range(0n, 0n)) {
      all.push(r)
    }
    for (const r of all) {
      await store.delete(r.key, [r.id])
    }
    assert.equal(store.stats().records, 0)
    await sim.antiEntropyRound()
    assert.equal(store.stats().records, before)
  })
})

/** The true replica set of a record: its key's successor and the r - 1 nodes after it */
function expectedReplicas (sim: Simulator, record: ChordRecord, replicas: number): string[] {
  const sorted = sim.sortedLiveIds()
  const owner = sorted.indexOf(sorted.find(n => n.peer === sim.expectedOwner(ringIdFromBytes(record.key)).peer) ?? sorted[0])
  return Array.from({ length: replicas }, (_, i) => sorted[(owner + i) % sorted.length].peer)
}

describe('how much one STORE and one range comparison may hold', function () {
  this.timeout(30_000)
  const self: NodeRef = { id: 1n, peer: 'self' }
  const peer: NodeRef = { id: 2n, peer: 'peer' }
  const opened: LevelRecordStore[] = []

  afterEach(async () => {
    await Promise.all(opened.splice(0).map(async store => store.close()))
  })

  /** A node's replication over a store of its own holding `records`, asking other nodes through `rpc` */
  async function replicationWith (records: ChordRecord[], rpc: Partial<RecordRpc> = {}): Promise<{ replication: Replication, store: LevelRecordStore }> {
    const store = await openLevelStore()
    opened.push(store)
    if (records.length > 0) {
      await store.put(records)
    }
    return { replication: new Replication({ ring: { self } as ChordRing, rpc: rpc as RecordRpc, store, ttl: DEFAULT_TTL_POLICY }), store }
  }

  /** A replica holding `records` that answers as a node does, and the requests it was sent, by kind */
  async function replicaHolding (records: ChordRecord[]): Promise<{ rpc: RecordRpc, store: LevelRecordStore, asked: string[] }> {
    const { replication, store } = await replicationWith(records)
    const asked: string[] = []
    const rpc: RecordRpc = {
      storeRecords: async (_to, batch) => { asked.push('store'); return { declined: (await replication.onStoreRecords(self, batch)).declined, deletions: [] } },
      fetchRecords: async (_to, key) => { asked.push('fetch'); return replication.onFetchRecords(self, key) },
      rangeDigest: async (_to, from, until) => { asked.push('digest'); return replication.onRangeDigest(self, from, until) },
      rangeSummaries: async (_to, from, until) => { asked.push('summaries'); return replication.onRangeSummaries(self, from, until) }
    }
    return { rpc, store, asked }
  }

  it(`batches MAX_RECORDS_PER_STORE (${MAX_RECORDS_PER_STORE}) records into one STORE, and the next one into another`, async () => {
    const { replication } = await replicationWith([])
    const records = Array.from({ length: MAX_RECORDS_PER_STORE + 1 }, (_, n) => recordFor(n))
    const sizes: number[] = []
    for await (const batch of replication.batches(listed(records))) {
      sizes.push(batch.length)
    }
    assert.deepEqual(sizes, [MAX_RECORDS_PER_STORE, 1])
  })

  it(`sends a range whose values come to more than MAX_STORE_BATCH_BYTES (${MAX_STORE_BATCH_BYTES}) in STOREs that each carry at most that`, async () => {
    const perStore = MAX_STORE_BATCH_BYTES / MAX_VALUE_SIZE
    assert.ok(Number.isInteger(perStore) && perStore >= 1)
    const records = Array.from({ length: perStore + 1 }, (_, n) =>
      createRecord(ringIdToBytes(hashToRingId(new TextEncoder().encode(`big-${n}`))), new Uint8Array(MAX_VALUE_SIZE).fill(n + 1), Date.now() + HOUR))
    const stored: number[] = []
    const { replication } = await replicationWith(records, {
      rangeDigest: async () => ({ count: 0, hash: new Uint8Array(32) }),
      storeRecords: async (_to, batch) => { stored.push(batch.reduce((bytes, record) => bytes + record.value.byteLength, 0)); return { declined: [], deletions: [] } }
    })
    assert.deepEqual(await replication.syncRange(peer, 0n, 0n, 'push'), { sent: perStore + 1, fetched: 0 })
    assert.deepEqual(stored, [MAX_STORE_BATCH_BYTES, MAX_VALUE_SIZE])
  })

  it(`lists a range of MAX_SUMMARIES_PER_REPLY (${MAX_SUMMARIES_PER_REPLY}) records in one RANGE_SUMMARIES answer, and refuses one of a record more with TooLargeError`, async () => {
    const records = Array.from({ length: MAX_SUMMARIES_PER_REPLY + 1 }, (_, n) => recordFor(n))
    const { replication, store } = await replicationWith(records.slice(0, MAX_SUMMARIES_PER_REPLY))
    assert.equal((await replication.onRangeSummaries(peer, 0n, 0n)).length, MAX_SUMMARIES_PER_REPLY)
    await store.put([records[MAX_SUMMARIES_PER_REPLY]])
    await assert.rejects(replication.onRangeSummaries(peer, 0n, 0n), (err: Error) => err instanceof TooLargeError && err.message.includes(`${MAX_SUMMARIES_PER_REPLY}`))
  })

  it('compares a range of MAX_SUMMARIES_PER_REPLY + 1 records half by half, whichever side holds them, and repairs it whole', async () => {
    const records = Array.from({ length: MAX_SUMMARIES_PER_REPLY + 1 }, (_, n) => recordFor(n))
    // we hold them and the replica none: it is sent them all
    const empty = await replicaHolding([])
    const { replication: holder, store: held } = await replicationWith(records, empty.rpc)
    assert.deepEqual(await holder.syncRange(peer, 0n, 0n, 'both'), { sent: records.length, fetched: 0 })
    assert.deepEqual(await empty.store.digest(0n, 0n), await held.digest(0n, 0n))
    // the replica holds them and we none: each part is listed within one answer (a longer list is refused), and fetched
    const full = await replicaHolding(records)
    const { replication: lacking, store: filled } = await replicationWith([], full.rpc)
    assert.deepEqual(await lacking.syncRange(peer, 0n, 0n, 'both'), { sent: 0, fetched: records.length })
    assert.deepEqual(await filled.digest(0n, 0n), await full.store.digest(0n, 0n))
    for (const { asked } of [empty, full]) {
      assert.ok(asked.filter(kind => kind === 'summaries').length >= 2, 'the range was compared in parts')
    }
  })

  /**
   * A replica that claims more records than one answer lists in every range `lies` picks, and
   * holds none anywhere else; and the ranges it was asked about, in order
   */
  async function liar (lies: (from: RingId) => boolean): Promise<{ rpc: RecordRpc, digested: Array<[RingId, RingId]>, listed: Array<[RingId, RingId]> }> {
    const nothing = await (await replicationWith([])).store.digest(0n, 0n)
    const digested: Array<[RingId, RingId]> = []
    const listed: Array<[RingId, RingId]> = []
    const rpc = {
      rangeDigest: async (_to: NodeRef, from: RingId, until: RingId) => {
        digested.push([from, until])
        return lies(from) ? { count: MAX_SUMMARIES_PER_REPLY + 1, hash: new Uint8Array(32).fill(7) } : nothing
      },
      rangeSummaries: async (_to: NodeRef, from: RingId, until: RingId) => { listed.push([from, until]); return [] }
    } as unknown as RecordRpc
    return { rpc, digested, listed }
  }

  it(`halves a range a replica claims too many records in no more than MAX_SYNC_DEPTH (${MAX_SYNC_DEPTH}) times, then lists it`, async () => {
    // every range from 0 is "too full to list": without the bound, the halving would go on to ranges of one id
    const { rpc, digested, listed } = await liar(from => from === 0n)
    const { replication } = await replicationWith([], rpc)
    assert.deepEqual(await replication.syncRange(peer, 0n, 0n, 'both'), { sent: 0, fetched: 0 })
    const deepest = RING_SIZE >> BigInt(MAX_SYNC_DEPTH)
    // the whole ring, then its lower half, its lower quarter, … down to depth MAX_SYNC_DEPTH and no further
    const halvings = Array.from({ length: MAX_SYNC_DEPTH }, (_, depth) => RING_SIZE >> BigInt(depth + 1))
    assert.deepEqual(digested.filter(([from]) => from === 0n).map(([, until]) => until), [0n, ...halvings])
    assert.deepEqual(listed, [[0n, deepest]])
  })

  it(`gives up with TooLargeError after MAX_SYNC_REQUESTS (${MAX_SYNC_REQUESTS}) requests when a replica keeps claiming more`, async () => {
    const { rpc, digested, listed } = await liar(() => true)
    const { replication, store } = await replicationWith([], rpc)
    await assert.rejects(replication.syncRange(peer, 0n, 0n, 'both'), (err: Error) => err instanceof TooLargeError && err.message.includes(`${MAX_SYNC_REQUESTS}`))
    assert.equal(digested.length + listed.length, MAX_SYNC_REQUESTS)
    assert.equal(store.stats().records, 0)
  })
})

/** `records` one at a time, as a store's range reads them */
async function * listed (records: ChordRecord[]): AsyncGenerator<ChordRecord> {
  yield * records
}
