/**
 * Keeps the connections that strangers hold within their share, so that a ring node always has
 * room for its ring neighbours and for a newcomer. A stranger is a peer the node's ring service has
 * not tagged as a ring neighbour (membership/ring-peer-tags.ts). Strangers hold at most
 * `maxConnections - reservedRingSlots` connections, in either direction; when one more opens past
 * that, the stranger connection most worth closing is closed to make room:
 *
 *   1. one with no stream open (idle) before one in use;
 *   2. then one from the subnet (IPv4 /24, IPv6 /48) with the most stranger connections, so that
 *      one network holding many cannot keep them by outnumbering everyone else;
 *   3. then the oldest.
 *
 * A connection younger than `newcomerGraceMs` is spared while an older one can go: a node joining
 * the ring through us keeps its connection for its join, whatever others hold. Ring neighbours'
 * connections are never closed here, and libp2p's own pruning closes them last (they carry the
 * highest tag value).
 */
import { RING_PEER_TAG } from '../membership/ring-peer-tags.js'
import { EVICTION_CLOSE_TIMEOUT, NEWCOMER_GRACE, RESERVED_RING_SLOTS } from './constants.js'
import { sourceOf } from './connection-limits.js'
import type { Connection, ComponentLogger, Libp2pEvents, Logger, PeerId, PeerStore, Startable, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

export interface ConnectionGuardComponents {
  connectionManager: ConnectionManager
  peerStore: PeerStore
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

export interface ConnectionGuardInit {
  /** connections strangers cannot take; default RESERVED_RING_SLOTS */
  reservedRingSlots?: number
  /** ms a new stranger connection is spared; default NEWCOMER_GRACE */
  newcomerGraceMs?: number
}

export class ConnectionGuard implements Startable {
  readonly [Symbol.toStringTag] = 'libp2p-chord:connection-guard'
  private readonly components: ConnectionGuardComponents
  private readonly reservedRingSlots: number
  private readonly newcomerGraceMs: number
  private readonly log: Logger
  /** the open connections of strangers, by connection id */
  private readonly strangers = new Map<string, Connection>()
  /** connections closed to make room, since the start */
  evicted = 0

  constructor (components: ConnectionGuardComponents, init: ConnectionGuardInit = {}) {
    this.components = components
    this.reservedRingSlots = init.reservedRingSlots ?? RESERVED_RING_SLOTS
    this.newcomerGraceMs = init.newcomerGraceMs ?? NEWCOMER_GRACE
    this.log = components.logger.forComponent('libp2p-chord:connection-guard')
  }

  start (): void {
    this.components.events.addEventListener('connection:open', this.onOpen)
    this.components.events.addEventListener('connection:close', this.onClose)
  }

  stop (): void {
    this.components.events.removeEventListener('connection:open', this.onOpen)
    this.components.events.removeEventListener('connection:close', this.onClose)
    this.strangers.clear()
  }

  /** How many connections strangers may hold */
  get strangerLimit (): number {
    return Math.max(this.components.connectionManager.getMaxConnections() - this.reservedRingSlots, 1)
  }

  /** Open connections held by strangers now */
  get strangerConnections (): number {
    return [...this.strangers.values()].filter(c => c.status === 'open').length
  }

  private readonly onOpen = (event: CustomEvent<Connection>): void => {
    void this.admit(event.detail).catch(err => { this.log.error('could not make room for a connection - %e', err) })
  }

  private readonly onClose = (event: CustomEvent<Connection>): void => {
    this.strangers.delete(event.detail.id)
  }

  private async admit (connection: Connection): Promise<void> {
    if (await this.isRingPeer(connection.remotePeer) || connection.status !== 'open') {
      return
    }
    this.strangers.set(connection.id, connection)
    while (this.strangerConnections > this.strangerLimit) {
      const candidate = this.pick(connection)
      if (candidate == null) {
        return
      }
      this.strangers.delete(candidate.id)
      if (await this.isRingPeer(candidate.remotePeer)) {
        // it became a ring neighbour since it connected: it is not a stranger any more
        continue
      }
      this.evicted++
      this.log('closing a connection of %p to make room for strangers\' newer ones', candidate.remotePeer)
      await candidate.close({ signal: AbortSignal.timeout(EVICTION_CLOSE_TIMEOUT) }).catch(err => { candidate.abort(err) })
    }
  }

  /** The stranger connection to close for `newcomer` (see the module's comment) */
  private pick (newcomer: Connection): Connection | undefined {
    const now = Date.now()
    const open = [...this.strangers.values()].filter(c => c.status === 'open' && c.id !== newcomer.id)
    const settled = open.filter(c => now - c.timeline.open >= this.newcomerGraceMs)
    const candidates = settled.length > 0 ? settled : open
    const bySubnet = new Map<string, number>()
    for (const connection of open) {
      const subnet = subnetOf(connection)
      bySubnet.set(subnet, (bySubnet.get(subnet) ?? 0) + 1)
    }
    return candidates.sort((a, b) =>
      Number(a.streams.length > 0) - Number(b.streams.length > 0) ||
      (bySubnet.get(subnetOf(b)) ?? 0) - (bySubnet.get(subnetOf(a)) ?? 0) ||
      a.timeline.open - b.timeline.open)[0]
  }

  private async isRingPeer (peerId: PeerId): Promise<boolean> {
    try {
      return (await this.components.peerStore.get(peerId)).tags.has(RING_PEER_TAG)
    } catch {
      // unknown to the peer store: a stranger
      return false
    }
  }
}

function subnetOf (connection: Connection): string {
  return sourceOf(connection.remoteAddr)?.subnet ?? connection.remoteAddr.toString()
}

/** The guard as a libp2p service (`createChordLibp2p` adds it; an application may add it to its own node) */
export function connectionGuard (init: ConnectionGuardInit = {}): (components: ConnectionGuardComponents) => ConnectionGuard {
  return (components) => new ConnectionGuard(components, init)
}
