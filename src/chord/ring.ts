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
  DEFAULT_STABILIZE_INTERVAL,
  MAX_SUCCESSORS,
  MIN_SUCCESSOR_LIST_LENGTH,
  TIMER_JITTER
} from './constants.js'
import { Lookup, answerFindSuccessor } from './lookup.js'
import { Maintenance } from './maintenance.js'
import { Periodic } from './periodic.js'
import { RoutingTable } from './routing-table.js'
import type { RingId } from './id.js'
import type { LookupResult } from './lookup.js'
import type { ChordRpc, ChordRpcHandler, FindSuccessorOptions, FindSuccessorReply, Neighbours, NodeRef, RpcOptions } from './rpc.js'

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
  onNeighboursChanged?(): void
  /** told how each `lookup` went (the node's own and replication's, not the fingers' refresh): metrics listen */
  onLookup?(outcome: LookupOutcome): void
  onError?(err: unknown): void
}

export class ChordRing implements ChordRpcHandler {
  readonly table: RoutingTable
  readonly clientMode: boolean
  readonly replicas: number
  readonly stabilizeIntervalMs: number
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
    this.table = new RoutingTable(init.self, {
      successorListLength: Math.max(replicas, MIN_SUCCESSOR_LIST_LENGTH),
      clientMode: this.clientMode
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

  async join (entry: NodeRef, options?: RpcOptions): Promise<void> {
    await this.maintenance.join(entry, options)
  }

  /** Look ourselves up through a node off our successor path; adopt the closer successor it names, if any */
  async healThrough (entry: NodeRef, options?: RpcOptions): Promise<boolean> {
    return this.maintenance.healThrough(entry, options)
  }

  async leave (): Promise<void> {
    await this.maintenance.leave()
  }

  async lookup (id: RingId, options?: FindSuccessorOptions): Promise<LookupResult> {
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
