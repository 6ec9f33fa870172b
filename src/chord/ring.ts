/**
 * One node's view of the ring, assembled from its parts: the routing table (state), lookups,
 * the maintenance rounds on timers, and the answers to other nodes' requests. Transport-agnostic:
 * it reaches other nodes only through a `ChordRpc`.
 */
import { ForbiddenError, LookupVerificationError } from '../errors.js'
import {
  DEFAULT_CHECK_PREDECESSOR_INTERVAL,
  DEFAULT_DELEGATE_LOOKUPS,
  DEFAULT_CHECK_PREDECESSOR_MAX_INTERVAL,
  DEFAULT_FIX_FINGERS_INTERVAL,
  DEFAULT_FIX_FINGERS_MAX_INTERVAL,
  DEFAULT_REPLICAS,
  DEFAULT_RING_PEERS_PER_SUBNET,
  DEFAULT_STABILIZE_INTERVAL,
  DEFAULT_STABILIZE_MAX_INTERVAL,
  DEFAULT_VERIFY_LOOKUPS,
  DEFAULT_RECURSIVE_LOOKUPS,
  MAX_SUCCESSORS,
  MIN_SUCCESSOR_LIST_LENGTH,
  QUIET_ROUNDS_BEFORE_BACKOFF,
  SUCCESSOR_CHECK_ROUNDS,
  TIMER_JITTER
} from './constants.js'
import { Lookup, answerFindSuccessor, ownerInSuccessorList, verifyOwner } from './lookup.js'
import { findOwnerRecursively, stepTowardsOwner } from './recursive-lookup.js'
import { Maintenance } from './maintenance.js'
import { OwnerCache } from './owner-cache.js'
import { Periodic, adaptiveInterval } from './periodic.js'
import { choosePosition } from './position-choice.js'
import { RoutingTable } from './routing-table.js'
import { SubnetCap } from './subnet-cap.js'
import type { RingId } from './id.js'
import type { LookupResult } from './lookup.js'
import type { MaintenanceInit, RingActivity } from './maintenance.js'
import type { CarriedRecord, ChordRpc, ChordRpcHandler, FindOwnerStep, FindSuccessorOptions, FindSuccessorReply, Neighbours, NeighboursReply, NodeRef, PingReply, RpcOptions } from './rpc.js'
import type { PositionRules } from './position-rules.js'

/**
 * The maintenance intervals, ms. Each adaptive loop has a short interval, used while the ring
 * around the node changes, and a long one it backs off to while nothing does; a long interval left
 * out is the same multiple of the short one as the defaults (so shortening the short interval
 * shortens both, as tests and simulations want). A long interval equal to the short one pins the
 * loop to a fixed interval.
 */
export interface RingTimers {
  stabilizeIntervalMs?: number
  stabilizeMaxIntervalMs?: number
  fixFingersIntervalMs?: number
  fixFingersMaxIntervalMs?: number
  checkPredecessorIntervalMs?: number
  checkPredecessorMaxIntervalMs?: number
  /** between two pings of the successor; default: at most SUCCESSOR_CHECK_ROUNDS short stabilize intervals, jitter included (2.5 s) */
  successorCheckIntervalMs?: number
}

export interface RingLookupOptions extends FindSuccessorOptions {
  /**
   * answer from the owner cache when it covers the id with as many nodes as asked for or as the
   * ring we know holds (`cached: true`, hops 0), else look the id up. Only for writes and reads
   * that can tell a stale owner from the answers they get (`Replication.storeOnReplicas`); never
   * for the ring's own maintenance, which must see the ring as it is
   */
  useOwnerCache?: boolean
  /**
   * told the owner and the nodes after it as the route named them, before the owner is asked to
   * confirm them (a verified lookup's last round trip): a write can be on its way to them meanwhile.
   * Not called when nothing is left to confirm (an answer from our own table or the owner cache,
   * or the owner's own statement to a recursive lookup)
   */
  onNamed?(successors: NodeRef[]): void
  /**
   * a record of the id's key for the owner to store as it answers a recursive lookup (`carried`
   * says it did): a write that need not wait for a connection to the owner. Not sent when the
   * owner cache answers, or when the lookup walks the ring
   */
  carry?: CarriedRecord
}

/** How one lookup went, as `ChordRing.lookup` reports it */
export type LookupOutcome =
  | { ok: true, hops: number, durationMs: number, cached?: true, recursive?: true, carried?: true }
  | { ok: false, durationMs: number }

export interface RingInit extends RingTimers, Pick<MaintenanceInit, 'roundTripOf'> {
  self: NodeRef
  rpc: ChordRpc
  /** replication factor r; the successor list is at least this long */
  replicas?: number
  clientMode?: boolean
  /**
   * a client asks a ring node it knows to run each lookup for it (one request) instead of asking
   * node after node itself; default DEFAULT_DELEGATE_LOOKUPS. Ignored by ring members.
   */
  delegateLookups?: boolean
  /** confirm the owner each `lookup` is told with the owner itself (see `verifyOwner`); default DEFAULT_VERIFY_LOOKUPS */
  verifyLookups?: boolean
  /** try each verified lookup as a recursive one first (see recursive-lookup.ts); default DEFAULT_RECURSIVE_LOOKUPS */
  recursiveLookups?: boolean
  /** the network's rules for ring positions: only nodes they admit enter the routing table; default: every node */
  positions?: PositionRules
  /** the subnet cap of the routing state; default: none */
  diversity?: RingDiversity
  onNeighboursChanged?(): void
  /** told how each `lookup` went (the node's own and replication's, not the fingers' refresh): metrics listen */
  onLookup?(outcome: LookupOutcome): void
  onError?(err: unknown): void
}

/** Told what the ring learns about changes around it (healing listens for failures) */
export type RingActivityListener = (activity: RingActivity) => void

/** How many nodes of one subnet the routing state holds, and how a node's subnet is known */
export interface RingDiversity {
  /** default DEFAULT_RING_PEERS_PER_SUBNET; never below the replication factor */
  maxPerSubnet?: number
  subnetOf(node: NodeRef): string | undefined
}

/** How a node joins: through which node, and where it may sit */
export interface JoinOptions extends RpcOptions {
  /**
   * positions the node may take (its own, each valid), when it has not taken one yet: it looks
   * each up through the entry and takes the one that splits the widest gap (position-choice.ts)
   */
  candidates?: NodeRef[]
}

export class ChordRing implements ChordRpcHandler {
  readonly table: RoutingTable
  readonly clientMode: boolean
  readonly replicas: number
  /** the owners verified lookups found, by ring range (filled by `lookup`, used on request) */
  readonly owners: OwnerCache
  private readonly lookupEngine: Lookup
  private readonly maintenance: Maintenance
  private readonly stabilizeLoop: Periodic
  private readonly fingersLoop: Periodic
  private readonly predecessorLoop: Periodic
  private readonly successorLoop: Periodic
  private readonly loops: Periodic[]
  private readonly onLookup: (outcome: LookupOutcome) => void
  private readonly activityListeners = new Set<RingActivityListener>()
  /** how we ask other nodes; readable for the benchmarks, which time single requests */
  readonly rpc: ChordRpc
  private readonly verifyLookups: boolean
  private readonly recursiveLookups: boolean
  /** the loops run (between start and stop) */
  private running = false
  /** every predecessor we had since our neighbours were last told of a change, and whether a telling is queued */
  private readonly toTell = new Map<string, NodeRef>()
  private tellingQueued = false
  private stabilizedAt?: number
  private startedAt?: number

  constructor (init: RingInit) {
    const replicas = init.replicas ?? DEFAULT_REPLICAS
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_SUCCESSORS) {
      throw new RangeError(`replicas must be an integer from 1 to ${MAX_SUCCESSORS}`)
    }
    this.clientMode = init.clientMode ?? false
    this.replicas = replicas
    this.onLookup = init.onLookup ?? (() => {})
    this.rpc = init.rpc
    this.verifyLookups = init.verifyLookups ?? DEFAULT_VERIFY_LOOKUPS
    this.recursiveLookups = init.recursiveLookups ?? DEFAULT_RECURSIVE_LOOKUPS
    this.owners = new OwnerCache()
    const positions = init.positions
    const diversity = init.diversity
    this.table = new RoutingTable(init.self, {
      successorListLength: Math.max(replicas, MIN_SUCCESSOR_LIST_LENGTH),
      clientMode: this.clientMode,
      admits: positions == null ? undefined : node => positions.admits(node),
      // a key's replicas are its r true successors, whatever their addresses: the cap never goes below r
      subnetCap: diversity == null
        ? undefined
        : new SubnetCap({ maxPerSubnet: Math.max(diversity.maxPerSubnet ?? DEFAULT_RING_PEERS_PER_SUBNET, replicas), subnetOf: diversity.subnetOf })
    })
    this.lookupEngine = new Lookup(this.table, init.rpc, {
      delegate: this.clientMode && (init.delegateLookups ?? DEFAULT_DELEGATE_LOOKUPS),
      onNodeFailed: node => { this.nodeFailed(node) }
    })
    this.maintenance = new Maintenance(this.table, init.rpc, this.lookupEngine, {
      clientMode: this.clientMode,
      onNeighboursChanged: init.onNeighboursChanged,
      onActivity: activity => { this.activity(activity) },
      roundTripOf: init.roundTripOf
    })
    const timer = (task: () => Promise<void>, intervals: { intervalMs: number, maxIntervalMs: number }): Periodic =>
      new Periodic(task, { ...intervals, quietRunsBeforeBackoff: QUIET_ROUNDS_BEFORE_BACKOFF, jitter: TIMER_JITTER, onError: init.onError })
    const stabilize = adaptiveInterval(init.stabilizeIntervalMs, init.stabilizeMaxIntervalMs, { shortMs: DEFAULT_STABILIZE_INTERVAL, longMs: DEFAULT_STABILIZE_MAX_INTERVAL })
    this.stabilizeLoop = timer(async () => this.stabilize(), stabilize)
    this.fingersLoop = timer(async () => this.maintenance.fixFingers(),
      adaptiveInterval(init.fixFingersIntervalMs, init.fixFingersMaxIntervalMs, { shortMs: DEFAULT_FIX_FINGERS_INTERVAL, longMs: DEFAULT_FIX_FINGERS_MAX_INTERVAL }))
    this.predecessorLoop = timer(async () => this.maintenance.checkPredecessor(),
      adaptiveInterval(init.checkPredecessorIntervalMs, init.checkPredecessorMaxIntervalMs, { shortMs: DEFAULT_CHECK_PREDECESSOR_INTERVAL, longMs: DEFAULT_CHECK_PREDECESSOR_MAX_INTERVAL }))
    // the latest a jittered check can come is still within SUCCESSOR_CHECK_ROUNDS short rounds
    const successorCheckMs = init.successorCheckIntervalMs ?? Math.round(SUCCESSOR_CHECK_ROUNDS * stabilize.intervalMs / (1 + TIMER_JITTER))
    this.successorLoop = timer(async () => this.checkSuccessor(), { intervalMs: successorCheckMs, maxIntervalMs: successorCheckMs })
    this.loops = [this.stabilizeLoop, this.fingersLoop, this.predecessorLoop, this.successorLoop]
  }

  /**
   * ms between stabilize rounds at the moment (backed off while nothing changes), from which the
   * health check tells a late round from a quiet ring
   */
  get stabilizeIntervalMs (): number {
    return this.stabilizeLoop.expectedGapMs
  }

  /** The intervals the maintenance loops work at now, ms */
  get maintenanceIntervals (): { stabilize: number, fixFingers: number, checkPredecessor: number } {
    return { stabilize: this.stabilizeLoop.intervalMs, fixFingers: this.fingersLoop.intervalMs, checkPredecessor: this.predecessorLoop.intervalMs }
  }

  /** Be told what the ring learns about changes around it; returns the function that stops it */
  watchActivity (listener: RingActivityListener): () => void {
    this.activityListeners.add(listener)
    return () => { this.activityListeners.delete(listener) }
  }

  /**
   * The transport lost its last connection to `peer` (a node that crashes or stops closes its
   * connections): if that is our successor or predecessor, check it now rather than at the next
   * successor or predecessor check. A node that went away without closing anything is found by
   * those checks.
   */
  disconnected (peer: string): void {
    const { successor, predecessor } = this.maintenance.disconnected(peer)
    if (successor) {
      this.successorLoop.wake({ immediately: true })
    }
    if (predecessor) {
      this.predecessorLoop.wake({ immediately: true })
    }
  }

  get self (): NodeRef {
    return this.table.self
  }

  /** When the last stabilize round finished (ms since the epoch), so a stalled ring can be told from a quiet one */
  get lastStabilizedAt (): number | undefined {
    return this.stabilizedAt
  }

  /** When the maintenance timers were last started (ms since the epoch); undefined until then */
  get maintenanceStartedAt (): number | undefined {
    return this.startedAt
  }

  /** Start the maintenance timers */
  start (): void {
    this.startedAt = Date.now()
    this.running = true
    // the predecessor the join left us is told when our neighbours first change
    const predecessor = this.table.predecessor
    if (predecessor != null) {
      this.toTell.set(predecessor.peer, predecessor)
    }
    for (const loop of this.loops) {
      loop.start()
    }
  }

  /** Stop the timers; call `leave()` first for a graceful exit */
  stop (): void {
    this.running = false
    // a node started again must not trust what it saw of the ring before
    this.owners.clear()
    for (const loop of this.loops) {
      loop.stop()
    }
  }

  /**
   * Sit at `self`, a position of this node (one it kept from an earlier run); before joining only
   *
   * @throws Error once the routing table holds anyone
   */
  takePosition (self: NodeRef): void {
    this.table.moveTo(self)
  }

  /**
   * Join the ring `entry` belongs to. Given candidate positions, and while it knows nobody yet,
   * the node first takes the one that splits the widest gap; `self` then says which it took.
   */
  async join (entry: NodeRef, options: JoinOptions = {}): Promise<void> {
    const { candidates, ...rpcOptions } = options
    entry = await this.placed(entry, rpcOptions)
    if (candidates != null && candidates.length > 0 && this.table.knownNodes().length === 0) {
      this.table.moveTo(candidates.length === 1
        ? candidates[0]
        : await choosePosition({
          candidates,
          successorsOf: async id => (await this.lookupEngine.findSuccessorVia(entry, id, rpcOptions)).successors,
          predecessorOf: async node => (await this.rpc.getNeighbours(node, rpcOptions)).predecessor
        }))
    }
    await this.maintenance.join(entry, rpcOptions)
  }

  /** Look ourselves up through a node off our successor path; adopt the closer successor it names, if any */
  async healThrough (entry: NodeRef, options?: RpcOptions): Promise<boolean> {
    return this.maintenance.healThrough(await this.placed(entry, options), options)
  }

  /**
   * Where `entry` sits. A node reached by its PeerId alone (a bootstrap address, a cached peer)
   * comes with its plain position; in a network of paid positions it sits elsewhere, and a lookup
   * that started from the wrong place would take the nodes it names for a step backwards. Its
   * first successor names it, with its proof, as its predecessor. Failing that, the plain
   * position stands: the lookup may then take an extra hop or fail and be tried again.
   */
  private async placed (entry: NodeRef, options?: RpcOptions): Promise<NodeRef> {
    if (entry.peer === this.self.peer || this.table.admits(entry)) {
      return entry
    }
    try {
      const next = (await this.rpc.getNeighbours(entry, options)).successors.find(node => node.peer !== entry.peer)
      const named = next == null ? undefined : (await this.rpc.getNeighbours(next, options)).predecessor
      return named?.peer === entry.peer && this.table.admits(named) ? named : entry
    } catch {
      return entry
    }
  }

  async leave (): Promise<void> {
    await this.maintenance.leave()
  }

  /**
   * The successor of `id` and the nodes after it. Every answer the owner confirmed is remembered
   * in the owner cache; `useOwnerCache` answers from it (see RingLookupOptions)
   */
  async lookup (id: RingId, ringOptions: RingLookupOptions = {}): Promise<LookupResult> {
    const { useOwnerCache = false, onNamed, carry, ...options } = ringOptions
    const started = performance.now()
    const cached = useOwnerCache ? this.remembered(id, options.successorCount ?? this.replicas) : undefined
    if (cached != null) {
      this.onLookup({ ok: true, hops: 0, durationMs: performance.now() - started, cached: true })
      return { successors: cached.slice(0, options.successorCount ?? Infinity), hops: 0, cached: true }
    }
    try {
      // the owner cache answers writes of a replica set from what this answer holds
      const stated = options.successorCount == null ? {} : { successorCount: Math.max(options.successorCount, this.replicas) }
      // a node that did not answer the recursive attempt is not asked first again by the walk
      const unanswered = new Set<string>()
      // a record to carry goes with the request to the owner (recursive-lookup.ts), so a write
      // asks the ring even when our successor list names the owner
      const checked = (this.verifyLookups && carry == null ? await this.successorListLookup(id, options, onNamed) : undefined) ??
        (this.verifyLookups && this.recursiveLookups
          ? await findOwnerRecursively(this.table, this.rpc, id, { ...options, ...stated, carry }, node => { unanswered.add(node.peer); this.nodeFailed(node) })
          : undefined) ??
        await this.walkedLookup(id, options, onNamed, unanswered)
      if (checked.checks != null && checked.ownerPredecessor != null) {
        this.owners.remember(id, checked.ownerPredecessor, checked.successors)
      }
      const result = { ...checked, successors: checked.successors.slice(0, options?.successorCount ?? Infinity) }
      this.onLookup({
        ok: true,
        hops: result.hops,
        durationMs: performance.now() - started,
        ...(result.recursive === true ? { recursive: true } : {}),
        ...(result.carried === true ? { carried: true } : {})
      })
      return result
    } catch (err) {
      this.onLookup({ ok: false, durationMs: performance.now() - started })
      throw err
    }
  }

  /**
   * The owner cache's nodes for `id`, unless they are fewer than `count` while our own table knows
   * more ring nodes than they name: then they were remembered from a ring still forming (an owner
   * whose successor list was short), and would keep every write on too few replicas until the
   * entry expired. Such an entry is forgotten and the id looked up, which costs nothing more than
   * the lookup without the cache; a ring smaller than `count` keeps its entries.
   */
  private remembered (id: RingId, count: number): NodeRef[] | undefined {
    const cached = this.owners.find(id)
    if (cached == null || cached.length >= count || cached.length >= this.ringNodesKnown()) {
      return cached
    }
    this.owners.forget(id)
    return undefined
  }

  /** The ring nodes our table holds, ourselves included unless we are a client (which holds no position) */
  private ringNodesKnown (): number {
    return this.table.knownNodes().length + (this.clientMode ? 0 : 1)
  }

  /** The iterative lookup, its answer checked with the owner unless our own table gave it */
  private async walkedLookup (id: RingId, options: FindSuccessorOptions, onNamed?: (named: NodeRef[]) => void, unanswered?: ReadonlySet<string>): Promise<LookupResult> {
    const found = await this.lookupEngine.findSuccessor(id, options, unanswered)
    // an answer from our own table needs no one else's word
    if (!this.verifyLookups || found.hops === 0) {
      return found
    }
    return this.confirm(id, found, options, onNamed)
  }

  /**
   * An id between two nodes of our successor list: the later one is asked whether it owns it, one
   * round trip to a node we are connected to, its answer its own, with no relay to trust and so no
   * signature to make or check (a route or a recursive request through the earlier one costs two,
   * and the signature). Undefined when the list does not span the id, or no node of it answered:
   * then the ring is asked
   */
  private async successorListLookup (id: RingId, options: FindSuccessorOptions, onNamed?: (named: NodeRef[]) => void): Promise<LookupResult | undefined> {
    const named = ownerInSuccessorList(this.table, id)
    if (named == null) {
      return undefined
    }
    try {
      return await this.confirm(id, named, options, onNamed)
    } catch (err) {
      if (options.signal?.aborted === true || !(err instanceof LookupVerificationError)) {
        throw err
      }
      return undefined
    }
  }

  /** The owner `found` names, confirmed with the nodes themselves (`verifyOwner`); `onNamed` hears the named ones first */
  private async confirm (id: RingId, found: LookupResult, options: FindSuccessorOptions, onNamed?: (named: NodeRef[]) => void): Promise<LookupResult> {
    onNamed?.(found.successors.slice(0, options.successorCount ?? Infinity))
    return verifyOwner(this.table, this.rpc, id, found, { ...options, onNodeFailed: node => { this.nodeFailed(node) } })
  }

  /**
   * One round of each maintenance task, in order, whatever the loops' intervals; the simulator
   * drives the ring with this
   */
  async maintain (): Promise<void> {
    await this.maintenance.checkPredecessor()
    await this.stabilize()
    await this.maintenance.fixFingers()
  }

  async stabilize (): Promise<void> {
    await this.maintenance.stabilize()
    this.stabilizedAt = Date.now()
  }

  async fixFingers (): Promise<void> {
    await this.maintenance.fixFingers()
  }

  /** Ping the successor unless a stabilize round heard from it since the last check (see Maintenance.checkSuccessor) */
  async checkSuccessor (): Promise<void> {
    await this.maintenance.checkSuccessor()
  }

  getNeighbours (): Neighbours {
    return { predecessor: this.table.predecessor, successors: [...this.table.getSuccessors()] }
  }

  onPing (from: NodeRef, neighboursDigest?: number): PingReply {
    this.heardFrom(from)
    if (neighboursDigest != null && !this.clientMode) {
      this.maintenance.onSuccessorDigest(from, neighboursDigest)
    }
    return { neighboursDigest: this.maintenance.neighboursDigest() }
  }

  onGetNeighbours (from: NodeRef): NeighboursReply {
    this.heardFrom(from)
    return { ...this.getNeighbours(), digest: this.maintenance.neighboursDigest() }
  }

  onNotify (from: NodeRef): void {
    this.heardFrom(from)
    if (!this.clientMode) {
      this.maintenance.onNotify(from)
    }
  }

  onFindSuccessor (from: NodeRef, id: RingId): FindSuccessorReply {
    this.heardFrom(from)
    return answerFindSuccessor(this.table, id)
  }

  isNeighbour (peer: string): boolean {
    return this.table.predecessor?.peer === peer || this.table.getSuccessors().some(node => node.peer === peer)
  }

  onLeaving (from: NodeRef, neighbours: Neighbours): void {
    this.maintenance.onLeaving(from, neighbours)
  }

  onFindOwner (from: NodeRef, id: RingId): FindOwnerStep {
    this.heardFrom(from)
    return stepTowardsOwner(this.table, id)
  }

  onPassedOnUnanswered (node: NodeRef): void {
    this.nodeFailed(node)
  }

  async onDelegatedLookup (_from: NodeRef, id: RingId): Promise<NodeRef[]> {
    if (this.clientMode) {
      throw new ForbiddenError('a client holds no ring position: it runs no lookups for others')
    }
    const { successors } = await this.lookupEngine.findSuccessor(id)
    return successors
  }

  /** A node we asked did not answer: lookups stop routing through it, and maintenance speeds up to find out more */
  private nodeFailed (node: NodeRef): void {
    this.table.removeFinger(node.peer)
    this.activity('failure')
  }

  private heardFrom (from: NodeRef): void {
    if (!this.clientMode) {
      this.maintenance.heardFrom(from)
    }
  }

  /** Speed the loops up that a change concerns, and tell the listeners */
  private activity (activity: RingActivity): void {
    switch (activity) {
      case 'neighbours':
        // the fingers among the successors were set from the new list; the rest did not move
        this.stabilizeLoop.wake()
        this.predecessorLoop.wake()
        this.tellPredecessors()
        break
      case 'failure':
        this.stabilizeLoop.wake({ immediately: true })
        this.fingersLoop.wake()
        this.predecessorLoop.wake()
        break
      case 'fingers':
        this.fingersLoop.wake()
        break
      case 'closer-node':
        this.stabilizeLoop.wake()
        break
      case 'successor-changed':
        this.stabilizeLoop.wake({ immediately: true })
        break
    }
    for (const listener of this.activityListeners) {
      listener(activity)
    }
  }

  /**
   * Our neighbours changed: ping our predecessor with their new digest, so that it copies them
   * now rather than at its next successor check, and a change travels back along the successor
   * lists at the speed of the network. A predecessor that just changed hears it too (it may not
   * know yet that a node came between us). Changes in the same turn of the event loop are told
   * once; a node whose loops do not run (the simulator drives rounds by hand) tells nobody.
   */
  private tellPredecessors (): void {
    if (!this.running || this.clientMode) {
      return
    }
    const predecessor = this.table.predecessor
    if (predecessor != null) {
      this.toTell.set(predecessor.peer, predecessor)
    }
    if (this.tellingQueued) {
      return
    }
    this.tellingQueued = true
    setTimeout(() => {
      this.tellingQueued = false
      const targets = [...this.toTell.values()]
      this.toTell.clear()
      const current = this.table.predecessor
      if (!this.running) {
        return
      }
      // the current predecessor is told again at the next change, whoever replaces it
      if (current != null) {
        this.toTell.set(current.peer, current)
      }
      const digest = this.maintenance.neighboursDigest()
      for (const node of targets) {
        // a predecessor that does not answer is the predecessor check's business
        this.rpc.ping(node, { neighboursDigest: digest }).catch(() => {})
      }
    }, 0)
  }
}
