/**
 * The record store on `level`: LevelDB on disk under Node, IndexedDB in browsers, memory in tests.
 *
 * Writes (put, delete, sweep) run one at a time, so a quota check and the write it allows see the
 * same state; each is one atomic batch that also carries the updated record and byte counters.
 * The counters are persisted rather than recomputed at open because a recount reads every header,
 * which grows with the store, and the atomic batch keeps them exact, crash or not. Reads need no
 * lock: LevelDB iterators read a snapshot.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { InvalidRecordError, NotStartedError, QuotaExceededError, TooLargeError } from '../errors.js'
import { validateId, validateKey, validateRecord } from '../chord/record.js'
import { plainBytes } from '../plain-bytes.js'
import { PAGE_HEADERS_BATCH, RANGE_READ_BATCH, SWEEP_BATCH_SIZE } from './constants.js'
import { DURABLE, SUBLEVELS, createNodeDatabase, openDatabase } from './database.js'
import {
  STATS_KEY, WRITER_BYTES, encodeExpiryValue, encodeHeader, encodeStats, encodeWriterStats, expiredBound, expiryKey,
  keyBounds, lastKeyAt, parseExpiryKey, parseExpiryValue, parseHeader, parseRecordKey, parseStats, parseWriterStats,
  recordKey, storedSize, subnetStatsKey, writerStatsKey
} from './record-layout.js'
import { KeyTallies } from './key-tallies.js'
import { resolveStoreLimits } from './store-limits.js'
import type { NodeDatabase } from './database.js'
import type { KeyTally } from './key-tallies.js'
import type { RecordHeader, WriterStats } from './record-layout.js'
import type { StoreLimits } from './store-limits.js'
import type {
  AtTime, ChordRecord, ScanOptions, StorePage, StorePageOptions, StorePutOptions, StorePutResult as PutResult, StoreReadOptions, RangeDigest, RecordStore, RecordSummary, StoreStats
} from '../chord/record.js'
import type { RingId } from '../chord/id.js'
import type { AbstractBatchOperation, AbstractBatchOptions, AbstractSublevel } from 'abstract-level'

type BinaryKey = string | Uint8Array
type Sublevel<K> = AbstractSublevel<NodeDatabase, BinaryKey, K, Uint8Array>
type Operation = AbstractBatchOperation<NodeDatabase, BinaryKey, Uint8Array>

const DURABLE_BATCH = DURABLE as AbstractBatchOptions<BinaryKey, Uint8Array>

export interface LevelStoreInit {
  limits?: Partial<StoreLimits>
}

export type OpenLevelStoreOptions = LevelStoreInit & (
  /** a database shared with the rest of the node: closing the store leaves it open */
  | { database: NodeDatabase }
  /** a database of the store's own, closed with it: on disk in `dataDir`, else in memory */
  | { dataDir?: string }
)

/** A store, opened: in a database of the node's, or in one of its own */
export async function openLevelStore (options: OpenLevelStoreOptions = {}): Promise<LevelRecordStore> {
  const owned = !('database' in options)
  const database = 'database' in options ? options.database : createNodeDatabase(options.dataDir)
  const store = new LevelRecordStore(database, options, owned)
  try {
    if (owned) {
      await openDatabase(database, options.dataDir)
    }
    await store.open()
  } catch (err) {
    if (owned) {
      await database.close()
    }
    throw err
  }
  return store
}

interface StoredHeader {
  id: Uint8Array
  header: RecordHeader
}

/** How a write changes the counters: the store's, and each writer's (by writer in hex) */
interface Change extends StoreStats {
  writers: Map<string, StoreStats>
}

function noChange (): Change {
  return { records: 0, bytes: 0, writers: new Map() }
}

/** What a commit knows already of the counters it changes: read before the batch was planned */
interface Known {
  /** some writers' totals as stored, each with the subnet it is counted under */
  writers?: ReadonlyMap<string, WriterStats>
  /** some subnets' totals as stored */
  subnets?: ReadonlyMap<string, StoreStats>
  /** writers counted under no subnet yet, and the one each now counts under (by writer in hex) */
  adopted?: ReadonlyMap<string, string>
}

export class LevelRecordStore implements RecordStore {
  private readonly records: Sublevel<Uint8Array>
  private readonly headers: Sublevel<Uint8Array>
  private readonly expiry: Sublevel<Uint8Array>
  private readonly meta: Sublevel<string>
  private readonly database: NodeDatabase
  private readonly limits: StoreLimits
  private readonly ownsDatabase: boolean
  private counts: StoreStats = { records: 0, bytes: 0 }
  /** the live tally of recently written keys, so that a put need not read all of its key's headers */
  private readonly tallies = new KeyTallies()
  /** the tail of the write queue; never rejects, so one failed write does not block the next */
  private writes: Promise<unknown> = Promise.resolve()
  /** serving only once `open` has read the counters, and until `close` */
  private state: 'new' | 'open' | 'closed' = 'new'

  /**
   * A store in `database`, usable once `open` resolved. `ownsDatabase`: close the database when
   * the store is closed.
   *
   * @throws InvalidOptionsError when a limit is not a positive integer
   */
  constructor (database: NodeDatabase, init: LevelStoreInit = {}, ownsDatabase = false) {
    this.database = database
    this.limits = resolveStoreLimits(init.limits)
    this.ownsDatabase = ownsDatabase
    const binary = { keyEncoding: 'view', valueEncoding: 'view' }
    this.records = database.sublevel<Uint8Array, Uint8Array>(SUBLEVELS.records, binary)
    this.headers = database.sublevel<Uint8Array, Uint8Array>(SUBLEVELS.headers, binary)
    this.expiry = database.sublevel<Uint8Array, Uint8Array>(SUBLEVELS.expiry, binary)
    this.meta = database.sublevel<string, Uint8Array>(SUBLEVELS.meta, { valueEncoding: 'view' })
  }

  async put (records: ChordRecord[], options: StorePutOptions = {}): Promise<PutResult> {
    this.assertOpen()
    const now = options.now ?? Date.now()
    for (const record of records) {
      validateRecord(record)
      if (record.value.byteLength > this.limits.maxValueSize) {
        throw new QuotaExceededError(`a value of ${record.value.byteLength} bytes is over the limit of ${this.limits.maxValueSize}`)
      }
    }
    for (const writer of [options.writer, ...records.map(record => record.writer)]) {
      if (writer != null && writer.byteLength !== WRITER_BYTES) {
        throw new InvalidRecordError(`a writer is named by ${WRITER_BYTES} bytes, got ${writer.byteLength}`)
      }
    }
    return await this.exclusive(async () => await this.writeRecords(records, now, true, options))
  }

  /** Records and bytes the writers of `subnet` hold in this store together (what counts against its share) */
  async subnetStats (subnet: string): Promise<StoreStats> {
    this.assertOpen()
    return (await this.subnetTotals([subnet])).get(subnet) ?? { records: 0, bytes: 0 }
  }

  /** The stored totals of each of `subnets`, none for a subnet whose writers hold nothing */
  private async subnetTotals (subnets: Iterable<string>): Promise<Map<string, StoreStats>> {
    const names = [...subnets]
    const saved = names.length === 0 ? [] : await this.meta.getMany(names.map(subnetStatsKey))
    return new Map(names.map((subnet, i) => [subnet, saved[i] == null ? { records: 0, bytes: 0 } : parseStats(saved[i])]))
  }

  /** Records and bytes `writer` holds in this store (what counts against its share) */
  async writerStats (writer: Uint8Array): Promise<StoreStats> {
    this.assertOpen()
    const saved = await this.meta.get(writerStatsKey(hex(writer)))
    return saved == null ? { records: 0, bytes: 0 } : parseStats(saved)
  }

  async get (key: Uint8Array, options: StoreReadOptions = {}): Promise<ChordRecord[]> {
    this.assertOpen()
    validateKey(key)
    const now = options.now ?? Date.now()
    const live: Array<RecordSummary & Pick<ChordRecord, 'writer'>> = []
    for (const { id, header } of (await this.readHeaders(key)).values()) {
      if (header.expiresAt > now) {
        live.push(options.withWriters === true && header.writer != null
          ? { key, id, expiresAt: header.expiresAt, writer: header.writer }
          : { key, id, expiresAt: header.expiresAt })
      }
    }
    return await this.withValues(live)
  }

  async page (key: Uint8Array, options: StorePageOptions): Promise<StorePage> {
    this.assertOpen()
    validateKey(key)
    const now = options.now ?? Date.now()
    const bounds = keyBounds(key)
    // headers sort by key then id: a page reads on from the last one, up to the first that does not fit
    const headers = this.headers.iterator(options.after == null ? bounds : { gt: recordKey(key, options.after), lte: bounds.lte })
    const chosen: RecordSummary[] = []
    let bytes = 0
    let scanned = 0
    let more = false
    try {
      for (let batch = await headers.nextv(PAGE_HEADERS_BATCH); batch.length > 0 && !more; batch = await headers.nextv(PAGE_HEADERS_BATCH)) {
        for (const [storedKey, value] of batch) {
          scanned++
          const header = parseHeader(value)
          if (header.expiresAt <= now) {
            continue
          }
          if (chosen.length === options.maxRecords || (chosen.length > 0 && bytes + header.valueLength > options.maxBytes)) {
            more = true
            break
          }
          chosen.push({ key, id: parseRecordKey(storedKey).id, expiresAt: header.expiresAt })
          bytes += header.valueLength
        }
      }
    } finally {
      await headers.close()
    }
    return { records: await this.withValues(chosen), next: more ? chosen[chosen.length - 1].id : undefined, scanned }
  }

  /** Each of `ids` (once, however often named) that the key holds live */
  async held (key: Uint8Array, ids: Uint8Array[], options: AtTime = {}): Promise<RecordSummary[]> {
    this.assertOpen()
    validateKey(key)
    ids.forEach(validateId)
    const now = options.now ?? Date.now()
    return [...(await this.headersOf(key, ids)).values()]
      .filter(({ header }) => header.expiresAt > now)
      .map(({ id, header }) => ({ key, id, expiresAt: header.expiresAt }))
  }

  async * range (from: RingId, to: RingId, options: StoreReadOptions = {}): AsyncGenerator<ChordRecord> {
    this.assertOpen()
    let batch: Array<RecordSummary & Pick<ChordRecord, 'writer'>> = []
    for await (const summary of this.liveHeaders(from, to, options)) {
      batch.push(options.withWriters === true && summary.writer != null ? summary : { key: summary.key, id: summary.id, expiresAt: summary.expiresAt })
      if (batch.length === RANGE_READ_BATCH) {
        yield * await this.withValues(batch)
        batch = []
      }
    }
    yield * await this.withValues(batch)
  }

  async * summaries (from: RingId, to: RingId, options: ScanOptions = {}): AsyncGenerator<RecordSummary> {
    for await (const { key, id, expiresAt } of this.liveHeaders(from, to, options)) {
      yield { key, id, expiresAt }
    }
  }

  /**
   * The live records of (from, to] without their values, each with its writer; every header read
   * is counted in `options.tally`, and the read stops at its limit (TooLargeError)
   */
  private async * liveHeaders (from: RingId, to: RingId, options: ScanOptions = {}): AsyncGenerator<RecordSummary & { writer?: Uint8Array }> {
    this.assertOpen()
    const now = options.now ?? Date.now()
    const { tally } = options
    const start = lastKeyAt(from)
    const end = lastKeyAt(to)
    // (from, to] is one key range unless it wraps past zero (from === to wraps all the way round)
    const spans = from < to ? [{ gt: start, lte: end }] : [{ gt: start }, { lte: end }]
    for (const span of spans) {
      for await (const [stored, value] of this.headers.iterator(span)) {
        if (tally != null && ++tally.read >= (tally.limit ?? Infinity)) {
          // whether more follow is not read: one more would be past the limit
          throw new TooLargeError(`the range holds ${tally.limit} records or more, all this scan may read: ask for a smaller one`)
        }
        const header = parseHeader(value)
        if (header.expiresAt > now) {
          yield { ...parseRecordKey(stored), expiresAt: header.expiresAt, writer: header.writer }
        }
      }
    }
  }

  async digest (from: RingId, to: RingId, options: ScanOptions = {}): Promise<RangeDigest> {
    const hash = sha256.create()
    let count = 0
    for await (const { key, id } of this.summaries(from, to, options)) {
      hash.update(key)
      hash.update(id)
      count++
    }
    return { count, hash: hash.digest() }
  }

  async delete (key: Uint8Array, ids: Uint8Array[]): Promise<number> {
    this.assertOpen()
    validateKey(key)
    ids.forEach(validateId)
    return await this.exclusive(async () => {
      const stored = await this.headersOf(key, ids)
      const ops: Operation[] = []
      const change = noChange()
      for (const { id, header } of stored.values()) {
        this.removeOps(ops, recordKey(key, id), header, change)
      }
      if (stored.size > 0) {
        await this.commit(ops, change)
      }
      return stored.size
    })
  }

  async sweepExpired (options: AtTime = {}): Promise<number> {
    this.assertOpen()
    const now = options.now ?? Date.now()
    let removed = 0
    // batch by batch, letting queued puts in between
    while (true) {
      const swept = await this.exclusive(async () => await this.sweepBatch(now))
      removed += swept
      if (swept < SWEEP_BATCH_SIZE) {
        return removed
      }
    }
  }

  /** Read the persisted counters; the store serves nothing before */
  async open (): Promise<void> {
    // a sublevel closes with its database but does not reopen with it: after a stop and a
    // start (the database closed and opened again) each one is opened here
    await this.database.open()
    await Promise.all([this.records, this.headers, this.expiry, this.meta].map(async sublevel => sublevel.open()))
    const saved = await this.meta.get(STATS_KEY)
    this.counts = saved == null ? { records: 0, bytes: 0 } : parseStats(saved)
    this.tallies.clear()
    await this.recountSubnets()
    this.state = 'open'
  }

  /**
   * Each subnet's totals made the sum of its writers' again: they are kept by deltas, and a build
   * that kept writers' totals without their subnet (an earlier version, run on this data in
   * between) would leave them off for good. Reads one small entry per writer, not the headers.
   */
  private async recountSubnets (): Promise<void> {
    const sums = new Map<string, StoreStats>()
    for await (const value of this.meta.values({ gte: writerStatsKey(''), lt: writerStatsKey('\uffff') })) {
      const { subnet, ...stats } = parseWriterStats(value)
      if (subnet != null) {
        sums.set(subnet, sum(sums.get(subnet), stats))
      }
    }
    const ops: Operation[] = []
    for await (const [key, value] of this.meta.iterator({ gte: subnetStatsKey(''), lt: subnetStatsKey('\uffff') })) {
      const subnet = key.slice(subnetStatsKey('').length)
      const counted = sums.get(subnet)
      const stored = parseStats(value)
      if (counted == null) {
        ops.push({ type: 'del', sublevel: this.meta, key })
      } else if (counted.records === stored.records && counted.bytes === stored.bytes) {
        sums.delete(subnet)
      }
    }
    // what is left differs from what is stored, or is not stored
    for (const [subnet, stats] of sums) {
      ops.push({ type: 'put', sublevel: this.meta, key: subnetStatsKey(subnet), value: encodeStats(stats) })
    }
    if (ops.length > 0) {
      await this.database.batch<BinaryKey, Uint8Array>(ops, DURABLE_BATCH)
    }
  }

  stats (): StoreStats {
    return { ...this.counts }
  }

  async close (): Promise<void> {
    if (this.state === 'closed') {
      return
    }
    this.state = 'closed'
    await this.writes
    if (this.ownsDatabase) {
      await this.database.close()
    }
  }

  private async writeRecords (records: ChordRecord[], now: number, mayFreeSpace: boolean, options: StorePutOptions): Promise<PutResult> {
    const result: PutResult = { added: [], existing: [], expired: [], overShare: [], writtenBytes: 0 }
    const ops: Operation[] = []
    const change = noChange()
    const skipOverShare = options.overShare === 'skip'
    /** a record's writer: the one the put names for all, else the one it carries */
    const writerOf = (record: ChordRecord): Uint8Array | undefined => options.writer ?? record.writer

    // what each writer of the batch holds in the whole store now, and the subnet it counts under
    const writers = new Map<string, WriterStats>()
    for (const record of records) {
      const writer = writerOf(record)
      if (writer != null) {
        writers.set(hex(writer), { records: 0, bytes: 0 })
      }
    }
    if (writers.size > 0) {
      const saved = await this.meta.getMany([...writers.keys()].map(writerStatsKey))
      ;[...writers.keys()].forEach((writer, i) => {
        const stats = saved[i]
        if (stats != null) {
          writers.set(writer, parseWriterStats(stats))
        }
      })
    }
    /** what each writer held before the batch: the commit's starting point (no write comes between, all are exclusive) */
    const heldBefore = new Map(writers)
    const { subnets, subnetsBefore, adopted } = await this.subnetsOf(records, writers, options)

    const groups = groupByKey(records)
    const states = await Promise.all(groups.map(async group => await this.keyState(group, now)))
    /** each key's tally, and what this batch adds to it: kept once the batch is committed */
    const tallied: Array<{ key: string, tally: KeyTally, added: Map<string, StoreStats>, records: number, bytes: number, earliestExpiry: number }> = []
    for (const [i, { key, keyHex, incoming }] of groups.entries()) {
      const { stored, tally, dead } = states[i]
      // the key is being written anyway: drop its dead records in the same batch
      for (const { id, header } of dead) {
        this.removeOps(ops, recordKey(key, id), header, change)
      }

      let addedRecords = 0
      let addedBytes = 0
      let earliestExpiry = tally.earliestExpiry
      /** what the batch adds to each writer's live records and bytes under this key */
      const added = new Map<string, StoreStats>()
      for (const [idHex, record] of incoming) {
        const old = stored.get(idHex)?.header
        if (record.expiresAt <= now) {
          result.expired.push(record)
        } else if (old != null && old.expiresAt > now) {
          result.existing.push(record)
          if (record.expiresAt > old.expiresAt) {
            this.extendOps(ops, record, old)
          }
        } else {
          const size = storedSize(record.value.byteLength)
          const writer = writerOf(record)
          if (writer != null) {
            const writerHex = hex(writer)
            const subnet = heldBefore.get(writerHex)?.subnet ?? adopted.get(writerHex)
            const refusal = this.overShare(key, sum(tally.writers.get(writerHex), added.get(writerHex)), writers.get(writerHex), size) ??
              this.overSubnetShare(subnet, subnets, size)
            if (refusal != null) {
              if (skipOverShare) {
                result.overShare.push(record)
                continue
              }
              throw new QuotaExceededError(refusal)
            }
            addTo(added, writerHex, 1, size)
            addTo(writers, writerHex, 1, size)
            if (subnet != null) {
              addTo(subnets, subnet, 1, size)
            }
            addWriterChange(change, writerHex, 1, size)
          }
          result.added.push(record)
          this.addOps(ops, record, writer)
          addedRecords++
          addedBytes += size
          earliestExpiry = Math.min(earliestExpiry, record.expiresAt)
        }
      }

      if (addedRecords > 0) {
        if (tally.records + addedRecords > this.limits.maxRecordsPerKey) {
          throw new QuotaExceededError(`key ${shortHex(key)} would hold ${tally.records + addedRecords} records, over the limit of ${this.limits.maxRecordsPerKey}`)
        }
        if (tally.bytes + addedBytes > this.limits.maxBytesPerKey) {
          throw new QuotaExceededError(`key ${shortHex(key)} would hold ${tally.bytes + addedBytes} bytes, over the limit of ${this.limits.maxBytesPerKey}`)
        }
      }
      change.records += addedRecords
      change.bytes += addedBytes
      tallied.push({ key: keyHex, tally, added, records: addedRecords, bytes: addedBytes, earliestExpiry })
    }

    if (result.added.length > 0 && this.counts.bytes + change.bytes > this.limits.maxTotalBytes) {
      // expired records elsewhere may be what fills the store: sweep them, then plan again
      if (mayFreeSpace && await this.sweepAllLocked(now) > 0) {
        return await this.writeRecords(records, now, false, options)
      }
      throw new QuotaExceededError(`the store would hold ${this.counts.bytes + change.bytes} bytes, over the limit of ${this.limits.maxTotalBytes}`)
    }

    if (ops.length > 0) {
      await this.commit(ops, change, { writers: heldBefore, subnets: subnetsBefore, adopted })
      result.writtenBytes = result.added.reduce((bytes, record) => bytes + storedSize(record.value.byteLength), 0)
    }
    for (const { key, tally, added, records, bytes, earliestExpiry } of tallied) {
      for (const [writer, stats] of added) {
        tally.writers.set(writer, sum(tally.writers.get(writer), stats))
      }
      this.tallies.set(key, { records: tally.records + records, bytes: tally.bytes + bytes, writers: tally.writers, earliestExpiry })
    }
    return result
  }

  /**
   * A key's headers as a put needs them, and its live tally. With a tally kept, only the headers
   * of the incoming ids are read; otherwise (or should one of those have expired) all of the
   * key's, and those expired come back as `dead`, for the put to drop.
   */
  private async keyState ({ key, keyHex, incoming }: KeyGroup, now: number): Promise<{ stored: Map<string, StoredHeader>, tally: KeyTally, dead: StoredHeader[] }> {
    const kept = this.tallies.get(keyHex, now)
    if (kept != null) {
      const stored = await this.headersOf(key, [...incoming.values()].map(record => record.id))
      if ([...stored.values()].every(({ header }) => header.expiresAt > now)) {
        return { stored, tally: kept, dead: [] }
      }
    }
    const stored = await this.readHeaders(key)
    const tally: KeyTally = { records: 0, bytes: 0, writers: new Map(), earliestExpiry: Number.POSITIVE_INFINITY }
    const dead: StoredHeader[] = []
    for (const entry of stored.values()) {
      const { expiresAt, valueLength, writer } = entry.header
      if (expiresAt > now) {
        tally.records++
        tally.bytes += storedSize(valueLength)
        tally.earliestExpiry = Math.min(tally.earliestExpiry, expiresAt)
        if (writer != null) {
          addTo(tally.writers, hex(writer), 1, storedSize(valueLength))
        }
      } else {
        dead.push(entry)
      }
    }
    return { stored, tally, dead }
  }

  /**
   * The subnets the batch's writers count under and what their writers hold now (`subnets`, to be
   * added to as the batch is planned; `subnetsBefore`, as stored), and the writers of the batch
   * that count under no subnet yet adopted by the one they are named with: the one the put's
   * writer wrote from, or the one a neighbour's repair names for a record's writer. An adopted
   * writer's records held count for its subnet from then on.
   */
  private async subnetsOf (records: ChordRecord[], writers: ReadonlyMap<string, WriterStats>, options: StorePutOptions): Promise<{ subnets: Map<string, StoreStats>, subnetsBefore: Map<string, StoreStats>, adopted: Map<string, string> }> {
    const adopted = new Map<string, string>()
    const adopt = (writer: string, subnet: string | undefined): void => {
      if (subnet != null && writers.get(writer)?.subnet == null && !adopted.has(writer)) {
        adopted.set(writer, subnet)
      }
    }
    if (options.writer != null) {
      adopt(hex(options.writer), options.subnet)
    } else {
      for (const record of records) {
        if (record.writer != null) {
          adopt(hex(record.writer), record.writerSubnet)
        }
      }
    }
    const names = new Set([...writers.values()].flatMap(stats => stats.subnet == null ? [] : [stats.subnet]))
    adopted.forEach(subnet => names.add(subnet))
    const subnetsBefore = await this.subnetTotals(names)
    const subnets = new Map(subnetsBefore)
    adopted.forEach((subnet, writer) => {
      subnets.set(subnet, sum(subnets.get(subnet), writers.get(writer)))
    })
    return { subnets, subnetsBefore, adopted }
  }

  /** Why one more record of `size` bytes from a writer of `subnet` would take its writers past their share; undefined if it would not */
  private overSubnetShare (subnet: string | undefined, subnets: ReadonlyMap<string, StoreStats>, size: number): string | undefined {
    const held = subnet == null ? 0 : subnets.get(subnet)?.bytes ?? 0
    if (subnet != null && held + size > this.limits.maxBytesPerSubnet) {
      return `the writers of ${subnet} would hold ${held + size} bytes of the store, over their share of ${this.limits.maxBytesPerSubnet}`
    }
    return undefined
  }

  /**
   * Why one more record of `size` bytes would take a writer holding `inKey` of the key and
   * `inStore` of the store past its share; undefined if it would not
   */
  private overShare (key: Uint8Array, inKey: StoreStats, inStore: StoreStats | undefined, size: number): string | undefined {
    if (inKey.records + 1 > this.limits.maxRecordsPerWriterPerKey) {
      return `one writer would hold ${inKey.records + 1} records of key ${shortHex(key)}, over its share of ${this.limits.maxRecordsPerWriterPerKey}`
    }
    if (inKey.bytes + size > this.limits.maxBytesPerWriterPerKey) {
      return `one writer would hold ${inKey.bytes + size} bytes of key ${shortHex(key)}, over its share of ${this.limits.maxBytesPerWriterPerKey}`
    }
    if ((inStore?.bytes ?? 0) + size > this.limits.maxBytesPerWriter) {
      return `one writer would hold ${(inStore?.bytes ?? 0) + size} bytes of the store, over its share of ${this.limits.maxBytesPerWriter}`
    }
    return undefined
  }

  /** the stored headers of these ids of a key (each once, however often named), by id in hex */
  private async headersOf (key: Uint8Array, ids: Uint8Array[]): Promise<Map<string, StoredHeader>> {
    const unique = [...new Map(ids.map(id => [hex(id), id])).entries()]
    const found = await this.headers.getMany(unique.map(([, id]) => recordKey(key, id)))
    const stored = new Map<string, StoredHeader>()
    found.forEach((value, i) => {
      if (value != null) {
        const [idHex, id] = unique[i]
        stored.set(idHex, { id, header: parseHeader(value) })
      }
    })
    return stored
  }

  /** every stored header of a key, by id in hex */
  private async readHeaders (key: Uint8Array): Promise<Map<string, StoredHeader>> {
    const stored = new Map<string, StoredHeader>()
    // all() reads in batches: a key's records are few, and one await per record costs more than they do
    for (const [storedKey, value] of await this.headers.iterator(keyBounds(key)).all()) {
      const { id } = parseRecordKey(storedKey)
      stored.set(hex(id), { id, header: parseHeader(value) })
    }
    return stored
  }

  /** the records for these summaries, skipping any deleted since the summary was read */
  private async withValues (summaries: Array<RecordSummary & Pick<ChordRecord, 'writer'>>): Promise<ChordRecord[]> {
    if (summaries.length === 0) {
      return []
    }
    const values = await this.records.getMany(summaries.map(({ key, id }) => recordKey(key, id)))
    const subnets = await this.subnetsOfWriters(summaries)
    const out: ChordRecord[] = []
    summaries.forEach((summary, i) => {
      const value = values[i]
      const subnet = summary.writer == null ? undefined : subnets.get(hex(summary.writer))
      if (value != null) {
        out.push({ ...summary, value: plainBytes(value), ...(subnet == null ? {} : { writerSubnet: subnet }) })
      }
    })
    return out
  }

  /** The subnet each writer of `summaries` counts under, by writer in hex (those that count under one) */
  private async subnetsOfWriters (summaries: Array<Pick<ChordRecord, 'writer'>>): Promise<Map<string, string>> {
    const writers = [...new Set(summaries.flatMap(({ writer }) => writer == null ? [] : [hex(writer)]))]
    const saved = writers.length === 0 ? [] : await this.meta.getMany(writers.map(writerStatsKey))
    const subnets = new Map<string, string>()
    writers.forEach((writer, i) => {
      const subnet = saved[i] == null ? undefined : parseWriterStats(saved[i]).subnet
      if (subnet != null) {
        subnets.set(writer, subnet)
      }
    })
    return subnets
  }

  private async sweepAllLocked (now: number): Promise<number> {
    let removed = 0
    while (true) {
      const swept = await this.sweepBatch(now)
      removed += swept
      if (swept < SWEEP_BATCH_SIZE) {
        return removed
      }
    }
  }

  private async sweepBatch (now: number): Promise<number> {
    const ops: Operation[] = []
    const change = noChange()
    let removed = 0
    for await (const [stored, value] of this.expiry.iterator({ lt: expiredBound(now), limit: SWEEP_BATCH_SIZE })) {
      const { expiresAt, recordKey } = parseExpiryKey(stored)
      this.removeOps(ops, recordKey, { expiresAt, ...parseExpiryValue(value) }, change)
      removed++
    }
    if (removed > 0) {
      await this.commit(ops, change)
    }
    return removed
  }

  private addOps (ops: Operation[], record: ChordRecord, writer?: Uint8Array): void {
    const stored = recordKey(record.key, record.id)
    const header = { expiresAt: record.expiresAt, valueLength: record.value.byteLength, writer }
    ops.push(
      { type: 'put', sublevel: this.records, key: stored, value: record.value },
      { type: 'put', sublevel: this.headers, key: stored, value: encodeHeader(header) },
      { type: 'put', sublevel: this.expiry, key: expiryKey(record.expiresAt, record.key, record.id), value: encodeExpiryValue(header.valueLength, writer) }
    )
  }

  private extendOps (ops: Operation[], record: ChordRecord, old: RecordHeader): void {
    const header = { expiresAt: record.expiresAt, valueLength: old.valueLength, writer: old.writer }
    ops.push(
      { type: 'put', sublevel: this.headers, key: recordKey(record.key, record.id), value: encodeHeader(header) },
      { type: 'del', sublevel: this.expiry, key: expiryKey(old.expiresAt, record.key, record.id) },
      { type: 'put', sublevel: this.expiry, key: expiryKey(record.expiresAt, record.key, record.id), value: encodeExpiryValue(old.valueLength, old.writer) }
    )
  }

  private removeOps (ops: Operation[], stored: Uint8Array, header: RecordHeader, change: Change): void {
    const { key, id } = parseRecordKey(stored)
    this.tallies.forget(hex(key))
    ops.push(
      { type: 'del', sublevel: this.records, key: stored },
      { type: 'del', sublevel: this.headers, key: stored },
      { type: 'del', sublevel: this.expiry, key: expiryKey(header.expiresAt, key, id) }
    )
    change.records--
    change.bytes -= storedSize(header.valueLength)
    if (header.writer != null) {
      addWriterChange(change, hex(header.writer), -1, -storedSize(header.valueLength))
    }
  }

  /**
   * apply a batch and the counters it changes (the store's, each writer's, each subnet's as its
   * writers' change), atomically and durably; `known`: what was read already (the rest is read)
   */
  private async commit (ops: Operation[], change: Change, known: Known = {}): Promise<void> {
    const next = { records: this.counts.records + change.records, bytes: this.counts.bytes + change.bytes }
    ops.push({ type: 'put', sublevel: this.meta, key: STATS_KEY, value: encodeStats(next) })
    const before = new Map(known.writers)
    const unknown = [...change.writers.keys()].filter(writer => !before.has(writer))
    const saved = unknown.length === 0 ? [] : await this.meta.getMany(unknown.map(writerStatsKey))
    unknown.forEach((writer, i) => {
      before.set(writer, saved[i] == null ? { records: 0, bytes: 0 } : parseWriterStats(saved[i]))
    })
    /** how each subnet's totals change: its writers' change, and an adopted writer's records held */
    const subnetChanges = new Map<string, StoreStats>()
    for (const [writer, delta] of change.writers) {
      const held = before.get(writer)
      const after = sum(held, delta)
      const subnet = held?.subnet ?? known.adopted?.get(writer)
      const live = after.records > 0 && after.bytes > 0
      ops.push(live
        ? { type: 'put', sublevel: this.meta, key: writerStatsKey(writer), value: encodeWriterStats({ ...after, subnet }) }
        : { type: 'del', sublevel: this.meta, key: writerStatsKey(writer) })
      if (held?.subnet != null) {
        addTo(subnetChanges, held.subnet, -held.records, -held.bytes)
      }
      if (subnet != null && live) {
        addTo(subnetChanges, subnet, after.records, after.bytes)
      }
    }
    await this.subnetOps(ops, subnetChanges, known.subnets)
    await this.database.batch<BinaryKey, Uint8Array>(ops, DURABLE_BATCH)
    this.counts = next
  }

  /** the writes that bring the subnets' totals up to date by `changes`, from `known` or what is stored */
  private async subnetOps (ops: Operation[], changes: ReadonlyMap<string, StoreStats>, known: ReadonlyMap<string, StoreStats> = new Map()): Promise<void> {
    const before = new Map([...known, ...await this.subnetTotals([...changes.keys()].filter(subnet => !known.has(subnet)))])
    for (const [subnet, delta] of changes) {
      const after = sum(before.get(subnet), delta)
      ops.push(after.records > 0 && after.bytes > 0
        ? { type: 'put', sublevel: this.meta, key: subnetStatsKey(subnet), value: encodeStats(after) }
        : { type: 'del', sublevel: this.meta, key: subnetStatsKey(subnet) })
    }
  }

  private async exclusive<T> (task: () => Promise<T>): Promise<T> {
    this.assertOpen()
    const run = this.writes.then(task)
    this.writes = run.catch(() => {})
    return await run
  }

  private assertOpen (): void {
    if (this.state !== 'open') {
      throw new NotStartedError(`the record store is ${this.state === 'new' ? 'not open yet' : 'closed'}`)
    }
  }
}

function addWriterChange (change: Change, writer: string, records: number, bytes: number): void {
  addTo(change.writers, writer, records, bytes)
}

function addTo (counts: Map<string, StoreStats>, name: string, records: number, bytes: number): void {
  counts.set(name, sum(counts.get(name), { records, bytes }))
}

function sum (a: StoreStats | undefined, b: StoreStats | undefined): StoreStats {
  return { records: (a?.records ?? 0) + (b?.records ?? 0), bytes: (a?.bytes ?? 0) + (b?.bytes ?? 0) }
}

interface KeyGroup {
  key: Uint8Array
  keyHex: string
  incoming: Map<string, ChordRecord>
}

/** records grouped by key, one per id (the latest expiry wins when a batch repeats a record) */
function groupByKey (records: ChordRecord[]): KeyGroup[] {
  const groups = new Map<string, KeyGroup>()
  for (const record of records) {
    const keyHex = hex(record.key)
    let group = groups.get(keyHex)
    if (group == null) {
      group = { key: record.key, keyHex, incoming: new Map() }
      groups.set(keyHex, group)
    }
    const idHex = hex(record.id)
    const seen = group.incoming.get(idHex)
    if (seen == null || record.expiresAt > seen.expiresAt) {
      group.incoming.set(idHex, record)
    }
  }
  return [...groups.values()]
}

const HEX_OCTETS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** map keys for ids and positions; hand-rolled because it runs for every header a put reads */
function hex (bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) {
    out += HEX_OCTETS[b]
  }
  return out
}

function shortHex (bytes: Uint8Array): string {
  return hex(bytes).slice(0, 16) + '…'
}
