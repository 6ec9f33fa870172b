/**
 * Where records live and how they stay there: a record is kept by the r nodes that follow its
 * key on the ring (the key's successor, the primary, and the next r - 1). This module writes and
 * reads those replica sets, hands records over when the ring changes, and repairs replicas with
 * anti-entropy: the primary of each range compares a digest of it with each replica and sends
 * only what differs.
 */
import { equals } from 'uint8arrays/equals'
import { toString as toHex } from 'uint8arrays/to-string'
import { ForbiddenError, InvalidRecordError, LookupFailedError, QuotaExceededError, RateLimitedError, StaleRecordError, TooLargeError, VerificationError } from '../errors.js'
import {
  DEFAULT_ANTI_ENTROPY_INTERVAL,
  DEFAULT_ANTI_ENTROPY_MAX_INTERVAL,
  DEFAULT_SWEEP_INTERVAL,
  MAX_CARRIED_VALUE_BYTES,
  MAX_RECORDS_PER_STORE,
  MAX_STORE_BATCH_BYTES,
  MAX_SUMMARIES_PER_REPLY,
  MAX_SYNC_DEPTH,
  MAX_SYNC_REQUESTS,
  TIMER_JITTER
} from './constants.js'
import { RING_SIZE, distance, inHalfOpenInterval, ringIdFromBytes } from './id.js'
import { OncePerNode } from './once-per-node.js'
import { Periodic, adaptiveInterval } from './periodic.js'
import { capExpiresAt } from './ttl.js'
import { groupIds, writerTag } from './record.js'
import type { RingId } from './id.js'
import type { ChordRing } from './ring.js'
import type {
  CarriedRecord, NamespaceName, NodeRef, RangeScanOptions, RecordRpc, RecordRpcHandler, RpcOptions, SignedDeletion, StoreAck, StoreFromOptions, StoreOptions, StoreReceipt
} from './rpc.js'
import type { ChordRecord, RangeDigest, RecordStore, RecordSummary, StorePutOptions } from './record.js'
import type { ReplicaRange } from './replica-range.js'
import type { TtlPolicy } from './ttl.js'

export interface ReplicationInit {
  ring: ChordRing
  /**
   * the namespace replicated, as its records travel on the wire: with it, a write of one small
   * record rides on the recursive lookup of its key (RingLookupOptions.carry)
   */
  namespace?: NamespaceName
  rpc: RecordRpc
  store: RecordStore
  /**
   * which keys this node takes a STORE for, and which peers are its ring neighbours (their
   * repairs keep the writers they carry); without it every key is taken and every remote peer is
   * the writer of what it sends
   */
  range?: Pick<ReplicaRange, 'admits' | 'recheck' | 'isNeighbour' | 'predecessor' | 'rangeReplicatedFor'>
  /** record lifetimes; `maxTtl` cuts what any peer may ask us to keep */
  ttl: TtlPolicy
  /**
   * Drops records this store must not take (e.g. ones their owner deleted); applied to every
   * write, ours and peers', repairs included
   */
  admit?(records: ChordRecord[]): Promise<ChordRecord[] | Admission>
  /**
   * Of records just written, those the namespace still takes; the rest are deleted at once. An
   * admission can change while a write is on its way: the mailbox's tombstones, when an owner's
   * acknowledgement overtakes the write of what it acknowledges.
   */
  readmit?(records: ChordRecord[]): ChordRecord[]
  /**
   * Write one batch at a time, so that `admit` sees the store as the write it allows will find it
   * (a namespace whose admission reads the store: owned records keep only the newest)
   */
  serializeWrites?: boolean
  /** records per STORE this namespace sends; default MAX_RECORDS_PER_STORE */
  maxRecordsPerStore?: number
  /** told about records stored here for the first time (push delivery listens) */
  onRecordsAdded?(records: ChordRecord[]): void
  /**
   * Owner-signed deletions of records in (from, until], handed on with every repair of that range
   * (a namespace whose owners delete records: a replica that missed a deletion drops what it names)
   */
  deletionsIn?(from: RingId, until: RingId): SignedDeletion[]
  /** owner-signed deletions a node answered one of our STOREs with: the namespace checks and applies them */
  takeDeletions?(deletions: SignedDeletion[]): Promise<void>
  /** ms between anti-entropy rounds while neighbours change or rounds repair something */
  antiEntropyIntervalMs?: number
  /** ms between them once nothing does; default the same multiple of the short one as the defaults */
  antiEntropyMaxIntervalMs?: number
  sweepIntervalMs?: number
  /** told what each anti-entropy round compared and repaired: metrics listen */
  onAntiEntropyRound?(round: AntiEntropyRound): void
  /** told how many expired records each sweep removed: metrics listen */
  onSwept?(count: number): void
  now?(): number
  onError?(err: unknown): void
}

/** What a namespace lets in of a batch, and what that makes obsolete */
export interface Admission {
  records: ChordRecord[]
  /** records of the store the admitted ones supersede: deleted once those are stored */
  superseded?: Array<{ key: Uint8Array, ids: Uint8Array[] }>
}

/** What one anti-entropy round did */
export interface AntiEntropyRound {
  /** replicas the range was compared with */
  replicas: number
  /** of those, the ones the comparison failed with (they did not answer, or refused) */
  failed: number
  /** records sent to replicas that lacked them */
  recordsSent: number
  /** records fetched from replicas because we lacked them */
  recordsFetched: number
}

/** Records one range comparison sent and fetched */
export interface RangeRepairs {
  sent: number
  fetched: number
}

export interface PutOutcome {
  /** replicas that acknowledged the write, the primary included */
  replicas: number
}

export class Replication implements RecordRpcHandler {
  private readonly ring: ChordRing
  private readonly namespace?: NamespaceName
  private readonly rpc: RecordRpc
  private readonly store: RecordStore
  private readonly range?: Pick<ReplicaRange, 'admits' | 'recheck' | 'isNeighbour' | 'predecessor' | 'rangeReplicatedFor'>
  private readonly ttl: TtlPolicy
  private readonly now: () => number
  private readonly onAntiEntropyRound: (round: AntiEntropyRound) => void
  private readonly antiEntropyLoop: Periodic
  private readonly loops: Periodic[]
  private readonly admit: (records: ChordRecord[]) => Promise<ChordRecord[] | Admission>
  private readonly readmit: (records: ChordRecord[]) => ChordRecord[]
  private readonly maxRecordsPerStore: number
  /** the tail of the write queue, when writes are serialized */
  private writes?: Promise<unknown>
  private readonly onRecordsAdded: (records: ChordRecord[]) => void
  private readonly deletionsIn: (from: RingId, until: RingId) => SignedDeletion[]
  private readonly takeDeletions: (deletions: SignedDeletion[]) => Promise<void>
  /** the predecessor we last handed records to */
  private handedOffTo?: string

  constructor (init: ReplicationInit) {
    this.ring = init.ring
    this.namespace = init.namespace
    this.rpc = init.rpc
    this.store = init.store
    this.range = init.range
    this.ttl = init.ttl
    this.onAntiEntropyRound = init.onAntiEntropyRound ?? (() => {})
    this.now = init.now ?? Date.now
    this.admit = init.admit ?? (async records => records)
    this.readmit = init.readmit ?? (records => records)
    this.maxRecordsPerStore = init.maxRecordsPerStore ?? MAX_RECORDS_PER_STORE
    this.writes = init.serializeWrites === true ? Promise.resolve() : undefined
    this.onRecordsAdded = init.onRecordsAdded ?? (() => {})
    this.deletionsIn = init.deletionsIn ?? (() => [])
    this.takeDeletions = init.takeDeletions ?? (async () => {})
    this.antiEntropyLoop = new Periodic(async () => {
      const round = await this.antiEntropy()
      if (round != null && round.failed + round.recordsSent + round.recordsFetched > 0) {
        // replicas differ or did not answer: compare again soon
        this.antiEntropyLoop.wake()
      }
    }, {
      ...adaptiveInterval(init.antiEntropyIntervalMs, init.antiEntropyMaxIntervalMs, { shortMs: DEFAULT_ANTI_ENTROPY_INTERVAL, longMs: DEFAULT_ANTI_ENTROPY_MAX_INTERVAL }),
      jitter: TIMER_JITTER,
      onError: init.onError
    })
    const sweep = new Periodic(async () => {
      const swept = await this.store.sweepExpired({ now: this.now() })
      init.onSwept?.(swept)
    }, {
      intervalMs: init.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL,
      jitter: TIMER_JITTER,
      onError: init.onError
    })
    this.loops = [this.antiEntropyLoop, sweep]
  }

  start (): void {
    for (const loop of this.loops) {
      loop.start()
    }
  }

  stop (): void {
    for (const loop of this.loops) {
      loop.stop()
    }
  }

  /** The key's replica set: the first r nodes of its lookup result (looked up, never cached) */
  async replicaSet (key: Uint8Array, options?: RpcOptions): Promise<NodeRef[]> {
    const { successors } = await this.ring.lookup(ringIdFromBytes(key), { ...options, successorCount: this.ring.replicas })
    return successors.slice(0, this.ring.replicas)
  }

  /**
   * STORE `records` on each node of their key's replica set, and settle each (one per node of the
   * set). The set comes from the owner cache when it has the key, and the answers tell whether it
   * was stale: a node that did not answer, one that refused the key as not its own
   * (ForbiddenError), or an owner whose answer shows the key is no longer its own (the predecessor
   * it names) drops the entry, and the records go to the nodes of the set a real lookup finds that
   * they have not reached yet. A stale entry so costs the lookup it would have saved, after the
   * round it spent. Reads and deletions do not use the cache: their answers name no range.
   *
   * The hard case is a node that joined inside the cached range: the old owner still takes the
   * write (it stays a replica), but the key and the recipient's session have moved to the
   * newcomer, which would get the write only from a repair. The old owner's answer names its new
   * predecessor, so the write reaches the newcomer one lookup later (see StoreAck.predecessor).
   */
  private async storeOnReplicas (records: ChordRecord[], options?: RpcOptions): Promise<Array<PromiseSettledResult<StoreAck>>> {
    const key = records[0].key
    const id = ringIdFromBytes(key)
    const stores = new OncePerNode(async node => this.storeOn(node, records, options))
    const found = await this.ring.lookup(id, {
      ...options,
      successorCount: this.ring.replicas,
      useOwnerCache: true,
      carry: this.carried(records)
    })
    const first = found.successors.slice(0, this.ring.replicas)
    if (found.carried === true) {
      // the owner stored the record as it answered, as a STORE would have (one whose answer would
      // have handed back deletions naming it is not taken so: the STORE then goes)
      stores.done(first[0], { declined: [], deletions: [], predecessor: found.ownerPredecessor?.id })
    }
    const settled = await stores.settle(first)
    if (found.cached !== true || !isStale(id, first, settled)) {
      return settled
    }
    this.ring.owners.forget(id)
    const replicas = await this.replicaSet(key, options)
    // the nodes of the stale set that took the records keep their answers; the rest are asked again
    stores.forgetFailures()
    return stores.settle(replicas)
  }

  /** What a write of `records` may carry on its lookup: one small record, in a namespace that says which it is */
  private carried (records: ChordRecord[]): CarriedRecord | undefined {
    const namespace = this.namespace
    if (namespace == null || records.length !== 1 || records[0].value.byteLength > MAX_CARRIED_VALUE_BYTES) {
      return undefined
    }
    return { namespace, record: records[0] }
  }

  /**
   * Write records (all under one key) to every replica. Resolves with how many acknowledged;
   * rejects only when none did: with the first refusal (e.g. QuotaExceededError, RateLimitedError)
   * if a replica refused, else with the first replica's failure.
   */
  async put (records: ChordRecord[], options?: RpcOptions): Promise<PutOutcome> {
    const results = await this.storeOnReplicas(records, options)
    const acknowledged = results.filter(r => r.status === 'fulfilled').length
    if (acknowledged < results.length) {
      // a replica went without: if it is one of ours, the next rounds give it what it lacks
      this.antiEntropyLoop.wake()
    }
    if (acknowledged === 0) {
      const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map(r => r.reason)
      // a replica that could not be reached says nothing about the records; one that refused
      // them says why, and whether another attempt can help
      throw errors.find(isRefusal) ?? errors[0] ?? new LookupFailedError('the key has no replica to write to')
    }
    return { replicas: acknowledged }
  }

  /**
   * Every live value under the key, from every replica that answers (a union: replicas may lag).
   * Always looked up, never from the owner cache: a FETCH answer says nothing of who owns the key,
   * so a read of a stale set (after a merge, a set with none of the true replicas) could not tell
   */
  async get (key: Uint8Array, options?: RpcOptions): Promise<ChordRecord[]> {
    const fetches = new OncePerNode(async node => this.fetchFrom(node, key, options))
    // the nodes the route named are asked while their owner confirms them; only the confirmed
    // set's answers are read, and a node of it the route did not name is asked afterwards
    const { successors } = await this.ring.lookup(ringIdFromBytes(key), { ...options, successorCount: this.ring.replicas, onNamed: named => { fetches.start(named) } })
    const answers = await fetches.settle(successors.slice(0, this.ring.replicas))
    const byId = new Map<string, ChordRecord>()
    let answered = 0
    for (const answer of answers) {
      if (answer.status === 'fulfilled') {
        answered++
        for (const record of answer.value) {
          byId.set(toHex(record.id, 'base16'), record)
        }
      }
    }
    if (answered === 0) {
      const first = answers.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      throw first?.reason ?? new LookupFailedError('the key has no replica to read from')
    }
    return [...byId.values()]
  }

  /**
   * One anti-entropy round: as primary of (predecessor, self], compare the range with each of
   * the next r - 1 nodes and repair both ways. Resolves to what it did (nothing without a predecessor).
   */
  async antiEntropy (): Promise<AntiEntropyRound | undefined> {
    const { table } = this.ring
    const predecessor = table.predecessor
    if (predecessor == null) {
      return undefined
    }
    const replicas = table.getSuccessors().slice(0, this.ring.replicas - 1)
    const round: AntiEntropyRound = { replicas: replicas.length, failed: 0, recordsSent: 0, recordsFetched: 0 }
    for (const replica of replicas) {
      try {
        const { sent, fetched } = await this.syncRange(replica, predecessor.id, table.self.id, 'both')
        round.recordsSent += sent
        round.recordsFetched += fetched
      } catch {
        // that replica is compared again next round
        round.failed++
      }
    }
    this.onAntiEntropyRound(round)
    return round
  }

  /**
   * Called whenever the ring's neighbours change. A new predecessor (typically a node that joined
   * between us and the old one) is now primary of part of our range and a replica of what we
   * replicate for the nodes before it: give it what it lacks of everything outside our new range.
   */
  async neighboursChanged (): Promise<void> {
    // new neighbours may lack records, or hold ones we lack
    this.antiEntropyLoop.wake()
    const predecessor = this.ring.table.predecessor
    if (predecessor == null || predecessor.peer === this.handedOffTo) {
      return
    }
    await this.syncRange(predecessor, this.ring.self.id, predecessor.id, 'push')
    // only now: a handoff that failed is tried again at the next change or anti-entropy round
    this.handedOffTo = predecessor.peer
  }

  /**
   * Before a graceful stop: each range we replicate goes to the node that becomes its new
   * replica. Once we are gone the j-th successor is the r-th replica of the range of our
   * (r - j)-th predecessor, (p_(r-j+1), p_(r-j)] (p_0 being us); the successor, which takes our
   * range over, is compared over all we replicate, (p_r, self]. Each is a push where digests
   * differ, so what a successor holds already costs one digest. Until our predecessors are known,
   * the successor gets everything we hold.
   */
  async handoffOnLeave (options: RpcOptions = {}): Promise<void> {
    const { self, table, replicas } = this.ring
    const successors = table.getSuccessors().filter(node => node.peer !== self.peer)
    if (successors.length === 0) {
      return
    }
    const predecessor = (k: number): NodeRef | undefined => k === 0 ? self : this.range?.predecessor(k)
    const replicatedFrom = predecessor(replicas)
    if (replicatedFrom == null) {
      await this.sendAll(successors[0], this.store.range(self.id, self.id, { now: this.now(), withWriters: true }), options)
      return
    }
    const handoffs = successors.slice(0, replicas).map(async (successor, i) => {
      const j = i + 1
      const [start, end] = j === 1 ? [replicatedFrom, self] : [predecessor(replicas - j + 1), predecessor(replicas - j)]
      if (start != null && end != null) {
        await this.syncRange(successor, start.id, end.id, 'push', options)
      }
    })
    const [first] = await Promise.allSettled(handoffs)
    if (first.status === 'rejected') {
      throw first.reason
    }
  }

  /**
   * Make `peer`'s copy of (from, until] match ours: compare digests; where they differ, halve the
   * range until each half is small enough to list, then send what `peer` lacks ('push') and, for
   * 'both', fetch what we lack. Resolves to how many records went each way.
   */
  async syncRange (peer: NodeRef, from: RingId, until: RingId, mode: 'push' | 'both', options: RpcOptions = {}): Promise<RangeRepairs> {
    return this.compare(peer, from, until, mode, { requests: MAX_SYNC_REQUESTS, options }, 0)
  }

  /**
   * One step of `syncRange`. Splitting is decided on our own count (a peer's count could be a lie
   * to keep us splitting) except where we must list theirs, and every request spends from a
   * budget shared by the whole comparison. A peer that does not count us as a ring neighbour
   * (we have just joined) reads no more for us than its strangers' budget leaves, and refuses a
   * range holding more TOO_LARGE: the comparison then ends, as halving would read as much, and
   * is made again at the next round or change, by when we are counted as one.
   */
  private async compare (peer: NodeRef, from: RingId, until: RingId, mode: 'push' | 'both', budget: SyncBudget, depth: number): Promise<RangeRepairs> {
    spend(budget)
    const now = this.now()
    const [local, remote] = await Promise.all([
      this.store.digest(from, until, { now }),
      this.rpc.rangeDigest(peer, from, until, budget.options)
    ])
    if (local.count === remote.count && equals(local.hash, remote.hash)) {
      return { sent: 0, fetched: 0 }
    }
    const mustList = mode === 'both' && remote.count > 0
    const tooMany = local.count > MAX_SUMMARIES_PER_REPLY || (mustList && remote.count > MAX_SUMMARIES_PER_REPLY)
    if (tooMany && depth < MAX_SYNC_DEPTH) {
      const span = from === until ? RING_SIZE : distance(from, until)
      const middle = (from + span / 2n) % RING_SIZE
      const low = await this.compare(peer, from, middle, mode, budget, depth + 1)
      const high = await this.compare(peer, middle, until, mode, budget, depth + 1)
      return { sent: low.sent + high.sent, fetched: low.fetched + high.fetched }
    }
    // the range's deletions go with what we send: what they hold and we do not may be what its
    // owner deleted
    const options = { ...budget.options, deletions: this.deletionsIn(from, until) }
    if (mode === 'push') {
      // without their list, send all we hold here; they keep what they lack and drop the rest.
      // Push never asks to list a peer's records, which a namespace may refuse
      return { sent: await this.sendAll(peer, this.store.range(from, until, { now, withWriters: true }), options), fetched: 0 }
    }

    spend(budget)
    const theirs = await this.rpc.rangeSummaries(peer, from, until, budget.options)
    const theirIds = new Set(theirs.map(summaryKey))
    const ours: RecordSummary[] = []
    for await (const summary of this.store.summaries(from, until, { now })) {
      ours.push(summary)
    }
    const ourIds = new Set(ours.map(summaryKey))

    const missingThere = ours.filter(s => !theirIds.has(summaryKey(s)))
    const sent = await this.sendAll(peer, this.recordsFor(missingThere, now), options)

    let fetched = 0
    const missingHere = theirs.filter(s => !ourIds.has(summaryKey(s)))
    for (const key of distinctKeys(missingHere)) {
      spend(budget)
      const records = await this.rpc.fetchRecords(peer, key, budget.options)
      // a replica's records, with the writers it counts them for: one writer's excess is left out
      await this.acceptRecords(records, { overShare: 'skip' })
      fetched += records.length
    }
    return { sent, fetched }
  }

  /**
   * Records another node (or this one) sends us. Only keys we keep are taken (a STORE of none of
   * them is refused with ForbiddenError); a stranger is their writer, whatever they say, and
   * holds at most its share of each key and of the store (QuotaExceededError past it); a ring
   * neighbour's repairs and handoffs count for the writers they carry, and a record over its
   * writer's share is left out rather than holding up the rest.
   */
  async onStoreRecords (from: NodeRef, records: ChordRecord[], _deletions?: SignedDeletion[], options?: StoreFromOptions): Promise<StoreReceipt> {
    if (from.peer === this.ring.self.peer) {
      return receiptFor(records, await this.acceptRecords(records), [])
    }
    const kept = await this.keptOf(records)
    if (kept.length === 0) {
      throw new ForbiddenError(`none of the ${records.length} records is of a key this node keeps`)
    }
    const neighbour = options?.carriedFor == null && this.range?.isNeighbour(from.peer) === true
    const written = await this.acceptRecords(kept, neighbour ? { overShare: 'skip' } : { writer: writerTag(from), subnet: options?.subnet })
    return receiptFor(records, written, records.filter(record => !kept.includes(record)))
  }

  /** Whether this node keeps `key`, as a STORE of it would find (see keptOf) */
  async keeps (key: Uint8Array): Promise<boolean> {
    return (await this.keptOf([{ key }])).length > 0
  }

  /** The records of keys we keep, by our replica range, walked again first if it would turn some away */
  async keptOf<Keyed extends { key: Uint8Array }> (records: Keyed[]): Promise<Keyed[]> {
    const range = this.range
    if (range == null) {
      return records
    }
    const kept = records.filter(record => range.admits(record.key))
    if (kept.length === records.length || !await range.recheck()) {
      return kept
    }
    return records.filter(record => range.admits(record.key))
  }

  /**
   * Whether (start, until] lies within the keys `peer` is the primary of and we replicate for it:
   * what a namespace that lets nobody list its records still shows the one node repairing its own
   * copy of them (anti-entropy in 'both' mode). Without a replica range, every peer is one.
   */
  replicatesFor (peer: string, start: RingId, until: RingId): boolean {
    if (this.range == null) {
      return true
    }
    const primary = this.range.rangeReplicatedFor(peer)
    if (primary == null) {
      return false
    }
    // measured from the range's lower end; an empty or whole-ring interval (start = until) never fits
    const untilAt = distance(primary.from, until)
    return distance(primary.from, start) < untilAt && untilAt <= distance(primary.from, primary.until)
  }

  /** A key's live records; a ring neighbour (repairing its copy) gets the writer each is counted for */
  async onFetchRecords (from: NodeRef, key: Uint8Array): Promise<ChordRecord[]> {
    return this.store.get(key, { now: this.now(), withWriters: this.range?.isNeighbour(from.peer) === true })
  }

  async onRangeDigest (_from: NodeRef, start: RingId, until: RingId, options: RangeScanOptions = {}): Promise<RangeDigest> {
    return this.store.digest(start, until, { now: this.now(), tally: options.tally })
  }

  async onRangeSummaries (_from: NodeRef, start: RingId, until: RingId, options: RangeScanOptions = {}): Promise<RecordSummary[]> {
    const summaries: RecordSummary[] = []
    for await (const summary of this.store.summaries(start, until, { now: this.now(), tally: options.tally })) {
      if (summaries.length === MAX_SUMMARIES_PER_REPLY) {
        throw new TooLargeError(`more than ${MAX_SUMMARIES_PER_REPLY} records in the range: ask for a smaller one`)
      }
      summaries.push(summary)
    }
    return summaries
  }

  /** Store records from a peer (or our own put): lifetimes are cut to our maximum */
  private async acceptRecords (records: ChordRecord[], options: Omit<StorePutOptions, 'now'> = {}): Promise<Written> {
    if (this.writes == null) {
      return this.writeAdmitted(records, options)
    }
    const write = this.writes.then(async () => this.writeAdmitted(records, options))
    this.writes = write.catch(() => {})
    return write
  }

  private async writeAdmitted (records: ChordRecord[], options: Omit<StorePutOptions, 'now'>): Promise<Written> {
    const now = this.now()
    const admission = await this.admit(records)
    const { records: admitted, superseded = [] } = Array.isArray(admission) ? { records: admission } : admission
    if (admitted.length === 0) {
      return { writtenBytes: 0, overShare: [] }
    }
    const capped = admitted.map(r => ({ ...r, expiresAt: capExpiresAt(r.expiresAt, now, this.ttl) }))
    const { added, overShare, writtenBytes } = await this.store.put(capped, { ...options, now })
    for (const { key, ids } of superseded) {
      await this.store.delete(key, ids)
    }
    const kept = this.readmit(added)
    if (kept.length < added.length) {
      const keptIds = new Set(kept)
      for (const { key, ids } of groupIds(added.filter(record => !keptIds.has(record)))) {
        await this.store.delete(key, ids)
      }
    }
    if (kept.length > 0) {
      this.onRecordsAdded(kept)
    }
    return { writtenBytes, overShare }
  }

  /**
   * Store one batch on `node` (ourselves included); resolves to the records of it that the node
   * said it holds or let go for good (see StoreAck), none when it did not say
   */
  async storeConfirmed (node: NodeRef, records: ChordRecord[], options?: StoreOptions): Promise<ChordRecord[]> {
    let ack: StoreAck
    try {
      ack = await this.storeOn(node, records, options)
    } catch (err) {
      if (err instanceof StaleRecordError) {
        // every record is older than the one the node holds: nobody needs them
        return records
      }
      throw err
    }
    if (ack.declined == null) {
      return []
    }
    const declined = new Set(ack.declined)
    return records.filter((_, i) => !declined.has(i))
  }

  /** Store records on `node` (ourselves included); deletions it answers with are applied here too */
  private async storeOn (node: NodeRef, records: ChordRecord[], options?: StoreOptions): Promise<StoreAck> {
    if (node.peer === this.ring.self.peer) {
      const predecessor = this.ring.table.predecessor
      return { declined: receiptFor(records, await this.acceptRecords(records), []).declined, deletions: [], ...(predecessor == null ? {} : { predecessor: predecessor.id }) }
    }
    // where a writer's records are from is for the nodes that replicate with us, not for any node a lookup names (rehoming)
    const sent = this.range?.isNeighbour(node.peer) === true ? records : records.map(withoutWriterSubnet)
    const ack = await this.rpc.storeRecords(node, sent, options)
    // only deletions of what we just wrote are news to us: nothing else an answer names is taken
    const ours = new Set(records.map(record => toHex(record.key, 'base16') + toHex(record.id, 'base16')))
    const naming = ack.deletions.filter(deletion => deletion.ids.some(id => ours.has(toHex(deletion.key, 'base16') + toHex(id, 'base16'))))
    if (naming.length > 0) {
      await this.takeDeletions(naming)
    }
    return ack
  }

  private async fetchFrom (node: NodeRef, key: Uint8Array, options?: RpcOptions): Promise<ChordRecord[]> {
    if (node.peer === this.ring.self.peer) {
      return this.store.get(key, { now: this.now() })
    }
    return this.rpc.fetchRecords(node, key, options)
  }

  /** Records named by summaries, read back from the store (ones that expired meanwhile are skipped) */
  private async * recordsFor (summaries: RecordSummary[], now: number): AsyncIterable<ChordRecord> {
    for (const key of distinctKeys(summaries)) {
      const wanted = new Set(summaries.filter(s => equals(s.key, key)).map(summaryKey))
      for (const record of await this.store.get(key, { now, withWriters: true })) {
        if (wanted.has(summaryKey(record))) {
          yield record
        }
      }
    }
  }

  /** Records in batches that each fit one STORE of this namespace (its record count, the batch's bytes) */
  async * batches (records: AsyncIterable<ChordRecord>): AsyncGenerator<ChordRecord[]> {
    let batch: ChordRecord[] = []
    let bytes = 0
    for await (const record of records) {
      if (batch.length === this.maxRecordsPerStore || (batch.length > 0 && bytes + record.value.byteLength > MAX_STORE_BATCH_BYTES)) {
        yield batch
        batch = []
        bytes = 0
      }
      batch.push(record)
      bytes += record.value.byteLength
    }
    if (batch.length > 0) {
      yield batch
    }
  }

  /**
   * Send records in batches that stay within the message limits, the first carrying the
   * deletions (alone, when there is no record); resolves to how many records were sent
   */
  private async sendAll (peer: NodeRef, records: AsyncIterable<ChordRecord>, options: StoreOptions = {}): Promise<number> {
    let sent = 0
    let deletions = options.deletions ?? []
    for await (const batch of this.batches(records)) {
      await this.storeOn(peer, batch, { ...options, deletions })
      deletions = []
      sent += batch.length
    }
    if (deletions.length > 0) {
      await this.storeOn(peer, [], { ...options, deletions })
    }
    return sent
  }
}

/** What a write of records did: the bytes it cost, and the records left out over their writer's share */
interface Written {
  writtenBytes: number
  overShare: ChordRecord[]
}

/** The answer to a STORE of `records`: declined are those outside our range and those over their writer's share */
function receiptFor (records: ChordRecord[], written: Written, outside: ChordRecord[]): StoreReceipt {
  const turnedAway = new Set([...outside, ...written.overShare].map(summaryKey))
  const declined = records.flatMap((record, i) => turnedAway.has(summaryKey(record)) ? [i] : [])
  return { writtenBytes: written.writtenBytes, declined }
}

/**
 * Whether the STORE answers of a cached replica set (`settled`, in the order of `replicas`) show it stale: a node that did not answer, or
 * that refused the key as not its own, or an owner whose answer places `id` outside its range
 * (or names no range). Other refusals (rates, quotas) come from nodes that keep the key and would
 * only be repeated.
 */
function isStale (id: RingId, replicas: NodeRef[], settled: Array<PromiseSettledResult<StoreAck>>): boolean {
  const unreached = settled.some(result => result.status === 'rejected' && (!isRefusal(result.reason) || result.reason instanceof ForbiddenError))
  const owner = settled[0]
  const ownsKey = (ack: StoreAck): boolean => ack.predecessor != null && inHalfOpenInterval(id, ack.predecessor, replicas[0].id)
  return unreached || (owner?.status === 'fulfilled' && !ownsKey(owner.value))
}

/** The errors a replica refuses a write with, as it would refuse it locally */
const REFUSALS = [RateLimitedError, QuotaExceededError, InvalidRecordError, TooLargeError, ForbiddenError, VerificationError, StaleRecordError]

function isRefusal (err: unknown): boolean {
  return REFUSALS.some(Refusal => err instanceof Refusal)
}

function summaryKey (summary: { key: Uint8Array, id: Uint8Array }): string {
  return toHex(summary.key, 'base16') + toHex(summary.id, 'base16')
}

function distinctKeys (summaries: RecordSummary[]): Uint8Array[] {
  const byHex = new Map<string, Uint8Array>()
  for (const summary of summaries) {
    byHex.set(toHex(summary.key, 'base16'), summary.key)
  }
  return [...byHex.values()]
}

/** What one range comparison may still ask of the peer, and under which deadline */
interface SyncBudget {
  requests: number
  options: RpcOptions
}

/** Count one request against a comparison's budget */
function spend (budget: SyncBudget): void {
  if (budget.requests <= 0) {
    throw new TooLargeError(`a range comparison needs more than ${MAX_SYNC_REQUESTS} requests`)
  }
  budget.requests--
}

function withoutWriterSubnet (record: ChordRecord): ChordRecord {
  if (record.writerSubnet == null) {
    return record
  }
  const { writerSubnet, ...rest } = record
  return rest
}
