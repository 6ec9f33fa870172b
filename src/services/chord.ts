/**
 * The ring as a libp2p service: `chord(init)` goes into an application's own libp2p `services`,
 * as `kadDHT()` does, and the node takes a position on a Chord ring (or uses one, as a client).
 *
 * Parts are built in dependency order when libp2p builds the service: the outbound RPC client,
 * then the ring core with its replication (`RingNode`), then the inbound request server that
 * answers through the core; then what runs beside them (join, partition healing, the peer cache,
 * metrics, health). Nothing is bound late. libp2p then drives the life cycle:
 *
 *   beforeStart  open the database and the stores (where a locked or unwritable dataDir shows)
 *   start        register /chord/1.0.0
 *   afterStart   join the ring in the background; `joined()` tells how it went
 *   beforeStop   leave gracefully, while connections are still open: every namespace hands its
 *                records to the successor, then the neighbours are told
 *   stop         stop answering
 *   afterStop    close the database, once every service that keeps records in it has stopped
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { MAX_VALUE_SIZE } from '../storage/constants.js'
import { keyPosition, ringIdFromBytes, ringIdToHex } from '../chord/id.js'
import { createRecord } from '../chord/record.js'
import { PositionRules } from '../chord/position-rules.js'
import { RingNode } from '../chord/ring-node.js'
import { candidatePositions } from '../chord/ring-position.js'
import { estimateRingSize } from '../chord/ring-size.js'
import { expiresAtFor } from '../chord/ttl.js'
import { NotJoinedError, NotStartedError, TooLargeError } from '../errors.js'
import { plainBytes } from '../plain-bytes.js'
import { addressesOfOthers, joinPlan, joinRing } from '../membership/join.js'
import { PartitionHealer } from '../membership/partition-healer.js'
import { PeerCacheKeeper } from '../membership/peer-cache-keeper.js'
import { RingPeerTags } from '../membership/ring-peer-tags.js'
import { HealthCheck } from '../observability/health.js'
import { DeferredNodeMetrics } from '../observability/deferred-metrics.js'
import { RefusedRequestTally } from '../observability/refused-requests.js'
import { exportDatabase } from '../storage/backup.js'
import { SUBLEVELS, createNodeDatabase, openDatabase } from '../storage/database.js'
import { OwnedRecords } from '../owned/owned-records.js'
import { OwnedAdmission } from '../owned/rules.js'
import { MAX_OWNED_RECORDS_PER_STORE } from '../owned/constants.js'
import { LevelRecordStore } from '../storage/level-store.js'
import { PeerCache } from '../storage/peer-cache.js'
import { loadOrMintPositionNonce, loadPositionChoice, savePositionChoice } from '../storage/position-nonce.js'
import { RequestLimiter } from '../transport/request-limits.js'
import { RequestServer } from '../transport/request-server.js'
import { positionIdentityOf, ringIdOf } from '../transport/ring-id.js'
import { RpcClient } from '../transport/rpc-client.js'
import { RoundTripTimes } from '../chord/round-trip-times.js'
import { WirePeers } from '../transport/wire-peers.js'
import { resolveChordInit } from './chord-init.js'
import { nodeView, peerExchangeOf } from './components.js'
import { CHORD_CAPABILITY, chordInternals } from './internals.js'
import type { ChordInit, ChordSettings } from './chord-init.js'
import type { ChordComponents, NodeView } from './components.js'
import type { ChordInternals } from './internals.js'
import type { NodeRef } from '../chord/rpc.js'
import type { NodeStatus, JoinPlan } from '../membership/join.js'
import type { HealthReport } from '../observability/health.js'
import type { RefusedRequests } from '../observability/refused-requests.js'
import type { NodeDatabase } from '../storage/database.js'
import type { Identity } from '../mailbox/identity.js'
import type { PublicKey } from '../mailbox/public-key.js'
import type { PublishOptions, PublishResult, ResolvedRecord } from '../owned/owned-records.js'
import type { AbortOptions, Connection, Logger, Peer, PeerId, PeerUpdate, Startable } from '@libp2p/interface'

/** ms a graceful stop may spend handing each namespace's records to the successor before it leaves anyway */
export const HANDOFF_ON_STOP_TIMEOUT = 10_000

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
  /** nodes that answered on the lookup's route (0 when this node's own successor list named the owner); for a recursive answer, the nodes the request went through, the owner included */
  hops: number
  /** nodes that answered to confirm the owner (one when nobody lied; 0 for an answer from this node's own table or its owner cache, or a recursive one) */
  checks: number
  /** true when the answer came from the owner cache (asked with `useOwnerCache`): no node was asked, hops 0 */
  cached?: true
  /** true when the owner answered through the ring (a recursive lookup, its statement signed for this node) */
  recursive?: true
}

export interface LookupOptions {
  signal?: AbortSignal
  /**
   * answer from the owners this node's verified lookups found in the last OWNER_CACHE_TTL, when
   * one covers the key (no request at all), else look the key up. Default false: the answer is
   * the ring's as it is now. An answer from the cache may be up to OWNER_CACHE_TTL old: a node that
   * joined or failed since is not known to it
   */
  useOwnerCache?: boolean
}

export class ChordService implements Startable {
  readonly [Symbol.toStringTag] = 'libp2p-chord:chord'
  readonly [serviceCapabilities]: string[] = [CHORD_CAPABILITY]
  // identify tells us which peers speak /chord/1.0.0 and where they listen
  readonly [serviceDependencies]: string[] = ['@libp2p/identify']

  private readonly settings: ChordSettings
  private readonly components: ChordComponents
  private readonly view: NodeView
  private readonly log: Logger
  private readonly database: NodeDatabase
  private readonly store: LevelRecordStore
  /** owned records, apart from plain ones */
  private readonly ownedStore: LevelRecordStore
  private readonly owned: OwnedRecords
  private readonly peerCache: PeerCache
  private readonly metricsSink = new DeferredNodeMetrics()
  private readonly refused = new RefusedRequestTally()
  private readonly rpc: RpcClient
  /** round trips to other nodes, from our own requests: fingers prefer near nodes */
  private readonly roundTrips = new RoundTripTimes()
  private readonly wirePeers: WirePeers
  private readonly core: RingNode
  private readonly server: RequestServer
  /** every remote peer's budgets, shared by the protocols of the node */
  private readonly limiter: RequestLimiter
  private readonly peerCacheKeeper: PeerCacheKeeper
  private readonly ringPeerTags: RingPeerTags
  private readonly healer: PartitionHealer
  private readonly healthCheck: HealthCheck
  /** how this start's join went; a node started again gets a new one */
  private joinedOutcome: PromiseWithResolvers<void>
  private stoppedOnce = false
  private running = false
  /** set while joining; aborting it ends the join */
  private joining?: AbortController
  /** the positions this node may choose among at its first join; none once it has chosen */
  private positionCandidates?: NodeRef[]

  constructor (components: ChordComponents, settings: ChordSettings) {
    this.settings = settings
    this.components = components
    this.view = nodeView(components)
    this.log = components.logger.forComponent('libp2p-chord:chord')
    const self: NodeRef = { id: ringIdOf(components.peerId), peer: components.peerId.toString() }
    const onError = (err: unknown): void => { this.log.error('maintenance failed - %e', err) }

    this.database = createNodeDatabase(settings.dataDir)
    this.store = new LevelRecordStore(this.database, { limits: settings.storeLimits })
    this.ownedStore = new LevelRecordStore(this.database.sublevel(SUBLEVELS.owned) as unknown as NodeDatabase, { limits: settings.storeLimits })
    this.peerCache = new PeerCache(this.database)

    this.wirePeers = new WirePeers(this.view, {
      inUse: peer => this.core.ring.table.knownNodes().some(node => node.peer === peer)
    })
    this.rpc = new RpcClient(this.view, {
      wirePeers: this.wirePeers,
      requestTimeout: settings.requestTimeoutMs,
      privateKey: components.privateKey,
      onRequestSent: request => { this.metricsSink.requestSent(request) },
      onRoundTrip: (peer, ms) => { this.roundTrips.observe(peer, ms) }
    })
    this.core = new RingNode({
      self,
      rpc: this.rpc,
      store: this.store,
      ttl: settings.ttl,
      replicas: settings.replicas,
      clientMode: settings.clientMode,
      delegateLookups: settings.delegateLookups,
      verifyLookups: settings.verifyLookups,
      recursiveLookups: settings.recursiveLookups,
      positions: settings.idDifficulty === 0 && settings.idChoices === 1
        ? undefined
        : new PositionRules({ difficulty: settings.idDifficulty, choices: settings.idChoices, identityOf: positionIdentityOf }),
      diversity: { maxPerSubnet: settings.ringPeersPerSubnet, subnetOf: node => this.wirePeers.subnetOf(node.peer) },
      roundTripOf: peer => this.roundTrips.estimate(peer),
      timers: settings.timers,
      onLookup: outcome => { this.metricsSink.lookupFinished(outcome) },
      onAntiEntropyRound: round => { this.metricsSink.antiEntropyRound(round) },
      onError
    })
    const isNeighbour = (peer: string): boolean => this.core.replicaRange.isNeighbour(peer)
    // what ring neighbours read (anti-entropy, handoffs) is not counted with strangers' reads
    this.limiter = new RequestLimiter(settings.requestLimits, { isNeighbour })
    const admission = new OwnedAdmission(this.ownedStore)
    const { replication: ownedReplication } = this.core.addNamespace('owned', {
      store: this.ownedStore,
      admit: async records => admission.admit(records),
      // admission reads what the store holds: one batch at a time
      serializeWrites: true,
      maxRecordsPerStore: MAX_OWNED_RECORDS_PER_STORE,
      rules: replication => replication
    })
    this.owned = new OwnedRecords({ replication: ownedReplication, ttl: settings.ttl })
    this.server = new RequestServer(this.view, {
      node: this.core,
      wirePeers: this.wirePeers,
      limiter: this.limiter,
      findOwner: { privateKey: components.privateKey, forwarder: this.rpc, requestTimeout: settings.requestTimeoutMs },
      // the nodes whose maintenance and repairs pass through us: strangers' unread answers must not refuse them
      isNeighbour,
      onServed: request => {
        this.metricsSink.requestServed(request)
        if (request.outcome === 'error') {
          this.refused.record(request.errorCode)
        }
      }
    })

    this.peerCacheKeeper = new PeerCacheKeeper(this.view, {
      cache: this.peerCache,
      ringNodes: () => this.core.ring.table.knownNodes(),
      intervalMs: settings.timers.peerCacheSaveIntervalMs
    })
    this.ringPeerTags = new RingPeerTags(components, {
      ringNodes: () => this.core.ring.table.knownNodes(),
      // a client delegates its lookups to the nodes it is connected to: it dials no others ahead
      connect: settings.clientMode ? undefined : async peer => { await this.view.dial(peerIdFromString(peer)) }
    })
    const exchange = peerExchangeOf(components)
    // answers name the peers the ring vouches for, not whoever the peer store holds
    exchange?.answerFrom(() => this.vouchedPeers())
    this.healer = new PartitionHealer(this.view, {
      ring: this.core.ring,
      bootstrap: this.othersToJoin(),
      cachedPeers: () => this.peerCacheKeeper.cachedPeers(),
      learnedPeers: () => exchange?.learnedPeers() ?? [],
      intervalMs: settings.timers.healIntervalMs,
      maxIntervalMs: settings.timers.healMaxIntervalMs,
      attemptTimeout: settings.joinAttemptTimeoutMs,
      // a client that lost every ring node it knew finds the ring again through them
      onlyWhenAlone: settings.clientMode,
      onRound: outcome => { this.metricsSink.healingRound(outcome) }
    })
    const running = (): boolean => this.running
    this.healthCheck = new HealthCheck({
      libp2p: { get status () { return running() ? 'started' : 'stopped' }, getMultiaddrs: () => this.view.getMultiaddrs() },
      ring: this.core.ring,
      rpc: this.rpc,
      store: this.store,
      status: () => this.status
    })
    this.metricsSink.watch({ ring: this.core.ring, store: this.store, libp2p: this.view, ringSize: () => this.estimatedRingSize() })
    // the node's peer exchange, when it runs ours, is counted with the node's other metrics
    exchange?.addEventListener('exchange', ({ detail }) => { this.metricsSink.peerExchangeRound(detail.ok, detail.learned) })

    this.joinedOutcome = joinOutcome()
  }

  /** This node's ring position, in hex: sha256 of its PeerId, or the position its nonce pays for (`idDifficulty`) */
  get ringId (): string {
    return ringIdToHex(this.core.self.id)
  }

  get status (): NodeStatus {
    if (!this.running) {
      return 'stopped'
    }
    if (this.joining != null) {
      return 'joining'
    }
    return this.core.ring.table.getSuccessors().length > 0 ? 'joined' : 'alone'
  }

  /**
   * Resolves once the node is part of a ring, or alone when it had nobody to join. After libp2p
   * stopped and started the node again, it is about the join of the new start.
   *
   * @throws BootstrapFailedError when bootstrap addresses were given and none answered within
   *   `joinTimeoutMs` (the service goes on trying in the background)
   * @throws NotStartedError when the node stopped before it joined
   */
  async joined (): Promise<void> {
    await this.joinedOutcome.promise
  }

  /** Store `value` under `key` on the key's replica set; resolves once durably written there */
  async put (key: string | Uint8Array, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.assertMember()
    const maxValueSize = Math.min(MAX_VALUE_SIZE, this.settings.storeLimits.maxValueSize)
    if (value.byteLength > maxValueSize) {
      throw new TooLargeError(`a value is at most ${maxValueSize} bytes, this one is ${value.byteLength}`)
    }
    const expiresAt = expiresAtFor(options.ttlMs, Date.now(), this.settings.ttl)
    const record = createRecord(keyPosition(key), value, expiresAt)
    return this.metricsSink.observePut(async () => this.core.records.put([record], { signal: options.signal }))
  }

  /** Every live value stored under `key` (a set: each value once) */
  async get (key: string | Uint8Array, options: { signal?: AbortSignal } = {}): Promise<Uint8Array[]> {
    this.assertMember()
    const records = await this.metricsSink.observeGet(async () => this.core.records.get(keyPosition(key), options))
    return records.map(r => plainBytes(r.value))
  }

  /**
   * Publish `value` as `identity`'s record `name`: signed by its key, with a seq above every earlier
   * one, on the record's replicas. Only that key can write it, and no one can delete it (it
   * expires); `resolve` finds the newest. A plain `put` is an open set anyone may add to.
   */
  async publish (identity: Identity, name: string, value: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    this.assertMember()
    return this.owned.publish(identity, name, value, options)
  }

  /** The newest record `address` published under `name`, its signature checked; undefined if none */
  async resolve (address: string | PublicKey, name: string, options: { signal?: AbortSignal } = {}): Promise<ResolvedRecord | undefined> {
    this.assertMember()
    const record = await this.owned.resolve(address, name, options)
    return record == null ? undefined : { ...record, value: plainBytes(record.value) }
  }

  /** The node responsible for `key` */
  async lookup (key: string | Uint8Array, options: LookupOptions = {}): Promise<LookupAnswer> {
    this.assertMember()
    const { successors, hops, checks, cached, recursive } = await this.core.ring.lookup(ringIdFromBytes(keyPosition(key)), { ...options, successorCount: 1 })
    const owner = successors[0]
    return { peerId: peerIdFromString(owner.peer), ringId: ringIdToHex(owner.id), hops, checks: checks ?? 0, ...(cached === true ? { cached } : {}), ...(recursive === true ? { recursive } : {}) }
  }

  /**
   * About how many nodes the ring has, as this node can tell: exactly while its successor list
   * holds the whole rest of the ring, else from how densely its successors sit after it
   */
  estimatedRingSize (): number {
    const { table, self } = this.core.ring
    return estimateRingSize(self.id, table.getSuccessors(), table.holdsWholeRing)
  }

  /** The requests this node has answered with an ERROR since it started, by code: peers over its limits, or breaking its rules */
  refusedRequests (): RefusedRequests {
    return this.refused.snapshot()
  }

  /** This node's metrics in the Prometheus text format (empty in a browser, in a node started with `metrics: false`, and before the node starts) */
  async metrics (): Promise<string> {
    return this.metricsSink.expose()
  }

  /** A deep health check: whether the node still does its part of the ring, check by check */
  async health (): Promise<HealthReport> {
    return this.healthCheck.check()
  }

  /**
   * A consistent snapshot of everything this node keeps (records, envelopes, tombstones, peer
   * cache, and the node identity where the database holds one), as the lines of a backup
   * (`storage/backup.ts`), read from one snapshot while the node goes on working. Restore it into
   * an empty data directory with `chord-node restore`.
   *
   * @throws NotStartedError, from the first read, when the node is not running: its database is
   * open only then (a stopped node's data directory is backed up by `chord-node backup`)
   */
  async * backup (options: { signal?: AbortSignal } = {}): AsyncGenerator<string> {
    if (!this.running) {
      throw new NotStartedError('the node is not running: start it before backup(), or back up its stopped dataDir with chord-node backup')
    }
    yield * exportDatabase(this.database, options)
  }

  /** The parts, for the mailbox service and for tests; not part of the public API */
  get [chordInternals] (): ChordInternals {
    return { core: this.core, database: this.database, store: this.store, ownedStore: this.ownedStore, owned: this.owned, settings: this.settings, view: this.view, metrics: this.metricsSink, limiter: this.limiter }
  }

  async beforeStart (): Promise<void> {
    if (this.stoppedOnce) {
      // started again: joined() tells how this join goes, not how the last one went
      this.joinedOutcome = joinOutcome()
    }
    await openDatabase(this.database, this.settings.dataDir)
    await this.store.open()
    await this.ownedStore.open()
    await this.peerCache.open()
    await this.takeKeptPosition()
    if (this.settings.metrics) {
      await this.metricsSink.load()
    }
  }

  /**
   * In a network whose positions cost work or offer a choice, sit at this node's position: the
   * nonce kept in the database, or one minted now (about 2^idDifficulty hashes), with the choice
   * kept from the first join. A node that has not chosen yet sits at choice 0 and chooses when it
   * joins (`positionCandidates`).
   */
  private async takeKeptPosition (): Promise<void> {
    const { idDifficulty, idChoices, clientMode } = this.settings
    // a client holds no position: it has nothing to pay for
    if ((idDifficulty === 0 && idChoices === 1) || clientMode || this.core.self.proof != null) {
      return
    }
    const peerId = this.view.peerId
    const identity = peerId.toMultihash().bytes
    const nonce = await loadOrMintPositionNonce(this.database, identity, idDifficulty)
    const kept = await loadPositionChoice(this.database)
    const choice = kept != null && kept < idChoices ? kept : 0
    const candidates = candidatePositions(identity, nonce, idChoices).map(({ id, proof }) => ({ id, peer: peerId.toString(), proof }))
    this.core.ring.takePosition(candidates[choice])
    this.positionCandidates = kept == null && idChoices > 1 ? candidates : undefined
    this.log('ring position %s (difficulty %d, choice %d of %d)', this.ringId, idDifficulty, choice, idChoices)
  }

  async start (): Promise<void> {
    await this.rpc.start()
    await this.server.start()
    this.components.events.addEventListener('connection:close', this.onConnectionClose)
    this.components.events.addEventListener('peer:update', this.onPeerUpdate)
    this.running = true
  }

  async afterStart (): Promise<void> {
    await this.peerCacheKeeper.restoreAddresses()
    const plan = joinPlan(this.othersToJoin(), this.peerCacheKeeper.cachedPeers(), {
      timeout: this.settings.joinTimeoutMs,
      attemptTimeout: this.settings.joinAttemptTimeoutMs,
      onProgress: this.settings.onJoinProgress
    })
    // libp2p starts listening in its own afterStart: the join runs beside it, not before it
    void this.join(plan)
  }

  async beforeStop (): Promise<void> {
    this.running = false
    this.stoppedOnce = true
    this.joining?.abort(new NotStartedError('the node was stopped while joining'))
    this.joinedOutcome.reject(new NotStartedError('the node was stopped before it joined a ring'))
    this.healer.stop()
    this.core.stop()
    await this.ringPeerTags.stop().catch(err => { this.log.error('untagging ring peers failed - %e', err) })
    // while the peer store still holds the neighbours' addresses
    await this.peerCacheKeeper.stop().catch(err => { this.log.error('saving the peer cache failed - %e', err) })
    await this.core.leave(HANDOFF_ON_STOP_TIMEOUT)
  }

  async stop (): Promise<void> {
    this.running = false
    this.components.events.removeEventListener('connection:close', this.onConnectionClose)
    this.components.events.removeEventListener('peer:update', this.onPeerUpdate)
    await this.server.stop()
    await this.rpc.stop()
  }

  async afterStop (): Promise<void> {
    await this.ownedStore.close()
    await this.store.close()
    await this.database.close()
  }

  /**
   * Join as the plan says (none: start a new ring), then start maintenance. A required join that
   * misses its deadline rejects `joined()` and goes on in the background, as long as it takes.
   */
  private async join (plan?: JoinPlan): Promise<void> {
    // this start's outcome, even if the node has been stopped and started again meanwhile
    const outcome = this.joinedOutcome
    if (plan != null) {
      try {
        await this.joinThrough(plan)
      } catch (err) {
        if (!this.running) {
          return
        }
        if (plan.required) {
          outcome.reject(err)
          this.log.error('could not join within %d ms; still trying - %e', this.settings.joinTimeoutMs, err)
          await this.joinThrough({ ...plan, timeout: Infinity }).catch(err => { this.log('stopped trying to join - %e', err) })
        } else {
          this.log('no cached peer answered; starting a new ring - %e', err)
        }
      }
    }
    if (!this.running) {
      return
    }
    this.core.start()
    this.ringPeerTags.start()
    this.healer.start()
    this.peerCacheKeeper.start()
    outcome.resolve()
  }

  private async joinThrough (plan: JoinPlan): Promise<void> {
    const joining = new AbortController()
    this.joining = joining
    try {
      await joinRing(this.view, { ...plan, signal: joining.signal, log: this.log, join: async (entry, options) => this.joinAt(entry, options) })
    } finally {
      this.joining = undefined
    }
  }

  /** A node that crashes or stops closes its connections: the ring checks that neighbour at once */
  private readonly onConnectionClose = (event: CustomEvent<Connection>): void => {
    const peer = event.detail.remotePeer
    if (this.running && this.view.getConnections(peer).length === 0) {
      this.core.ring.disconnected(peer.toString())
    }
  }

  private readonly onPeerUpdate = (event: CustomEvent<PeerUpdate>): void => {
    const { peer, previous } = event.detail
    // tags change every second; only a change of addresses concerns the wire
    if (addressList(peer) !== addressList(previous)) {
      this.wirePeers.addressesChanged(peer.id)
    }
  }

  /** Join through `entry`, choosing this node's position first if it has not yet, and keep the choice */
  private async joinAt (entry: NodeRef, options: AbortOptions): Promise<void> {
    const candidates = this.positionCandidates
    await this.core.join(entry, { ...options, candidates })
    if (candidates != null) {
      await savePositionChoice(this.database, this.core.self.proof?.choice ?? 0)
      this.positionCandidates = undefined
    }
  }

  /** The bootstrap addresses that do not name this node */
  private othersToJoin (): ReturnType<typeof addressesOfOthers> {
    return addressesOfOthers(this.settings.bootstrap, this.view.peerId)
  }

  /**
   * The peers the ring vouches for: the nodes of the routing table, which answered its
   * maintenance. Not the peer cache: it also keeps any connected peer that claimed the protocol.
   * Bounded by the table's size
   */
  private vouchedPeers (): string[] {
    return this.core.ring.table.knownNodes().map(node => node.peer)
  }

  /** Reads and writes go to the ring: never to a node that is still looking for it */
  private assertMember (): void {
    if (!this.running) {
      throw new NotStartedError('the node is not running')
    }
    if (this.joining != null) {
      throw new NotJoinedError('the node has not joined the ring yet')
    }
  }
}

/** A join's outcome; a caller who never asks `joined()` must not see an unhandled rejection */
function joinOutcome (): PromiseWithResolvers<void> {
  const outcome = Promise.withResolvers<void>()
  outcome.promise.catch(() => {})
  return outcome
}

/**
 * The ring as a libp2p service, for an application's own node:
 *
 * ```ts
 * const node = await createLibp2p({ …, services: { identify: identify(), chord: chord({ bootstrap }) } })
 * await node.services.chord.joined()
 * ```
 *
 * @throws InvalidOptionsError at once, naming the setting, when `init` is wrong
 */
export function chord (init: ChordInit = {}): (components: ChordComponents) => ChordService {
  const settings = resolveChordInit(init)
  return (components) => new ChordService(components, settings)
}

/** A peer's addresses as one comparable string */
function addressList (peer?: Peer): string {
  return peer?.addresses.map(address => address.multiaddr.toString()).join() ?? ''
}
