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
import type { ChordRecord } from '../chord/record.js'
import type { AbstractBatchOptions, AbstractSublevel } from 'abstract-level'

/**
 * Tombstones kept at most (about 150 bytes each, so about 15 MiB). Only envelopes a node holds
 * are tombstoned, so their number follows the mailbox store's own quotas; this is a last bound.
 */
export const MAX_TOMBSTONES = 100_000

/**
 * Tombstones one mailbox may hold for envelopes the node did not have when their deletion came
 * (an acknowledgement can overtake the envelope's own write to a replica). As many as a mailbox
 * can hold envelopes; past it such ids are not remembered, so no owner can crowd out others.
 */
export const MAX_UNHELD_TOMBSTONES_PER_MAILBOX = 1024

type TombstoneSublevel = AbstractSublevel<NodeDatabase, string | Uint8Array, string, number>

export class Tombstones {
  private readonly ids: TombstoneSublevel
  private readonly live = new Map<string, number>()
  /** mailbox key (hex) → its tombstones */
  private readonly perMailbox = new Map<string, number>()

  /** The tombstones kept in `database`; none is known until `open` has read them */
  constructor (database: NodeDatabase) {
    this.ids = database.sublevel<string, number>(SUBLEVELS.tombstones, { valueEncoding: 'json' })
  }

  /** Read every tombstone into memory (they are few and small) */
  async open (): Promise<void> {
    // closed with the database, not reopened with it (see LevelRecordStore.open)
    await this.ids.open()
    for await (const [id, expiresAt] of this.ids.iterator()) {
      this.remember(id, expiresAt)
    }
  }

  get size (): number {
    return this.live.size
  }

  /** Remember envelopes this node held as deleted until they would have expired; durable before it resolves */
  async add (records: Tombstone[], now: number): Promise<void> {
    const fresh = records.filter(record => !this.live.has(tombstoneKey(record)))
    if (this.live.size + fresh.length > MAX_TOMBSTONES) {
      await this.sweep(now)
    }
    if (this.live.size + fresh.length > MAX_TOMBSTONES) {
      throw new QuotaExceededError(`more than ${MAX_TOMBSTONES} deletions are remembered`)
    }
    await this.write(fresh)
  }

  /**
   * Remember ids deleted before their envelope reached this node, as far as the mailbox's
   * allowance (MAX_UNHELD_TOMBSTONES_PER_MAILBOX) and the total cap leave room; the rest are let go
   */
  async addIfRoom (records: Tombstone[]): Promise<void> {
    const fresh: Tombstone[] = []
    for (const record of records) {
      const mailbox = toHex(record.key, 'base16')
      const used = (this.perMailbox.get(mailbox) ?? 0) + fresh.filter(r => toHex(r.key, 'base16') === mailbox).length
      if (!this.live.has(tombstoneKey(record)) && used < MAX_UNHELD_TOMBSTONES_PER_MAILBOX && this.live.size + fresh.length < MAX_TOMBSTONES) {
        fresh.push(record)
      }
    }
    await this.write(fresh)
  }

  /** The records that were not deleted */
  admit (records: ChordRecord[]): ChordRecord[] {
    return records.filter(record => !this.live.has(tombstoneKey(record)))
  }

  /** Whether every envelope a deletion names is tombstoned here already (then it changes nothing) */
  covers (deletion: { key: Uint8Array, ids: Uint8Array[] }): boolean {
    return deletion.ids.every(id => this.live.has(tombstoneKey({ key: deletion.key, id })))
  }

  /** When the last tombstone of the envelopes a deletion names expires; undefined when none is tombstoned */
  lastExpiryOf (deletion: { key: Uint8Array, ids: Uint8Array[] }): number | undefined {
    const expiries = deletion.ids.flatMap(id => this.live.get(tombstoneKey({ key: deletion.key, id })) ?? [])
    return expiries.length === 0 ? undefined : Math.max(...expiries)
  }

  /** Forget tombstones whose envelopes would have expired by now */
  async sweep (now: number): Promise<void> {
    const expired = [...this.live].filter(([, expiresAt]) => expiresAt <= now).map(([id]) => id)
    await this.ids.batch(expired.map(id => ({ type: 'del', key: id })))
    for (const id of expired) {
      this.live.delete(id)
      const mailbox = id.slice(0, MAILBOX_HEX_LENGTH)
      this.perMailbox.set(mailbox, (this.perMailbox.get(mailbox) ?? 1) - 1)
      if (this.perMailbox.get(mailbox) === 0) {
        this.perMailbox.delete(mailbox)
      }
    }
  }

  private async write (records: Tombstone[]): Promise<void> {
    await this.ids.batch(records.map(record => ({ type: 'put', key: tombstoneKey(record), value: record.expiresAt })), DURABLE as AbstractBatchOptions<string, number>)
    for (const record of records) {
      this.remember(tombstoneKey(record), record.expiresAt)
    }
  }

  private remember (id: string, expiresAt: number): void {
    if (!this.live.has(id)) {
      const mailbox = id.slice(0, MAILBOX_HEX_LENGTH)
      this.perMailbox.set(mailbox, (this.perMailbox.get(mailbox) ?? 0) + 1)
    }
    this.live.set(id, expiresAt)
  }
}

/** What a tombstone remembers: which envelope of which mailbox, until when */
export type Tombstone = Pick<ChordRecord, 'key' | 'id' | 'expiresAt'>

/** A mailbox key in hex: the first part of a tombstone's key */
const MAILBOX_HEX_LENGTH = 64

/** A tombstone names one envelope of one mailbox: deleting in one mailbox never touches another */
function tombstoneKey (record: { key: Uint8Array, id: Uint8Array }): string {
  return toHex(record.key, 'base16') + toHex(record.id, 'base16')
}
