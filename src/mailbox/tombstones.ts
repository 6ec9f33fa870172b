/**
 * Mailbox envelopes their owner acknowledged, by mailbox key and id. A replica that was away
 * when the deletion went round may still hold a copy and offer it back (anti-entropy, handoff);
 * the tombstone makes every other node refuse it. A tombstone lives as long as its envelope
 * would have, then is swept.
 */
import { toString as toHex } from 'uint8arrays/to-string'
import { QuotaExceededError } from '../errors.js'
import { DURABLE, SUBLEVELS } from '../storage/database.js'
import type { NodeDatabase } from '../storage/database.js'
import type { ChordRecord } from '../storage/store.js'
import type { AbstractBatchOptions, AbstractSublevel } from 'abstract-level'

/**
 * Tombstones kept at most (about 150 bytes each, so about 15 MiB). Only envelopes a node holds
 * are tombstoned, so their number follows the mailbox store's own quotas; this is a last bound.
 */
export const MAX_TOMBSTONES = 100_000

type TombstoneSublevel = AbstractSublevel<NodeDatabase, string | Uint8Array, string, number>

export class Tombstones {
  private readonly ids: TombstoneSublevel
  private readonly live = new Map<string, number>()

  private constructor (ids: TombstoneSublevel) {
    this.ids = ids
  }

  /** Opens the tombstones kept in `database`, all of them read into memory (they are few and small) */
  static async open (database: NodeDatabase): Promise<Tombstones> {
    const tombstones = new Tombstones(database.sublevel<string, number>(SUBLEVELS.tombstones, { valueEncoding: 'json' }))
    for await (const [id, expiresAt] of tombstones.ids.iterator()) {
      tombstones.live.set(id, expiresAt)
    }
    return tombstones
  }

  get size (): number {
    return this.live.size
  }

  /** Remember `records` as deleted until they would have expired; durable before it resolves */
  async add (records: ChordRecord[], now: number): Promise<void> {
    const fresh = records.filter(record => !this.live.has(tombstoneKey(record)))
    if (this.live.size + fresh.length > MAX_TOMBSTONES) {
      await this.sweep(now)
    }
    if (this.live.size + fresh.length > MAX_TOMBSTONES) {
      throw new QuotaExceededError(`more than ${MAX_TOMBSTONES} deletions are remembered`)
    }
    await this.ids.batch(fresh.map(record => ({ type: 'put', key: tombstoneKey(record), value: record.expiresAt })), DURABLE as AbstractBatchOptions<string, number>)
    for (const record of fresh) {
      this.live.set(tombstoneKey(record), record.expiresAt)
    }
  }

  /** The records that were not deleted */
  admit (records: ChordRecord[]): ChordRecord[] {
    return records.filter(record => !this.live.has(tombstoneKey(record)))
  }

  /** Forget tombstones whose envelopes would have expired by now */
  async sweep (now: number): Promise<void> {
    const expired = [...this.live].filter(([, expiresAt]) => expiresAt <= now).map(([id]) => id)
    await this.ids.batch(expired.map(id => ({ type: 'del', key: id })))
    for (const id of expired) {
      this.live.delete(id)
    }
  }
}

/** A tombstone names one envelope of one mailbox: deleting in one mailbox never touches another */
function tombstoneKey (record: { key: Uint8Array, id: Uint8Array }): string {
  return toHex(record.key, 'base16') + toHex(record.id, 'base16')
}
