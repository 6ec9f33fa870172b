/**
 * The ring's pure state: successor list, predecessor and fingers. No I/O and no timers, so every
 * rule can be tested exactly; `maintenance.ts` decides when the state changes.
 */
import { compareIds, ID_BITS, addPowerOfTwo, distance, inHalfOpenInterval, inOpenInterval } from './id.js'
import type { RingId } from './id.js'
import type { NodeRef } from './rpc.js'
import type { SubnetCap } from './subnet-cap.js'

export interface RoutingTableInit {
  /** how many successors to keep (at least the replication factor) */
  successorListLength: number
  /** a client uses the ring without holding a position: its own id only says where its lookups start */
  clientMode?: boolean
  /**
   * whether a node may enter the table at all: its ring position is valid (position-rules.ts).
   * A node refused is never a successor, the predecessor or a finger. Default: every node
   */
  admits?(node: NodeRef): boolean
  /** how many nodes of one subnet the successor list and the fingers hold; default: no cap */
  subnetCap?: SubnetCap
}

export class RoutingTable {
  private selfRef: NodeRef
  readonly successorListLength: number
  readonly clientMode: boolean
  private readonly admitted: (node: NodeRef) => boolean
  private readonly subnetCap?: SubnetCap
  private successors: NodeRef[] = []
  /** whether the successor list holds the whole rest of the ring (it came back round to us, leaving nobody out) */
  private wholeRing = true
  private predecessorRef: NodeRef | undefined
  private readonly fingers: Array<NodeRef | undefined> = new Array(ID_BITS).fill(undefined)
  /** knownNodes(), until the table changes */
  private distinctNodes?: NodeRef[]

  constructor (self: NodeRef, init: RoutingTableInit) {
    this.selfRef = self
    this.successorListLength = init.successorListLength
    this.clientMode = init.clientMode ?? false
    this.admitted = init.admits ?? (() => true)
    this.subnetCap = init.subnetCap
  }

  /** This node: its position and name */
  get self (): NodeRef {
    return this.selfRef
  }

  /**
   * Take another position of this node (the one its nonce pays for, once it is minted or read
   * back). Only an empty table may move: entries and their intervals were worked out from the old
   * position.
   *
   * @throws Error when the table holds anyone, or `self` is another peer
   */
  moveTo (self: NodeRef): void {
    if (self.peer !== this.selfRef.peer || this.knownNodes().length > 0) {
      throw new Error('only an empty table moves, and only to a position of its own node')
    }
    this.selfRef = self
  }

  /** Whether `node` may enter the table: its ring position is valid */
  admits (node: NodeRef): boolean {
    return node.peer !== this.selfRef.peer && this.admitted(node)
  }

  /**
   * Whether the successor list holds every other node of the ring: it is shorter than its length
   * and nobody was left out for the subnet cap. Then we follow our last successor, and belong to
   * the replica sets of a ring smaller than them.
   */
  get holdsWholeRing (): boolean {
    return this.wholeRing && this.successors.length < this.successorListLength
  }

  /** The first successor, or ourselves when we know of nobody (a ring of one) */
  get successor (): NodeRef {
    return this.successors[0] ?? this.self
  }

  get predecessor (): NodeRef | undefined {
    return this.predecessorRef
  }

  getSuccessors (): readonly NodeRef[] {
    return this.successors
  }

  /**
   * Replace the successor list with `nodes`, given nearest first (typically our successor
   * followed by its own list). The list is cut where it comes back round to us, since what
   * follows is our own list again; duplicates and nodes the table does not admit are dropped, a
   * node whose subnet holds its share of the list already is passed over, and the length capped.
   */
  setSuccessors (nodes: readonly NodeRef[]): void {
    const list: NodeRef[] = []
    const seen = new Set<string>()
    const take = this.subnetCap?.tally()
    let passedOver = false
    for (const node of nodes) {
      if (node.peer === this.selfRef.peer) {
        break
      }
      if (seen.has(node.peer) || !this.admits(node)) {
        continue
      }
      seen.add(node.peer)
      if (take != null && !take(node)) {
        passedOver = true
        continue
      }
      list.push(node)
      if (list.length === this.successorListLength) {
        break
      }
    }
    this.successors = list
    this.wholeRing = !passedOver
    this.distinctNodes = undefined
  }

  /** Set the predecessor (ourselves: none); a node the table does not admit leaves it as it was */
  setPredecessor (node: NodeRef | undefined): void {
    const predecessor = node?.peer === this.selfRef.peer ? undefined : node
    if (predecessor != null && !this.admits(predecessor)) {
      return
    }
    this.predecessorRef = predecessor
    this.distinctNodes = undefined
  }

  get fingerCount (): number {
    return this.fingers.length
  }

  /** The start of finger `index`: self + 2^index */
  fingerStart (index: number): RingId {
    return addPowerOfTwo(this.selfRef.id, index)
  }

  getFinger (index: number): NodeRef | undefined {
    return this.fingers[index]
  }

  /** Set a finger; a node the table does not admit, or whose subnet holds its share of the fingers already, leaves it empty */
  setFinger (index: number, node: NodeRef | undefined): void {
    this.setFingers(index, index + 1, node)
  }

  /**
   * Point fingers `from` to `to` - 1 at one node, as setFinger would each: the node is checked
   * once, against the fingers outside the run (a round of fix-fingers or a change of successors
   * sets runs of a few hundred fingers to the same few nodes)
   */
  setFingers (from: number, to: number, node: NodeRef | undefined): void {
    const usable = node != null && this.admits(node) && (this.subnetCap?.fits(node, this.distinctFingers(from, to)) ?? true)
    this.fingers.fill(usable ? node : undefined, from, to)
    this.distinctNodes = undefined
  }

  /** The distinct nodes of the finger table outside fingers `from` to `to` - 1, found as they are asked for */
  private * distinctFingers (from: number, to: number): Generator<NodeRef> {
    const seen = new Set<string>()
    for (const [index, finger] of this.fingers.entries()) {
      if (finger != null && (index < from || index >= to) && !seen.has(finger.peer)) {
        seen.add(finger.peer)
        yield finger
      }
    }
  }

  /** Forget a node everywhere (it failed or left). Returns whether it was known. */
  removeNode (peer: string): boolean {
    let known = false
    if (this.successors.some(s => s.peer === peer)) {
      this.successors = this.successors.filter(s => s.peer !== peer)
      known = true
    }
    if (this.predecessorRef?.peer === peer) {
      this.predecessorRef = undefined
      known = true
    }
    for (let i = 0; i < this.fingers.length; i++) {
      if (this.fingers[i]?.peer === peer) {
        this.fingers[i] = undefined
        known = true
      }
    }
    this.distinctNodes = undefined
    return known
  }

  /** Forget a node only as a routing shortcut (a lookup saw it fail); stabilize owns the successor list */
  removeFinger (peer: string): void {
    for (let i = 0; i < this.fingers.length; i++) {
      if (this.fingers[i]?.peer === peer) {
        this.fingers[i] = undefined
      }
    }
    this.distinctNodes = undefined
  }

  /** Whether we are responsible for `id`: it lies in (predecessor, self]; a client is responsible for nothing */
  isResponsibleFor (id: RingId): boolean {
    if (this.clientMode) {
      return false
    }
    if (this.predecessorRef == null) {
      return this.successors.length === 0
    }
    return inHalfOpenInterval(id, this.predecessorRef.id, this.selfRef.id)
  }

  /**
   * Known nodes that lie strictly between us and `id`, closest to `id` first: the next hops of a
   * lookup, with fallbacks.
   */
  closestPreceding (id: RingId, count: number): NodeRef[] {
    const candidates = this.knownNodes().filter(n => inOpenInterval(n.id, this.selfRef.id, id))
    candidates.sort((a, b) => compareIds(distance(a.id, id), distance(b.id, id)))
    return candidates.slice(0, count)
  }

  /** The known node nearest after us: what stands in for a successor while the successor list is empty */
  nearestFollower (): NodeRef | undefined {
    let nearest: NodeRef | undefined
    for (const node of this.knownNodes()) {
      if (nearest == null || distance(this.selfRef.id, node.id) < distance(this.selfRef.id, nearest.id)) {
        nearest = node
      }
    }
    return nearest
  }

  /**
   * Every distinct node in the table. Every lookup answer asks for it, and the 256 finger slots
   * hold few distinct nodes, so it is kept until the table changes rather than rebuilt each time.
   */
  knownNodes (): NodeRef[] {
    if (this.distinctNodes == null) {
      const byPeer = new Map<string, NodeRef>()
      for (const node of [...this.successors, ...this.fingers, this.predecessorRef]) {
        if (node != null && !byPeer.has(node.peer)) {
          byPeer.set(node.peer, node)
        }
      }
      this.distinctNodes = [...byPeer.values()]
    }
    return [...this.distinctNodes]
  }
}
