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

export class OwnerCache {
  private readonly maxEntries: number
  private readonly ttlMs: number
  private readonly now: () => number
  /** by the owner's peer, least recently used first (a Map keeps insertion order) */
  private readonly entries = new Map<string, OwnerEntry>()

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
    const now = this.now()
    for (const [peer, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(peer)
      } else if (inHalfOpenInterval(id, entry.from, entry.successors[0].id)) {
        this.entries.delete(peer)
        this.entries.set(peer, entry)
        return [...entry.successors]
      }
    }
    return undefined
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
    for (const [peer, entry] of this.entries) {
      if (overlap(entry.from, entry.successors[0].id, predecessor.id, owner.id)) {
        this.entries.delete(peer)
      }
    }
    this.entries.set(owner.peer, { from: predecessor.id, successors: [...successors], expiresAt: this.now() + this.ttlMs })
    for (const peer of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) {
        break
      }
      this.entries.delete(peer)
    }
  }

  /** Forget the entry whose range holds `id`: one of its nodes failed, refused, or no longer owns it */
  forget (id: RingId): void {
    for (const [peer, entry] of this.entries) {
      if (inHalfOpenInterval(id, entry.from, entry.successors[0].id)) {
        this.entries.delete(peer)
      }
    }
  }

  clear (): void {
    this.entries.clear()
  }
}

/** Whether the ring ranges (a, b] and (c, d] share an id */
function overlap (a: RingId, b: RingId, c: RingId, d: RingId): boolean {
  return inHalfOpenInterval(b, c, d) || inHalfOpenInterval(d, a, b)
}
