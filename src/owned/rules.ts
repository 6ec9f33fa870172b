/**
 * The owned namespace's rules, applied to every record a node is to keep there, whoever sends it
 * (a peer's STORE, a repair, the node's own publish):
 *
 * - the value must be an owned record in its canonical encoding, stored under ownedKey(owner,
 *   name), signed by its owner; its lifetime is the one the owner signed (cut to the node's
 *   maximum), whatever the carrying message says
 * - of each (owner, name) only the newest is kept: one that does not supersede the record held is
 *   stale and left out, and the one it supersedes is deleted once it is stored
 * - nothing is ever deleted on request: DELETE is refused, records expire
 *
 * Reads are open: an owned record is public, and any reader checks its signature itself.
 */
import { toString as toHex } from 'uint8arrays/to-string'
import { equals } from 'uint8arrays/equals'
import { InvalidRecordError, StaleRecordError } from '../errors.js'
import { decodeOwnedRecord, ownedKey, supersedes, verifyOwnedRecord } from './record.js'
import type { OwnedRecord } from './record.js'
import type { ChordRecord, RecordStore } from '../chord/record.js'
import type { Admission } from '../chord/replication.js'

export class OwnedAdmission {
  constructor (private readonly store: RecordStore, private readonly now: () => number = Date.now) {}

  /**
   * What of `records` the namespace keeps, and what that supersedes. Runs one batch at a time
   * (the replication serializes this namespace's writes), so what it reads is what the write finds.
   *
   * @throws InvalidRecordError for a value that is not a well-formed owned record of its key
   * @throws VerificationError for a record its owner did not sign
   * @throws StaleRecordError when every record is older than the one held
   */
  async admit (records: ChordRecord[]): Promise<Admission> {
    const admitted: ChordRecord[] = []
    const superseded: Admission['superseded'] = []
    let stale = 0
    for (const group of byKey(records)) {
      const held = await this.held(group.key)
      const heldIds = new Set(held.map(({ record }) => toHex(record.id, 'base16')))
      let newest: { record: ChordRecord, owned: OwnedRecord } | undefined
      for (const record of group.records) {
        if (heldIds.has(toHex(record.id, 'base16'))) {
          // already here, checked when it came: the store extends its lifetime if need be
          admitted.push(record)
          continue
        }
        const owned = decodeOwnedRecord(record.value)
        if (!equals(ownedKey(owned.owner, owned.name), record.key)) {
          throw new InvalidRecordError('an owned record is stored under ownedKey(owner, name) only')
        }
        await verifyOwnedRecord(owned)
        if (newest == null || supersedes(owned, newest.owned)) {
          newest = { record: { ...record, expiresAt: owned.expiresAt }, owned }
        }
      }
      if (newest == null) {
        continue
      }
      if (held.some(({ owned }) => !supersedes(newest.owned, owned))) {
        stale++
        continue
      }
      admitted.push(newest.record)
      if (held.length > 0) {
        superseded.push({ key: group.key, ids: held.map(({ record }) => record.id) })
      }
    }
    if (admitted.length === 0 && stale > 0) {
      throw new StaleRecordError('the node holds a newer record of this owner and name')
    }
    return { records: admitted, superseded }
  }

  /** The live records held under `key` (checked when they came), decoded */
  private async held (key: Uint8Array): Promise<Array<{ record: ChordRecord, owned: OwnedRecord }>> {
    const held: Array<{ record: ChordRecord, owned: OwnedRecord }> = []
    for (const record of await this.store.get(key, { now: this.now() })) {
      try {
        held.push({ record, owned: decodeOwnedRecord(record.value) })
      } catch {
        // not one of ours (a store written by other code): it supersedes nothing
      }
    }
    return held
  }
}

function byKey (records: ChordRecord[]): Array<{ key: Uint8Array, records: ChordRecord[] }> {
  const groups = new Map<string, { key: Uint8Array, records: ChordRecord[] }>()
  for (const record of records) {
    const hex = toHex(record.key, 'base16')
    const group = groups.get(hex) ?? { key: record.key, records: [] }
    group.records.push(record)
    groups.set(hex, group)
  }
  return [...groups.values()]
}
