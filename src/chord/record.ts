/**
 * Records and the store the core keeps them in: the port that `src/storage/` implements.
 *
 * A key holds a *set* of records, each identified by the hash of its value, so storing the same
 * value twice is one record. Every record expires; an expired record is never returned, and is
 * removed from disk by `sweepExpired` (or when its key is next written).
 */
import { equals } from 'uint8arrays/equals'
import { toString as toHex } from 'uint8arrays/to-string'
import { InvalidRecordError } from '../errors.js'
import { ID_BYTES, ringIdToBytes, sha256 } from './id.js'
import type { RingId } from './id.js'

/** Bytes that name a record's writer: the first bytes of the writer's ring id (sha256 of its PeerId) */
export const WRITER_BYTES = 8

/** The writer tag of a remote node: what its share of a node's keys and store is counted under */
export function writerTag (node: { id: RingId }): Uint8Array {
  return ringIdToBytes(node.id).subarray(0, WRITER_BYTES)
}

export interface ChordRecord {
  /** the ring position of the user's key: sha256(user key bytes), 32 bytes */
  key: Uint8Array
  value: Uint8Array
  /** sha256(value), 32 bytes */
  id: Uint8Array
  /** ms since the epoch; the record is live while `now < expiresAt` */
  expiresAt: number
  /**
   * Who the record was stored for, as the node holding it counts it (8 bytes naming a remote
   * peer; none for records a node wrote itself): what its share of keys and stores is charged
   * with. Ring neighbours pass it on with the records they replicate (STORE, and FETCH answers
   * to one another), so a copy counts for the writer wherever it lands; a stranger never sees it.
   */
  writer?: Uint8Array
  /**
   * The subnet (CIDR) `writer` counts under on the node holding the record, if any: passed on
   * with the writer between ring neighbours, so that a copy counts for the writer's subnet too
   * where the writer never wrote itself
   */
  writerSubnet?: string
  /**
   * A proof of work that travels with the record in a STORE and is never stored: what a mailbox
   * under pressure may ask of a sender (see mailbox/stamp.ts)
   */
  stamp?: Uint8Array
}

/** What anti-entropy exchanges about a record before deciding to send its value */
export interface RecordSummary {
  key: Uint8Array
  id: Uint8Array
  expiresAt: number
}

/** A fingerprint of the live records in a ring interval: equal sets give equal digests */
export interface RangeDigest {
  count: number
  /** sha256 over key ‖ id of every record, in ring order from the start of the interval */
  hash: Uint8Array
}

export interface StorePutResult {
  /** stored for the first time */
  added: ChordRecord[]
  /** already present (its expiry was extended if the new one was later) */
  existing: ChordRecord[]
  /** had expired before the put: not stored */
  expired: ChordRecord[]
  /** over their writer's share, left out (with `overShare: 'skip'`) */
  overShare: ChordRecord[]
  /** bytes the quotas count that the put added to the store: what it cost the disk */
  writtenBytes: number
}

export interface StoreStats {
  /** records on disk, including expired ones not yet swept */
  records: number
  /** bytes the quotas count: values plus a fixed per-record overhead */
  bytes: number
}

/** The current time, injectable so that expiry can be tested without waiting */
export interface AtTime {
  /** ms since the epoch; default `Date.now()` */
  now?: number
}

export interface StorePutOptions extends AtTime {
  /**
   * Who the records are stored for (8 bytes naming a remote peer), whatever writer they carry:
   * what they add counts against that writer's share of each key and of the store. Without it,
   * each record counts for the writer it carries, if any (a neighbour's repair).
   */
  writer?: Uint8Array
  /**
   * The subnet (CIDR) `writer` wrote from: the writers of one subnet together hold at most the
   * store's `maxBytesPerSubnet`. A writer counts under the first subnet it wrote from, for as long
   * as it holds records. Without it (loopback, the node's own writes) the records count under
   * the writer's subnet if it has one, else against the writer's share alone. A neighbour's repair
   * names each record's writer's subnet in the record (`writerSubnet`) instead.
   */
  subnet?: string
  /**
   * 'refuse' (default): a record over its writer's share refuses the whole batch. 'skip': it is
   * left out and the rest stored (repairs, where one writer's excess must not hold up others' records)
   */
  overShare?: 'refuse' | 'skip'
}

/**
 * The records one range scan reads, counted as it reads them (expired ones too: reading them
 * costs the same), and at most how many it may read: what a node charges the asker it scans for
 */
export interface ScanTally {
  /**
   * records the scan may read; once it has read as many, the range holds at least that many and
   * the scan fails with TooLargeError, reading no more. Default: no limit
   */
  limit?: number
  /** records read so far */
  read: number
}

export interface ScanOptions extends AtTime {
  /** counts what the scan reads, and caps it */
  tally?: ScanTally
}

export interface StoreReadOptions extends AtTime {
  /** give each record the writer it is counted for (to pass on to a neighbour); default: not */
  withWriters?: boolean
}

/** Which of a key's records one `page` holds */
export interface StorePageOptions extends AtTime {
  /** only ids after this one, in byte order (the previous page's `next`); default from the first */
  after?: Uint8Array
  /** most records */
  maxRecords: number
  /** most bytes of values, but for the page's first record, which is always taken */
  maxBytes: number
}

/** One page of a key's records */
export interface StorePage {
  records: ChordRecord[]
  /** the `after` of the next page; none when no live record follows */
  next?: Uint8Array
  /** records read to cut the page (the headers from `after` to one past the page, values of the page only): its cost */
  scanned: number
}

export interface RecordStore {
  /**
   * Store records in one atomic batch that is on disk when the promise resolves. If any quota
   * would be exceeded (the writer's share included), throws `QuotaExceededError` and writes
   * nothing; records already expired are skipped and reported, not an error (they may have
   * expired in transit).
   */
  put(records: ChordRecord[], options?: StorePutOptions): Promise<StorePutResult>

  /** The live records of a key (a 32-byte ring position) */
  get(key: Uint8Array, options?: StoreReadOptions): Promise<ChordRecord[]>

  /**
   * Some of a key's live records, in id order: what a reader takes that must not hold a whole
   * key's values at once (a mailbox subscription's backlog, written to a slow reader)
   */
  page(key: Uint8Array, options: StorePageOptions): Promise<StorePage>

  /**
   * Which of `ids` a key holds live, without their values: what a check of a few ids needs,
   * whatever else the key holds
   */
  held(key: Uint8Array, ids: Uint8Array[], options?: AtTime): Promise<RecordSummary[]>

  /**
   * Live records whose key lies in the ring interval (from, to], in ring order starting after
   * `from`; `from === to` is the whole ring.
   */
  range(from: RingId, to: RingId, options?: StoreReadOptions): AsyncIterable<ChordRecord>

  /** Like `range` without reading values: what anti-entropy compares */
  summaries(from: RingId, to: RingId, options?: ScanOptions): AsyncIterable<RecordSummary>

  /** Digest of the live records in (from, to] */
  digest(from: RingId, to: RingId, options?: ScanOptions): Promise<RangeDigest>

  /** Remove records of a key by id, durably; resolves to how many were present */
  delete(key: Uint8Array, ids: Uint8Array[]): Promise<number>

  /** Remove every expired record from disk; resolves to how many were removed */
  sweepExpired(options?: AtTime): Promise<number>

  stats(): StoreStats

  close(): Promise<void>
}

/** A record for `value` under the ring position `key`, with its id computed */
export function createRecord (key: Uint8Array, value: Uint8Array, expiresAt: number): ChordRecord {
  validateKey(key)
  validateExpiry(expiresAt)
  return { key, value, id: sha256(value), expiresAt }
}

/**
 * Checks what a store relies on: fixed-length key and id, an id that really is the value's hash
 * (otherwise one value could shadow another in the set), and a representable expiry.
 */
export function validateRecord (record: ChordRecord): void {
  validateKey(record.key)
  validateId(record.id)
  validateExpiry(record.expiresAt)
  if (!equals(sha256(record.value), record.id)) {
    throw new InvalidRecordError('a record id must be the sha256 of its value')
  }
}

/** A record key is a ring position: exactly 32 bytes */
export function validateKey (key: Uint8Array): void {
  if (key.byteLength !== ID_BYTES) {
    throw new InvalidRecordError(`a record key is ${ID_BYTES} bytes, got ${key.byteLength}`)
  }
}

/** A record id is a sha256: exactly 32 bytes */
export function validateId (id: Uint8Array): void {
  if (id.byteLength !== ID_BYTES) {
    throw new InvalidRecordError(`a record id is ${ID_BYTES} bytes, got ${id.byteLength}`)
  }
}

/** Expiry is ms since the epoch: a non-negative integer that the on-disk layout can hold */
export function validateExpiry (expiresAt: number): void {
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw new InvalidRecordError(`expiresAt must be a non-negative integer, got ${expiresAt}`)
  }
}

/** The ids of `records`, by their key: what a store deletes them by */
export function groupIds (records: ChordRecord[]): Array<{ key: Uint8Array, ids: Uint8Array[] }> {
  const byKey = new Map<string, { key: Uint8Array, ids: Uint8Array[] }>()
  for (const record of records) {
    const hex = toHex(record.key, 'base16')
    const group = byKey.get(hex) ?? { key: record.key, ids: [] }
    group.ids.push(record.id)
    byKey.set(hex, group)
  }
  return [...byKey.values()]
}
