/**
 * ChordNode: a libp2p node, its place on the ring, its record store and replication, wired
 * together. Thin on purpose: each part lives in its own module and is tested there.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { Rehoming } from './chord/rehoming.js'
import { Replication } from './chord/replication.js'
import { ChordRing } from './chord/ring.js'
import { ringIdFromBytes, ringIdToHex, sha256 } from './chord/id.js'
import { InvalidOptionsError, NotJoinedError, NotStartedError } from './errors.js'
import { HealthCheck } from './observability/health.js'
import { createNodeMetrics } from './observability/metrics.js'
import { exportDatabase } from './storage/backup.js'
import { openNodeDatabase } from './storage/database.js'
import { openLevelStore } from './storage/level-store.js'
import { loadOrCreatePrivateKey } from './storage/node-identity.js'
import { openPeerCache } from './storage/peer-cache.js'
import { createRecord } from './storage/store.js'
import { DEFAULT_TTL_POLICY, expiresAtFor } from './storage/ttl.js'
import { JOIN_ATTEMPT_TIMEOUT, JOIN_TIMEOUT, addressesOfOthers, joinRing, parseBootstrapAddresses } from './transport/bootstrap.js'
import { ChordService } from './transport/chord-service.js'
import { MailboxService } from './transport/mailbox-service.js'
import { createChordLibp2p } from './transport/libp2p.js'
import { PartitionHealer } from './transport/partition-healer.js'
import { PeerCacheKeeper } from './transport/peer-cache-keeper.js'
import { DEFAULT_CLIENT_MODE } from './transport/platform-defaults.js'
import { ringIdOf } from './transport/ring-id.js'
import type { RingTimers } from './chord/ring.js'
import type { NodeRef } from './chord/rpc.js'
import type { HealthReport } from './observability/health.js'
import type { NodeMetrics } from './observability/metrics.js'
import type { NodeDatabase } from './storage/database.js'
import type { RecordStore, StoreLimits } from './storage/store.js'
import type { TtlPolicy } from './storage/ttl.js'
import type { JoinInit, JoinProgressEvent } from './transport/bootstrap.js'
import type { ChordLibp2p, ChordLibp2pOptions } from './transport/libp2p.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Mailbox } from './mailbox/mailbox.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/** ms a graceful stop may spend handing each store (records, envelopes) to the successor before it leaves anyway */
const HANDOFF_ON_STOP_TIMEOUT = 10_000

export interface ChordNodeTimers extends RingTimers {
  antiEntropyIntervalMs?: number
  sweepIntervalMs?: number
  /** ms between checks that a mailbox subscription is with the node responsible for it */
  subscriptionCheckIntervalMs?: number
  /** mean ms between two partition-healing rounds */
  healIntervalMs?: number
  /** ms between two saves of the peer cache */
  peerCacheSaveIntervalMs?: number
}

/**
 * - `joining`: still trying to reach the ring (only with `joinInBackground`); reads and writes
 *   throw `NotJoinedError`
 * - `joined`: part of a ring with other nodes
 * - `alone`: a ring of one: started without anyone to join, or every other node is gone
 * - `stopped`
 */
export type NodeStatus = 'joining' | 'joined' | 'alone' | 'stopped'

export interface ChordNodeOptions {
  /** multiaddrs to listen on; Node default: 0.0.0.0 TCP and WebSockets; browser default: none */
  listen?: string[]
  /**
   * ring nodes to join through (`/dnsaddr/…` too); none: start a new ring, unless peers cached
   * from an earlier run answer
   */
  bootstrap?: string[]
  /**
   * ms to keep trying the bootstrap addresses and cached peers before `createChordNode` rejects
   * with `BootstrapFailedError`; default JOIN_TIMEOUT
   */
  joinTimeoutMs?: number
  /** ms for one attempt to join through one peer (dial, lookup, stabilize); default JOIN_ATTEMPT_TIMEOUT */
  joinAttemptTimeoutMs?: number
  /**
   * resolve at once and keep trying to join in the background, for as long as it takes, instead
   * of rejecting after `joinTimeoutMs`; `status` says 'joining' until then
   */
  joinInBackground?: boolean
  /** LevelDB directory for identity and records; omitted: in memory, nothing persists */
  dataDir?: string
  /** replication factor r */
  replicas?: number
  /**
   * use the ring without holding a position in it (needs `bootstrap`); default: false on Node,
   * true in a browser, which cannot accept connections
   */
  clientMode?: boolean
  /** the node's libp2p identity; default: the one kept in `dataDir`, or a new one */
  privateKey?: PrivateKey
  /** record lifetimes: the default for puts without a TTL, and the cap on what any peer may ask for */
  ttl?: Partial<TtlPolicy>
  /** storage quotas */
  storeLimits?: Partial<StoreLimits>
  /** maintenance intervals (tests and simulations shorten them) */
  timers?: ChordNodeTimers
  /** lower-level libp2p settings: extra transports, connection gater, DNS resolver */
  libp2p?: Pick<ChordLibp2pOptions, 'transports' | 'connectionGater' | 'dns'>
  /** ms allowed for each request to another node */
  requestTimeoutMs?: number
  /** told about each join attempt as it happens, e.g. to print `trying <addr> (2/5)…` */
  onJoinProgress?(event: JoinProgressEvent): void
}

export interface PutOptions {
  /** how long the record lives, ms; capped by the node's maximum */
  ttlMs?: number
  signal?: AbortSignal
}

export interface PutResult {
  /** replicas that acknowledged the write (durably stored), the primary included */
  replicas: number
}

export interface LookupAnswer {
  peerId: PeerId
  /** hex ring position of the responsible node */
  ringId: string
  hops: number
}

export interface ChordNodeComponents {
  libp2p: ChordLibp2p
  database: NodeDatabase
  store: RecordStore
  ring: ChordRing
  service: ChordService
  replication: Replication
  metrics: NodeMetrics
  mailboxService: MailboxService
  ttl: TtlPolicy
  peerCache: PeerCacheKeeper
  /** ring members only: client-mode nodes hold no position and no records */
  healer?: PartitionHealer
  rehoming?: Rehoming
}

/** How a node finds its ring: whom to try, for how long, and whether failing is fatal */
export interface JoinPlan extends Omit<JoinInit, 'join' | 'signal' | 'log'> {
  /** reject when no candidate answers (bootstrap addresses given); otherwise start alone */
  required: boolean
}

export class ChordNode {
  readonly libp2p: ChordLibp2p
  readonly ring: ChordRing
  readonly store: RecordStore
  private readonly database: NodeDatabase
  private readonly service: ChordService
  private readonly replication: Replication
  private readonly mailboxService: MailboxService
  private readonly ttl: TtlPolicy
  private readonly nodeMetrics: NodeMetrics
  private readonly healthCheck: HealthCheck
  private readonly peerCache: PeerCacheKeeper
  private readonly healer?: PartitionHealer
  private readonly rehoming?: Rehoming
  private running = true
  /** set while joining; aborting it ends the join */
  private joining?: AbortController

  constructor (components: ChordNodeComponents) {
    this.libp2p = components.libp2p
    this.database = components.database
    this.store = components.store
    this.ring = components.ring
    this.service = components.service
    this.replication = components.replication
    this.mailboxService = components.mailboxService
    this.ttl = components.ttl
    this.nodeMetrics = components.metrics
    this.healthCheck = new HealthCheck({ libp2p: this.libp2p, ring: this.ring, rpc: this.service, store: this.store, status: () => this.status })
    this.peerCache = components.peerCache
    this.healer = components.healer
    this.rehoming = components.rehoming
  }

  get status (): NodeStatus {
    if (!this.running) {
      return 'stopped'
    }
    if (this.joining != null) {
      return 'joining'
    }
    return this.ring.table.getSuccessors().length > 0 ? 'joined' : 'alone'
  }

  get peerId (): PeerId {
    return this.libp2p.peerId
  }

  /** The end-to-end encrypted mailbox: send, subscribe, ack */
  get mailbox (): Mailbox {
    return this.mailboxService.mailbox
  }

  /** The envelopes this node holds for others (ciphertext): for operators and tests to inspect */
  get mailboxStore (): RecordStore {
    return this.mailboxService.store
  }

  /** hex string of this node's 256-bit ring position */
  get ringId (): string {
    return ringIdToHex(this.ring.self.id)
  }

  /** Where this node can be dialled, each address once (libp2p may list one twice, e.g. as listened-on and observed) */
  getMultiaddrs (): Multiaddr[] {
    const unique = new Map(this.libp2p.getMultiaddrs().map(addr => [addr.toString(), addr]))
    return [...unique.values()]
  }

  /** This node's metrics in the Prometheus text format (empty in a browser) */
  async metrics (): Promise<string> {
    return this.nodeMetrics.expose()
  }

  /** A deep health check: whether the node still does its part of the ring, check by check */
  async health (): Promise<HealthReport> {
    return this.healthCheck.check()
  }

  /** Store `value` under `key` on the key's replica set; resolves once durably written there */
  async put (key: string | Uint8Array, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.assertMember()
    const expiresAt = expiresAtFor(options.ttlMs, Date.now(), this.ttl)
    const record = createRecord(keyPosition(key), value, expiresAt)
    return this.nodeMetrics.observePut(async () => this.replication.put([record], { signal: options.signal }))
  }

  /** Every live value stored under `key` (a set: each value once) */
  async get (key: string | Uint8Array, options: { signal?: AbortSignal } = {}): Promise<Uint8Array[]> {
    this.assertMember()
    const records = await this.nodeMetrics.observeGet(async () => this.replication.get(keyPosition(key), options))
    return records.map(r => r.value)
  }

  /** The node responsible for `key` */
  async lookup (key: string | Uint8Array, options: { signal?: AbortSignal } = {}): Promise<LookupAnswer> {
    this.assertMember()
    const { successors, hops } = await this.ring.lookup(ringIdFromBytes(keyPosition(key)), options)
    const owner = successors[0]
    return { peerId: peerIdFromString(owner.peer), ringId: ringIdToHex(owner.id), hops }
  }

  /**
   * Join the ring as the plan says (no plan: start a new ring), then start maintenance.
   * `createChordNode` calls this once.
   *
   * @throws BootstrapFailedError when the plan requires a ring and none answered in time
   */
  async start (plan?: JoinPlan): Promise<void> {
    if (plan != null) {
      const joining = new AbortController()
      this.joining = joining
      const log = this.libp2p.logger.forComponent('libp2p-chord:join')
      try {
        await joinRing(this.libp2p, { ...plan, signal: joining.signal, log, join: async (entry, options) => this.ring.join(entry, options) })
      } catch (err) {
        if (plan.required || joining.signal.aborted) {
          throw err
        }
        log('no cached peer answered; starting a new ring - %e', err)
      } finally {
        this.joining = undefined
      }
    }
    if (!this.running) {
      return
    }
    this.ring.start()
    this.replication.start()
    await this.mailboxService.start(!this.ring.clientMode)
    this.rehoming?.start()
    this.healer?.start()
    this.peerCache.start()
  }

  /** Leave gracefully: hand records to the successor, tell the neighbours, then shut down */
  async stop (): Promise<void> {
    if (!this.running) {
      return
    }
    this.running = false
    this.joining?.abort(new NotStartedError('the node was stopped while joining'))
    this.healer?.stop()
    this.rehoming?.stop()
    this.ring.stop()
    this.replication.stop()
    // while the peer store still holds the neighbours' addresses
    await this.peerCache.stop().catch(() => {})
    if (!this.ring.clientMode) {
      // each store gets its own budget, so a slow record handoff cannot starve the envelopes'
      await this.replication.handoffOnLeave({ signal: AbortSignal.timeout(HANDOFF_ON_STOP_TIMEOUT) }).catch(() => {})
      await this.mailboxService.handoffOnLeave({ signal: AbortSignal.timeout(HANDOFF_ON_STOP_TIMEOUT) }).catch(() => {})
      await this.ring.leave()
    }
    await this.mailboxService.stop()
    await this.service.stop()
    await this.libp2p.stop()
    await this.store.close()
    await this.database.close()
  }

  /**
   * A consistent snapshot of everything this node keeps (identity, records, envelopes, peer
   * cache), as the lines of a backup (`storage/backup.ts`), taken at the first read while the
   * node goes on working. Restore it into an empty database with `importDatabase`.
   */
  backup (options: { signal?: AbortSignal } = {}): AsyncGenerator<string> {
    return exportDatabase(this.database, options)
  }

  /** Reads and writes go to the ring: never to a node that is still looking for it */
  private assertMember (): void {
    if (!this.running) {
      throw new NotStartedError('the node has been stopped')
    }
    if (this.joining != null) {
      throw new NotJoinedError('the node has not joined the ring yet')
    }
  }
}

/** Start a node and join the ring (or start a new one when no bootstrap address is given) */
export async function createChordNode (options: ChordNodeOptions = {}): Promise<ChordNode> {
  const bootstrap = options.bootstrap ?? []
  const bootstrapAddresses = parseBootstrapAddresses(bootstrap)
  const joinTimeout = positiveMs('joinTimeoutMs', options.joinTimeoutMs ?? JOIN_TIMEOUT)
  const attemptTimeout = positiveMs('joinAttemptTimeoutMs', options.joinAttemptTimeoutMs ?? JOIN_ATTEMPT_TIMEOUT)
  const clientMode = options.clientMode ?? DEFAULT_CLIENT_MODE
  if (clientMode && bootstrap.length === 0) {
    throw new InvalidOptionsError('a client-mode node uses a ring but cannot start one: give it bootstrap addresses')
  }
  const ttl = resolveTtl(options.ttl)
  const database = await openNodeDatabase(options.dataDir)
  let node: ChordNode | undefined
  let libp2p: ChordLibp2p | undefined
  try {
    const privateKey = options.privateKey ?? await loadOrCreatePrivateKey(database)
    const store = await openLevelStore({ database, limits: options.storeLimits })
    // a client holds no ring position, so it has no ring peers of its own to offer in peer exchange
    libp2p = await createChordLibp2p({ ...options.libp2p, privateKey, listen: options.listen, peerExchange: !clientMode })
    const self: NodeRef = { id: ringIdOf(libp2p.peerId), peer: libp2p.peerId.toString() }
    const log = libp2p.logger.forComponent('libp2p-chord:node')

    // the ring and the service refer to each other: the service answers through the ring, the
    // ring calls out through the service
    let ring: ChordRing | undefined
    let replication: Replication | undefined
    let metrics: NodeMetrics | undefined
    let mailboxService: MailboxService | undefined
    const service = new ChordService(libp2p, {
      handler: {
        onGetNeighbours: from => started(ring).onGetNeighbours(from),
        onNotify: from => { started(ring).onNotify(from) },
        onFindSuccessor: (from, id) => started(ring).onFindSuccessor(from, id),
        onLeaving: (from, neighbours) => { started(ring).onLeaving(from, neighbours) },
        onStoreRecords: async (from, records) => started(replication).onStoreRecords(from, records),
        onFetchRecords: async (from, key) => started(replication).onFetchRecords(from, key),
        onRangeDigest: async (from, start, until) => started(replication).onRangeDigest(from, start, until),
        onRangeSummaries: async (from, start, until) => started(replication).onRangeSummaries(from, start, until)
      },
      mailbox: lateBound(() => mailboxService?.records),
      requestTimeout: options.requestTimeoutMs,
      onRequestSent: request => { metrics?.requestSent(request) },
      onRequestServed: request => { metrics?.requestServed(request) }
    })
    const onError = (err: unknown): void => { log.error('maintenance failed - %e', err) }
    ring = new ChordRing({
      self,
      rpc: service,
      replicas: options.replicas,
      clientMode,
      ...options.timers,
      onNeighboursChanged: () => {
        replication?.neighboursChanged().catch(onError)
        mailboxService?.neighboursChanged().catch(onError)
      },
      onLookup: outcome => { metrics?.lookupFinished(outcome) },
      onError
    })
    metrics = createNodeMetrics({ ring, store, libp2p })
    replication = new Replication({
      ring,
      rpc: service,
      store,
      ttl,
      antiEntropyIntervalMs: options.timers?.antiEntropyIntervalMs,
      sweepIntervalMs: options.timers?.sweepIntervalMs,
      onAntiEntropyRound: round => { metrics?.antiEntropyRound(round) },
      onError
    })
    mailboxService = await MailboxService.create(libp2p, {
      database,
      ring,
      rpc: service.mailboxRpc(),
      ttl,
      storeLimits: options.storeLimits,
      antiEntropyIntervalMs: options.timers?.antiEntropyIntervalMs,
      sweepIntervalMs: options.timers?.sweepIntervalMs,
      subscriptionCheckIntervalMs: options.timers?.subscriptionCheckIntervalMs,
      onError
    })
    await service.start()

    const member = ring
    const peerCache = new PeerCacheKeeper(libp2p, {
      cache: await openPeerCache(database),
      ringNodes: () => member.table.knownNodes(),
      intervalMs: options.timers?.peerCacheSaveIntervalMs
    })
    await peerCache.restoreAddresses()
    const entries = addressesOfOthers(bootstrapAddresses, libp2p.peerId)
    node = new ChordNode({
      libp2p,
      database,
      store,
      ring,
      service,
      replication,
      metrics,
      mailboxService,
      ttl,
      peerCache,
      healer: clientMode
        ? undefined
        : new PartitionHealer(libp2p, {
          ring,
          bootstrap: entries,
          cachedPeers: () => peerCache.cachedPeers(),
          intervalMs: options.timers?.healIntervalMs,
          attemptTimeout
        }),
      rehoming: clientMode
        ? undefined
        : new Rehoming({ ring, rpc: service, replication, store, intervalMs: options.timers?.antiEntropyIntervalMs, onError })
    })

    const plan = joinPlan(entries, peerCache.cachedPeers(), {
      timeout: options.joinInBackground === true ? Infinity : joinTimeout,
      attemptTimeout,
      onProgress: options.onJoinProgress
    })
    if (options.joinInBackground === true) {
      const started = node
      node.start(plan).catch(err => { if (started.status !== 'stopped') log.error('joining failed - %e', err) })
    } else {
      await node.start(plan)
    }
    return node
  } catch (err) {
    // whatever was built is taken down again: a failed start leaves nothing listening or open
    if (node != null) {
      await node.stop().catch(() => {})
    } else {
      await Promise.resolve(libp2p?.stop()).catch(() => {})
      await database.close().catch(() => {})
    }
    throw err
  }
}

/**
 * With bootstrap addresses, joining is required: they are tried first, then the cached peers.
 * Without, a node that knows peers from an earlier run tries them once, and otherwise starts a
 * new ring; a node that knows nobody starts one at once.
 */
function joinPlan (bootstrap: Multiaddr[], cachedPeers: PeerId[], limits: Pick<JoinPlan, 'timeout' | 'attemptTimeout' | 'onProgress'>): JoinPlan | undefined {
  if (bootstrap.length > 0) {
    return { bootstrap, cachedPeers, required: true, ...limits }
  }
  if (cachedPeers.length > 0) {
    return { bootstrap, cachedPeers, required: false, rounds: 1, ...limits }
  }
  return undefined
}

function positiveMs (name: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new InvalidOptionsError(`${name} must be a positive integer number of ms`)
  }
  return value
}

/**
 * Stands in for an object that exists only once the node is built: every method call is passed
 * to it then (and throws NotStartedError before)
 */
function lateBound<T extends object> (target: () => T | undefined): T {
  return new Proxy({} as T, {
    get: (_empty, name) => {
      const object = started(target()) as Record<string | symbol, unknown>
      const value = object[name]
      return typeof value === 'function' ? value.bind(object) : value
    }
  })
}

function started<T> (part: T | undefined): T {
  if (part == null) {
    throw new NotStartedError('the node is still starting')
  }
  return part
}

function resolveTtl (given: Partial<TtlPolicy> = {}): TtlPolicy {
  const ttl = { ...DEFAULT_TTL_POLICY, ...given }
  for (const [name, value] of Object.entries(ttl)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidOptionsError(`ttl.${name} must be a positive integer number of ms`)
    }
  }
  if (ttl.defaultTtl > ttl.maxTtl) {
    throw new InvalidOptionsError('ttl.defaultTtl must not exceed ttl.maxTtl')
  }
  return ttl
}

/** The ring position of a user key: sha256 of its bytes (strings as UTF-8) */
export function keyPosition (key: string | Uint8Array): Uint8Array {
  const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key
  return sha256(bytes)
}
