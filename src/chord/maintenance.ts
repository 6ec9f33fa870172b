/**
 * The ring's repair loops: stabilize, notify (rectify), fix fingers, check predecessor, and the
 * graceful-leave messages. They follow the corrected rules of Zave ("Reasoning about identifier
 * spaces: how to make Chord correct", 2017):
 *
 * - stabilize adopts its successor's predecessor only after checking that it is alive;
 * - the successor list is copied from the successor and shifts past a dead successor;
 * - notify adopts a new predecessor only if it lies between the old one and us, or the old one
 *   is dead.
 *
 * Each loop is a method that does one round, so the simulator can drive rounds without timers.
 * Rounds report what they learn about the ring changing (`RingActivity`), so that the ring can
 * run its loops fast while things change and back them off while nothing does.
 */
import { LookupFailedError } from '../errors.js'
import { CLOSER_NODES_REMEMBERED, STABILIZE_STEPS_PER_ROUND, STRANDED_STEPS_PER_ROUND } from './constants.js'
import { chooseFinger } from './finger-choice.js'
import { compareIds, distance, inHalfOpenInterval, inOpenInterval } from './id.js'
import type { Lookup } from './lookup.js'
import type { RoutingTable } from './routing-table.js'
import type { RingId } from './id.js'
import type { ChordRpc, Neighbours, NeighboursReply, NodeRef, RpcOptions } from './rpc.js'

/**
 * What a round learnt about the ring changing:
 * - `neighbours`: our predecessor or successor list changed
 * - `failure`: a node did not answer (and was dropped where we held it)
 * - `fingers`: a finger refresh found a different node than the table held
 * - `closer-node`: a node between us and our successor sent us a request (it may just have joined)
 * - `successor-changed`: our successor's neighbours are not the ones we copied
 */
export type RingActivity = 'neighbours' | 'failure' | 'fingers' | 'closer-node' | 'successor-changed'

export interface MaintenanceInit {
  /** client nodes use the ring without holding a position: they never notify anyone */
  clientMode?: boolean
  /** told whenever the successor list or predecessor changes (replication listens) */
  onNeighboursChanged?(): void
  /** told when a node is found dead, so other components can drop it too */
  onNodeFailed?(node: NodeRef): void
  /** told what each round learnt about the ring changing */
  onActivity?(activity: RingActivity): void
  /** ms, the estimated round trip to a peer, if known: fingers prefer near nodes (finger-choice.ts); default: none known */
  roundTripOf?(peer: string): number | undefined
}

/** The neighbours of our successor as we last copied them, by the digest it sent */
interface CopiedNeighbours {
  peer: string
  digest?: number
}

export class Maintenance {
  private readonly table: RoutingTable
  private readonly rpc: ChordRpc
  private readonly lookup: Lookup
  private readonly clientMode: boolean
  private readonly onNeighboursChanged: () => void
  private readonly onNodeFailed: (node: NodeRef) => void
  private readonly onActivity: (activity: RingActivity) => void
  private readonly roundTripOf: (peer: string) => number | undefined
  private nextFinger = 0
  private predecessorCheck?: Promise<void>
  /** the predecessor sent us a request since the last predecessor check: it is alive */
  private heardFromPredecessor?: string
  /** the successor answered a stabilize round since the last successor check */
  private successorAnswered?: string
  private copied?: CopiedNeighbours
  /**
   * the farthest successor we lost when every successor died, while stabilize has not yet walked
   * back to our place: our place lies after it (see `nearerThanWalking`)
   */
  private strandedAfter?: NodeRef
  /** nodes between us and our successor that already woke stabilize (see CLOSER_NODES_REMEMBERED) */
  private readonly closerNodesSeen = new Set<string>()

  constructor (table: RoutingTable, rpc: ChordRpc, lookup: Lookup, init: MaintenanceInit = {}) {
    this.table = table
    this.rpc = rpc
    this.lookup = lookup
    this.clientMode = init.clientMode ?? false
    this.onNeighboursChanged = init.onNeighboursChanged ?? (() => {})
    this.onNodeFailed = init.onNodeFailed ?? (() => {})
    this.onActivity = init.onActivity ?? (() => {})
    this.roundTripOf = init.roundTripOf ?? (() => undefined)
  }

  /**
   * Join the ring that `entry` belongs to: find our successor through it, then stabilize at once.
   * Rejects unless we end up with a successor, so a failed join never passes for a ring of one.
   */
  async join (entry: NodeRef, options: RpcOptions = {}): Promise<void> {
    const { self } = this.table
    const { successors } = await this.lookup.findSuccessorVia(entry, self.id, options)
    // when the ring names nobody but us, the entry itself, which just answered, is a start
    // stabilize corrects
    const others = othersAfterSelf(successors, self)
    this.changeNeighbours(() => { this.table.setSuccessors(others.length > 0 ? others : [entry]) })
    await this.stabilize()
    if (this.table.getSuccessors().length === 0) {
      throw new LookupFailedError(`joining through ${entry.peer} left no live successor`)
    }
  }

  /**
   * Partition healing: look ourselves up through `entry`, a node off our successor path. If it
   * names a node between us and our successor, the ring has split (or we missed a join): that
   * node becomes our successor once it answers, the stabilize that follows notifies it, and the
   * ordinary rounds merge the two rings from there. Resolves to whether the successor changed.
   */
  async healThrough (entry: NodeRef, options: RpcOptions = {}): Promise<boolean> {
    const { self } = this.table
    const { successors } = await this.lookup.findSuccessorVia(entry, self.id, options)
    const found = successors.find(node => node.peer !== self.peer)
    if (found == null || !this.table.admits(found) || !this.isCloserThanSuccessor(found)) {
      return false
    }
    // only a live node may become our successor (Zave's first trap)
    await this.rpc.ping(found, options)
    if (!this.isCloserThanSuccessor(found)) {
      return false
    }
    this.changeNeighbours(() => { this.table.setSuccessors([found, ...this.table.getSuccessors()]) })
    await this.stabilize()
    return true
  }

  /**
   * One stabilize round: ask the successor for its neighbours; adopt its predecessor if that lies
   * between us and it and answers; copy its successor list; notify it. A successor that does not
   * answer is dropped and the next one in the list is tried.
   */
  async stabilize (): Promise<void> {
    const { table } = this
    if (table.getSuccessors().length === 0) {
      // a ring of one learns of its first peer through notify: that peer is our successor too
      const predecessor = table.predecessor
      if (predecessor == null) {
        return
      }
      this.changeNeighbours(() => { table.setSuccessors([predecessor]) })
    }

    const lost: NodeRef[] = []
    while (table.getSuccessors().length > 0) {
      const successor = table.successor
      let neighbours: NeighboursReply
      try {
        neighbours = await this.rpc.getNeighbours(successor)
      } catch {
        this.nodeFailed(successor)
        lost.push(successor)
        continue
      }

      // the successor's predecessor comes between us: adopt it if it answers, and ask it in turn,
      // so that a node that many others joined in front of finds its place in one round
      let next = successor
      let nextNeighbours = neighbours
      // placed: the walk came to a node whose predecessor is not between us and it
      let placed = false
      // a node that lost every successor walks back from wherever it could start (see STRANDED_STEPS_PER_ROUND)
      const steps = this.strandedAfter == null ? STABILIZE_STEPS_PER_ROUND : STRANDED_STEPS_PER_ROUND
      for (let step = 0; step < steps; step++) {
        const candidate = nextNeighbours.predecessor
        // a position the network's rules refuse is never our successor, wherever it claims to be
        if (candidate == null || !table.admits(candidate) || !inOpenInterval(candidate.id, table.self.id, next.id)) {
          placed = true
          break
        }
        try {
          nextNeighbours = await this.rpc.getNeighbours(candidate)
          next = candidate
        } catch {
          // a dead predecessor of our successor must not become our successor (Zave's first trap)
          placed = true
          break
        }
      }
      const nearer = placed ? undefined : await this.nearerThanWalking(next)
      if (table.successor.peer !== successor.peer) {
        // the successor changed while we asked (a node left, or healing adopted a closer one):
        // what we learnt is about the old one, so the next round starts again
        return
      }
      if (placed) {
        this.strandedAfter = undefined
      }
      if (nearer != null) {
        this.changeNeighbours(() => { table.setSuccessors([nearer]) })
        return
      }
      this.changeNeighbours(() => { table.setSuccessors([next, ...nextNeighbours.successors]) })
      this.copied = { peer: next.peer, digest: nextNeighbours.digest }
      this.successorAnswered = next.peer

      // a successor that already counts us as its predecessor would change nothing on a notify
      if (!this.clientMode && nextNeighbours.predecessor?.peer !== table.self.peer) {
        try {
          await this.rpc.notify(next, table.self)
        } catch {
          // it answered a moment ago; the next round finds out if it is gone
        }
      }
      if (placed) {
        await this.takePredecessorFrom(next, nextNeighbours)
      }
      return
    }
    await this.recoverSuccessor(lost)
  }

  /** Refresh one finger (and every finger that shares its node); a full table takes about log2(N) rounds */
  async fixFingers (): Promise<void> {
    const { table } = this
    const index = this.nextFinger
    const start = table.fingerStart(index)
    const { successors } = await this.lookup.findSuccessor(start)
    const node = chooseFinger(start, 1n << BigInt(index), successors, this.roundTripOf)
    let next = index
    while (next < table.fingerCount && inHalfOpenInterval(table.fingerStart(next), table.self.id, node.id)) {
      next++
    }
    // the node found does not follow the finger's start (we are its only node): leave it empty
    const finger = next === index ? undefined : node
    next = Math.max(next, index + 1)
    const before = Array.from({ length: next - index }, (_, i) => table.getFinger(index + i)?.peer)
    table.setFingers(index, next, finger)
    this.nextFinger = next % table.fingerCount
    if (before.some((peer, i) => table.getFinger(index + i)?.peer !== peer)) {
      this.onActivity('fingers')
    }
  }

  /**
   * Ping the predecessor; forget it if it does not answer. A predecessor that sent us a request
   * since the last check is alive, and is not asked.
   */
  async checkPredecessor (): Promise<void> {
    const predecessor = this.table.predecessor
    const heard = this.heardFromPredecessor
    this.heardFromPredecessor = undefined
    if (predecessor == null || heard === predecessor.peer) {
      return
    }
    try {
      await this.rpc.ping(predecessor)
    } catch {
      if (this.table.predecessor?.peer === predecessor.peer) {
        this.nodeFailed(predecessor)
      }
    }
  }

  /**
   * Between stabilize rounds: ping the successor, unless a round heard from it since the last
   * check. No answer drops it (the list shifts, as in stabilize) and a changed neighbour digest
   * means our copy of its neighbours is stale: either way the ring is told, and stabilizes now.
   */
  async checkSuccessor (): Promise<void> {
    const { table } = this
    const answered = this.successorAnswered
    this.successorAnswered = undefined
    const successor = table.getSuccessors()[0]
    if (successor == null || answered === successor.peer) {
      return
    }
    let digest: number | undefined
    try {
      digest = (await this.rpc.ping(successor)).neighboursDigest
    } catch {
      if (table.getSuccessors()[0]?.peer === successor.peer) {
        this.nodeFailed(successor)
      }
      return
    }
    // a node that sends no digest cannot tell us; its changes wait for the next stabilize round
    const copied = this.copied
    if (digest != null && (copied?.peer !== successor.peer || copied.digest !== digest)) {
      this.onActivity('successor-changed')
    }
  }

  /**
   * The connection to `peer` closed: if it is our successor or predecessor it may have gone.
   * Resolves to which it was, so the ring can check at once; a predecessor that closed is
   * pinged at the next check, whatever it sent before.
   */
  disconnected (peer: string): { successor: boolean, predecessor: boolean } {
    const successor = this.table.getSuccessors()[0]?.peer === peer
    const predecessor = this.table.predecessor?.peer === peer
    if (predecessor) {
      this.heardFromPredecessor = undefined
    }
    if (successor) {
      this.successorAnswered = undefined
    }
    return { successor, predecessor }
  }

  /**
   * Our successor pinged us with its neighbours digest: its neighbours changed. If they are not
   * the ones we copied, the ring is told, and stabilizes now.
   */
  onSuccessorDigest (from: NodeRef, digest: number): void {
    const copied = this.copied
    if (from.peer === this.table.getSuccessors()[0]?.peer && (copied?.peer !== from.peer || copied.digest !== digest)) {
      this.onActivity('successor-changed')
    }
  }

  /**
   * Any request from another node: a predecessor that asks is alive, and a node between us and
   * our successor that asks has most likely just joined there (its lookup of its own id ends
   * with us), so stabilize should look for it soon.
   */
  heardFrom (from: NodeRef): void {
    const { table } = this
    if (from.peer === table.self.peer) {
      return
    }
    if (from.peer === table.predecessor?.peer) {
      this.heardFromPredecessor = from.peer
    }
    if (table.getSuccessors().length > 0 && inOpenInterval(from.id, table.self.id, table.successor.id) && !this.closerNodesSeen.has(from.peer)) {
      if (this.closerNodesSeen.size >= CLOSER_NODES_REMEMBERED) {
        const oldest = this.closerNodesSeen.values().next().value
        if (oldest != null) {
          this.closerNodesSeen.delete(oldest)
        }
      }
      this.closerNodesSeen.add(from.peer)
      this.onActivity('closer-node')
    }
  }

  /**
   * A digest of our predecessor and successor list: it changes whenever they do, so a node that
   * copied them can ask with a ping whether they still hold (FNV-1a over their peer ids; a
   * collision only delays a change to the next stabilize round).
   */
  neighboursDigest (): number {
    return fnv1a(neighbourhoodKey(this.table))
  }

  /** A node says it is our predecessor */
  onNotify (from: NodeRef): void {
    const { table } = this
    if (!table.admits(from)) {
      // ourselves, or a position the network's rules refuse: never our predecessor
      return
    }
    const current = table.predecessor
    if (current == null || inOpenInterval(from.id, current.id, table.self.id)) {
      this.changeNeighbours(() => {
        table.setPredecessor(from)
        // alone, the node that notifies us is the whole rest of the ring as far as we know: our
        // successor too, now rather than at our next stabilize round (until then, every key we
        // own had a replica set of one, ourselves)
        if (table.getSuccessors().length === 0 && !table.clientMode) {
          table.setSuccessors([from])
        }
      })
      return
    }
    if (current.peer !== from.peer) {
      // the newcomer is not closer, but the old predecessor may be dead (Zave's notify rule)
      this.predecessorCheck ??= this.replacePredecessorIfDead(current, from)
        .finally(() => { this.predecessorCheck = undefined })
    }
  }

  /** A neighbour is leaving gracefully and tells us its neighbours, so the ring closes at once */
  onLeaving (from: NodeRef, neighbours: Neighbours): void {
    const { table } = this
    this.changeNeighbours(() => {
      if (table.getSuccessors().some(s => s.peer === from.peer)) {
        const ours = table.getSuccessors()
        const index = ours.findIndex(s => s.peer === from.peer)
        table.setSuccessors([...ours.slice(0, index), ...neighbours.successors.filter(s => s.peer !== from.peer), ...ours.slice(index + 1)])
      }
      if (table.predecessor?.peer === from.peer) {
        const replacement = neighbours.predecessor
        table.setPredecessor(replacement?.peer === from.peer ? undefined : replacement)
      }
      table.removeNode(from.peer)
    })
  }

  /** Tell our predecessor and successor that we are leaving; best effort, they repair anyway */
  async leave (): Promise<void> {
    const { table } = this
    const neighbours: Neighbours = { predecessor: table.predecessor, successors: [...table.getSuccessors()] }
    const targets = new Map<string, NodeRef>()
    for (const node of [table.predecessor, table.successor]) {
      if (node != null && node.peer !== table.self.peer) {
        targets.set(node.peer, node)
      }
    }
    await Promise.allSettled([...targets.values()].map(async node => this.rpc.leaving(node, neighbours)))
  }

  private async replacePredecessorIfDead (current: NodeRef, candidate: NodeRef): Promise<void> {
    try {
      await this.rpc.ping(current)
    } catch {
      if (this.table.predecessor?.peer === current.peer) {
        this.onNodeFailed(current)
        this.changeNeighbours(() => { this.table.setPredecessor(candidate) })
        this.onActivity('failure')
      }
    }
  }

  /**
   * Every successor is gone (`lost`, nearest first). Our new successor is the first live node
   * clockwise from us; any live node after us is a start from which stabilize walks back to it, so
   * the nearest one that answers is taken, among the nodes a lookup of our own id through a node we
   * still know names after us, and every node we know (fingers, predecessor). The nodes before us
   * still list our dead successors, and a node as lost as we are may name a node far away, so the
   * lookup's answer is a candidate beside the others, not the last word. If nobody answers we are
   * alone until someone notifies us.
   */
  private async recoverSuccessor (lost: readonly NodeRef[]): Promise<void> {
    const { table } = this
    const known = table.knownNodes()
    const named: NodeRef[] = []
    for (const node of known) {
      try {
        named.push(...othersAfterSelf((await this.lookup.findSuccessorVia(node, table.self.id)).successors, table.self))
        break
      } catch {
        // a lookup that failed says nothing of the node it started at: the pings below find out
      }
    }
    const found = await this.nearestLive([...named, ...known], new Set(lost.map(node => node.peer)))
    if (found != null) {
      this.changeNeighbours(() => { table.setSuccessors([found]) })
      this.strandedAfter = lost[lost.length - 1]
    }
  }

  /** The node nearest after us among `candidates` that answers a ping, asking none of `tried` (nor any twice) */
  private async nearestLive (candidates: NodeRef[], tried: Set<string>): Promise<NodeRef | undefined> {
    const { table } = this
    const byDistance = (a: NodeRef, b: NodeRef): number => compareIds(distance(table.self.id, a.id), distance(table.self.id, b.id))
    for (const candidate of candidates.sort(byDistance)) {
      if (tried.has(candidate.peer) || !table.admits(candidate)) {
        continue
      }
      tried.add(candidate.peer)
      try {
        await this.rpc.ping(candidate)
        return candidate
      } catch {
        this.nodeFailed(candidate)
      }
    }
    return undefined
  }

  /**
   * After every successor died, the nearest live node we knew can be far from our place (all our
   * fingers died too, and only our predecessor was left: a whole ring away), and walking back
   * STRANDED_STEPS_PER_ROUND nodes a round would take rounds in proportion to the ring. While such
   * a walk is unfinished at `next`, the owners of points ever farther past the dead (our finger
   * starts beyond the last successor we lost, each twice as far) are looked up through `next`,
   * whose part of the ring is whole: the first that names a live node before `next` brings us near
   * our place. A point just past the dead has no live predecessor but us, and a route that comes
   * to the nodes before us is told our own successor list, so the points go on past such answers.
   */
  private async nearerThanWalking (next: NodeRef): Promise<NodeRef | undefined> {
    const dead = this.strandedAfter
    if (dead == null) {
      return undefined
    }
    const { table } = this
    const from = (id: RingId): RingId => distance(table.self.id, id)
    for (let i = 0; i < table.fingerCount; i++) {
      const start = table.fingerStart(i)
      if (from(start) <= from(dead.id)) {
        continue
      }
      if (from(start) >= from(next.id)) {
        return undefined
      }
      let owner: NodeRef | undefined
      try {
        owner = othersAfterSelf((await this.lookup.findSuccessorVia(next, start)).successors, table.self)[0]
      } catch {
        // the route met only the dead: a point farther on may get past them
        continue
      }
      // a route that came to the nodes before us was told our own successor list: farther on, it may not
      if (owner != null && from(owner.id) < from(next.id)) {
        return await this.nearestLive([owner], new Set())
      }
    }
    return undefined
  }

  /**
   * A node that knows no predecessor (it has just joined) owns nothing until its predecessor's own
   * stabilize notifies it, so a lookup that reached it in the meantime found no owner. It takes the
   * predecessor its successor names, or the successor itself when that was alone (a ring of two
   * now), as long as nothing it knows says otherwise: a successor's word alone would let one that
   * lies (or is stale) make us claim most of the ring. So no node we know may lie between the one
   * named and us, and the one named must answer, and count our successor (or us) as its own.
   * A successor that names us (it heard from us) or a node between us and it (a dead one
   * stabilize would not take) tells us nothing of ours. Taken early, a predecessor is corrected
   * as any is: a node nearer us that notifies replaces it, and one that dies is dropped.
   */
  private async takePredecessorFrom (successor: NodeRef, neighbours: NeighboursReply): Promise<void> {
    const { table } = this
    const self = table.self
    if (this.clientMode || table.predecessor != null) {
      return
    }
    const alone = neighbours.predecessor == null && neighbours.successors.every(node => node.peer === self.peer || node.peer === successor.peer)
    const named = neighbours.predecessor ?? (alone ? successor : undefined)
    if (named == null || named.peer === self.peer || !table.admits(named) || inOpenInterval(named.id, self.id, successor.id)) {
      return
    }
    if (table.knownNodes().some(node => inOpenInterval(node.id, named.id, self.id))) {
      return
    }
    if (named.peer !== successor.peer) {
      let itsNext: NodeRef | undefined
      try {
        itsNext = (await this.rpc.getNeighbours(named)).successors[0]
      } catch {
        return
      }
      if (itsNext?.peer !== successor.peer && itsNext?.peer !== self.peer) {
        return
      }
    }
    if (table.predecessor == null && table.successor.peer === successor.peer) {
      this.changeNeighbours(() => { table.setPredecessor(named) })
    }
  }

  /** `node` lies between us and our successor (anywhere but us, when we have none) */
  private isCloserThanSuccessor (node: NodeRef): boolean {
    return inOpenInterval(node.id, this.table.self.id, this.table.successor.id)
  }

  private nodeFailed (node: NodeRef): void {
    this.changeNeighbours(() => { this.table.removeNode(node.peer) })
    this.onNodeFailed(node)
    this.onActivity('failure')
  }

  /** Run a change and tell the listeners if the successor list or predecessor moved */
  private changeNeighbours (change: () => void): void {
    const before = neighbourhoodKey(this.table)
    change()
    if (neighbourhoodKey(this.table) !== before) {
      this.fingersFromSuccessors()
      this.onNeighboursChanged()
      this.onActivity('neighbours')
    }
  }

  /**
   * The fingers whose start falls among our successors are the successors themselves: set them
   * from the list, so that a change of neighbours costs no lookups. The fingers beyond the list
   * are fix-fingers' business.
   */
  private fingersFromSuccessors (): void {
    const { table } = this
    const successors = table.getSuccessors()
    // successor k takes the run of fingers from runStart on, until a start falls beyond it
    let k = 0
    let runStart = 0
    for (let i = 0; i < table.fingerCount && k < successors.length; i++) {
      const start = table.fingerStart(i)
      let taker = k
      while (taker < successors.length && !inHalfOpenInterval(start, taker === 0 ? table.self.id : successors[taker - 1].id, successors[taker].id)) {
        taker++
      }
      if (taker !== k) {
        if (i > runStart) {
          table.setFingers(runStart, i, successors[k])
        }
        runStart = i
        k = taker
      }
    }
    if (k < successors.length) {
      table.setFingers(runStart, table.fingerCount, successors[k])
    }
  }
}

function neighbourhoodKey (table: RoutingTable): string {
  return `${table.predecessor?.peer ?? ''}|${table.getSuccessors().map(s => s.peer).join(',')}`
}

/** 32-bit FNV-1a over the UTF-16 code units of `text` */
function fnv1a (text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/**
 * The nodes a lookup of our own id names after us. A ring that still counts us (we restarted
 * before it noticed, or lost our successors but not our place) names us first: the nodes after
 * us are our successors.
 */
function othersAfterSelf (successors: NodeRef[], self: NodeRef): NodeRef[] {
  return successors[0]?.peer === self.peer ? successors.slice(1) : successors
}
