/**
 * The settings of the `chord()` service, and their checks. Every setting is checked when the
 * service factory is called, before libp2p is even created, so a wrong one never leaves a node
 * listening; each failure is an `InvalidOptionsError` that names the setting.
 */
import {
  MAX_SUCCESSORS, DEFAULT_ID_CHOICES, DEFAULT_ID_DIFFICULTY, DEFAULT_REPLICAS, DEFAULT_RING_PEERS_PER_SUBNET, MAX_ID_CHOICES, MAX_ID_DIFFICULTY
} from '../chord/constants.js'
import { resolveTtlPolicy } from '../chord/ttl.js'
import { InvalidOptionsError } from '../errors.js'
import { JOIN_ATTEMPT_TIMEOUT, JOIN_TIMEOUT, parseBootstrapAddresses } from '../membership/join.js'
import { MAX_TOTAL_BYTES_IN_MEMORY } from '../storage/constants.js'
import { resolveStoreLimits } from '../storage/store-limits.js'
import { REQUEST_TIMEOUT } from '../transport/constants.js'
import { DEFAULT_REQUEST_LIMITS } from '../transport/request-limits.js'
import { DEFAULT_METRICS } from '../observability/constants.js'
import { DEFAULT_CLIENT_MODE } from './platform-defaults.js'
import type { CoreTimers } from '../chord/ring-node.js'
import type { TtlPolicy } from '../chord/ttl.js'
import type { JoinProgressEvent } from '../membership/join.js'
import type { StoreLimits } from '../storage/store-limits.js'
import type { RequestLimits } from '../transport/request-limits.js'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface ChordTimers extends CoreTimers {
  /**
   * mean ms between two partition-healing rounds after a failure; for a client, between its
   * rounds while it knows no ring node (REJOIN_INTERVAL, doubling after each)
   */
  healIntervalMs?: number
  /** mean ms between two partition-healing rounds once nothing fails (see RingTimers for the default) */
  healMaxIntervalMs?: number
  /** ms between two saves of the peer cache */
  peerCacheSaveIntervalMs?: number
}

export interface ChordInit {
  /**
   * ring nodes to join through (`/dnsaddr/…` too); none: start a new ring, unless peers cached
   * from an earlier run answer
   */
  bootstrap?: string[]
  /**
   * LevelDB directory for records and the peer cache, made at start if missing (a start that
   * cannot make it fails with InvalidOptionsError); omitted: in memory, nothing persists
   */
  dataDir?: string
  /** replication factor r, 1 to MAX_SUCCESSORS; default DEFAULT_REPLICAS */
  replicas?: number
  /**
   * use the ring without holding a position in it (needs `bootstrap`); default: false on Node,
   * true in a browser, which cannot accept connections
   */
  clientMode?: boolean
  /**
   * ms after which `joined()` rejects with `BootstrapFailedError` when no bootstrap address or
   * cached peer answered (the service keeps trying in the background); `Infinity`: `joined()`
   * waits as long as it takes. Default JOIN_TIMEOUT
   */
  joinTimeoutMs?: number
  /** ms for one attempt to join through one peer (dial, lookup, stabilize); default JOIN_ATTEMPT_TIMEOUT */
  joinAttemptTimeoutMs?: number
  /**
   * a client asks a ring node it is connected to to run each lookup, instead of dialling node
   * after node (what a browser wants); default DEFAULT_DELEGATE_LOOKUPS. Ring members ignore it
   */
  delegateLookups?: boolean
  /**
   * confirm the owner each lookup is told by asking the owner itself (and the nodes nearer the key,
   * when it disagrees) before answering: one more round trip per lookup, and no wrong owner from a
   * node that lies about who owns a key. Default DEFAULT_VERIFY_LOOKUPS
   */
  verifyLookups?: boolean
  /**
   * a verified lookup first sends one recursive request (FIND_OWNER) through the nodes' own
   * connections, which the owner answers with a signed statement, and walks the ring itself only
   * if that fails: on wide-area links, fewer new connections. Default DEFAULT_RECURSIVE_LOOKUPS
   */
  recursiveLookups?: boolean
  /** record lifetimes: the default for puts without a TTL, and the cap on what any peer may ask for */
  ttl?: Partial<TtlPolicy>
  /** storage quotas */
  storeLimits?: Partial<StoreLimits>
  /** maintenance intervals (tests and simulations shorten them) */
  timers?: ChordTimers
  /**
   * ms allowed for each request to another node; default REQUEST_TIMEOUT. Longer ones buy nothing
   * for a request that takes more than REQUEST_READ_TIMEOUT (10 s) to arrive: the other node,
   * on its defaults, resets it then
   */
  requestTimeoutMs?: number
  /** per-peer budgets of /chord/1.0.0 (and signature checks on every protocol), and the records read for strangers together; each left out is its default */
  requestLimits?: Partial<RequestLimits>
  /** told about each join attempt as it happens, e.g. to print `trying <addr> (2/5)…` */
  onJoinProgress?(event: JoinProgressEvent): void
  /**
   * leading zero bits the puzzle of every ring position must have (docs/security.md, "Ring
   * positions"), 0 to MAX_ID_DIFFICULTY; the same on every node of a network. 0, the default:
   * positions cost nothing and every node sits at sha256(PeerId)
   */
  idDifficulty?: number
  /**
   * candidate positions one nonce opens, 1 to MAX_ID_CHOICES; the same on every node of a network.
   * A node joining for the first time looks each up and takes the one that splits the widest gap
   * (even load: docs/architecture.md, "Even load"), then keeps its choice. Default
   * DEFAULT_ID_CHOICES (1: no choice)
   */
  idChoices?: number
  /**
   * most nodes of one IPv4 /24 or IPv6 /48 in the successor list, and among the fingers (never
   * below `replicas`); loopback addresses are not counted. Default DEFAULT_RING_PEERS_PER_SUBNET;
   * `Infinity`: no cap
   */
  ringPeersPerSubnet?: number
  /**
   * keep Prometheus metrics, read with `metrics()`; false: `metrics()` answers empty and
   * prom-client is never loaded (a node nobody scrapes saves its memory). Default DEFAULT_METRICS
   */
  metrics?: boolean
}

/** The settings once checked, with every default filled in */
export interface ChordSettings {
  bootstrap: Multiaddr[]
  dataDir?: string
  replicas: number
  clientMode: boolean
  delegateLookups?: boolean
  verifyLookups?: boolean
  recursiveLookups?: boolean
  joinTimeoutMs: number
  joinAttemptTimeoutMs: number
  ttl: TtlPolicy
  storeLimits: StoreLimits
  timers: ChordTimers
  requestTimeoutMs: number
  requestLimits: RequestLimits
  onJoinProgress?(event: JoinProgressEvent): void
  idDifficulty: number
  idChoices: number
  ringPeersPerSubnet: number
  metrics: boolean
}

/**
 * @throws InvalidOptionsError naming the first setting that is wrong
 */
export function resolveChordInit (init: ChordInit = {}): ChordSettings {
  if (init.bootstrap != null && !Array.isArray(init.bootstrap)) {
    throw new InvalidOptionsError('bootstrap must be an array of multiaddr strings')
  }
  const bootstrap = parseBootstrapAddresses(init.bootstrap ?? [])
  const clientMode = init.clientMode ?? DEFAULT_CLIENT_MODE
  if (clientMode && bootstrap.length === 0) {
    throw new InvalidOptionsError('a client-mode node uses a ring but cannot start one: give it bootstrap addresses')
  }
  const replicas = init.replicas ?? DEFAULT_REPLICAS
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_SUCCESSORS) {
    throw new InvalidOptionsError(`replicas must be an integer from 1 to ${MAX_SUCCESSORS}, got ${String(init.replicas)}`)
  }
  if (init.dataDir != null && (typeof init.dataDir !== 'string' || init.dataDir === '')) {
    throw new InvalidOptionsError('dataDir must be a non-empty directory path')
  }
  // a timer given as undefined is one left out: it keeps its default
  const timers: ChordTimers = Object.fromEntries(Object.entries(init.timers ?? {}).filter(([, value]) => value !== undefined))
  for (const [name, value] of Object.entries(timers)) {
    positiveMs(`timers.${name}`, value)
  }
  return {
    bootstrap,
    dataDir: init.dataDir,
    replicas,
    clientMode,
    delegateLookups: init.delegateLookups,
    verifyLookups: init.verifyLookups,
    recursiveLookups: init.recursiveLookups,
    joinTimeoutMs: positiveMs('joinTimeoutMs', init.joinTimeoutMs ?? JOIN_TIMEOUT, { infinite: true }),
    joinAttemptTimeoutMs: positiveMs('joinAttemptTimeoutMs', init.joinAttemptTimeoutMs ?? JOIN_ATTEMPT_TIMEOUT),
    ttl: resolveTtlPolicy(init.ttl),
    // a store in memory is the process's memory: its default is smaller
    storeLimits: resolveStoreLimits({ ...(init.dataDir == null ? { maxTotalBytes: MAX_TOTAL_BYTES_IN_MEMORY } : {}), ...init.storeLimits }),
    timers,
    requestTimeoutMs: positiveMs('requestTimeoutMs', init.requestTimeoutMs ?? REQUEST_TIMEOUT),
    requestLimits: resolveRequestLimits(init.requestLimits),
    onJoinProgress: init.onJoinProgress,
    idDifficulty: resolveIdDifficulty(init.idDifficulty),
    idChoices: resolveIdChoices(init.idChoices),
    ringPeersPerSubnet: resolveRingPeersPerSubnet(init.ringPeersPerSubnet),
    metrics: init.metrics ?? DEFAULT_METRICS
  }
}

function resolveIdDifficulty (given: unknown = DEFAULT_ID_DIFFICULTY): number {
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 0 || given > MAX_ID_DIFFICULTY) {
    throw new InvalidOptionsError(`idDifficulty must be an integer from 0 to ${MAX_ID_DIFFICULTY} bits, got ${String(given)}`)
  }
  return given
}

function resolveIdChoices (given: unknown = DEFAULT_ID_CHOICES): number {
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 1 || given > MAX_ID_CHOICES) {
    throw new InvalidOptionsError(`idChoices must be an integer from 1 to ${MAX_ID_CHOICES}, got ${String(given)}`)
  }
  return given
}

function resolveRingPeersPerSubnet (given: unknown = DEFAULT_RING_PEERS_PER_SUBNET): number {
  if (typeof given !== 'number' || (given !== Infinity && (!Number.isSafeInteger(given) || given < 1))) {
    throw new InvalidOptionsError(`ringPeersPerSubnet must be a positive integer or Infinity, got ${String(given)}`)
  }
  return given
}

/** The default budgets with the given overrides, each checked to be a positive integer */
function resolveRequestLimits (given: Partial<RequestLimits> = {}): RequestLimits {
  const limits = { ...DEFAULT_REQUEST_LIMITS, ...given }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidOptionsError(`requestLimits.${name} must be a positive integer, got ${String(value)}`)
    }
  }
  return limits
}

/** A duration setting: a positive integer number of ms (or Infinity where it may wait for ever) */
export function positiveMs (name: string, value: unknown, options: { infinite?: boolean } = {}): number {
  const ok = typeof value === 'number' && ((Number.isSafeInteger(value) && value > 0) || (options.infinite === true && value === Infinity))
  if (!ok) {
    throw new InvalidOptionsError(`${name} must be a positive integer number of ms${options.infinite === true ? ' or Infinity' : ''}, got ${String(value)}`)
  }
  return value
}
