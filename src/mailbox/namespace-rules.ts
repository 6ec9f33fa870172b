/**
 * The mailbox namespace's rules, applied by every node to what other nodes ask of its mailbox
 * store. Envelopes are ciphertext, but who writes to whom and how much is still worth hiding:
 *
 * - STORE: only well-formed envelopes; ids their owner deleted are dropped (replication's admit)
 * - FETCH and RANGE_SUMMARIES: nobody but the node itself. The owner reads through its
 *   subscription; replicas are repaired by push (anti-entropy and handoff in 'push' mode, which
 *   never list a peer's records)
 * - RANGE_DIGEST: anyone; a hash says nothing
 * - DELETE: only with the owner's signature, checked here, by every replica
 */
import { toString as toHex } from 'uint8arrays/to-string'
import { ForbiddenError, InvalidRecordError } from '../errors.js'
import { verifyDeletion } from './proofs.js'
import { decodeEnvelope } from './seal.js'
import type { Tombstones } from './tombstones.js'
import type { RingId } from '../chord/id.js'
import type { Replication } from '../chord/replication.js'
import type { DeletionRpcHandler, NodeRef, RecordRpcHandler, SignedDeletion, StoreReceipt } from '../chord/rpc.js'
import type { ChordRecord, RangeDigest, RecordStore, RecordSummary } from '../chord/record.js'

export interface MailboxRulesInit {
  self: NodeRef
  replication: Replication
  store: RecordStore
  tombstones: Tombstones
  /** the longest an envelope may live: how long a tombstone for one we never held is kept */
  maxTtl: number
  now?(): number
}

export class MailboxRules implements RecordRpcHandler, DeletionRpcHandler {
  private readonly init: MailboxRulesInit
  private readonly now: () => number

  constructor (init: MailboxRulesInit) {
    this.init = init
    this.now = init.now ?? Date.now
  }

  async onStoreRecords (from: NodeRef, records: ChordRecord[]): Promise<StoreReceipt> {
    for (const record of records) {
      try {
        decodeEnvelope(record.value)
      } catch (err) {
        throw new InvalidRecordError('a mailbox record must be a sealed envelope', { cause: err })
      }
    }
    return this.init.replication.onStoreRecords(from, records)
  }

  async onFetchRecords (from: NodeRef, key: Uint8Array): Promise<ChordRecord[]> {
    this.onlySelf(from, 'a mailbox is read by its owner, through a subscription')
    return this.init.replication.onFetchRecords(from, key)
  }

  async onRangeDigest (from: NodeRef, start: RingId, until: RingId): Promise<RangeDigest> {
    return this.init.replication.onRangeDigest(from, start, until)
  }

  async onRangeSummaries (from: NodeRef, start: RingId, until: RingId): Promise<RecordSummary[]> {
    this.onlySelf(from, 'nobody lists the mailboxes of a node')
    return this.init.replication.onRangeSummaries(from, start, until)
  }

  private onlySelf (from: NodeRef, why: string): void {
    if (from.peer !== this.init.self.peer) {
      throw new ForbiddenError(why)
    }
  }

  /**
   * Delete acknowledged envelopes: the owner's signature is checked here, whoever relayed it.
   * Envelopes this node holds are tombstoned until they would have expired. Ids it does not hold
   * (the acknowledgement overtook the envelope's own write here) are tombstoned too, as far as the
   * mailbox's allowance goes, so that a late write cannot bring them back; an owner can neither
   * name other mailboxes' envelopes nor crowd out other mailboxes' tombstones.
   */
  async onDeleteRecords (_from: NodeRef, deletion: SignedDeletion): Promise<void> {
    await verifyDeletion(deletion)
    const now = this.now()
    const named = new Set(deletion.ids.map(id => toHex(id, 'base16')))
    const held = (await this.init.store.get(deletion.key, { now })).filter(r => named.has(toHex(r.id, 'base16')))
    const heldIds = new Set(held.map(r => toHex(r.id, 'base16')))
    const unheld = deletion.ids
      .filter(id => !heldIds.has(toHex(id, 'base16')))
      .map(id => ({ key: deletion.key, id, expiresAt: now + this.init.maxTtl }))
    // tombstones first: if we crash in between, the envelope stays deleted for good
    await this.init.tombstones.add(held, now)
    await this.init.tombstones.addIfRoom(unheld)
    if (held.length > 0) {
      await this.init.store.delete(deletion.key, held.map(r => r.id))
    }
  }
}
