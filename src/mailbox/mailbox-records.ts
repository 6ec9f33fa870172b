/**
 * The mailbox namespace's rules, applied by every node to what other nodes ask of its mailbox
 * store. Envelopes are ciphertext, but who writes to whom and how much is still worth hiding, so
 * reading is narrower than for plain records:
 *
 * - STORE: only well-formed envelopes; ids their owner deleted are dropped (replication's admit)
 * - FETCH: only a ring node we know (our predecessor, successors or fingers) that lies between
 *   the key and us — the key's primary or a replica before us, repairing a replica set we are
 *   in. Owners read through a subscription instead.
 * - RANGE_SUMMARIES: only a ring node we know asking about the range that ends at itself (a
 *   primary's anti-entropy)
 * - RANGE_DIGEST: anyone; a hash says nothing
 * - DELETE: only with the owner's signature, checked here, by every replica
 */
import { ForbiddenError, InvalidRecordError } from '../errors.js'
import { distance, ringIdFromBytes } from '../chord/id.js'
import { verifyDeletion } from './proofs.js'
import { decodeEnvelope } from './seal.js'
import type { Tombstones } from './tombstones.js'
import type { RingId } from '../chord/id.js'
import type { Replication } from '../chord/replication.js'
import type { DeletionRpcHandler, NodeRef, RecordRpcHandler, SignedDeletion } from '../chord/rpc.js'
import type { ChordRecord, RangeDigest, RecordStore, RecordSummary } from '../storage/store.js'
import type { TtlPolicy } from '../storage/ttl.js'
import type { RoutingTable } from '../chord/routing-table.js'

export interface MailboxRecordsInit {
  /** our view of the ring: who we are and whom we know */
  table: RoutingTable
  replication: Replication
  store: RecordStore
  tombstones: Tombstones
  ttl: TtlPolicy
  now?(): number
}

export class MailboxRecords implements RecordRpcHandler, DeletionRpcHandler {
  private readonly init: MailboxRecordsInit
  private readonly now: () => number

  constructor (init: MailboxRecordsInit) {
    this.init = init
    this.now = init.now ?? Date.now
  }

  async onStoreRecords (from: NodeRef, records: ChordRecord[]): Promise<void> {
    for (const record of records) {
      try {
        decodeEnvelope(record.value)
      } catch (err) {
        throw new InvalidRecordError('a mailbox record must be a sealed envelope', { cause: err })
      }
    }
    await this.init.replication.onStoreRecords(from, records)
  }

  async onFetchRecords (from: NodeRef, key: Uint8Array): Promise<ChordRecord[]> {
    const position = ringIdFromBytes(key)
    const { self } = this.init.table
    if (!this.isSelfOrKnown(from) || (from.peer !== self.peer && distance(position, from.id) >= distance(position, self.id))) {
      throw new ForbiddenError('only the nodes replicating a mailbox may read it; its owner subscribes')
    }
    return this.init.replication.onFetchRecords(from, key)
  }

  async onRangeDigest (from: NodeRef, start: RingId, until: RingId): Promise<RangeDigest> {
    return this.init.replication.onRangeDigest(from, start, until)
  }

  async onRangeSummaries (from: NodeRef, start: RingId, until: RingId): Promise<RecordSummary[]> {
    if (!this.isSelfOrKnown(from) || (from.peer !== this.init.table.self.peer && from.id !== until)) {
      throw new ForbiddenError('only the primary of a range may list it')
    }
    return this.init.replication.onRangeSummaries(from, start, until)
  }

  private isSelfOrKnown (node: NodeRef): boolean {
    const { table } = this.init
    return node.peer === table.self.peer || table.knownNodes().some(known => known.peer === node.peer)
  }

  /** Delete acknowledged envelopes: the owner's signature is checked here, whoever relayed it */
  async onDeleteRecords (_from: NodeRef, deletion: SignedDeletion): Promise<void> {
    await verifyDeletion(deletion)
    const now = this.now()
    await this.init.tombstones.add(deletion.ids, now + this.init.ttl.maxTtl, now)
    await this.init.store.delete(deletion.key, deletion.ids)
  }
}
