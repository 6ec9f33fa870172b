/**
 * Records and summaries as the wire carries them. Decoding (with validation) is in
 * src/protocol/validate.ts; the id is never sent, the receiver computes it.
 */
import { wireBytes } from './ring-id.js'
import type { Record as WireRecord, RecordSummary as WireSummary } from '../protocol/generated/chord.js'
import type { ChordRecord, RecordSummary } from '../chord/record.js'

export function toWireRecord (record: ChordRecord): WireRecord {
  return { key: wireBytes(record.key), value: wireBytes(record.value), expiresAt: record.expiresAt }
}

export function toWireSummary (summary: RecordSummary): WireSummary {
  return { key: wireBytes(summary.key), id: wireBytes(summary.id), expiresAt: summary.expiresAt }
}
