/**
 * The mailbox namespace's rules, applied by every node to what other nodes ask of its mailbox
 * store. Envelopes are ciphertext, but who writes to whom and how much is still worth hiding:
 *
 * - STORE: only well-formed envelopes; ids their owner deleted are dropped (replication's admit),
 *   and the answer hands back the owner-signed deletions of those, so that the sender drops them
 *   too. A STORE may carry such deletions itself (a repair hands on those of its range): each one
 *   new to the node is checked, then applied like a DELETE; one that does not verify refuses the
 *   STORE before anything is applied.
 *   Envelopes new to the node, sent by a peer that is not a ring neighbour (a neighbour's are
 *   repairs) or carried by a lookup a peer passed on (that peer's, neighbour or not, and their
 *   signing writer's), count against two acceptance rates of the mailbox per window: all senders'
 *   together, and each sender's (an eighth of it; a carried envelope, its relay's and its
 *   writer's). A write refused after that gives them back. Past either, the mailbox is under
 *   pressure: the STORE is
 *   refused RATE_LIMITED with when to come back, and, if the node asks for stamps, with the
 *   difficulty of a proof-of-work stamp that lets an envelope in at once (mailbox/stamp.ts)
 * - FETCH and RANGE_SUMMARIES: the node itself, and the primary of the keys asked about if this
 *   node is one of its replicas (anti-entropy: it lists and fetches only what it keeps itself, and
 *   gets back what it lost). Nobody else: the owner reads through its subscription
 * - RANGE_DIGEST: anyone; a hash says nothing
 * - DELETE: only with the owner's signature, checked here, by every replica
 */
import { toString as toHex } from 'uint8arrays/to-string'
import { ForbiddenError, InvalidRecordError, RateLimitedError } from '../errors.js'
import { PeerBudget } from '../limits/peer-budget.js'
import { RING_SIZE, ringIdFromBytes } from '../chord/id.js'
import {
  DEFAULT_STAMP_DIFFICULTY, MAILBOX_ACCEPT_WINDOW, MAX_ENVELOPES_PER_MAILBOX_PER_WINDOW, MAX_ENVELOPES_PER_SENDER_PER_WINDOW,
  MAX_RATED_MAILBOXES
} from './constants.js'
import { stampWork } from './stamp.js'
import { verifyDeletion } from './proofs.js'
import { decodeEnvelope } from './seal.js'
import type { KeptDeletions } from './kept-deletions.js'
import type { Tombstones } from './tombstones.js'
import type { RingId } from '../chord/id.js'
import type { Replication } from '../chord/replication.js'
import type { DeletionRpcHandler, NodeRef, RangeScanOptions, RecordRpcHandler, SignedDeletion, StoreFromOptions, StoreReceipt } from '../chord/rpc.js'
import type { ChordRecord, RangeDigest, RecordStore, RecordSummary } from '../chord/record.js'

export interface MailboxRulesInit {
  self: NodeRef
  replication: Replication
  store: RecordStore
  tombstones: Tombstones
  /** the signed acknowledgements behind the tombstones, handed on to replicas */
  kept: KeptDeletions
  /** the longest an envelope may live: how long a tombstone for one we never held is kept */
  maxTtl: number
  /** told how many envelopes each acknowledgement deleted here (metrics listen) */
  onAcknowledged?(count: number): void
  /** whether a peer is one of our ring neighbours, whose STOREs are repairs (not counted) */
  isNeighbour?(peer: string): boolean
  /** leading zero bits of the stamp asked of an envelope past the rates; 0: none asked */
  stampDifficulty?: number
  /** the acceptance rates; each left out is its default */
  acceptance?: Partial<MailboxAcceptance>
  now?(): number
}

/** How fast a mailbox takes new envelopes from senders (see the constants for the defaults) */
export interface MailboxAcceptance {
  /** ms of a counting window */
  windowMs: number
  /** new envelopes per mailbox per window, all senders together */
  perMailbox: number
  /** new envelopes per mailbox per window from one sending peer */
  perSender: number
}

export const DEFAULT_MAILBOX_ACCEPTANCE: Readonly<MailboxAcceptance> = {
  windowMs: MAILBOX_ACCEPT_WINDOW,
  perMailbox: MAX_ENVELOPES_PER_MAILBOX_PER_WINDOW,
  perSender: MAX_ENVELOPES_PER_SENDER_PER_WINDOW
}

export class MailboxRules implements RecordRpcHandler, DeletionRpcHandler {
  private readonly init: MailboxRulesInit
  private readonly now: () => number
  private readonly stampDifficulty: number
  /** new envelopes taken per mailbox (hex) in its current window */
  private readonly mailboxRate: PeerBudget
  /** new envelopes taken per mailbox and sender in its current window */
  private readonly senderRate: PeerBudget

  constructor (init: MailboxRulesInit) {
    this.init = init
    this.now = init.now ?? Date.now
    this.stampDifficulty = init.stampDifficulty ?? DEFAULT_STAMP_DIFFICULTY
    const { windowMs, perMailbox, perSender } = { ...DEFAULT_MAILBOX_ACCEPTANCE, ...init.acceptance }
    this.mailboxRate = new PeerBudget({ points: perMailbox, windowMs, maxPeers: MAX_RATED_MAILBOXES })
    this.senderRate = new PeerBudget({ points: perSender, windowMs, maxPeers: MAX_RATED_MAILBOXES })
  }

  async onStoreRecords (from: NodeRef, records: ChordRecord[], deletions: SignedDeletion[] = [], options?: StoreFromOptions): Promise<StoreReceipt> {
    for (const record of records) {
      try {
        decodeEnvelope(record.value)
      } catch (err) {
        throw new InvalidRecordError('a mailbox record must be a sealed envelope', { cause: err })
      }
    }
    // only a ring neighbour's repair looks again at what was applied here before (deleteStillHeld)
    const appliedBefore = this.init.isNeighbour?.(from.peer) === true ? deletions.filter(deletion => this.init.tombstones.covers(deletion)) : []
    const signatureChecks = await this.takeDeletions(deletions, 'store')
    await this.deleteStillHeld(appliedBefore)
    const receipt = records.length === 0 ? { writtenBytes: 0, declined: [] } : await this.storeEnvelopes(from, records, options)
    return { ...receipt, deletions: this.init.kept.naming(records), signatureChecks }
  }

  /**
   * Owner-signed deletions that came with a STORE ('store') or with a replica's answer to our own
   * ('answer'): each one not applied here yet is checked, then applied like a DELETE. Resolves to
   * how many signatures were checked. A deletion that does not verify refuses them all before any
   * is applied (a STORE), or is left out (an answer). An answer's deletions name envelopes we just wrote:
   * their ids are remembered whether or not we keep the mailbox, so that we write them nowhere again.
   */
  async takeDeletions (deletions: SignedDeletion[], cameWith: 'store' | 'answer'): Promise<number> {
    const fresh = deletions.filter(deletion => !this.init.tombstones.covers(deletion))
    const valid: SignedDeletion[] = []
    for (const deletion of fresh) {
      try {
        await verifyDeletion(deletion)
        valid.push(deletion)
      } catch (err) {
        if (cameWith === 'store') {
          throw err
        }
      }
    }
    for (const deletion of valid) {
      await this.apply(deletion, cameWith === 'answer')
    }
    return fresh.length
  }

  /**
   * Delete what deletions applied here already name, if still held: their tombstones went in and
   * the delete did not (a crash or a stop in between, a backup taken then and restored), and
   * every copy offered since was turned away, so nothing else would. Only a ring neighbour's
   * repair asks this of the store: a stranger replaying deletions would cost reads for nothing.
   */
  private async deleteStillHeld (deletions: SignedDeletion[]): Promise<void> {
    for (const { key, ids } of deletions) {
      const held = await this.init.store.held(key, ids, { now: this.now() })
      if (held.length > 0) {
        await this.init.store.delete(key, held.map(record => record.id))
      }
    }
  }

  private async storeEnvelopes (from: NodeRef, records: ChordRecord[], options?: StoreFromOptions): Promise<StoreReceipt> {
    const carriedFor = options?.carriedFor
    if (from.peer === this.init.self.peer || (carriedFor == null && this.init.isNeighbour?.(from.peer) === true)) {
      return this.init.replication.onStoreRecords(from, records)
    }
    // a carried envelope is its relay's, and its writer's too: neither gets past its share by the other
    const senders = carriedFor == null || carriedFor === from.peer ? [from.peer] : [from.peer, carriedFor]
    // only what the node keeps: a STORE of made-up mailboxes, refused, must leave no rate behind
    const counted = await this.countedByMailbox(await this.init.replication.keptOf(records))
    for (const [mailbox, count] of counted) {
      senders.forEach(sender => { this.checkRates(mailbox, sender, count) })
    }
    // charged before the write, so that STOREs in flight together cannot all pass one check
    const charges = [...counted].flatMap(([mailbox, count]) => [
      { budget: this.mailboxRate, key: mailbox, count },
      ...senders.map(sender => ({ budget: this.senderRate, key: `${mailbox}/${sender}`, count }))
    ])
    charges.forEach(({ budget, key, count }) => { budget.spend(key, count) })
    try {
      return await this.init.replication.onStoreRecords(from, records, [], options)
    } catch (err) {
      // nothing was written: given back, so that a STORE after it (a carried envelope's fallback) pays once
      charges.forEach(({ budget, key, count }) => { budget.refund(key, count) })
      throw err
    }
  }

  /**
   * Per mailbox (hex), the envelopes of a sender's STORE that its rates must pay for: those the
   * node does not hold yet and that carry no stamp of the work asked
   */
  private async countedByMailbox (records: ChordRecord[]): Promise<Map<string, number>> {
    const byMailbox = new Map<string, ChordRecord[]>()
    for (const record of this.init.tombstones.admit(records)) {
      const mailbox = toHex(record.key, 'base16')
      const incoming = byMailbox.get(mailbox) ?? []
      incoming.push(record)
      byMailbox.set(mailbox, incoming)
    }
    const counted = new Map<string, number>()
    for (const [mailbox, incoming] of byMailbox) {
      const held = await this.init.store.held(incoming[0].key, incoming.map(record => record.id), { now: this.now() })
      const heldIds = new Set(held.map(summary => toHex(summary.id, 'base16')))
      const count = incoming.filter(record => {
        const paid = this.stampDifficulty > 0 && record.stamp != null && stampWork(record.key, record.id, record.stamp) >= this.stampDifficulty
        return !heldIds.has(toHex(record.id, 'base16')) && !paid
      }).length
      if (count > 0) {
        counted.set(mailbox, count)
      }
    }
    return counted
  }

  /** @throws RateLimitedError when the mailbox, or this sender's share of it, cannot take `count` more this window */
  private checkRates (mailbox: string, sender: string, count: number): void {
    const pair = `${mailbox}/${sender}`
    const short = this.mailboxRate.remaining(mailbox) < count
      ? { what: 'the mailbox takes no more envelopes', waitMs: this.mailboxRate.msBeforeRefill(mailbox) }
      : this.senderRate.remaining(pair) < count
        ? { what: 'this sender has sent its share of the mailbox', waitMs: this.senderRate.msBeforeRefill(pair) }
        : undefined
    if (short != null) {
      const stamp = this.stampDifficulty > 0 ? ` unless stamped with ${this.stampDifficulty} bits of work` : ''
      throw new RateLimitedError(`${short.what} this window${stamp}`, {
        retryAfterMs: short.waitMs,
        stampDifficulty: this.stampDifficulty > 0 ? this.stampDifficulty : undefined
      })
    }
  }

  async onFetchRecords (from: NodeRef, key: Uint8Array): Promise<ChordRecord[]> {
    const id = ringIdFromBytes(key)
    this.onlySelfOrPrimary(from, (id - 1n + RING_SIZE) % RING_SIZE, id, 'a mailbox is read by its owner, through a subscription')
    return this.init.replication.onFetchRecords(from, key)
  }

  async onRangeDigest (from: NodeRef, start: RingId, until: RingId, options?: RangeScanOptions): Promise<RangeDigest> {
    return this.init.replication.onRangeDigest(from, start, until, options)
  }

  async onRangeSummaries (from: NodeRef, start: RingId, until: RingId, options?: RangeScanOptions): Promise<RecordSummary[]> {
    this.onlySelfOrPrimary(from, start, until, 'nobody lists the mailboxes of a node')
    return this.init.replication.onRangeSummaries(from, start, until, options)
  }

  /** Refuses `from` unless it is this node or the primary, replicated here, of the keys (start, until] */
  private onlySelfOrPrimary (from: NodeRef, start: RingId, until: RingId, why: string): void {
    if (from.peer !== this.init.self.peer && !this.init.replication.replicatesFor(from.peer, start, until)) {
      throw new ForbiddenError(why)
    }
  }

  /**
   * Delete acknowledged envelopes: the owner's signature is checked here, whoever relayed it.
   * Envelopes this node holds are tombstoned until they would have expired. Ids it does not hold
   * (the acknowledgement overtook the envelope's own write here) are tombstoned too, if the node
   * keeps the mailbox, as far as the mailbox's allowance and the node's for such ids go, so that a
   * late write cannot bring them back; an owner can neither name other mailboxes' envelopes nor
   * crowd out other mailboxes' tombstones, and made-up ids never crowd out those of held envelopes.
   */
  async onDeleteRecords (_from: NodeRef, deletion: SignedDeletion): Promise<void> {
    await verifyDeletion(deletion)
    await this.apply(deletion)
  }

  /**
   * Apply a deletion whose signature was checked, and keep it as long as its tombstones, to hand
   * on to replicas that missed it: only when it deleted envelopes this node held, at least as many
   * as it names that it never held (envelopes it held and deleted before count for neither: an
   * owner acknowledging new messages with some acknowledged already). Mailbox keys and signatures
   * cost nothing to make, so a deletion of made-up ids, or one signed afresh over ids deleted
   * already, would otherwise take kept bytes (MAX_KEPT_DELETION_BYTES) again and again until no
   * owner's acknowledgement is handed on; and an acknowledgement that overtook its envelopes here
   * is handed on by the replicas that held them.
   */
  private async apply (deletion: SignedDeletion, ourWrites = false): Promise<void> {
    const now = this.now()
    const held = await this.init.store.held(deletion.key, deletion.ids, { now })
    const heldIds = new Set(held.map(r => toHex(r.id, 'base16')))
    const unheld = deletion.ids
      .filter(id => !heldIds.has(toHex(id, 'base16')))
      .map(id => ({ key: deletion.key, id, expiresAt: now + this.init.maxTtl }))
    const neverHeld = unheld.filter(({ key, id }) => !this.init.tombstones.deletedHere(key, id)).length
    // tombstones first: if we crash in between, no copy is taken in again, and the next repair's
    // deletions remove the one held (takeDeletions)
    await this.init.tombstones.add(held, now)
    // a STORE of a mailbox we do not keep is refused: ids of one would only take up room, unless
    // they name envelopes we wrote ourselves
    if (unheld.length > 0 && (ourWrites || await this.init.replication.keeps(deletion.key))) {
      await this.init.tombstones.addIfRoom(unheld)
    }
    // a write of one of them may have passed its tombstone check before the tombstone was there,
    // and landed since: it goes now (one that lands later is deleted as it lands: the
    // replication's readmit)
    const landed = unheld.length === 0 ? [] : await this.init.store.held(deletion.key, unheld.map(({ id }) => id), { now })
    if (landed.length > 0) {
      await this.init.store.delete(deletion.key, landed.map(({ id }) => id))
    }
    if (held.length > 0) {
      await this.init.store.delete(deletion.key, held.map(r => r.id))
      this.init.onAcknowledged?.(held.length)
    }
    const expiresAt = this.init.tombstones.lastExpiryOf(deletion)
    if (expiresAt != null && held.length > 0 && held.length >= neverHeld) {
      await this.init.kept.keep(deletion, expiresAt, now)
    }
  }
}
