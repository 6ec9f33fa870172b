/**
 * Moves records that sit on a node outside their replica set to the nodes that should hold them.
 *
 * Reads and anti-entropy only ask a key's r successors, so a record anywhere else is invisible.
 * Records land there when many nodes come between a key and its old replicas at once: above all
 * when two rings that formed apart during a partition merge, and each side's records find the
 * other side's nodes in front of them. Handoff reaches only the one new predecessor; this pass
 * finds the rest. Each record namespace has its own (mailbox envelopes move like plain records).
 *
 * A node replicates the keys in (p_r, self], where p_r is its r-th predecessor (it is the k-th
 * replica of (p_k, p_(k-1)]). Whatever it holds in (self, p_r] may be misplaced. The chain of
 * predecessors is what they say of one another (checked against our own routing table, see
 * replica-range.ts), so a lying predecessor can make it look shorter than it is: it only ever
 * decides where to look, never what leaves. For each owner range found there, the key's replica
 * set comes from a lookup: r distinct nodes, none of them us, or the records stay and the round
 * ends. The records are then sent, a batch at a time, in a STORE to every node of that set, and a
 * record is deleted here only once each of them answered that it holds it (or that it was let go
 * for good: deleted by its owner, superseded, expired). A node that turns a record away (a key it
 * does not take, a writer over its share), or does not say (an older node), keeps it here.
 *
 * In a settled ring the misplaced range is empty, so a round costs an empty scan.
 */
import { DEFAULT_ANTI_ENTROPY_INTERVAL, DEFAULT_ANTI_ENTROPY_MAX_INTERVAL, MAX_REHOMED_RANGES_PER_ROUND, TIMER_JITTER } from './constants.js'
import { inHalfOpenInterval, ringIdFromBytes } from './id.js'
import { Periodic, adaptiveInterval } from './periodic.js'
import type { RingId } from './id.js'
import type { ReplicaRange } from './replica-range.js'
import type { Replication } from './replication.js'
import type { ChordRing } from './ring.js'
import type { NodeRef } from './rpc.js'
import type { ChordRecord, RecordStore } from './record.js'

export interface RehomingInit {
  ring: ChordRing
  /** our predecessors, as last walked and checked (the walk that decides what the node takes a STORE for) */
  range: Pick<ReplicaRange, 'predecessor'>
  replication: Pick<Replication, 'batches' | 'storeConfirmed'>
  store: RecordStore
  /**
   * ms between rounds while the neighbours change or rounds move records; default
   * DEFAULT_ANTI_ENTROPY_INTERVAL, since it repairs what anti-entropy cannot see
   */
  intervalMs?: number
  /** ms between rounds once nothing does; default the same multiple of `intervalMs` as the anti-entropy defaults */
  maxIntervalMs?: number
  /** default MAX_REHOMED_RANGES_PER_ROUND */
  maxRangesPerRound?: number
  now?(): number
  onError?(err: unknown): void
}

export class Rehoming {
  private readonly ring: ChordRing
  private readonly range: Pick<ReplicaRange, 'predecessor'>
  private readonly replication: Pick<Replication, 'batches' | 'storeConfirmed'>
  private readonly store: RecordStore
  private readonly maxRangesPerRound: number
  private readonly now: () => number
  private readonly loop: Periodic

  constructor (init: RehomingInit) {
    this.ring = init.ring
    this.range = init.range
    this.replication = init.replication
    this.store = init.store
    this.maxRangesPerRound = init.maxRangesPerRound ?? MAX_REHOMED_RANGES_PER_ROUND
    this.now = init.now ?? Date.now
    this.loop = new Periodic(async () => {
      if (await this.rehome() > 0) {
        // records were misplaced: there may be more, after a merge
        this.loop.wake()
      }
    }, {
      ...adaptiveInterval(init.intervalMs, init.maxIntervalMs, { shortMs: DEFAULT_ANTI_ENTROPY_INTERVAL, longMs: DEFAULT_ANTI_ENTROPY_MAX_INTERVAL }),
      jitter: TIMER_JITTER,
      onError: init.onError
    })
  }

  start (): void {
    this.loop.start()
  }

  stop (): void {
    this.loop.stop()
  }

  /** The neighbours changed: records may have to move, so look soon and often again */
  wake (): void {
    this.loop.wake()
  }

  /** One round; resolves to how many records were moved away (held by their whole new replica set, deleted here) */
  async rehome (): Promise<number> {
    // undefined until the chain is known, and in a ring of r nodes or fewer (we replicate everything)
    const replicatedFrom = this.range.predecessor(this.ring.replicas)
    if (replicatedFrom == null) {
      return 0
    }
    const until = replicatedFrom.id
    let from = this.ring.self.id
    let moved = 0
    for (let ranges = 0; ranges < this.maxRangesPerRound && from !== until; ranges++) {
      const first = await this.firstPositionIn(from, until)
      if (first == null) {
        break
      }
      const set = await this.replicaSetOf(first)
      // every record from `first` up to its owner lies in the owner's range: one replica set
      const end = inHalfOpenInterval(set.owner.id, from, until) ? set.owner.id : until
      if (set.replicas != null) {
        moved += await this.moveRange(from, end, set.replicas)
      } else if (end === until) {
        break
      }
      // a range that cannot move now stays, and does not hold up the ranges after it
      from = end
    }
    return moved
  }

  /**
   * The replica set of a position, by lookup: its owner and r distinct nodes, none of them us.
   * No replicas when the ring disagrees with our view (it names us) or names fewer than r nodes:
   * then nothing of the owner's range may leave.
   */
  private async replicaSetOf (position: RingId): Promise<{ owner: NodeRef, replicas?: NodeRef[] }> {
    const { successors } = await this.ring.lookup(position)
    const replicas = successors.slice(0, this.ring.replicas)
    const distinct = new Set(replicas.map(node => node.peer))
    if (distinct.size < this.ring.replicas || distinct.has(this.ring.self.peer)) {
      return { owner: replicas[0] }
    }
    return { owner: replicas[0], replicas }
  }

  /**
   * Send (from, until] to every replica, a batch at a time; delete here what each of them said it
   * holds. Resolves to how many records were deleted.
   */
  private async moveRange (from: RingId, until: RingId, replicas: NodeRef[]): Promise<number> {
    let moved = 0
    for await (const batch of this.replication.batches(this.store.range(from, until, { now: this.now(), withWriters: true }))) {
      // every replica gets the whole batch, whatever another one turned away
      let confirmed: ChordRecord[] = batch
      for (const replica of replicas) {
        // a replica that fails holds nothing we know of: the records stay, and the round goes on to the next range
        const held = new Set(await this.replication.storeConfirmed(replica, batch).catch(() => []))
        confirmed = confirmed.filter(record => held.has(record))
      }
      moved += await this.deleteHere(confirmed)
    }
    return moved
  }

  private async deleteHere (records: ChordRecord[]): Promise<number> {
    const idsByKey = new Map<string, { key: Uint8Array, ids: Uint8Array[] }>()
    for (const { key, id } of records) {
      const hex = ringIdFromBytes(key).toString(16)
      const entry = idsByKey.get(hex) ?? { key, ids: [] }
      entry.ids.push(id)
      idsByKey.set(hex, entry)
    }
    for (const { key, ids } of idsByKey.values()) {
      await this.store.delete(key, ids)
    }
    return records.length
  }

  private async firstPositionIn (from: RingId, until: RingId): Promise<RingId | undefined> {
    // the first summary is all we need; leaving a for-await loop closes the iterator
    // eslint-disable-next-line no-unreachable-loop
    for await (const summary of this.store.summaries(from, until, { now: this.now() })) {
      return ringIdFromBytes(summary.key)
    }
    return undefined
  }
}
