/**
 * Records, summaries and owner-signed deletions as the wire carries them. Decoding (with
 * validation) is in validate.ts; a record's id is never sent, the receiver computes it.
 */
import { wireBytes } from './ring-id.js'
import type { Deletion as WireDeletion, Record as WireRecord, RecordSummary as WireSummary } from '../protocol/generated/chord.js'
import type { ChordRecord, RecordSummary } from '../chord/record.js'
import type { SignedDeletion } from '../chord/rpc.js'

/** A record on the wire, without its writer: who wrote a record is nobody else's business */
export function toWireRecord (record: ChordRecord): WireRecord {
  return { key: wireBytes(record.key), value: wireBytes(record.value), expiresAt: record.expiresAt }
}

/**
 * A record with the writer it is counted for (and that writer's subnet), if it has one: in a STORE, and in a FETCH answer to
 * a ring neighbour (what the namespace answers a stranger has no writer); and with its stamp, if
 * a sender made one for a STORE
 */
export function toStoredWireRecord (record: ChordRecord): WireRecord {
  const wire = toWireRecord(record)
  if (record.writer != null) {
    wire.writer = wireBytes(record.writer)
    if (record.writerSubnet != null) {
      wire.writerSubnet = record.writerSubnet
    }
  }
  if (record.stamp != null) {
    wire.stamp = wireBytes(record.stamp)
  }
  return wire
}

export function toWireSummary (summary: RecordSummary): WireSummary {
  return { key: wireBytes(summary.key), id: wireBytes(summary.id), expiresAt: summary.expiresAt }
}

/** A deletion's fields, as a DELETE carries them and as a `Deletion` message does */
export function toWireDeletion (deletion: SignedDeletion): WireDeletion {
  return {
    key: wireBytes(deletion.key),
    ids: deletion.ids.map(wireBytes),
    owner: wireBytes(deletion.owner),
    signedAt: deletion.signedAt,
    signature: wireBytes(deletion.signature)
  }
}
