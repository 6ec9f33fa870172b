/**
 * One ring member's core, composed in dependency order: the ring (routing state, lookups and the
 * maintenance loops), then the replication of each record namespace and its rehoming. It is
 * transport-agnostic: the libp2p service and the simulator build their nodes with it alike, each
 * handing it its own `RingRpc`, and each answering other nodes through `handlerOf`.
 *
 * Plain records are the `records` namespace, built in; a feature that keeps records of its own
 * (the mailbox) adds its namespace before the node starts, and from then on its replication and
 * rehoming are started, stopped, told of neighbour changes and handed off on leave with the others.
 */
import { NotStartedError } from '../errors.js'
import { Rehoming } from './rehoming.js'
import { ReplicaRange } from './replica-range.js'
import { Replication } from './replication.js'
import { ChordRing } from './ring.js'
import { SelfShortcut } from './self-shortcut.js'
import type { RecordStore, ChordRecord } from './record.js'
import type { Admission, AntiEntropyRound } from './replication.js'
import type { PositionRules } from './position-rules.js'
import type { JoinOptions, LookupOutcome, RingDiversity, RingTimers } from './ring.js'
import type { RingId } from './id.js'
import type { ChordRpcHandler, DeletionRpc, NamespaceHandler, NamespaceName, NodeRef, RecordRpc, RingRpc, SignedDeletion } from './rpc.js'
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
  /** a client asks a ring node to run its lookups; default DEFAULT_DELEGATE_LOOKUPS */
  delegateLookups?: boolean
  /** confirm the owner each lookup is told; default DEFAULT_VERIFY_LOOKUPS */
  verifyLookups?: boolean
  /** try each verified lookup as a recursive one first (see recursive-lookup.ts); default DEFAULT_RECURSIVE_LOOKUPS */
  recursiveLookups?: boolean
  /** the network's rules for ring positions; default: every node is admitted */
  positions?: PositionRules
  /** the subnet cap of the routing state; default: none */
  diversity?: RingDiversity
  /** ms, the estimated round trip to a peer, if known: fingers prefer near nodes; default: none known */
  roundTripOf?(peer: string): number | undefined
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
  admit?(records: ChordRecord[]): Promise<ChordRecord[] | Admission>
  /** of records just written, those the namespace still takes (see Replication) */
  readmit?(records: ChordRecord[]): ChordRecord[]
  /** write one batch at a time, so that `admit` sees what the store will hold (see Replication) */
  serializeWrites?: boolean
  /** records per STORE this namespace sends */
  maxRecordsPerStore?: number
  /** told about records stored here for the first time */
  onRecordsAdded?(records: ChordRecord[]): void
  /** owner-signed deletions of a range, handed on with its repairs (see Replication) */
  deletionsIn?(from: RingId, until: RingId): SignedDeletion[]
  /** checks and applies owner-signed deletions a node answered our STORE with (see Replication) */
  takeDeletions?(deletions: SignedDeletion[]): Promise<void>
  /** told how many expired records each sweep removed */
  onSwept?(count: number): void
  /** the namespace's rules for other nodes' requests, around its replication */
  rules(replication: Replication): Handler
}

/** A namespace the node keeps: its replication, and the rules it answers other nodes by */
export interface KeptNamespace<Handler extends NamespaceHandler = NamespaceHandler> {
  replication: Replication
  handler: Handler
}

/** What the node runs for each namespace it keeps */
interface NamespaceParts extends KeptNamespace {
  /** none on a client, which keeps no records */
  rehoming?: Rehoming
}

export class RingNode {
  readonly ring: ChordRing
  /** which keys this node takes a STORE for, and who its ring neighbours are */
  readonly replicaRange: ReplicaRange
  /** replication of plain records */
  readonly records: Replication
  private readonly init: RingNodeInit
  /** the transport, with calls to this node answered here */
  private readonly rpc: RingRpc
  private readonly namespaces = new Map<NamespaceName, NamespaceParts>()
  private readonly onError: (err: unknown) => void
  /** set once a graceful leave began: records handed away must not be taken back */
  private departing = false

  constructor (init: RingNodeInit) {
    this.init = init
    this.onError = init.onError ?? (() => {})
    this.rpc = new SelfShortcut(init.rpc, this)
    this.ring = new ChordRing({
      self: init.self,
      rpc: this.rpc,
      replicas: init.replicas,
      clientMode: init.clientMode,
      delegateLookups: init.delegateLookups,
      verifyLookups: init.verifyLookups,
      recursiveLookups: init.recursiveLookups,
      positions: init.positions,
      diversity: init.diversity,
      roundTripOf: init.roundTripOf,
      ...init.timers,
      onNeighboursChanged: () => { this.neighboursChanged() },
      onLookup: init.onLookup,
      onError: init.onError
    })
    this.replicaRange = new ReplicaRange({
      ring: this.ring,
      rpc: this.rpc,
      intervalMs: init.timers?.antiEntropyIntervalMs,
      onError: init.onError
    })
    // plain records take whatever the store's quotas allow
    this.records = this.addNamespace('records', { store: init.store, rules: replication => replication }, init.onAntiEntropyRound).replication
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
      namespace: name,
      rpc: this.rpc.namespace(name),
      store: init.store,
      range: this.replicaRange,
      ttl: this.init.ttl,
      admit: init.admit,
      readmit: init.readmit,
      serializeWrites: init.serializeWrites,
      maxRecordsPerStore: init.maxRecordsPerStore,
      onRecordsAdded: init.onRecordsAdded,
      deletionsIn: init.deletionsIn,
      takeDeletions: init.takeDeletions,
      onSwept: init.onSwept,
      antiEntropyIntervalMs: this.init.timers?.antiEntropyIntervalMs,
      antiEntropyMaxIntervalMs: this.init.timers?.antiEntropyMaxIntervalMs,
      sweepIntervalMs: this.init.timers?.sweepIntervalMs,
      onAntiEntropyRound,
      onError: this.init.onError
    })
    const handler = init.rules(replication)
    const rehoming = this.ring.clientMode
      ? undefined
      : new Rehoming({
        ring: this.ring,
        range: this.replicaRange,
        replication,
        store: init.store,
        intervalMs: this.init.timers?.antiEntropyIntervalMs,
        maxIntervalMs: this.init.timers?.antiEntropyMaxIntervalMs,
        onError: this.init.onError
      })
    this.namespaces.set(name, { replication, handler: this.served(handler), rehoming })
    return { replication, handler }
  }

  /** One rehoming round of every namespace; resolves to how many records moved away (for tests and tools) */
  async rehome (): Promise<number> {
    let moved = 0
    for (const { rehoming } of this.namespaces.values()) {
      moved += await rehoming?.rehome() ?? 0
    }
    return moved
  }

  /** The record messages of a namespace, to other nodes (and to this one, answered here) */
  namespaceRpc (name: NamespaceName): RecordRpc & DeletionRpc {
    return this.rpc.namespace(name)
  }

  /** What answers other nodes' record messages in a namespace; undefined when this node keeps none */
  handlerOf (name: NamespaceName): NamespaceHandler | undefined {
    return this.namespaces.get(name)?.handler
  }

  /** Join the ring through `entry` (which must answer), first choosing among `options.candidates` if given */
  async join (entry: NodeRef, options?: JoinOptions): Promise<void> {
    await this.ring.join(entry, options)
  }

  /** Start the maintenance loops; a ring member also starts replication and rehoming */
  start (): void {
    // a node started again after a graceful leave takes records once more
    this.departing = false
    this.ring.start()
    if (!this.ring.clientMode) {
      this.replicaRange.start()
      for (const { replication, rehoming } of this.namespaces.values()) {
        replication.start()
        rehoming?.start()
      }
    }
  }

  /** Stop every loop (`leave` first, for a graceful exit) */
  stop (): void {
    this.replicaRange.stop()
    this.ring.stop()
    for (const { replication, rehoming } of this.namespaces.values()) {
      rehoming?.stop()
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
    this.departing = true
    for (const { replication } of this.namespaces.values()) {
      await replication.handoffOnLeave({ signal: AbortSignal.timeout(handoffTimeoutMs) }).catch(this.onError)
    }
    await this.ring.leave()
  }

  /**
   * A leaving node takes no records: what it hands its successor must stay there. Until its
   * neighbours hear that it leaves, the ring still names it as the owner of its range, and a
   * repair (rehoming, anti-entropy) on the successor would send those records straight back to a
   * node about to be gone. Each STORE's answer names our predecessor (see StoreAck).
   */
  private served (handler: NamespaceHandler): NamespaceHandler {
    return {
      onStoreRecords: async (from, records, deletions, options) => {
        if (this.departing) {
          throw new NotStartedError('this node is leaving the ring: it takes no records')
        }
        const receipt = await handler.onStoreRecords(from, records, deletions, options)
        // where our range begins, so that a writer that skipped the lookup learns whether the key is still ours
        const predecessor = this.ring.table.predecessor
        return receipt == null || predecessor == null ? receipt : { ...receipt, predecessor: predecessor.id }
      },
      onFetchRecords: async (from, key) => handler.onFetchRecords(from, key),
      onRangeDigest: async (from, start, until, options) => handler.onRangeDigest(from, start, until, options),
      onRangeSummaries: async (from, start, until, options) => handler.onRangeSummaries(from, start, until, options),
      onDeleteRecords: handler.onDeleteRecords == null ? undefined : async (from, deletion) => handler.onDeleteRecords?.(from, deletion)
    }
  }

  private neighboursChanged (): void {
    this.replicaRange.refreshSoon()
    for (const { replication } of this.namespaces.values()) {
      replication.neighboursChanged().catch(this.onError)
    }
    for (const { rehoming } of this.namespaces.values()) {
      rehoming?.wake()
    }
  }
}
