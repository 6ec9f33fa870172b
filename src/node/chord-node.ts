/**
 * `createChordNode`: the convenience form. It builds a libp2p node with the ring's services
 * (`chord()`, `chordMailbox()`, peer exchange) and waits until it has joined; `ChordNode` is a
 * thin handle on that node. Everything it does, an application can do with the services in its
 * own libp2p node.
 */
import { chordMailbox } from '../services/mailbox.js'
import { chord } from '../services/chord.js'
import { resolveChordInit } from '../services/chord-init.js'
import { loadOrCreatePrivateKey } from '../storage/node-identity.js'
import { openNodeDatabase } from '../storage/database.js'
import { createChordLibp2p } from './libp2p.js'
import type { ChordLibp2p, ChordLibp2pOptions } from './libp2p.js'
import type { ChordMailbox, ChordMailboxInit } from '../services/mailbox.js'
import type { NodeStatus } from '../membership/join.js'
import type { HealthReport } from '../observability/health.js'
import type { RefusedRequests } from '../observability/refused-requests.js'
import type { ChordService, LookupAnswer, LookupOptions, PutOptions, PutResult } from '../services/chord.js'
import type { ChordInit, ChordTimers } from '../services/chord-init.js'
import type { TlsCredentials } from '../services/platform-defaults.js'
import type { Identity } from '../mailbox/identity.js'
import type { PublicKey } from '../mailbox/public-key.js'
import type { PublishOptions, PublishResult, ResolvedRecord } from '../owned/owned-records.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface ChordNodeTimers extends ChordTimers {
  /** ms between checks that a mailbox subscription is with the node responsible for it */
  subscriptionCheckIntervalMs?: number
}

export interface ChordNodeOptions extends ChordInit {
  /** multiaddrs to listen on; Node default: 0.0.0.0 TCP and WebSockets; browser default: none */
  listen?: string[]
  /**
   * addresses to advertise instead of the listen addresses (to the ring, in peer exchange and
   * identify), e.g. `/dns4/chat.example.org/tcp/443/tls/ws` behind a TLS-terminating proxy
   */
  announce?: string[]
  /** addresses to advertise in addition to the listen addresses */
  appendAnnounce?: string[]
  /** certificate and key (PEM) to serve WebSockets over TLS on `/tls/ws` listen addresses */
  tls?: TlsCredentials
  /**
   * resolve at once and keep trying to join in the background, for as long as it takes, instead
   * of rejecting after `joinTimeoutMs`; `status` says 'joining' until then
   */
  joinInBackground?: boolean
  /** the node's libp2p identity; default: the one kept in `dataDir`, or a new one */
  privateKey?: PrivateKey
  /** maintenance intervals (tests and simulations shorten them) */
  timers?: ChordNodeTimers
  /**
   * the mailbox's settings: the stamp it asks of envelopes past a mailbox's acceptance rates, and
   * those rates; the live subscriptions it serves, in all and per remote peer
   */
  mailbox?: Pick<ChordMailboxInit, 'stampDifficulty' | 'acceptance' | 'maxSubscriptions' | 'maxSubscriptionsPerPeer' | 'maxSubscriptionsPerSubnet'>
  /** caps on inbound connections per address and subnet, and the slots strangers cannot take */
  connectionLimits?: ChordLibp2pOptions['connectionLimits']
  /** lower-level libp2p settings: extra transports, connection gater, DNS resolver, connection monitor */
  libp2p?: Pick<ChordLibp2pOptions, 'transports' | 'connectionGater' | 'dns' | 'connectionMonitor'>
}

/** The services a `ChordNode`'s libp2p node runs besides identify, ping and peer exchange */
export interface ChordNodeServices extends Record<string, unknown> {
  chord: ChordService
  mailbox: ChordMailbox
}

export class ChordNode {
  /** The libp2p node, with the ring's services in `libp2p.services` */
  readonly libp2p: ChordLibp2p<ChordNodeServices>

  constructor (libp2p: ChordLibp2p<ChordNodeServices>) {
    this.libp2p = libp2p
  }

  get peerId (): PeerId {
    return this.libp2p.peerId
  }

  /** hex string of this node's 256-bit ring position */
  get ringId (): string {
    return this.libp2p.services.chord.ringId
  }

  get status (): NodeStatus {
    return this.libp2p.services.chord.status
  }

  /** The end-to-end encrypted mailbox: send, subscribe, ack */
  get mailbox (): ChordMailbox {
    return this.libp2p.services.mailbox
  }

  /** Where this node can be dialled, each address once (libp2p may list one twice, e.g. as listened-on and observed) */
  getMultiaddrs (): Multiaddr[] {
    const unique = new Map(this.libp2p.getMultiaddrs().map(addr => [addr.toString(), addr]))
    return [...unique.values()]
  }

  /** About how many nodes the ring has, as this node can tell (see `ChordService.estimatedRingSize`) */
  estimatedRingSize (): number {
    return this.libp2p.services.chord.estimatedRingSize()
  }

  /** The requests this node has answered with an ERROR since it started, by code (see `ChordService.refusedRequests`) */
  refusedRequests (): RefusedRequests {
    return this.libp2p.services.chord.refusedRequests()
  }

  /** This node's metrics in the Prometheus text format (empty in a browser) */
  async metrics (): Promise<string> {
    return this.libp2p.services.chord.metrics()
  }

  /** A deep health check: whether the node still does its part of the ring, check by check */
  async health (): Promise<HealthReport> {
    return this.libp2p.services.chord.health()
  }

  /** Store `value` under `key` on the key's replica set; resolves once durably written there */
  async put (key: string | Uint8Array, value: Uint8Array, options?: PutOptions): Promise<PutResult> {
    return this.libp2p.services.chord.put(key, value, options)
  }

  /** Every live value stored under `key` (a set: each value once) */
  async get (key: string | Uint8Array, options?: { signal?: AbortSignal }): Promise<Uint8Array[]> {
    return this.libp2p.services.chord.get(key, options)
  }

  /**
   * Publish `value` as `identity`'s record `name` (an owned record: only that identity can write
   * it): resolves to its seq and how many replicas stored it
   */
  async publish (identity: Identity, name: string, value: Uint8Array, options?: PublishOptions): Promise<PublishResult> {
    return this.libp2p.services.chord.publish(identity, name, value, options)
  }

  /** The newest record `address` published under `name`; undefined if none */
  async resolve (address: string | PublicKey, name: string, options?: { signal?: AbortSignal }): Promise<ResolvedRecord | undefined> {
    return this.libp2p.services.chord.resolve(address, name, options)
  }

  /** The node responsible for `key` */
  async lookup (key: string | Uint8Array, options?: LookupOptions): Promise<LookupAnswer> {
    return this.libp2p.services.chord.lookup(key, options)
  }

  /** A consistent snapshot of everything the node keeps, as the lines of a backup (see `ChordService.backup`) */
  backup (options?: { signal?: AbortSignal }): AsyncGenerator<string> {
    return this.libp2p.services.chord.backup(options)
  }

  /** Leave gracefully: hand records to the successor, tell the neighbours, then shut down */
  async stop (): Promise<void> {
    await this.libp2p.stop()
  }
}

/**
 * Start a node and join the ring (or start a new one when no bootstrap address is given).
 *
 * @throws InvalidOptionsError naming the option, before anything listens
 * @throws BootstrapFailedError when no bootstrap address answered within `joinTimeoutMs`
 */
export async function createChordNode (options: ChordNodeOptions = {}): Promise<ChordNode> {
  const { listen, announce, appendAnnounce, tls, joinInBackground, privateKey, libp2p: libp2pOptions, timers = {}, mailbox = {}, connectionLimits, ...init } = options
  const { subscriptionCheckIntervalMs, ...chordTimers } = timers
  const chordInit: ChordInit = { ...init, timers: chordTimers, ...(joinInBackground === true ? { joinTimeoutMs: Infinity } : {}) }
  // checked here too, so that nothing is opened for a node that cannot start
  const { clientMode } = resolveChordInit(chordInit)
  const libp2p = await createChordLibp2p<ChordNodeServices>({
    ...libp2pOptions,
    connectionLimits,
    privateKey: privateKey ?? await keptPrivateKey(init.dataDir),
    listen,
    announce,
    appendAnnounce,
    tls,
    // a client holds no ring position, so it has no ring peers of its own to offer in peer exchange
    peerExchange: !clientMode
  }, {
    chord: chord(chordInit),
    mailbox: chordMailbox({ ...mailbox, subscriptionCheckIntervalMs })
  })
  const node = new ChordNode(libp2p)
  if (joinInBackground !== true) {
    try {
      await libp2p.services.chord.joined()
    } catch (err) {
      // whatever was built is taken down again: a failed start leaves nothing listening or open
      await Promise.resolve(libp2p.stop()).catch(() => {})
      throw err
    }
  }
  return node
}

/** The identity kept in `dataDir` (made and kept there the first time); none without a dataDir */
async function keptPrivateKey (dataDir?: string): Promise<PrivateKey | undefined> {
  if (dataDir == null) {
    return undefined
  }
  const database = await openNodeDatabase(dataDir)
  try {
    return await loadOrCreatePrivateKey(database)
  } finally {
    await database.close()
  }
}
