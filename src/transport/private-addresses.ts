/**
 * Which addresses other peers may send this node to. A node dials the addresses that answers and
 * peer exchange name for other peers; a peer on the public Internet that named private ones
 * (10.0.0.0/8, 192.168.0.0/16, 127.0.0.1, ::1, fc00::/7, fe80::/10, …) would have the node open
 * connections into its operator's own networks, each sending what listens there the first bytes
 * of a libp2p handshake. So such addresses are taken only from a peer that is itself on one of
 * those networks (we reached it, or it reached us, over a private or loopback address): a ring on
 * one host or a LAN works as before, and a public peer's private addresses are dropped.
 *
 * What cannot be classified here: a DNS name resolves only when dialled, so it is taken as the
 * public name its sender says it is (`localhost` apart), though its owner may point it at a
 * private address. A `/p2p-circuit` address is classified by its relay's address, which is where
 * a dial goes; a relayed connection is never private, since the peer behind it is wherever the
 * relay let it in from.
 */
import { isPrivate } from '@libp2p/utils'
import { CODE_DNS, CODE_DNS4, CODE_DNS6, CODE_DNSADDR, CODE_MEMORY, CODE_P2P_CIRCUIT, CODE_UNIX } from '@multiformats/multiaddr'
import type { Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Transports whose addresses reach only this host: Unix sockets (the TCP transport dials them too) and the in-process memory transport */
const HOST_ONLY_TRANSPORTS = new Set([CODE_UNIX, CODE_MEMORY])

/**
 * Whether dialling `address` reaches only this host or the networks it sits on: libp2p's private
 * ranges (loopback, RFC 1918, carrier-grade NAT, link-local, IPv6 unique-local, `localhost`) and
 * the HOST_ONLY_TRANSPORTS
 */
export function isPrivateAddress (address: Multiaddr): boolean {
  const first = address.getComponents()[0]
  return isPrivate(address) || (first != null && (HOST_ONLY_TRANSPORTS.has(first.code) || (DNS.has(first.code) && isLocalhostName(first.value))))
}

const DNS = new Set([CODE_DNS, CODE_DNS4, CODE_DNS6, CODE_DNSADDR])

/** `localhost` in any case, with or without the root's dot, and its subdomains (RFC 6761): libp2p's check takes only `localhost` as written */
function isLocalhostName (name: string | undefined): boolean {
  const host = name?.toLowerCase().replace(/\.$/, '')
  return host === 'localhost' || host?.endsWith('.localhost') === true
}

/** Whether the peer at the other end of `connection` is on this node's own networks: its remote address is private, and not relayed */
export function isPrivateConnection (connection: Pick<Connection, 'remoteAddr'>): boolean {
  const relayed = connection.remoteAddr.getComponents().some(component => component.code === CODE_P2P_CIRCUIT)
  return !relayed && isPrivateAddress(connection.remoteAddr)
}

/** The addresses a peer may send us to: all of them from a peer on our networks, else the public ones */
export function addressesTaken (addresses: Multiaddr[], fromPrivatePeer: boolean): Multiaddr[] {
  return fromPrivatePeer ? addresses : addresses.filter(address => !isPrivateAddress(address))
}
