/**
 * Everything `chord-node run` can be told, with its flag, environment variable, config-file key
 * and default, and how the settings become `createChordNode` options.
 */
import prettyBytes from 'bytes'
import prettyMs from 'ms'
import { multiaddr } from '@multiformats/multiaddr'
import { badPeerIdIn } from '../membership/join.js'
import { DEFAULT_ADMIN, DEFAULT_SHUTDOWN_TIMEOUT } from './constants.js'
import * as defaults from './defaults.js'
import { UsageError } from './errors.js'
import { CONFIG, DATA_DIR, PROCESS, STORAGE, VERBOSE } from './common-settings.js'
import { InvalidValue, duration, hostPort, nonNegativeInteger, oneOf, positiveInteger, size } from './values.js'
import type { SettingSpec } from './settings.js'
import type { HostPort } from './values.js'
import type { ChordNodeOptions } from '../index.js'
import type { Multiaddr } from '@multiformats/multiaddr'

export const LOG_FORMATS = ['text', 'json'] as const
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogFormat = typeof LOG_FORMATS[number]
export type LogLevel = typeof LOG_LEVELS[number]

const NETWORK = 'Network:'
const TIMERS = 'Timers:'
const SERVING = 'Serving:'

const showMs = (value: number): string => prettyMs(value, { long: false })
/** 1024-based, as the limits are: 64KiB, 256MiB */
const showBytes = (value: number): string => (prettyBytes.format(value, { unitSeparator: '' }) ?? String(value)).replace(/([KMGT])B$/, '$1iB')

/**
 * A multiaddr whose /p2p/ parts are peer ids (multiaddr takes any text there, and every dial of
 * it would fail until the join's deadline). A refused one is shown `example`, an address of the
 * flag's own kind (a listen address is not a bootstrap address); a `host:port` gets the multiaddr
 * it probably meant instead
 */
function multiaddrValue (example: string): (text: string) => Multiaddr {
  return text => {
    let address: Multiaddr
    try {
      address = multiaddr(text.trim())
    } catch (err) {
      const hp = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text.trim())
      const meant = hp == null ? example : `/ip4/${hp[1]}/tcp/${hp[2]} (or /ip4/${hp[1]}/tcp/${hp[2]}/ws for WebSockets)`
      // what the parser found wrong (a port over 65535, an unknown protocol) says which part to fix
      const reason = text.trim().startsWith('/') ? `; this one: ${(err as Error).message}` : ''
      throw new InvalidValue(`a multiaddr, e.g. ${meant}${reason}`)
    }
    if (badPeerIdIn(address) != null) {
      throw new InvalidValue('a peer id after /p2p/, such as the 12D3KooW… a node logs as its "peer id" when it starts')
    }
    return address
  }
}

const LISTEN_ADDRESS = multiaddrValue('/ip4/0.0.0.0/tcp/4001 or /ip4/0.0.0.0/tcp/4002/ws')
const ANNOUNCED_ADDRESS = multiaddrValue('/ip4/203.0.113.5/tcp/4001 or /dns4/chat.example.org/tcp/443/tls/ws')
const BOOTSTRAP_ADDRESS = multiaddrValue('/ip4/198.51.100.7/tcp/4001/p2p/12D3Koo… or /dns4/seed.example.org/tcp/4001/p2p/12D3Koo…')

/** `admin` also takes `off`, and only a loopback host: it carries identities (`send`) and backups */
function adminAddress (text: string): HostPort | 'off' {
  if (text.trim() === 'off') {
    return 'off'
  }
  return hostPort(text)
}

export const NODE_SETTINGS = [
  { flag: '--listen <multiaddr>', env: 'CHORD_LISTEN', group: NETWORK, convert: LISTEN_ADDRESS, repeatable: true, defaultText: 'every IPv4 interface, TCP and WebSockets, ports chosen by the system', help: 'where to accept connections (repeatable), e.g. /ip4/0.0.0.0/tcp/4001 and /ip4/0.0.0.0/tcp/4002/ws; give fixed ports to a node others bootstrap from' },
  { flag: '--announce <multiaddr>', env: 'CHORD_ANNOUNCE', group: NETWORK, convert: ANNOUNCED_ADDRESS, repeatable: true, defaultText: 'the listen addresses', help: 'addresses to tell other nodes instead of the listen addresses (repeatable), e.g. /dns4/chat.example.org/tcp/443/tls/ws behind a TLS proxy, or behind NAT' },
  { flag: '--append-announce <multiaddr>', env: 'CHORD_APPEND_ANNOUNCE', group: NETWORK, convert: ANNOUNCED_ADDRESS, repeatable: true, defaultText: 'none', help: 'addresses to tell other nodes besides the listen addresses (repeatable)' },
  { flag: '--tls-cert <file>', env: 'CHORD_TLS_CERT', group: NETWORK, convert: (text: string) => text, defaultText: 'none', help: 'PEM certificate (chain) for WebSockets over TLS: listen on e.g. /ip4/0.0.0.0/tcp/443/tls/ws' },
  { flag: '--tls-key <file>', env: 'CHORD_TLS_KEY', group: NETWORK, convert: (text: string) => text, defaultText: 'none', help: 'PEM private key of --tls-cert' },
  { flag: '--bootstrap <multiaddr>', env: 'CHORD_BOOTSTRAP', group: NETWORK, convert: BOOTSTRAP_ADDRESS, repeatable: true, defaultText: 'none: start a new ring, or rejoin through peers cached in the data dir', help: 'a ring node to join through (repeatable), /dnsaddr/… included' },
  { flag: '--replicas <r>', env: 'CHORD_REPLICAS', group: NETWORK, convert: positiveInteger, defaultText: String(defaults.DEFAULT_REPLICAS), help: 'replication factor; every node of a ring should use the same' },
  { flag: '--id-difficulty <bits>', env: 'CHORD_ID_DIFFICULTY', group: NETWORK, convert: nonNegativeInteger, defaultText: `${defaults.DEFAULT_ID_DIFFICULTY} (positions cost nothing)`, help: 'leading zero bits the puzzle of every ring position must have (about 2^bits hashes to start a node the first time; the nonce is kept in the data dir); every node of a ring must use the same' },
  { flag: '--id-choices <k>', env: 'CHORD_ID_CHOICES', group: NETWORK, convert: positiveInteger, defaultText: `${defaults.DEFAULT_ID_CHOICES} (no choice)`, help: 'candidate positions a new node looks up, taking the one that splits the widest gap (evens the load; kept in the data dir); every node of a ring must use the same' },
  { flag: '--ring-peers-per-subnet <n>', env: 'CHORD_RING_PEERS_PER_SUBNET', group: NETWORK, convert: positiveInteger, defaultText: String(defaults.DEFAULT_RING_PEERS_PER_SUBNET), help: 'most nodes of one IPv4 /24 or IPv6 /48 in the successor list and among the fingers (never below --replicas; loopback is not counted)' },
  { flag: '--join-timeout <duration>', env: 'CHORD_JOIN_TIMEOUT', group: NETWORK, convert: duration, defaultText: showMs(defaults.JOIN_TIMEOUT), help: 'give up joining after this long and exit 1' },
  { flag: '--join-attempt-timeout <duration>', env: 'CHORD_JOIN_ATTEMPT_TIMEOUT', group: NETWORK, convert: duration, defaultText: showMs(defaults.JOIN_ATTEMPT_TIMEOUT), help: 'time for one attempt to join through one address' },
  { flag: '--request-timeout <duration>', env: 'CHORD_REQUEST_TIMEOUT', group: NETWORK, convert: duration, defaultText: showMs(defaults.REQUEST_TIMEOUT), help: 'deadline of each request to another node' },

  DATA_DIR,
  { flag: '--max-value-size <size>', env: 'CHORD_MAX_VALUE_SIZE', group: STORAGE, convert: size, defaultText: showBytes(defaults.MAX_VALUE_SIZE), help: 'largest value a record may hold' },
  { flag: '--max-records-per-key <n>', env: 'CHORD_MAX_RECORDS_PER_KEY', group: STORAGE, convert: positiveInteger, defaultText: String(defaults.MAX_RECORDS_PER_KEY), help: 'most live records under one key (one mailbox is one key)' },
  { flag: '--max-bytes-per-key <size>', env: 'CHORD_MAX_BYTES_PER_KEY', group: STORAGE, convert: size, defaultText: showBytes(defaults.MAX_BYTES_PER_KEY), help: 'most bytes under one key' },
  { flag: '--max-total-bytes <size>', env: 'CHORD_MAX_TOTAL_BYTES', group: STORAGE, convert: size, defaultText: showBytes(defaults.MAX_TOTAL_BYTES), help: 'most bytes this node stores for the ring' },
  { flag: '--max-bytes-per-subnet <size>', env: 'CHORD_MAX_BYTES_PER_SUBNET', group: STORAGE, convert: size, defaultText: 'a quarter of --max-total-bytes', help: 'most bytes the writers of one /24 or /48 hold together; raise it when many users share one address' },
  { flag: '--default-ttl <duration>', env: 'CHORD_DEFAULT_TTL', group: STORAGE, convert: duration, defaultText: showMs(defaults.DEFAULT_TTL), help: 'lifetime of a record whose writer asked for none' },
  { flag: '--max-ttl <duration>', env: 'CHORD_MAX_TTL', group: STORAGE, convert: duration, defaultText: showMs(defaults.MAX_TTL), help: 'longest lifetime any record may ask for' },

  { flag: '--http <host:port>', env: 'CHORD_HTTP', group: SERVING, convert: hostPort, defaultText: 'off', help: 'serve /metrics and /health over HTTP, e.g. 127.0.0.1:9464' },
  { flag: '--admin <host:port>', env: 'CHORD_ADMIN', group: SERVING, convert: adminAddress, defaultText: DEFAULT_ADMIN, defaultValue: hostPort(DEFAULT_ADMIN), help: 'where the admin API for chord-node put/get/… listens (loopback only; its token is in the data dir), or off' },

  { flag: '--stabilize-interval <duration>', env: 'CHORD_STABILIZE_INTERVAL', group: TIMERS, convert: duration, defaultText: showMs(defaults.DEFAULT_STABILIZE_INTERVAL), help: 'between two stabilize rounds' },
  { flag: '--fix-fingers-interval <duration>', env: 'CHORD_FIX_FINGERS_INTERVAL', group: TIMERS, convert: duration, defaultText: showMs(defaults.DEFAULT_FIX_FINGERS_INTERVAL), help: 'between two finger refreshes' },
  { flag: '--check-predecessor-interval <duration>', env: 'CHORD_CHECK_PREDECESSOR_INTERVAL', group: TIMERS, convert: duration, defaultText: showMs(defaults.DEFAULT_CHECK_PREDECESSOR_INTERVAL), help: 'between two checks that the predecessor is alive' },
  { flag: '--anti-entropy-interval <duration>', env: 'CHORD_ANTI_ENTROPY_INTERVAL', group: TIMERS, convert: duration, defaultText: showMs(defaults.DEFAULT_ANTI_ENTROPY_INTERVAL), help: 'between two anti-entropy (and rehoming) rounds' },
  { flag: '--sweep-interval <duration>', env: 'CHORD_SWEEP_INTERVAL', group: TIMERS, convert: duration, defaultText: showMs(defaults.DEFAULT_SWEEP_INTERVAL), help: 'between two sweeps of expired records' },
  { flag: '--subscription-check-interval <duration>', env: 'CHORD_SUBSCRIPTION_CHECK_INTERVAL', group: TIMERS, convert: duration, defaultText: showMs(defaults.SUBSCRIPTION_CHECK_INTERVAL), help: 'between two checks that a mailbox subscription is with the right node' },
  { flag: '--heal-interval <duration>', env: 'CHORD_HEAL_INTERVAL', group: TIMERS, convert: duration, defaultText: showMs(defaults.HEAL_INTERVAL), help: 'mean time between two partition-healing rounds' },
  { flag: '--peer-cache-save-interval <duration>', env: 'CHORD_PEER_CACHE_SAVE_INTERVAL', group: TIMERS, convert: duration, defaultText: showMs(defaults.PEER_CACHE_SAVE_INTERVAL), help: 'between two saves of the peer cache' },

  CONFIG,
  VERBOSE,
  { flag: '--log-format <format>', env: 'CHORD_LOG_FORMAT', group: PROCESS, convert: oneOf(LOG_FORMATS), defaultText: 'text', defaultValue: 'text', help: 'text for people, json for one JSON object per line' },
  { flag: '--log-level <level>', env: 'CHORD_LOG_LEVEL', group: PROCESS, convert: oneOf(LOG_LEVELS), defaultText: 'info', defaultValue: 'info', help: `least severe level logged: ${LOG_LEVELS.join(', ')} (libp2p's own debug output: DEBUG=libp2p:*)` },
  { flag: '--shutdown-timeout <duration>', env: 'CHORD_SHUTDOWN_TIMEOUT', group: PROCESS, convert: duration, defaultText: showMs(DEFAULT_SHUTDOWN_TIMEOUT), defaultValue: DEFAULT_SHUTDOWN_TIMEOUT, help: 'on SIGTERM or SIGINT, hand off and leave within this, or exit 1; a second signal exits at once' }
] as const satisfies readonly SettingSpec[]

export interface NodeSettings {
  config?: string
  dataDir: string
  verbose: boolean
  listen?: Multiaddr[]
  announce?: Multiaddr[]
  appendAnnounce?: Multiaddr[]
  tlsCert?: string
  tlsKey?: string
  bootstrap?: Multiaddr[]
  replicas?: number
  idDifficulty?: number
  idChoices?: number
  ringPeersPerSubnet?: number
  joinTimeout?: number
  joinAttemptTimeout?: number
  requestTimeout?: number
  maxValueSize?: number
  maxRecordsPerKey?: number
  maxBytesPerKey?: number
  maxTotalBytes?: number
  maxBytesPerSubnet?: number
  defaultTtl?: number
  maxTtl?: number
  stabilizeInterval?: number
  fixFingersInterval?: number
  checkPredecessorInterval?: number
  antiEntropyInterval?: number
  sweepInterval?: number
  subscriptionCheckInterval?: number
  healInterval?: number
  peerCacheSaveInterval?: number
  http?: HostPort
  admin: HostPort | 'off'
  logFormat: LogFormat
  logLevel: LogLevel
  shutdownTimeout: number
}

/** Loopback hosts the admin API may listen on */
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1']

/** Checks across settings, after each one was valid alone */
export function checkNodeSettings (settings: NodeSettings): void {
  if (settings.admin !== 'off' && !LOOPBACK_HOSTS.includes(settings.admin.host) && !settings.admin.host.startsWith('127.')) {
    throw new UsageError(`--admin ${settings.admin.host}:${settings.admin.port}: the admin API listens on loopback only (it takes identities and hands out backups); use 127.0.0.1:<port>, or off`)
  }
  if ((settings.tlsCert == null) !== (settings.tlsKey == null)) {
    throw new UsageError(`${settings.tlsCert == null ? '--tls-key' : '--tls-cert'} needs ${settings.tlsCert == null ? '--tls-cert' : '--tls-key'} too: give the certificate and its key`)
  }
  const secure = (settings.listen ?? []).filter(address => /\/(tls\/ws|wss)(\/|$)/.test(address.toString()))
  if (secure.length > 0 && settings.tlsCert == null) {
    throw new UsageError(`--listen ${secure[0].toString()} serves WebSockets over TLS: give --tls-cert and --tls-key, or listen on /ws behind a TLS proxy and --announce its address`)
  }
  if (settings.defaultTtl != null && settings.maxTtl != null && settings.defaultTtl > settings.maxTtl) {
    throw new UsageError(`--default-ttl ${showMs(settings.defaultTtl)} is longer than --max-ttl ${showMs(settings.maxTtl)}; lower it or raise --max-ttl`)
  }
}

/** The `createChordNode` options the settings ask for; what was not set is left to the library */
export function chordNodeOptions (settings: NodeSettings): ChordNodeOptions {
  const defined = <T extends object>(object: T): T | undefined => {
    const entries = Object.entries(object).filter(([, value]) => value != null)
    return entries.length === 0 ? undefined : Object.fromEntries(entries) as T
  }
  const options: ChordNodeOptions = {
    dataDir: settings.dataDir,
    listen: settings.listen?.map(String),
    ...(settings.announce == null ? {} : { announce: settings.announce.map(String) }),
    ...(settings.appendAnnounce == null ? {} : { appendAnnounce: settings.appendAnnounce.map(String) }),
    bootstrap: settings.bootstrap?.map(String) ?? [],
    replicas: settings.replicas,
    idDifficulty: settings.idDifficulty,
    idChoices: settings.idChoices,
    ringPeersPerSubnet: settings.ringPeersPerSubnet,
    joinTimeoutMs: settings.joinTimeout,
    joinAttemptTimeoutMs: settings.joinAttemptTimeout,
    requestTimeoutMs: settings.requestTimeout,
    // a node nobody scrapes does without prom-client and its memory
    metrics: settings.http != null,
    storeLimits: defined({
      maxValueSize: settings.maxValueSize,
      maxRecordsPerKey: settings.maxRecordsPerKey,
      maxBytesPerKey: settings.maxBytesPerKey,
      maxTotalBytes: settings.maxTotalBytes,
      maxBytesPerSubnet: settings.maxBytesPerSubnet
    }),
    ttl: defined({ defaultTtl: settings.defaultTtl, maxTtl: settings.maxTtl }),
    timers: defined({
      stabilizeIntervalMs: settings.stabilizeInterval,
      fixFingersIntervalMs: settings.fixFingersInterval,
      checkPredecessorIntervalMs: settings.checkPredecessorInterval,
      antiEntropyIntervalMs: settings.antiEntropyInterval,
      sweepIntervalMs: settings.sweepInterval,
      subscriptionCheckIntervalMs: settings.subscriptionCheckInterval,
      healIntervalMs: settings.healInterval,
      peerCacheSaveIntervalMs: settings.peerCacheSaveInterval
    })
  }
  return options
}
