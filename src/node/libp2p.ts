/**
 * The libp2p node a ring member runs on when the library builds it (`createChordNode`):
 * Noise-authenticated, Yamux-multiplexed connections over TCP and WebSockets (WebSockets only in
 * a browser), with identify (peers learn each other's listen addresses and protocols), ping and,
 * unless turned off, peer exchange (/chord/px/1.0.0).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { createLibp2p } from 'libp2p'
import { multiaddr } from '@multiformats/multiaddr'
import { peerExchange } from '../peer-exchange/peer-exchange.js'
import { InvalidOptionsError } from '../errors.js'
import { DEFAULT_LISTEN_ADDRESSES, defaultTransports } from '../services/platform-defaults.js'
import { boundedNegotiation, boundedUpgrades } from './bounded-negotiation.js'
import { closingWebSocketResets } from './closing-websocket-resets.js'
import { connectionGuard } from './connection-guard.js'
import { IdentifiedAddresses } from './identified-addresses.js'
import { InboundConnectionLimits, withConnectionLimits } from './connection-limits.js'
import { MAX_CONNECTIONS, MAX_EARLY_STREAMS, RESERVED_RING_SLOTS } from './constants.js'
import { fewerWindowUpdates } from './fewer-window-updates.js'
import { overridden } from './overridden.js'
import { pacedPing } from './paced-ping.js'
import { quietLengthDecoding } from './quiet-length-decoding.js'
import { wholeMessageWrites } from './whole-message-writes.js'
import type { ConnectionGuard } from './connection-guard.js'
import type { ConnectionLimits } from './connection-limits.js'
import type { PeerExchange, PeerExchangeInit } from '../peer-exchange/peer-exchange.js'
import type { TlsCredentials } from '../services/platform-defaults.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Identify } from '@libp2p/identify'
import type { Connection, ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Libp2pOptions, ServiceFactoryMap } from 'libp2p'

/**
 * New connections accepted per second from one IP address (libp2p's default is 5). Rings run on
 * one machine in tests and benchmarks, and a node joining a ring of N connects to about log2(N)
 * others within a second, all from 127.0.0.1; a bootstrap node of a 100-node test ring hears from
 * nearly all of them at once.
 */
export const INBOUND_CONNECTIONS_PER_SECOND_PER_IP = 100

/**
 * Connections still in their Noise/Yamux upgrade at once (libp2p's default is 10): the same burst
 * as above, with each upgrade needing only a few milliseconds of CPU.
 */
export const MAX_INCOMING_PENDING_CONNECTIONS = 32

/**
 * libp2p's connection monitor, off unless asked for. It pings every open connection (by default
 * every 10 s, on a new stream each time) and closes those that stop answering. A ring node keeps
 * a connection to each of its fingers and neighbours and to the nodes that have it as theirs
 * (about 20 in a quiet ring of 32, over 50 in one of 128), so at 10 s it cost a quiet node more
 * CPU (4 ms a second) and traffic (1 KB a second) than all of ring maintenance, and still half a
 * millisecond a second at 5 minutes in a ring of 128. What it is for is done without it: the ring
 * finds dead neighbours by its own checks and deadlines, and a /chord request that times out on a
 * connection that carries nothing else closes it, so that the next request to that peer dials
 * afresh (transport/rpc-client.ts); connections nobody uses are closed by TCP once Yamux's
 * keep-alive pings go unanswered (its retransmission timeout, about a quarter of an hour).
 * `createChordNode({ libp2p: { connectionMonitor: {} } })` turns it back on.
 */
export const CONNECTION_MONITOR = { enabled: false }

export interface ChordLibp2pOptions {
  /** the node's identity; a new Ed25519 key when omitted */
  privateKey?: PrivateKey
  /** multiaddrs to listen on; default DEFAULT_LISTEN_ADDRESSES (browsers pass []) */
  listen?: string[]
  /**
   * the addresses to advertise instead of the listen addresses (to the ring, in peer exchange and
   * identify): a public `/dns4/…/tcp/443/tls/ws` behind a TLS-terminating proxy, a NAT's address
   */
  announce?: string[]
  /** addresses to advertise in addition to the listen addresses */
  appendAnnounce?: string[]
  /** certificate and key to serve WebSockets over TLS on `/tls/ws` (or `/wss`) listen addresses */
  tls?: TlsCredentials
  /** transports in addition to the defaults, e.g. `memory()` in tests */
  transports?: Libp2pOptions['transports']
  /** decides which peers and addresses may connect (tests cut partitions with it); the connection limits apply first */
  connectionGater?: ConnectionGater
  /** caps on inbound connections per address and subnet, and the slots strangers cannot take; each left out is its default */
  connectionLimits?: Partial<ConnectionLimits>
  /** resolves /dnsaddr and /dns* addresses; tests inject a fake resolver */
  dns?: Libp2pOptions['dns']
  /** libp2p's connection monitor; default CONNECTION_MONITOR (off) */
  connectionMonitor?: Libp2pOptions['connectionMonitor']
  /**
   * Answer and ask /chord/px/1.0.0 peer exchange, with these settings when an object is given;
   * default on. A client-mode node, which holds no ring position, turns it off.
   */
  peerExchange?: boolean | PeerExchangeInit
  /**
   * whether the peer at the other end of a connection is on this node's own networks, whose
   * private addresses it may list for itself (identify) and name in peer exchange; default: the
   * connection's remote address is private and not relayed (transport/private-addresses.ts); tests
   * on one host say every connection is public
   */
  isPrivateConnection?(connection: Connection): boolean
}

/** The services every node the library builds runs */
export interface BaseServices {
  identify: Identify
  ping: Ping
  connectionGuard: ConnectionGuard
  peerExchange?: PeerExchange
}

export type ChordLibp2p<Services extends Record<string, unknown> = Record<string, never>> = Libp2p<BaseServices & Services>

/** Creates and starts a node with the base services and `services` */
export async function createChordLibp2p<Services extends Record<string, unknown> = Record<string, never>> (
  options: ChordLibp2pOptions = {},
  services?: ServiceFactoryMap<Services>
): Promise<ChordLibp2p<Services>> {
  const exchangePeers = options.peerExchange ?? true
  const listen = multiaddrsOf('listen', options.listen ?? DEFAULT_LISTEN_ADDRESSES)
  if (options.tls == null && listen.some(isSecureWebSocket)) {
    throw new InvalidOptionsError(`listen: ${listen.filter(isSecureWebSocket).join(', ')} serves WebSockets over TLS and needs a certificate: give tls { cert, key } (or listen on /ws behind a TLS-terminating proxy and announce its address)`)
  }
  const limits = new InboundConnectionLimits(options.connectionLimits)
  const maxConnections = options.connectionLimits?.maxConnections ?? MAX_CONNECTIONS
  if (!Number.isSafeInteger(maxConnections) || maxConnections < 2) {
    throw new InvalidOptionsError(`connectionLimits.maxConnections must be an integer of at least 2, got ${String(maxConnections)}`)
  }
  const reservedRingSlots = options.connectionLimits?.reservedRingSlots ?? RESERVED_RING_SLOTS
  if (!Number.isSafeInteger(reservedRingSlots) || reservedRingSlots < 0 || reservedRingSlots >= maxConnections) {
    throw new InvalidOptionsError(`connectionLimits.reservedRingSlots must be an integer from 0 to ${maxConnections - 1}, got ${String(reservedRingSlots)}`)
  }
  const identified = new IdentifiedAddresses(options.isPrivateConnection)
  const gater = boundedUpgrades(withConnectionLimits(limits, options.connectionGater))
  // made stopped, so that the peer store's filter knows the node's connections before the first
  const node = await createLibp2p({
    start: false,
    privateKey: options.privateKey,
    addresses: {
      listen: listen.map(String),
      announce: multiaddrsOf('announce', options.announce ?? []).map(String),
      appendAnnounce: multiaddrsOf('appendAnnounce', options.appendAnnounce ?? []).map(String)
    },
    transports: [...defaultTransports(options.tls), ...(options.transports ?? [])].map(closingWebSocketResets),
    connectionEncrypters: [quietLengthDecoding(wholeMessageWrites(noise()))],
    streamMuxers: [boundedNegotiation(fewerWindowUpdates(yamux({ maxEarlyStreams: MAX_EARLY_STREAMS })))],
    connectionGater: overridden(gater, {
      filterMultiaddrForPeer: async (peer, address) => identified.keeps(peer, address) && (await gater.filterMultiaddrForPeer?.(peer, address) ?? true)
    }),
    connectionManager: {
      maxConnections,
      inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_SECOND_PER_IP,
      maxIncomingPendingConnections: MAX_INCOMING_PENDING_CONNECTIONS
    },
    dns: options.dns,
    connectionMonitor: options.connectionMonitor ?? CONNECTION_MONITOR,
    services: {
      identify: identify(),
      ping: pacedPing(),
      connectionGuard: connectionGuard({ reservedRingSlots }),
      ...(exchangePeers === false ? {} : { peerExchange: peerExchange({ isPrivateConnection: options.isPrivateConnection, ...(exchangePeers === true ? {} : exchangePeers) }) }),
      ...services
    } as ServiceFactoryMap<BaseServices & Services>
  })
  identified.connectionsOf = peer => node.getConnections(peer)
  await node.start()
  return node
}

/**
 * The addresses an option names, each checked to be a multiaddr
 *
 * @throws InvalidOptionsError naming the option and the address
 */
function multiaddrsOf (option: string, addresses: string[]): Multiaddr[] {
  if (!Array.isArray(addresses)) {
    throw new InvalidOptionsError(`${option} must be an array of multiaddr strings`)
  }
  return addresses.map(address => {
    try {
      return multiaddr(address)
    } catch (err) {
      throw new InvalidOptionsError(`${option}: ${JSON.stringify(address)} is not a multiaddr (e.g. /ip4/203.0.113.7/tcp/4001)`, { cause: err })
    }
  })
}

/** WebSockets over TLS, as the WebSockets transport listens on them: `/tls/ws` or `/wss` */
function isSecureWebSocket (address: Multiaddr): boolean {
  const names = address.getComponents().map(component => component.name)
  return names.includes('wss') || (names.includes('tls') && names.includes('ws'))
}
