/**
 * Marks the node's ring neighbours in libp2p's peer store, so that libp2p and the node's own
 * connection guard keep their connections: libp2p's connection manager closes the connections of
 * the lowest-valued peers first when it must prune, and the guard never counts a tagged peer as a
 * stranger (see node/connection-guard.ts).
 *
 * The neighbours are every node of the routing table: successors, predecessor and fingers. The
 * set is compared with the tagged one on a timer, and a node that left the table loses its tag.
 * A node that enters the table is connected to at once (`connect`), not on the first lookup
 * through it: on a wide-area link a new connection costs several round trips (TCP, Noise, Yamux,
 * stream negotiation) that a lookup would otherwise pay.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { TIMER_JITTER } from '../chord/constants.js'
import { Periodic } from '../chord/periodic.js'
import { second } from '../units.js'
import type { NodeRef } from '../chord/rpc.js'
import type { ComponentLogger, Logger, PeerStore } from '@libp2p/interface'

/** The peer-store tag of a ring neighbour */
export const RING_PEER_TAG = 'libp2p-chord:ring'

/** Its value: the highest libp2p knows (1–100), so that a ring neighbour is the last a prune closes */
export const RING_PEER_TAG_VALUE = 100

/** How often the tags are brought in line with the routing table: fingers change by the second */
export const RING_PEER_TAG_INTERVAL = 1 * second

export interface RingPeerTagsComponents {
  peerStore: PeerStore
  logger: ComponentLogger
}

export interface RingPeerTagsInit {
  /** the nodes of the routing table */
  ringNodes(): NodeRef[]
  /** ms between two comparisons; default RING_PEER_TAG_INTERVAL */
  intervalMs?: number
  /** opens a connection to a node that entered the table (one already open is reused); default: none */
  connect?(peer: string): Promise<void>
}

export class RingPeerTags {
  private readonly components: RingPeerTagsComponents
  private readonly ringNodes: () => NodeRef[]
  private readonly connect: (peer: string) => Promise<void>
  private readonly log: Logger
  private readonly loop: Periodic
  /** peers tagged by us, as PeerId strings */
  private readonly tagged = new Set<string>()

  constructor (components: RingPeerTagsComponents, init: RingPeerTagsInit) {
    this.components = components
    this.ringNodes = init.ringNodes
    this.connect = init.connect ?? (async () => {})
    this.log = components.logger.forComponent('libp2p-chord:ring-peer-tags')
    this.loop = new Periodic(async () => { await this.sync() }, {
      intervalMs: init.intervalMs ?? RING_PEER_TAG_INTERVAL,
      jitter: TIMER_JITTER,
      onError: err => { this.log.error('tagging ring peers failed - %e', err) }
    })
  }

  start (): void {
    this.loop.start()
  }

  /** Stop, and take the tags off: a stopped node has no ring neighbours */
  async stop (): Promise<void> {
    this.loop.stop()
    await this.retag(new Set())
  }

  /** Tag every node of the routing table, and untag those that left it */
  async sync (): Promise<void> {
    await this.retag(new Set(this.ringNodes().map(node => node.peer)))
  }

  private async retag (wanted: Set<string>): Promise<void> {
    const changes: Array<[string, boolean]> = [
      ...[...wanted].filter(peer => !this.tagged.has(peer)).map((peer): [string, boolean] => [peer, true]),
      ...[...this.tagged].filter(peer => !wanted.has(peer)).map((peer): [string, boolean] => [peer, false])
    ]
    for (const [peer, tag] of changes) {
      await this.components.peerStore.merge(peerIdFromString(peer), { tags: { [RING_PEER_TAG]: tag ? { value: RING_PEER_TAG_VALUE } : undefined } })
      if (tag) {
        this.tagged.add(peer)
        // a node that does not answer is the ring's to notice (its checks and deadlines), not ours
        this.connect(peer).catch(err => { this.log('could not connect to ring node %s - %e', peer, err) })
      } else {
        this.tagged.delete(peer)
      }
    }
  }
}
