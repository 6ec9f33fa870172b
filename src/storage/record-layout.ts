/**
 * How records are laid out in LevelDB. Keys are fixed-width big-endian binary, so LevelDB's
 * byte order is ring order (and time order for the expiry index), and a ring interval or
 * "everything expired by now" is one iterator range rather than a scan.
 *
 *   records  position(32) ‖ id(32)                  →  value
 *   headers  position(32) ‖ id(32)                  →  expiresAt(u64) ‖ value length(u32) [‖ writer(8)]
 *   expiry   expiresAt(u64) ‖ position(32) ‖ id(32)  →  value length(u32) [‖ writer(8)]
 *   meta     "record-stats"                         →  records(u64) ‖ bytes(u64)
 *   meta     "writer/" ‖ writer in hex              →  records(u64) ‖ bytes(u64) [‖ subnet (utf-8)]
 *   meta     "subnet/" ‖ subnet (CIDR)              →  records(u64) ‖ bytes(u64)
 *
 * Headers are apart from values so that quota checks, anti-entropy summaries and digests read a
 * few bytes per record instead of every value. The expiry index repeats the value length so a
 * sweep can keep the byte count without reading what it deletes. All integers are big-endian.
 *
 * A record stored for another peer (not the node itself, nor a ring neighbour replicating to it)
 * carries its writer: 8 bytes naming that peer, so that each writer's share of a key and of the
 * store can be counted and capped. The expiry index repeats it, and the writer's totals are kept
 * in `meta`, updated in the same batch as the records, so a sweep or a deletion gives a writer its
 * share back without reading headers. Records without a writer have the shorter values (the only
 * form before writers were counted), and both forms are read.
 *
 * A writer that wrote from a subnet (not over loopback), or that a ring neighbour names with one,
 * is counted under the first such subnet, for as long as it holds records: its totals name that subnet, and the
 * subnet's totals (the sum of its writers') are kept beside them in the same batches, so that the
 * identities of one subnet together hold at most the subnet's share of the store. Writer totals
 * without a subnet (the only form before subnets were counted) are read as counted under none.
 */
import { concat } from 'uint8arrays/concat'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { ID_BYTES, ringIdToBytes } from '../chord/id.js'
import { WRITER_BYTES } from '../chord/record.js'
import type { RingId } from '../chord/id.js'
import type { StoreStats } from '../chord/record.js'

const U64_BYTES = 8
const U32_BYTES = 4
const RECORD_KEY_BYTES = 2 * ID_BYTES
const EXPIRY_KEY_BYTES = U64_BYTES + RECORD_KEY_BYTES

export const STATS_KEY = 'record-stats'

const HEADER_BYTES = U64_BYTES + U32_BYTES

export { WRITER_BYTES }

/** The meta key under which a writer's totals are kept */
export function writerStatsKey (writer: string): string {
  return `writer/${writer}`
}

/** The meta key under which the totals of a subnet's writers are kept */
export function subnetStatsKey (subnet: string): string {
  return `subnet/${subnet}`
}

/**
 * What a record costs on disk besides its value: its three keys and the index values. Counted
 * in every quota so that many tiny records are not free.
 */
export const RECORD_OVERHEAD_BYTES = 2 * RECORD_KEY_BYTES + HEADER_BYTES + EXPIRY_KEY_BYTES + U32_BYTES

export function storedSize (valueLength: number): number {
  return valueLength + RECORD_OVERHEAD_BYTES
}

export function recordKey (position: Uint8Array, id: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_KEY_BYTES)
  out.set(position, 0)
  out.set(id, ID_BYTES)
  return out
}

export function parseRecordKey (bytes: Uint8Array): { key: Uint8Array, id: Uint8Array } {
  return { key: view(bytes, 0, ID_BYTES), id: view(bytes, ID_BYTES, RECORD_KEY_BYTES) }
}

export interface RecordHeader {
  expiresAt: number
  valueLength: number
  /** who the record was stored for, WRITER_BYTES; none for the node's own and its neighbours' */
  writer?: Uint8Array
}

export function encodeHeader (header: RecordHeader): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + (header.writer == null ? 0 : WRITER_BYTES))
  writeU64(out, 0, header.expiresAt)
  new DataView(out.buffer).setUint32(U64_BYTES, header.valueLength)
  if (header.writer != null) {
    out.set(header.writer, HEADER_BYTES)
  }
  return out
}

export function parseHeader (bytes: Uint8Array): RecordHeader {
  const header: RecordHeader = { expiresAt: readU64(bytes, 0), valueLength: readU32(bytes, U64_BYTES) }
  if (bytes.byteLength >= HEADER_BYTES + WRITER_BYTES) {
    header.writer = view(bytes, HEADER_BYTES, HEADER_BYTES + WRITER_BYTES)
  }
  return header
}

export function expiryKey (expiresAt: number, position: Uint8Array, id: Uint8Array): Uint8Array {
  const out = new Uint8Array(EXPIRY_KEY_BYTES)
  writeU64(out, 0, expiresAt)
  out.set(position, U64_BYTES)
  out.set(id, U64_BYTES + ID_BYTES)
  return out
}

export function parseExpiryKey (bytes: Uint8Array): { expiresAt: number, recordKey: Uint8Array } {
  return { expiresAt: readU64(bytes, 0), recordKey: view(bytes, U64_BYTES, EXPIRY_KEY_BYTES) }
}

/** The expiry index's value: the record's value length and, if it has one, its writer */
export function encodeExpiryValue (length: number, writer?: Uint8Array): Uint8Array {
  const out = new Uint8Array(U32_BYTES + (writer == null ? 0 : WRITER_BYTES))
  new DataView(out.buffer).setUint32(0, length)
  if (writer != null) {
    out.set(writer, U32_BYTES)
  }
  return out
}

export function parseExpiryValue (bytes: Uint8Array): { valueLength: number, writer?: Uint8Array } {
  const valueLength = readU32(bytes, 0)
  return bytes.byteLength >= U32_BYTES + WRITER_BYTES ? { valueLength, writer: view(bytes, U32_BYTES, U32_BYTES + WRITER_BYTES) } : { valueLength }
}

/** The exclusive upper bound of expiry keys for records expired at `now` (expiresAt <= now) */
export function expiredBound (now: number): Uint8Array {
  const out = new Uint8Array(U64_BYTES)
  writeU64(out, 0, now + 1)
  return out
}

/**
 * The largest record key at a ring position. As the lower bound `gt` it excludes the position
 * itself; as the upper bound `lte` it includes it: exactly the half-open (from, to] of Chord.
 */
export function lastKeyAt (position: RingId): Uint8Array {
  const out = new Uint8Array(RECORD_KEY_BYTES).fill(0xff)
  out.set(ringIdToBytes(position), 0)
  return out
}

/** Bounds of every record key under one position */
export function keyBounds (position: Uint8Array): { gte: Uint8Array, lte: Uint8Array } {
  const gte = new Uint8Array(RECORD_KEY_BYTES)
  gte.set(position, 0)
  const lte = new Uint8Array(RECORD_KEY_BYTES).fill(0xff)
  lte.set(position, 0)
  return { gte, lte }
}

const STATS_BYTES = 2 * U64_BYTES

export function encodeStats (stats: StoreStats): Uint8Array {
  const out = new Uint8Array(STATS_BYTES)
  writeU64(out, 0, stats.records)
  writeU64(out, U64_BYTES, stats.bytes)
  return out
}

export function parseStats (bytes: Uint8Array): StoreStats {
  return { records: readU64(bytes, 0), bytes: readU64(bytes, U64_BYTES) }
}

/** A writer's totals, and the subnet they are counted under, if any */
export interface WriterStats extends StoreStats {
  subnet?: string
}

export function encodeWriterStats (stats: WriterStats): Uint8Array {
  const counts = encodeStats(stats)
  return stats.subnet == null ? counts : concat([counts, fromString(stats.subnet)])
}

export function parseWriterStats (bytes: Uint8Array): WriterStats {
  const stats = parseStats(bytes)
  return bytes.byteLength > STATS_BYTES ? { ...stats, subnet: toString(view(bytes, STATS_BYTES, bytes.byteLength)) } : stats
}

// u64 as two u32 halves: no BigInt on the hot path (values stay below 2^53: ms timestamps, counts)
function writeU64 (out: Uint8Array, offset: number, n: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  view.setUint32(offset, Math.floor(n / 2 ** 32))
  view.setUint32(offset + 4, n % 2 ** 32)
}

function readU64 (bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return view.getUint32(offset) * 2 ** 32 + view.getUint32(offset + 4)
}

function readU32 (bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset)
}

function view (bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start)
}
