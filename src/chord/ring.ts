/**
 * One node's view of the ring, assembled from its parts: the routing table (state), lookups,
 * the maintenance rounds on timers, and the answers to other nodes' requests. Transport-agnostic:
 * it reaches other nodes only through a `ChordRpc`.
 */
import { ForbiddenError } from '../errors.js'
import {
  DEFAULT_CHECK_PREDECESSOR_INTERVAL,
  DEFAULT_DELEGATE_LOOKUPS,
  DEFAULT_FIX_FINGERS_INTERVAL,
  DEFAULT_REPLICAS,
  DEFAULT_RING_PEERS_PER_SUBNET,
  DEFAULT_STABILIZE_INTERVAL,
  MAX_SUCCESSORS,
  MIN_SUCCESSOR_LIST_LENGTH,
  TIMER_JITTER
} from './constants.js'
import { Lookup, answerFindSuccessor } from './lookup.js'
import { Maintenance } from './maintenance.js'
import { Periodic } from './periodic.js'
import { choosePosition } from './position-choice.js'
import { RoutingTable } from './routing-table.js'
import { SubnetCap } from './subnet-cap.js'
import type { RingId } from './id.js'
import type { LookupResult } from './lookup.js'
import type { PositionRules } from './position-rules.js'
import type { ChordRpc, ChordRpcHandler, FindSuccessorReply, Neighbours, NodeRef, RpcOptions } from './rpc.js'

export interface RingTimers {
  stabilizeIntervalMs?: number
  fixFingersIntervalMs?: number
  checkPredecessorIntervalMs?: number
}

/** How one lookup went, as `ChordRing.lookup` reports it */
export type LookupOutcome =
  | { ok: true, hops: number, durationMs: number }
  | { ok: false, durationMs: number }

export interface RingInit extends RingTimers {
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
  /** the network's rules for ring positions: only nodes they admit enter the routing table; default: every node */
  positions?: PositionRules
  /** the subnet cap of the routing state; default: none */
  diversity?: RingDiversity
  onNeighboursChanged?(): void
  /** told how each `lookup` went (the node's own and replication's, not the fingers' refresh): metrics listen */
  onLookup?(outcome: LookupOutcome): void
  onError?(err: unknown): void
}

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
  readonly stabilizeIntervalMs: number
  private readonly rpc: ChordRpc
  private readonly lookupEngine: Lookup
  private readonly maintenance: Maintenance
  private readonly loops: Periodic[]
  private readonly onLookup: (outcome: LookupOutcome) => void
  private stabilizedAt?: number
  private startedAt?: number

  constructor (init: RingInit) {
    const replicas = init.replicas ?? DEFAULT_REPLICAS
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_SUCCESSORS) {
      throw new RangeError(`replicas must be an integer from 1 to ${MAX_SUCCESSORS}`)
    }
    this.clientMode = init.clientMode ?? false
    this.replicas = replicas
    this.stabilizeIntervalMs = init.stabilizeIntervalMs ?? DEFAULT_STABILIZE_INTERVAL
    this.onLookup = init.onLookup ?? (() => {})
    this.rpc = init.rpc
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
      onNodeFailed: node => { this.table.removeFinger(node.peer) }
    })
    this.maintenance = new Maintenance(this.table, init.rpc, this.lookupEngine, {
      clientMode: this.clientMode,
      onNeighboursChanged: init.onNeighboursChanged
    })
    const timer = (task: () => Promise<void>, intervalMs: number): Periodic =>
      new Periodic(task, { intervalMs, jitter: TIMER_JITTER, onError: init.onError })
    this.loops = [
      timer(async () => this.stabilize(), this.stabilizeIntervalMs),
      timer(async () => this.maintenance.fixFingers(), init.fixFingersIntervalMs ?? DEFAULT_FIX_FINGERS_INTERVAL),
      timer(async () => this.maintenance.checkPredecessor(), init.checkPredecessorIntervalMs ?? DEFAULT_CHECK_PREDECESSOR_INTERVAL)
    ]
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
    for (const loop of this.loops) {
      loop.start()
    }
  }

  /** Stop the timers; call `leave()` first for a graceful exit */
  stop (): void {
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

  async lookup (id: RingId, options?: RpcOptions): Promise<LookupResult> {
    const started = performance.now()
    try {
      const result = await this.lookupEngine.findSuccessor(id, options)
      this.onLookup({ ok: true, hops: result.hops, durationMs: performance.now() - started })
      return result
    } catch (err) {
      this.onLookup({ ok: false, durationMs: performance.now() - started })
      throw err
    }
  }

  async lookupVia (entry: NodeRef, id: RingId, options?: RpcOptions): Promise<LookupResult> {
    return this.lookupEngine.findSuccessorVia(entry, id, options)
  }

  /** One round of each maintenance task, in order; the simulator drives the ring with this */
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

  getNeighbours (): Neighbours {
    return { predecessor: this.table.predecessor, successors: [...this.table.getSuccessors()] }
  }

  onGetNeighbours (_from: NodeRef): Neighbours {
    return this.getNeighbours()
  }

  onNotify (from: NodeRef): void {
    if (!this.clientMode) {
      this.maintenance.onNotify(from)
    }
  }

  onFindSuccessor (_from: NodeRef, id: RingId): FindSuccessorReply {
    return answerFindSuccessor(this.table, id)
  }

  onLeaving (from: NodeRef, neighbours: Neighbours): void {
    this.maintenance.onLeaving(from, neighbours)
  }

  async onDelegatedLookup (_from: NodeRef, id: RingId): Promise<NodeRef[]> {
    if (this.clientMode) {
      throw new ForbiddenError('a client holds no ring position: it runs no lookups for others')
    }
    const { successors } = await this.lookupEngine.findSuccessor(id)
    return successors
  }
}
