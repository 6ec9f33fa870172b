/**
 * One ring member's core, composed in dependency order: the ring (routing state, lookups and the
 * maintenance loops), then the replication of each record namespace, then rehoming. It is
 * transport-agnostic: the libp2p service and the simulator build their nodes with it alike, each
 * handing it its own `RingRpc`, and each answering other nodes through `handlerOf`.
 *
 * Plain records are the `records` namespace, built in; a feature that keeps records of its own
 * (the mailbox) adds its namespace before the node starts, and from then on its replication is
 * started, stopped, told of neighbour changes and handed off on leave with the others.
 */
import { Rehoming } from './rehoming.js'
import { Replication } from './replication.js'
import { ChordRing } from './ring.js'
import { SelfShortcut } from './self-shortcut.js'
import type { RecordStore, ChordRecord } from './record.js'
import type { AntiEntropyRound } from './replication.js'
import type { LookupOutcome, RingTimers } from './ring.js'
import type { ChordRpcHandler, DeletionRpc, NamespaceHandler, NamespaceName, NodeRef, RecordRpc, RingRpc, RpcOptions } from './rpc.js'
import type { TtlPolicy } from './ttl.js'

export interface CoreTimers extends RingTimers {
  /** ms between anti-entropy rounds (and rehoming rounds) while neighbours change or rounds repair something */
  antiEntropyIntervalMs?: number
  /** ms between them once nothing does (see RingTimers for the default) */
  antiEntropyMaxIntervalMs?: number
  /** ms between sweeps of expired records */
  sweepIntervalMs?: number
}

export interface RingNodeInit {
  self: NodeRef
  rpc: RingRpc
  /** the store of plain records */
  store: RecordStore
  ttl: TtlPolicy
  /** replication factor r */
  replicas?: number
  /** use the ring without holding a position: no replication, no rehoming, no notify */
  clientMode?: boolean
  timers?: CoreTimers
  /** told how each lookup went (metrics listen) */
  onLookup?(outcome: LookupOutcome): void
  /** told what each anti-entropy round of plain records did (metrics listen) */
  onAntiEntropyRound?(round: AntiEntropyRound): void
  /** a background task failed; the loop goes on */
  onError?(err: unknown): void
}

export interface NamespaceInit<Handler extends NamespaceHandler = NamespaceHandler> {
  store: RecordStore
  /** drops records this namespace must not take in (e.g. ones their owner deleted) */
  admit?(records: ChordRecord[]): Promise<ChordRecord[]>
  /** told about records stored here for the first time */
  onRecordsAdded?(records: ChordRecord[]): void
  /** 'push' for namespaces whose records nobody may list (see Replication) */
  antiEntropyMode?: 'both' | 'push'
  /** the namespace's rules for other nodes' requests, around its replication */
  rules(replication: Replication): Handler
}

/** A namespace the node keeps: its replication, and the rules it answers other nodes by */
export interface KeptNamespace<Handler extends NamespaceHandler = NamespaceHandler> {
  replication: Replication
  handler: Handler
}

export class RingNode {
  readonly ring: ChordRing
  /** replication of plain records */
  readonly records: Replication
  private readonly init: RingNodeInit
  /** the transport, with calls to this node answered here */
  private readonly rpc: RingRpc
  private readonly namespaces = new Map<NamespaceName, KeptNamespace>()
  private readonly rehoming?: Rehoming
  private readonly onError: (err: unknown) => void

  constructor (init: RingNodeInit) {
    this.init = init
    this.onError = init.onError ?? (() => {})
    this.rpc = new SelfShortcut(init.rpc, init.self, this)
    this.ring = new ChordRing({
      self: init.self,
      rpc: this.rpc,
      replicas: init.replicas,
      clientMode: init.clientMode,
      ...init.timers,
      onNeighboursChanged: () => { this.neighboursChanged() },
      onLookup: init.onLookup,
      onError: init.onError
    })
    // plain records take whatever the store's quotas allow
    this.records = this.addNamespace('records', { store: init.store, rules: replication => replication }, init.onAntiEntropyRound).replication
    this.rehoming = this.ring.clientMode
      ? undefined
      : new Rehoming({
        ring: this.ring,
        rpc: this.rpc,
        replication: this.records,
        store: init.store,
        intervalMs: init.timers?.antiEntropyIntervalMs,
        maxIntervalMs: init.timers?.antiEntropyMaxIntervalMs,
        onError: init.onError
      })
  }

  get self (): NodeRef {
    return this.ring.self
  }

  /** What answers other nodes' ring messages */
  get ringHandler (): ChordRpcHandler {
    return this.ring
  }

  /**
   * Keep a namespace of records of its own, replicated like plain records; call it before
   * `start`. The feature reads and writes through the replication it gets back.
   */
  addNamespace<Handler extends NamespaceHandler> (name: NamespaceName, init: NamespaceInit<Handler>, onAntiEntropyRound?: (round: AntiEntropyRound) => void): KeptNamespace<Handler> {
    if (this.namespaces.has(name)) {
      throw new Error(`the ${name} namespace is kept already`)
    }
    const replication = new Replication({
      ring: this.ring,
      rpc: this.rpc.namespace(name),
      store: init.store,
      ttl: this.init.ttl,
      admit: init.admit,
      onRecordsAdded: init.onRecordsAdded,
      antiEntropyMode: init.antiEntropyMode,
      antiEntropyIntervalMs: this.init.timers?.antiEntropyIntervalMs,
      antiEntropyMaxIntervalMs: this.init.timers?.antiEntropyMaxIntervalMs,
      sweepIntervalMs: this.init.timers?.sweepIntervalMs,
      onAntiEntropyRound,
      onError: this.init.onError
    })
    const kept = { replication, handler: init.rules(replication) }
    this.namespaces.set(name, kept)
    return kept
  }

  /** The record messages of a namespace, to other nodes (and to this one, answered here) */
  namespaceRpc (name: NamespaceName): RecordRpc & DeletionRpc {
    return this.rpc.namespace(name)
  }

  /** What answers other nodes' record messages in a namespace; undefined when this node keeps none */
  handlerOf (name: NamespaceName): NamespaceHandler | undefined {
    return this.namespaces.get(name)?.handler
  }

  /** Join the ring through `entry` (which must answer) */
  async join (entry: NodeRef, options?: RpcOptions): Promise<void> {
    await this.ring.join(entry, options)
  }

  /** Start the maintenance loops; a ring member also starts replication and rehoming */
  start (): void {
    this.ring.start()
    if (!this.ring.clientMode) {
      for (const { replication } of this.namespaces.values()) {
        replication.start()
      }
    }
    this.rehoming?.start()
  }

  /** Stop every loop (`leave` first, for a graceful exit) */
  stop (): void {
    this.rehoming?.stop()
    this.ring.stop()
    for (const { replication } of this.namespaces.values()) {
      replication.stop()
    }
  }

  /**
   * Leave gracefully: every namespace hands what it holds to the successor, each within its own
   * `handoffTimeoutMs` (so a slow handoff of one cannot starve another's), then the neighbours are
   * told, so they close the ring at once
   */
  async leave (handoffTimeoutMs: number): Promise<void> {
    if (this.ring.clientMode) {
      return
    }
    for (const { replication } of this.namespaces.values()) {
      await replication.handoffOnLeave({ signal: AbortSignal.timeout(handoffTimeoutMs) }).catch(this.onError)
    }
    await this.ring.leave()
  }

  private neighboursChanged (): void {
    for (const { replication } of this.namespaces.values()) {
      replication.neighboursChanged().catch(this.onError)
    }
    this.rehoming?.wake()
  }
}
