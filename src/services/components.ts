/**
 * The libp2p components the ring's services use, as libp2p hands them to every service, and the
 * node-shaped view of them that the parts take. The parts ask for `dial`, `handle`,
 * `getConnections` … as a libp2p node offers them, so a test can build any part with a plain
 * libp2p node; a service builds them from its components through `nodeView`.
 */
import { PeerExchange } from '../peer-exchange/peer-exchange.js'
import type {
  AbortOptions, ComponentLogger, Connection, Libp2pEvents, PeerId, PeerStore, PrivateKey, Stream, StreamHandler, StreamHandlerOptions, Topology
} from '@libp2p/interface'
import type { AddressManager, ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { TypedEventTarget } from 'main-event'

export interface ChordComponents {
  peerId: PeerId
  privateKey: PrivateKey
  logger: ComponentLogger
  peerStore: PeerStore
  registrar: Registrar
  connectionManager: ConnectionManager
  addressManager: AddressManager
  /** libp2p's events: the ring hears of closed connections to its neighbours */
  events: TypedEventTarget<Libp2pEvents>
}

/** libp2p's node methods the parts use */
export interface NodeView {
  peerId: PeerId
  logger: ComponentLogger
  peerStore: PeerStore
  dial(peer: PeerId | Multiaddr, options?: AbortOptions): Promise<Connection>
  dialProtocol(peer: PeerId, protocol: string, options?: AbortOptions): Promise<Stream>
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string, options?: AbortOptions): Promise<void>
  register(protocol: string, topology: Topology): Promise<string>
  unregister(id: string): void
  getMultiaddrs(): Multiaddr[]
  getConnections(peerId?: PeerId): Connection[]
}

export function nodeView (components: ChordComponents): NodeView {
  const { peerId, logger, peerStore, registrar, connectionManager, addressManager } = components
  return {
    peerId,
    logger,
    peerStore,
    dial: async (peer, options) => connectionManager.openConnection(peer, options),
    dialProtocol: async (peer, protocol, options) => connectionManager.openStream(peer, protocol, options),
    handle: async (protocol, handler, options) => registrar.handle(protocol, handler, options),
    unhandle: async (protocol, options) => registrar.unhandle(protocol, options),
    register: async (protocol, topology) => registrar.register(protocol, topology),
    unregister: id => { registrar.unregister(id) },
    getMultiaddrs: () => addressManager.getAddresses(),
    getConnections: peer => connectionManager.getConnections(peer)
  }
}

/**
 * The node's peer exchange service, when it runs this package's under the name `peerExchange`
 * (as `createChordNode` does); undefined otherwise
 */
export function peerExchangeOf (components: ChordComponents): PeerExchange | undefined {
  try {
    const service = (components as unknown as Record<string, unknown>).peerExchange
    return service instanceof PeerExchange ? service : undefined
  } catch {
    // libp2p's components throw for a service the node does not run
    return undefined
  }
}
