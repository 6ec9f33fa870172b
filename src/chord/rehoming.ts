/**
 * Moves records that sit on a node outside their replica set to the nodes that should hold them.
 *
 * Reads and anti-entropy only ask a key's r successors, so a record anywhere else is invisible.
 * Records land there when many nodes come between a key and its old replicas at once: above all
 * when two rings that formed apart during a partition merge, and each side's records find the
 * other side's nodes in front of them. Handoff reaches only the one new predecessor; this pass
 * finds the rest.
 *
 * A node replicates the keys in (p_r, self], where p_r is its r-th predecessor (it is the k-th
 * replica of (p_k, p_(k-1)]). Whatever it holds in (self, p_r] is misplaced: it is pushed, one
 * owner range at a time, to that range's replica set (found by lookup), and deleted here once
 * every replica has it. In a settled ring that range is empty, so a round costs r - 1 neighbour
 * requests and an empty scan. Whenever the ring disagrees with our view (the lookup names us as
 * a replica), the records stay and the round ends.
 */
import { DEFAULT_ANTI_ENTROPY_INTERVAL, DEFAULT_ANTI_ENTROPY_MAX_INTERVAL, MAX_REHOMED_RANGES_PER_ROUND, TIMER_JITTER } from './constants.js'
import { inHalfOpenInterval, ringIdFromBytes } from './id.js'
import { Periodic, adaptiveInterval } from './periodic.js'
import type { RingId } from './id.js'
import type { Replication } from './replication.js'
import type { ChordRing } from './ring.js'
import type { ChordRpc, NodeRef } from './rpc.js'
import type { RecordStore, RecordSummary } from './record.js'

export interface RehomingInit {
  ring: ChordRing
  rpc: Pick<ChordRpc, 'getNeighbours'>
  replication: Pick<Replication, 'syncRange'>
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
  private readonly rpc: Pick<ChordRpc, 'getNeighbours'>
  private readonly replication: Pick<Replication, 'syncRange'>
  private readonly store: RecordStore
  private readonly maxRangesPerRound: number
  private readonly now: () => number
  private readonly loop: Periodic

  constructor (init: RehomingInit) {
    this.ring = init.ring
    this.rpc = init.rpc
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

  /** One round; resolves to how many records were moved away */
  async rehome (): Promise<number> {
    const replicatedFrom = await this.rthPredecessor()
    if (replicatedFrom == null) {
      return 0
    }
    const self = this.ring.self
    const until = replicatedFrom.id
    let from = self.id
    let moved = 0
    for (let ranges = 0; ranges < this.maxRangesPerRound && from !== until; ranges++) {
      const first = await this.firstPositionIn(from, until)
      if (first == null) {
        break
      }
      // every record from `first` up to its owner lies in the owner's range: one replica set
      const { successors } = await this.ring.lookup(first)
      const replicas = successors.slice(0, this.ring.replicas)
      if (replicas.some(node => node.peer === self.peer)) {
        break
      }
      const owner = successors[0]
      const end = inHalfOpenInterval(owner.id, from, until) ? owner.id : until
      moved += await this.moveRange(from, end, replicas)
      from = end
    }
    return moved
  }

  /** Push (from, until] to every replica; only when all of them have it, delete it here */
  private async moveRange (from: RingId, until: RingId, replicas: NodeRef[]): Promise<number> {
    const now = this.now()
    const held: RecordSummary[] = []
    for await (const summary of this.store.summaries(from, until, { now })) {
      held.push(summary)
    }
    for (const replica of replicas) {
      await this.replication.syncRange(replica, from, until, 'push')
    }
    const idsByKey = new Map<string, { key: Uint8Array, ids: Uint8Array[] }>()
    for (const { key, id } of held) {
      const hex = ringIdFromBytes(key).toString(16)
      const entry = idsByKey.get(hex) ?? { key, ids: [] }
      entry.ids.push(id)
      idsByKey.set(hex, entry)
    }
    for (const { key, ids } of idsByKey.values()) {
      await this.store.delete(key, ids)
    }
    return held.length
  }

  private async firstPositionIn (from: RingId, until: RingId): Promise<RingId | undefined> {
    // the first summary is all we need; leaving a for-await loop closes the iterator
    // eslint-disable-next-line no-unreachable-loop
    for await (const summary of this.store.summaries(from, until, { now: this.now() })) {
      return ringIdFromBytes(summary.key)
    }
    return undefined
  }

  /**
   * Our r-th predecessor, asked of each predecessor in turn. Undefined when the chain is not
   * known yet, or comes back round to us (a ring of r nodes or fewer: we replicate everything).
   */
  private async rthPredecessor (): Promise<NodeRef | undefined> {
    const seen = new Set([this.ring.self.peer])
    let node = this.ring.table.predecessor
    for (let k = 1; node != null && !seen.has(node.peer); k++) {
      if (k === this.ring.replicas) {
        return node
      }
      seen.add(node.peer)
      node = (await this.rpc.getNeighbours(node)).predecessor
    }
    return undefined
  }
}
