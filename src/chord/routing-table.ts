/**
 * The ring's pure state: successor list, predecessor and fingers. No I/O and no timers, so every
 * rule can be tested exactly; `maintenance.ts` decides when the state changes.
 */
import { compareIds, ID_BITS, addPowerOfTwo, distance, inHalfOpenInterval, inOpenInterval } from './id.js'
import type { RingId } from './id.js'
import type { NodeRef } from './rpc.js'

export interface RoutingTableInit {
  /** how many successors to keep (at least the replication factor) */
  successorListLength: number
  /** a client uses the ring without holding a position: its own id only says where its lookups start */
  clientMode?: boolean
}

export class RoutingTable {
  readonly self: NodeRef
  readonly successorListLength: number
  readonly clientMode: boolean
  private successors: NodeRef[] = []
  private predecessorRef: NodeRef | undefined
  private readonly fingers: Array<NodeRef | undefined> = new Array(ID_BITS).fill(undefined)
  /** knownNodes(), until the table changes */
  private distinctNodes?: NodeRef[]

  constructor (self: NodeRef, init: RoutingTableInit) {
    this.self = self
    this.successorListLength = init.successorListLength
    this.clientMode = init.clientMode ?? false
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
   * follows is our own list again; duplicates are dropped and the length capped.
   */
  setSuccessors (nodes: readonly NodeRef[]): void {
    const list: NodeRef[] = []
    const seen = new Set<string>()
    for (const node of nodes) {
      if (node.peer === this.self.peer) {
        break
      }
      if (seen.has(node.peer)) {
        continue
      }
      seen.add(node.peer)
      list.push(node)
      if (list.length === this.successorListLength) {
        break
      }
    }
    this.successors = list
    this.distinctNodes = undefined
  }

  setPredecessor (node: NodeRef | undefined): void {
    this.predecessorRef = node?.peer === this.self.peer ? undefined : node
    this.distinctNodes = undefined
  }

  get fingerCount (): number {
    return this.fingers.length
  }

  /** The start of finger `index`: self + 2^index */
  fingerStart (index: number): RingId {
    return addPowerOfTwo(this.self.id, index)
  }

  getFinger (index: number): NodeRef | undefined {
    return this.fingers[index]
  }

  setFinger (index: number, node: NodeRef | undefined): void {
    this.fingers[index] = node?.peer === this.self.peer ? undefined : node
    this.distinctNodes = undefined
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
    return inHalfOpenInterval(id, this.predecessorRef.id, this.self.id)
  }

  /**
   * Known nodes that lie strictly between us and `id`, closest to `id` first: the next hops of a
   * lookup, with fallbacks.
   */
  closestPreceding (id: RingId, count: number): NodeRef[] {
    const candidates = this.knownNodes().filter(n => inOpenInterval(n.id, this.self.id, id))
    candidates.sort((a, b) => compareIds(distance(a.id, id), distance(b.id, id)))
    return candidates.slice(0, count)
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
