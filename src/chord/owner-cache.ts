/**
 * The owners a node found with verified lookups, by ring range, so that a node that writes to the
 * same key again (a conversation: one person writing to the same mailbox) skips the lookup. A
 * verified lookup asks the owner itself for its neighbours, so it knows the owner's predecessor:
 * the owner is responsible for every id of (predecessor, owner], and its successor list is the
 * replica set of each of them. Entries are few (an LRU of OWNER_CACHE_SIZE) and short-lived
 * (OWNER_CACHE_TTL); whoever uses one must be ready to find it stale (see
 * `Replication.storeOnReplicas`), and a node that failed or refused drops it.
 */
import { OWNER_CACHE_SIZE, OWNER_CACHE_TTL } from './constants.js'
import { inHalfOpenInterval } from './id.js'
import type { RingId } from './id.js'
import type { NodeRef } from './rpc.js'

export interface OwnerCacheInit {
  /** entries kept, the least recently used dropped first; default OWNER_CACHE_SIZE */
  maxEntries?: number
  /** ms an entry is used after the lookup that found it; default OWNER_CACHE_TTL */
  ttlMs?: number
  now?(): number
}

interface OwnerEntry {
  /** the owner's predecessor, as the owner named it: the range is (from, owner] */
  from: RingId
  /** the owner, then the nodes after it */
  successors: NodeRef[]
  expiresAt: number
}

/**
 * The entries' ranges never overlap (a new one replaces those it overlaps), so each id lies in at
 * most one, found by binary search among the ranges ordered by their upper end: a node that serves
 * many users keeps a thousand entries and reads them on every send.
 */
export class OwnerCache {
  private readonly maxEntries: number
  private readonly ttlMs: number
  private readonly now: () => number
  /** by the owner's peer, least recently used first (a Map keeps insertion order) */
  private readonly entries = new Map<string, OwnerEntry>()
  /** the same entries in ring order of their owners */
  private readonly byOwner: OwnerEntry[] = []

  constructor (init: OwnerCacheInit = {}) {
    this.maxEntries = init.maxEntries ?? OWNER_CACHE_SIZE
    this.ttlMs = init.ttlMs ?? OWNER_CACHE_TTL
    this.now = init.now ?? Date.now
  }

  get size (): number {
    return this.entries.size
  }

  /** The owner of `id` and the nodes after it, as the live entry whose range holds `id` has them */
  find (id: RingId): NodeRef[] | undefined {
    const entry = this.holding(id)
    if (entry == null) {
      return undefined
    }
    if (entry.expiresAt <= this.now()) {
      this.remove(entry)
      return undefined
    }
    const peer = entry.successors[0].peer
    this.entries.delete(peer)
    this.entries.set(peer, entry)
    return [...entry.successors]
  }

  /**
   * Remember what a verified lookup of `id` found: its owner (`successors[0]`), the nodes after
   * it, and the owner's predecessor as the owner named it. Ignored when `id` is not in the range
   * that gives (the owner named a predecessor nearer the key that did not answer the check: the
   * range is in flux). Entries whose ranges overlap the new one are older views of it: dropped.
   */
  remember (id: RingId, predecessor: NodeRef, successors: NodeRef[]): void {
    const owner = successors[0]
    if (owner == null || predecessor.peer === owner.peer || !inHalfOpenInterval(id, predecessor.id, owner.id)) {
      return
    }
    // the ranges that overlap (predecessor, owner]: those whose owner lies in it, then the next,
    // which may reach back into it
    while (this.byOwner.length > 0) {
      const entry = this.byOwner[this.firstAtOrAfter(predecessor.id + 1n) % this.byOwner.length]
      if (!overlap(entry.from, ownerIdOf(entry), predecessor.id, owner.id)) {
        break
      }
      this.remove(entry)
    }
    this.remove(this.entries.get(owner.peer))
    const entry = { from: predecessor.id, successors: [...successors], expiresAt: this.now() + this.ttlMs }
    this.entries.set(owner.peer, entry)
    this.byOwner.splice(this.firstAtOrAfter(owner.id), 0, entry)
    while (this.entries.size > this.maxEntries) {
      this.remove(this.entries.values().next().value)
    }
  }

  /** Forget the entry whose range holds `id`: one of its nodes failed, refused, or no longer owns it */
  forget (id: RingId): void {
    this.remove(this.holding(id))
  }

  clear (): void {
    this.entries.clear()
    this.byOwner.length = 0
  }

  /** The entry whose range holds `id`, live or not: the first owner at or after it, round the ring */
  private holding (id: RingId): OwnerEntry | undefined {
    if (this.byOwner.length === 0) {
      return undefined
    }
    const entry = this.byOwner[this.firstAtOrAfter(id) % this.byOwner.length]
    return inHalfOpenInterval(id, entry.from, ownerIdOf(entry)) ? entry : undefined
  }

  /** Index of the first entry whose owner is at or after `id` (the length when none is) */
  private firstAtOrAfter (id: RingId): number {
    let low = 0
    let high = this.byOwner.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (ownerIdOf(this.byOwner[middle]) < id) {
        low = middle + 1
      } else {
        high = middle
      }
    }
    return low
  }

  private remove (entry: OwnerEntry | undefined): void {
    if (entry == null) {
      return
    }
    this.entries.delete(entry.successors[0].peer)
    const at = this.firstAtOrAfter(ownerIdOf(entry))
    if (this.byOwner[at] === entry) {
      this.byOwner.splice(at, 1)
    }
  }
}

function ownerIdOf (entry: OwnerEntry): RingId {
  return entry.successors[0].id
}

/** Whether the ring ranges (a, b] and (c, d] share an id */
function overlap (a: RingId, b: RingId, c: RingId, d: RingId): boolean {
  return inHalfOpenInterval(b, c, d) || inHalfOpenInterval(d, a, b)
}
