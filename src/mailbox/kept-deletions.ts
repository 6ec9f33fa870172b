/**
 * The owner-signed acknowledgements behind a node's tombstones, kept so that they can be handed
 * on. A replica that was away when an acknowledgement went round still holds the envelopes it
 * names; a tombstone alone only makes the other nodes refuse them. Anti-entropy carries these
 * deletions to that replica (with each repair of their range, and in the answer to a STORE of
 * an envelope they name), and it checks each signature itself before it drops anything.
 *
 * A deletion is kept until the last envelope it names would have expired (its tombstones'
 * lifetime), and only as far as MAX_KEPT_DELETION_BYTES allows: past it the oldest give way, as
 * tombstones do (a deletion is handed on with the next repairs of its range, so it does most of
 * its work young, and a stranger acknowledging its own mailboxes must not stop the node handing
 * on an owner's acknowledgement).
 */
import { fromString as fromHex } from 'uint8arrays/from-string'
import { toString as toHex } from 'uint8arrays/to-string'
import { MAX_DELETIONS_PER_STORE, MAX_DELETION_IDS_PER_STORE } from '../chord/constants.js'
import { inHalfOpenInterval, ringIdFromBytes } from '../chord/id.js'
import { DURABLE, SUBLEVELS } from '../storage/database.js'
import { MiB } from '../units.js'
import type { RingId } from '../chord/id.js'
import type { SignedDeletion } from '../chord/rpc.js'
import type { NodeDatabase } from '../storage/database.js'
import type { AbstractBatchOptions, AbstractSublevel } from 'abstract-level'

/**
 * Bytes of kept deletions (keys, ids, owner keys and signatures): a deletion of one envelope is
 * about 200 bytes, so some 80,000 acknowledgements; about as many as MAX_TOMBSTONES remembers
 */
export const MAX_KEPT_DELETION_BYTES = 16 * MiB

/** A deletion as the database keeps it (JSON, bytes in hex) */
interface StoredDeletion {
  key: string
  ids: string[]
  owner: string
  signedAt: number
  signature: string
  /** when the last envelope it names would have expired */
  expiresAt: number
}

interface Kept {
  deletion: SignedDeletion
  expiresAt: number
  bytes: number
}

type DeletionSublevel = AbstractSublevel<NodeDatabase, string | Uint8Array, string, StoredDeletion>

export interface KeptDeletionsInit {
  /** default MAX_KEPT_DELETION_BYTES */
  maxBytes?: number
}

export class KeptDeletions {
  private readonly stored: DeletionSublevel
  private readonly maxBytes: number
  /** deletion id (mailbox key ‖ signature, hex) → the deletion */
  private readonly kept = new Map<string, Kept>()
  /** envelope (mailbox key ‖ id, hex) → the id of the deletion that names it */
  private readonly byEnvelope = new Map<string, string>()
  private keptBytes = 0
  /** no kept deletion expires before this: a sweep before it would find nothing */
  private nextExpiry = Infinity

  /** The deletions kept in `database`; none is known until `open` has read them */
  constructor (database: NodeDatabase, init: KeptDeletionsInit = {}) {
    this.stored = database.sublevel<string, StoredDeletion>(SUBLEVELS.deletions, { valueEncoding: 'json' })
    this.maxBytes = init.maxBytes ?? MAX_KEPT_DELETION_BYTES
  }

  async open (): Promise<void> {
    // closed with the database, not reopened with it (see LevelRecordStore.open)
    await this.stored.open()
    for await (const [id, stored] of this.stored.iterator()) {
      this.remember(id, fromStored(stored), stored.expiresAt)
    }
  }

  get size (): number {
    return this.kept.size
  }

  get bytes (): number {
    return this.keptBytes
  }

  /**
   * Keep a deletion whose signature was checked, until `expiresAt`; durable before it resolves.
   * One kept already, or one that would go past MAX_KEPT_DELETION_BYTES, is not kept again.
   */
  async keep (deletion: SignedDeletion, expiresAt: number, now: number): Promise<void> {
    const id = deletionId(deletion)
    if (this.kept.has(id) || expiresAt <= now) {
      return
    }
    const bytes = bytesOf(deletion)
    if (bytes > this.maxBytes) {
      return
    }
    if (this.keptBytes + bytes > this.maxBytes && now >= this.nextExpiry) {
      // only when one has expired: a full store would otherwise pay a pass over all per deletion
      await this.sweep(now)
    }
    if (this.keptBytes + bytes > this.maxBytes) {
      await this.drop(this.oldest(this.keptBytes + bytes - this.maxBytes))
    }
    await this.stored.put(id, toStored(deletion, expiresAt), DURABLE as AbstractBatchOptions<string, StoredDeletion>)
    this.remember(id, deletion, expiresAt)
  }

  /** The kept deletions that name any of `envelopes`, as many as one STORE carries */
  naming (envelopes: Array<{ key: Uint8Array, id: Uint8Array }>): SignedDeletion[] {
    const ids = new Set<string>()
    for (const envelope of envelopes) {
      const id = this.byEnvelope.get(envelopeKey(envelope.key, envelope.id))
      if (id != null) {
        ids.add(id)
      }
    }
    return fitOneStore([...ids].flatMap(id => this.kept.get(id)?.deletion ?? []))
  }

  /**
   * Kept deletions of mailboxes in (from, until], as many as one STORE carries: a random pick when
   * there are more, so that repair after repair hands on every one of them
   */
  inRange (from: RingId, until: RingId): SignedDeletion[] {
    const found: SignedDeletion[] = []
    for (const { deletion } of this.kept.values()) {
      if (inHalfOpenInterval(ringIdFromBytes(deletion.key), from, until)) {
        found.push(deletion)
      }
    }
    // Fisher–Yates: which deletions go out changes from one repair to the next
    for (let i = found.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[found[i], found[j]] = [found[j], found[i]]
    }
    return fitOneStore(found)
  }

  /** Forget deletions whose envelopes would all have expired by now */
  async sweep (now: number): Promise<void> {
    await this.drop([...this.kept].filter(([, kept]) => kept.expiresAt <= now).map(([id]) => id))
    this.nextExpiry = Infinity
    for (const { expiresAt } of this.kept.values()) {
      this.nextExpiry = Math.min(this.nextExpiry, expiresAt)
    }
  }

  /** The ids of the oldest deletions that free at least `bytes` (a Map iterates in insertion order) */
  private oldest (bytes: number): string[] {
    const ids: string[] = []
    let freed = 0
    for (const [id, kept] of this.kept) {
      if (freed >= bytes) {
        break
      }
      ids.push(id)
      freed += kept.bytes
    }
    return ids
  }

  /** Forget deletions, on disk first */
  private async drop (ids: string[]): Promise<void> {
    await this.stored.batch(ids.map(id => ({ type: 'del', key: id })))
    for (const id of ids) {
      const kept = this.kept.get(id)
      if (kept == null) {
        continue
      }
      this.kept.delete(id)
      this.keptBytes -= kept.bytes
      for (const envelope of kept.deletion.ids) {
        const key = envelopeKey(kept.deletion.key, envelope)
        if (this.byEnvelope.get(key) === id) {
          this.byEnvelope.delete(key)
        }
      }
    }
  }

  private remember (id: string, deletion: SignedDeletion, expiresAt: number): void {
    const bytes = bytesOf(deletion)
    this.kept.set(id, { deletion, expiresAt, bytes })
    this.nextExpiry = Math.min(this.nextExpiry, expiresAt)
    this.keptBytes += bytes
    for (const envelope of deletion.ids) {
      this.byEnvelope.set(envelopeKey(deletion.key, envelope), id)
    }
  }
}

/** As many deletions as one STORE (or its answer) carries: MAX_DELETIONS_PER_STORE, naming MAX_DELETION_IDS_PER_STORE ids together */
function fitOneStore (deletions: SignedDeletion[]): SignedDeletion[] {
  const fitting: SignedDeletion[] = []
  let ids = 0
  for (const deletion of deletions) {
    if (fitting.length === MAX_DELETIONS_PER_STORE) {
      break
    }
    if (ids + deletion.ids.length <= MAX_DELETION_IDS_PER_STORE) {
      fitting.push(deletion)
      ids += deletion.ids.length
    }
  }
  return fitting
}

/** A deletion is one owner's signature over one mailbox's ids: its signature names it */
function deletionId (deletion: SignedDeletion): string {
  return toHex(deletion.key, 'base16') + toHex(deletion.signature, 'base16')
}

function envelopeKey (key: Uint8Array, id: Uint8Array): string {
  return toHex(key, 'base16') + toHex(id, 'base16')
}

function bytesOf (deletion: SignedDeletion): number {
  return deletion.key.byteLength + deletion.owner.byteLength + deletion.signature.byteLength +
    deletion.ids.reduce((sum, id) => sum + id.byteLength, 0)
}

function toStored (deletion: SignedDeletion, expiresAt: number): StoredDeletion {
  return {
    key: toHex(deletion.key, 'base16'),
    ids: deletion.ids.map(id => toHex(id, 'base16')),
    owner: toHex(deletion.owner, 'base16'),
    signedAt: deletion.signedAt,
    signature: toHex(deletion.signature, 'base16'),
    expiresAt
  }
}

function fromStored (stored: StoredDeletion): SignedDeletion {
  return {
    key: fromHex(stored.key, 'base16'),
    ids: stored.ids.map(id => fromHex(id, 'base16')),
    owner: fromHex(stored.owner, 'base16'),
    signedAt: stored.signedAt,
    signature: fromHex(stored.signature, 'base16')
  }
}
