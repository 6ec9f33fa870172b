/**
 * The libp2p node a ring member runs on when the library builds it (`createChordNode`):
 * Noise-authenticated, Yamux-multiplexed connections over TCP and WebSockets (WebSockets only in
 * a browser), with identify (peers learn each other's listen addresses and protocols), ping and,
 * unless turned off, peer exchange (/chord/px/1.0.0).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { createLibp2p } from 'libp2p'
import { peerExchange } from '../peer-exchange/peer-exchange.js'
import { DEFAULT_LISTEN_ADDRESSES, defaultTransports } from '../services/platform-defaults.js'
import type { PeerExchange, PeerExchangeInit } from '../peer-exchange/peer-exchange.js'
import type { Identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface'
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
  /** transports in addition to the defaults, e.g. `memory()` in tests */
  transports?: Libp2pOptions['transports']
  /** decides which peers and addresses may connect (tests cut partitions with it) */
  connectionGater?: ConnectionGater
  /** resolves /dnsaddr and /dns* addresses; tests inject a fake resolver */
  dns?: Libp2pOptions['dns']
  /** libp2p's connection monitor; default CONNECTION_MONITOR (off) */
  connectionMonitor?: Libp2pOptions['connectionMonitor']
  /**
   * Answer and ask /chord/px/1.0.0 peer exchange, with these settings when an object is given;
   * default on. A client-mode node, which holds no ring position, turns it off.
   */
  peerExchange?: boolean | PeerExchangeInit
}

/** The services every node the library builds runs */
export interface BaseServices {
  identify: Identify
  ping: Ping
  peerExchange?: PeerExchange
}

export type ChordLibp2p<Services extends Record<string, unknown> = Record<string, never>> = Libp2p<BaseServices & Services>

/** Creates and starts a node with the base services and `services` */
export async function createChordLibp2p<Services extends Record<string, unknown> = Record<string, never>> (
  options: ChordLibp2pOptions = {},
  services?: ServiceFactoryMap<Services>
): Promise<ChordLibp2p<Services>> {
  const exchangePeers = options.peerExchange ?? true
  return createLibp2p({
    privateKey: options.privateKey,
    addresses: {
      listen: options.listen ?? DEFAULT_LISTEN_ADDRESSES
    },
    transports: [...defaultTransports(), ...(options.transports ?? [])],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: options.connectionGater,
    connectionManager: {
      inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_SECOND_PER_IP,
      maxIncomingPendingConnections: MAX_INCOMING_PENDING_CONNECTIONS
    },
    dns: options.dns,
    connectionMonitor: options.connectionMonitor ?? CONNECTION_MONITOR,
    services: {
      identify: identify(),
      ping: ping(),
      ...(exchangePeers === false ? {} : { peerExchange: peerExchange(exchangePeers === true ? {} : exchangePeers) }),
      ...services
    } as ServiceFactoryMap<BaseServices & Services>
  })
}
