/**
 * Peers this node has seen, kept between runs so that a restarted node can rejoin the ring
 * through any of them when its bootstrap list is down. Bounded: when full, the peer seen longest
 * ago makes room.
 *
 * The whole cache is small, so it is mirrored in memory and written through. Writes are not
 * synced: losing the last few sightings in a crash costs nothing but a slightly older cache.
 */
import { InvalidOptionsError } from '../errors.js'
import { MAX_ADDRS_PER_CACHED_PEER, MAX_CACHED_PEERS } from './constants.js'
import { SUBLEVELS } from './database.js'
import type { NodeDatabase } from './database.js'
import type { AbstractBatchOperation, AbstractSublevel } from 'abstract-level'

export interface CachedPeer {
  /** the PeerId as a string */
  peerId: string
  /** multiaddrs as strings, best first */
  addrs: string[]
  /** ms since the epoch */
  lastSeen: number
}

export interface PeerCacheInit {
  /** most peers kept, default MAX_CACHED_PEERS */
  maxPeers?: number
  /** most addresses kept per peer (the first ones), default MAX_ADDRS_PER_CACHED_PEER */
  maxAddrsPerPeer?: number
}

interface Entry {
  addrs: string[]
  lastSeen: number
}

type PeerSublevel = AbstractSublevel<NodeDatabase, string | Uint8Array, string, Entry>
type Operation = AbstractBatchOperation<PeerSublevel, string, Entry>

export class PeerCache {
  private readonly entries = new Map<string, Entry>()
  private readonly peers: PeerSublevel
  private readonly maxPeers: number
  private readonly maxAddrsPerPeer: number

  /**
   * The cache kept in `database`; empty until `open` has read it.
   *
   * @throws InvalidOptionsError when a bound is not a positive integer
   */
  constructor (database: NodeDatabase, init: PeerCacheInit = {}) {
    this.maxPeers = init.maxPeers ?? MAX_CACHED_PEERS
    this.maxAddrsPerPeer = init.maxAddrsPerPeer ?? MAX_ADDRS_PER_CACHED_PEER
    for (const [name, value] of Object.entries({ maxPeers: this.maxPeers, maxAddrsPerPeer: this.maxAddrsPerPeer })) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new InvalidOptionsError(`${name} must be a positive integer, got ${value}`)
      }
    }
    this.peers = database.sublevel<string, Entry>(SUBLEVELS.peers, { valueEncoding: 'json' })
  }

  /** Read the cache into memory, dropping entries that are damaged or beyond the bound */
  async open (): Promise<void> {
    // closed with the database, not reopened with it (see LevelRecordStore.open)
    await this.peers.open()
    const ops: Operation[] = []
    for await (const [peerId, entry] of this.peers.iterator()) {
      if (isEntry(entry)) {
        this.entries.set(peerId, entry)
      } else {
        // written by something else or damaged: of no use for dialling
        ops.push({ type: 'del', key: peerId })
      }
    }
    // the bound may have been lowered since the cache was written
    await this.write(ops)
  }

  get size (): number {
    return this.entries.size
  }

  /** Remember a peer (replacing what was known of it), evicting the least recently seen when full */
  async put (peer: CachedPeer): Promise<void> {
    if (!Number.isFinite(peer.lastSeen)) {
      throw new InvalidOptionsError(`lastSeen must be a time in ms, got ${peer.lastSeen}`)
    }
    const entry = { addrs: peer.addrs.slice(0, this.maxAddrsPerPeer), lastSeen: peer.lastSeen }
    this.entries.set(peer.peerId, entry)
    await this.write([{ type: 'put', key: peer.peerId, value: entry }])
  }

  async remove (peerId: string): Promise<void> {
    if (this.entries.delete(peerId)) {
      await this.peers.del(peerId)
    }
  }

  /** Every cached peer, most recently seen first */
  list (): CachedPeer[] {
    return [...this.entries]
      .map(([peerId, { addrs, lastSeen }]) => ({ peerId, addrs: [...addrs], lastSeen }))
      .sort((a, b) => b.lastSeen - a.lastSeen)
  }

  /** apply `ops` together with the evictions that bring the cache back within its bound */
  private async write (ops: Operation[]): Promise<void> {
    while (this.entries.size > this.maxPeers) {
      const oldest = this.leastRecentlySeen()
      this.entries.delete(oldest)
      ops.push({ type: 'del', key: oldest })
    }
    if (ops.length > 0) {
      await this.peers.batch(ops)
    }
  }

  private leastRecentlySeen (): string {
    let peerId = ''
    let lastSeen = Infinity
    for (const [candidate, entry] of this.entries) {
      if (entry.lastSeen < lastSeen) {
        peerId = candidate
        lastSeen = entry.lastSeen
      }
    }
    return peerId
  }
}

function isEntry (value: unknown): value is Entry {
  const entry = value as Partial<Entry> | null
  return entry != null && typeof entry === 'object' &&
    Array.isArray(entry.addrs) && entry.addrs.every(addr => typeof addr === 'string') &&
    Number.isFinite(entry.lastSeen)
}

/** A peer cache, opened */
export async function openPeerCache (database: NodeDatabase, init: PeerCacheInit = {}): Promise<PeerCache> {
  const cache = new PeerCache(database, init)
  await cache.open()
  return cache
}
