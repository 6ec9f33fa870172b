/**
 * Which addresses the peer store keeps for a peer that is connected. Identify stores what a peer
 * lists as its own listen addresses, and the node dials them to reach it again: a peer on the
 * public Internet that listed private ones would have the node connect into its operator's own
 * networks, as answers and peer exchange could before they sorted addresses by who sent them
 * (transport/private-addresses.ts). So while the node is connected to a peer, and over no private
 * address, that peer's private addresses are not stored. A peer the node is not connected to gets
 * its addresses from the node's own parts (bootstrap, the peer cache, answers already sorted), so
 * they pass; on one host or a LAN every connection is private, and everything passes as before.
 */
import { isPrivateAddress, isPrivateConnection as privateConnection } from '../transport/private-addresses.js'
import type { Connection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export class IdentifiedAddresses {
  /** the node's open connections to a peer; until it is set, nothing is connected */
  connectionsOf?: (peer: PeerId) => Connection[]
  private readonly isPrivateConnection: (connection: Connection) => boolean

  /** @param isPrivateConnection - whether a connection's peer is on the node's own networks */
  constructor (isPrivateConnection: (connection: Connection) => boolean = privateConnection) {
    this.isPrivateConnection = isPrivateConnection
  }

  /** Whether the peer store may keep `address` for `peer` */
  keeps (peer: PeerId, address: Multiaddr): boolean {
    if (!isPrivateAddress(address)) {
      return true
    }
    const connections = this.connectionsOf?.(peer) ?? []
    return connections.length === 0 || connections.some(connection => this.isPrivateConnection(connection))
  }
}
