/**
 * Keeps the node's peer cache (src/storage/peer-cache.ts) filled with the ring nodes it has seen,
 * so that after a restart it can rejoin through them when its bootstrap list is down, and heal a
 * partition through them.
 *
 * Every save records the nodes of the routing table first (successors, predecessor, fingers:
 * they answered maintenance requests recently), then the other connected peers that speak the
 * ring protocol, each with the addresses the peer store holds and the time of the save. A save
 * runs on a timer and when the node stops. On start, the cached addresses go back into the peer
 * store, so a cached peer can be dialled by its id.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { TIMER_JITTER } from '../chord/constants.js'
import { minute } from '../units.js'
import { Periodic } from '../chord/periodic.js'
import { PROTOCOL } from '../transport/constants.js'
import { knownPeer } from '../transport/known-peer.js'
import { MAX_CACHED_PEERS } from '../storage/constants.js'
import type { NodeRef } from '../chord/rpc.js'
import type { CachedPeer, PeerCache } from '../storage/peer-cache.js'
import type { ComponentLogger, Connection, Logger, PeerId, PeerStore } from '@libp2p/interface'

/**
 * Time between two saves. The save on stop covers a graceful shutdown, this one a crash, after
 * which a node rejoins through whichever cached peers still answer: a cache some minutes old
 * serves as well as a fresh one. A save reads every peer's addresses from the peer store and
 * writes one entry each, which at one a minute was a tenth of a quiet node's CPU.
 */
export const PEER_CACHE_SAVE_INTERVAL = 5 * minute

/** What the keeper needs from libp2p; a libp2p node satisfies it */
export interface PeerCacheKeeperComponents {
  peerId: PeerId
  peerStore: PeerStore
  logger: ComponentLogger
  getConnections(peerId?: PeerId): Connection[]
}

export interface PeerCacheKeeperInit {
  cache: PeerCache
  /** the nodes of the routing table: saved first */
  ringNodes(): NodeRef[]
  /** ms between saves; default PEER_CACHE_SAVE_INTERVAL */
  intervalMs?: number
  /** most peers written by one save, ring nodes first; default MAX_CACHED_PEERS */
  maxPeersPerSave?: number
  now?(): number
}

export class PeerCacheKeeper {
  private readonly components: PeerCacheKeeperComponents
  private readonly cache: PeerCache
  private readonly ringNodes: () => NodeRef[]
  private readonly maxPeersPerSave: number
  private readonly now: () => number
  private readonly log: Logger
  private readonly loop: Periodic

  constructor (components: PeerCacheKeeperComponents, init: PeerCacheKeeperInit) {
    this.components = components
    this.cache = init.cache
    this.ringNodes = init.ringNodes
    this.maxPeersPerSave = init.maxPeersPerSave ?? MAX_CACHED_PEERS
    this.now = init.now ?? Date.now
    this.log = components.logger.forComponent('libp2p-chord:peer-cache')
    this.loop = new Periodic(async () => { await this.save() }, {
      intervalMs: init.intervalMs ?? PEER_CACHE_SAVE_INTERVAL,
      jitter: TIMER_JITTER,
      onError: err => { this.log.error('saving the peer cache failed - %e', err) }
    })
  }

  /** The cached peers other than us, most recently seen first */
  cachedPeers (): PeerId[] {
    const self = this.components.peerId.toString()
    const peers: PeerId[] = []
    for (const { peerId } of this.cache.list()) {
      try {
        if (peerId !== self) {
          peers.push(peerIdFromString(peerId))
        }
      } catch (err) {
        this.log('ignoring a cached entry that is not a peer id - %e', err)
      }
    }
    return peers
  }

  /** Put the cached addresses into the peer store, so that cached peers can be dialled by id */
  async restoreAddresses (): Promise<void> {
    for (const cached of this.cache.list()) {
      try {
        const peerId = peerIdFromString(cached.peerId)
        if (!peerId.equals(this.components.peerId)) {
          await this.components.peerStore.merge(peerId, { multiaddrs: cached.addrs.map(addr => multiaddr(addr)) })
        }
      } catch (err) {
        this.log('ignoring cached peer %s - %e', cached.peerId, err)
      }
    }
  }

  start (): void {
    this.loop.start()
  }

  /** Stop the timer and save once more */
  async stop (): Promise<void> {
    this.loop.stop()
    await this.save()
  }

  /** Write the peers seen now: ring nodes first, then other connected ring peers */
  async save (): Promise<number> {
    const lastSeen = this.now()
    let saved = 0
    for (const peerId of await this.peersSeen()) {
      if (saved === this.maxPeersPerSave) {
        break
      }
      const peer = await this.withAddresses(peerId, lastSeen)
      if (peer != null) {
        await this.cache.put(peer)
        saved++
      }
    }
    this.log('saved %d peers', saved)
    return saved
  }

  private async peersSeen (): Promise<string[]> {
    const ordered = new Set(this.ringNodes().map(node => node.peer))
    for (const connection of this.components.getConnections()) {
      const peer = await this.components.peerStore.get(connection.remotePeer).catch(() => undefined)
      if (peer?.protocols.includes(PROTOCOL) === true) {
        ordered.add(connection.remotePeer.toString())
      }
    }
    ordered.delete(this.components.peerId.toString())
    return [...ordered]
  }

  /** The peer with the addresses the peer store holds; undefined without any (no use to dial) */
  private async withAddresses (peer: string, lastSeen: number): Promise<CachedPeer | undefined> {
    const addrs = (await knownPeer(this.components.peerStore, peerIdFromString(peer)))?.addresses.map(address => address.multiaddr.toString()) ?? []
    return addrs.length === 0 ? undefined : { peerId: peer, addrs, lastSeen }
  }
}
