/**
 * Ids of mailbox envelopes their owner acknowledged. A replica that was away when the deletion
 * went round may still hold a copy and offer it back (anti-entropy, handoff); the tombstone makes
 * every other node refuse it. A tombstone lives as long as the envelope could have, then is swept.
 */
import { toString as toHex } from 'uint8arrays/to-string'
import { QuotaExceededError } from '../errors.js'
import { DURABLE, SUBLEVELS } from '../storage/database.js'
import type { NodeDatabase } from '../storage/database.js'
import type { ChordRecord } from '../storage/store.js'
import type { AbstractBatchOptions, AbstractSublevel } from 'abstract-level'

/**
 * Tombstones kept at most (about 50 bytes each, so a few MiB). Only owners create them, a page of
 * ids at a time; the cap stops one owner from filling a node's disk with deletions of ids that
 * never existed.
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

  /** Remember `ids` as deleted until `expiresAt`; durable before it resolves */
  async add (ids: Uint8Array[], expiresAt: number, now: number): Promise<void> {
    const fresh = ids.map(id => toHex(id, 'base16')).filter(id => !this.live.has(id))
    if (this.live.size + fresh.length > MAX_TOMBSTONES) {
      await this.sweep(now)
    }
    if (this.live.size + fresh.length > MAX_TOMBSTONES) {
      throw new QuotaExceededError(`more than ${MAX_TOMBSTONES} deletions are remembered`)
    }
    await this.ids.batch(fresh.map(id => ({ type: 'put', key: id, value: expiresAt })), DURABLE as AbstractBatchOptions<string, number>)
    for (const id of fresh) {
      this.live.set(id, expiresAt)
    }
  }

  /** The records whose ids were not deleted */
  admit (records: ChordRecord[]): ChordRecord[] {
    return records.filter(record => !this.live.has(toHex(record.id, 'base16')))
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
