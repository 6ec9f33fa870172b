/**
 * Mailbox envelopes their owner acknowledged, by mailbox key and id. A replica that was away
 * when the deletion went round may still hold a copy and offer it back (anti-entropy, handoff);
 * the tombstone makes every other node refuse it. A tombstone lives as long as its envelope
 * would have, then is swept.
 */
import { toString as toHex } from 'uint8arrays/to-string'
import { DURABLE, SUBLEVELS } from '../storage/database.js'
import type { NodeDatabase } from '../storage/database.js'
import type { ChordRecord } from '../chord/record.js'
import type { AbstractBatchOptions, AbstractSublevel } from 'abstract-level'

/**
 * Tombstones kept at most, held and unheld together (about 150 bytes each, so about 15 MiB).
 * Past it the oldest give way: the store's quotas bound what is held at one time, not how many
 * envelopes a stranger sends to mailboxes of its own and acknowledges, so a full set must never
 * refuse an owner's acknowledgement. A tombstone does most of its work young (a replica that
 * missed the deletion is repaired within minutes), so the oldest are the cheapest to lose: at
 * worst an envelope a replica kept through the whole time comes back, and is acknowledged again.
 */
export const MAX_TOMBSTONES = 100_000

/**
 * Tombstones one mailbox may hold for envelopes the node did not have when their deletion came
 * (an acknowledgement can overtake the envelope's own write to a replica). As many as a mailbox
 * can hold envelopes; past it such ids are not remembered, so no owner takes the node's whole
 * MAX_UNHELD_TOMBSTONES.
 */
export const MAX_UNHELD_TOMBSTONES_PER_MAILBOX = 1024

/**
 * Tombstones the node holds, all mailboxes together, for envelopes it did not have. Anyone can
 * mint mailbox keys and sign deletions of made-up ids, so these get a tenth of MAX_TOMBSTONES and
 * no more: they never crowd out the tombstones of envelopes the node really held. Past it such
 * ids are let go; a late copy of one is dropped when a replica hands on its deletion.
 */
export const MAX_UNHELD_TOMBSTONES = MAX_TOMBSTONES / 10

/**
 * A tombstone as stored: a held envelope's is its expiry alone (as every tombstone was before
 * unheld ones were told apart, so those read back as held), an unheld id's says so
 */
type StoredTombstone = number | { expiresAt: number, unheld: true }

type TombstoneSublevel = AbstractSublevel<NodeDatabase, string | Uint8Array, string, StoredTombstone>

export class Tombstones {
  private readonly ids: TombstoneSublevel
  /** tombstone key → when it expires */
  private readonly live = new Map<string, number>()
  /** the keys of live tombstones for envelopes the node did not hold */
  private readonly unheld = new Set<string>()
  /** mailbox key (hex) → its unheld tombstones */
  private readonly unheldPerMailbox = new Map<string, number>()
  /** no live tombstone expires before this: a sweep before it would find nothing */
  private nextExpiry = Infinity

  /** The tombstones kept in `database`; none is known until `open` has read them */
  constructor (database: NodeDatabase) {
    this.ids = database.sublevel<string, StoredTombstone>(SUBLEVELS.tombstones, { valueEncoding: 'json' })
  }

  /** Read every tombstone into memory (they are few and small) */
  async open (): Promise<void> {
    // closed with the database, not reopened with it (see LevelRecordStore.open)
    await this.ids.open()
    for await (const [id, stored] of this.ids.iterator()) {
      if (typeof stored === 'number') {
        this.remember(id, stored, false)
      } else {
        this.remember(id, stored.expiresAt, true)
      }
    }
  }

  get size (): number {
    return this.live.size
  }

  /** Remember envelopes this node held as deleted until they would have expired; durable before it resolves */
  async add (records: Tombstone[], now: number): Promise<void> {
    const fresh = new Map<string, number>()
    for (const record of records) {
      const id = tombstoneKey(toHex(record.key, 'base16'), record.id)
      if (!this.live.has(id)) {
        fresh.set(id, record.expiresAt)
      }
    }
    await this.makeRoom(fresh.size, now)
    await this.write(fresh, false)
  }

  /**
   * Remember ids deleted before their envelope reached this node, as far as the mailbox's
   * allowance (MAX_UNHELD_TOMBSTONES_PER_MAILBOX), the node's (MAX_UNHELD_TOMBSTONES) and the
   * total cap leave room; the rest are let go. They never push out others: ids anyone can make up
   * must not take the place of a held envelope's tombstone.
   */
  async addIfRoom (records: Tombstone[], now = Date.now()): Promise<void> {
    if (this.live.size + records.length > MAX_TOMBSTONES) {
      await this.sweepIfDue(now)
    }
    const room = Math.min(MAX_UNHELD_TOMBSTONES - this.unheld.size, MAX_TOMBSTONES - this.live.size)
    const fresh = new Map<string, number>()
    /** mailbox key (hex) → its unheld tombstones, these included */
    const used = new Map<string, number>()
    for (const record of records) {
      if (fresh.size >= room) {
        break
      }
      const mailbox = toHex(record.key, 'base16')
      const id = tombstoneKey(mailbox, record.id)
      const count = used.get(mailbox) ?? this.unheldPerMailbox.get(mailbox) ?? 0
      if (!this.live.has(id) && !fresh.has(id) && count < MAX_UNHELD_TOMBSTONES_PER_MAILBOX) {
        fresh.set(id, record.expiresAt)
        used.set(mailbox, count + 1)
      }
    }
    await this.write(fresh, true)
  }

  /** Room for `count` more under MAX_TOMBSTONES: the expired go, then the oldest */
  private async makeRoom (count: number, now: number): Promise<void> {
    if (this.live.size + count <= MAX_TOMBSTONES) {
      return
    }
    await this.sweepIfDue(now)
    const excess = this.live.size + count - MAX_TOMBSTONES
    // a Map iterates in insertion order: the oldest first (those read at open, in key order, before any added since)
    const oldest: string[] = []
    for (const id of this.live.keys()) {
      if (oldest.length >= excess) {
        break
      }
      oldest.push(id)
    }
    await this.drop(oldest)
  }

  /** The records that were not deleted */
  admit (records: ChordRecord[]): ChordRecord[] {
    return records.filter(record => !this.live.has(keyOf(record)))
  }

  /** Whether this node held the envelope `id` of mailbox `key` and deleted it (its tombstone is no unheld id's) */
  deletedHere (key: Uint8Array, id: Uint8Array): boolean {
    const tombstone = keyOf({ key, id })
    return this.live.has(tombstone) && !this.unheld.has(tombstone)
  }

  /** Whether every envelope a deletion names is tombstoned here already (then it changes nothing) */
  covers (deletion: { key: Uint8Array, ids: Uint8Array[] }): boolean {
    const mailbox = toHex(deletion.key, 'base16')
    return deletion.ids.every(id => this.live.has(tombstoneKey(mailbox, id)))
  }

  /** When the last tombstone of the envelopes a deletion names expires; undefined when none is tombstoned */
  lastExpiryOf (deletion: { key: Uint8Array, ids: Uint8Array[] }): number | undefined {
    const mailbox = toHex(deletion.key, 'base16')
    const expiries = deletion.ids.flatMap(id => this.live.get(tombstoneKey(mailbox, id)) ?? [])
    return expiries.length === 0 ? undefined : Math.max(...expiries)
  }

  /** Forget tombstones whose envelopes would have expired by now */
  async sweep (now: number): Promise<void> {
    await this.drop([...this.live].filter(([, expiresAt]) => expiresAt <= now).map(([id]) => id))
    this.nextExpiry = Infinity
    for (const expiresAt of this.live.values()) {
      this.nextExpiry = Math.min(this.nextExpiry, expiresAt)
    }
  }

  /** Sweep only when some tombstone has expired: a full set would otherwise pay a pass over all of them per deletion */
  private async sweepIfDue (now: number): Promise<void> {
    if (now >= this.nextExpiry) {
      await this.sweep(now)
    }
  }

  /** Forget tombstones, on disk first */
  private async drop (ids: string[]): Promise<void> {
    await this.ids.batch(ids.map(id => ({ type: 'del', key: id })))
    for (const id of ids) {
      this.live.delete(id)
      if (this.unheld.delete(id)) {
        const mailbox = id.slice(0, MAILBOX_HEX_LENGTH)
        const left = (this.unheldPerMailbox.get(mailbox) ?? 1) - 1
        if (left === 0) {
          this.unheldPerMailbox.delete(mailbox)
        } else {
          this.unheldPerMailbox.set(mailbox, left)
        }
      }
    }
  }

  /** Store new tombstones (keys not live yet) and remember them */
  private async write (fresh: Map<string, number>, unheld: boolean): Promise<void> {
    const stored = (expiresAt: number): StoredTombstone => unheld ? { expiresAt, unheld } : expiresAt
    await this.ids.batch([...fresh].map(([id, expiresAt]) => ({ type: 'put', key: id, value: stored(expiresAt) })), DURABLE as AbstractBatchOptions<string, StoredTombstone>)
    for (const [id, expiresAt] of fresh) {
      this.remember(id, expiresAt, unheld)
    }
  }

  /** Remember a tombstone not live yet */
  private remember (id: string, expiresAt: number, unheld: boolean): void {
    this.live.set(id, expiresAt)
    this.nextExpiry = Math.min(this.nextExpiry, expiresAt)
    if (unheld) {
      this.unheld.add(id)
      const mailbox = id.slice(0, MAILBOX_HEX_LENGTH)
      this.unheldPerMailbox.set(mailbox, (this.unheldPerMailbox.get(mailbox) ?? 0) + 1)
    }
  }
}

/** What a tombstone remembers: which envelope of which mailbox, until when */
export type Tombstone = Pick<ChordRecord, 'key' | 'id' | 'expiresAt'>

/** A mailbox key in hex: the first part of a tombstone's key */
const MAILBOX_HEX_LENGTH = 64

/**
 * A tombstone names one envelope of one mailbox (its key in hex, then the id): deleting in one
 * mailbox never touches another
 */
function tombstoneKey (mailbox: string, id: Uint8Array): string {
  return mailbox + toHex(id, 'base16')
}

/** The tombstone key of one envelope */
function keyOf (record: { key: Uint8Array, id: Uint8Array }): string {
  return tombstoneKey(toHex(record.key, 'base16'), record.id)
}
