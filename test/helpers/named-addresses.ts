/**
 * Addresses a hostile peer names for others, sorted the way a node must sort them: private ones,
 * which reach only the node's own host or networks (a public peer naming them would have the node
 * probe its operator's internal network), and public ones. Eight in all: as many as one peer may
 * carry on the wire (MAX_ADDRS_PER_PEER). The nodes of these tests dial 127.0.0.1 only.
 */
import { isLoopback } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { knownPeer } from '../../src/transport/known-peer.js'
import type { Connection, ConnectionGater, PeerId, PeerStore } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** One of each kind: RFC 1918 (two), loopback (IPv4 and IPv6), IPv6 unique-local and link-local */
export const PRIVATE_ADDRESSES = [
  '/ip4/10.1.2.3/tcp/4001',
  '/ip4/192.168.1.2/tcp/4001',
  '/ip4/127.0.0.1/tcp/22',
  '/ip6/::1/tcp/4001',
  '/ip6/fd12:3456::1/tcp/4001',
  '/ip6/fe80::1/tcp/4001'
].map(address => multiaddr(address))

/** A public IP and a DNS name (resolved only when dialled, so it cannot be told apart now) */
export const PUBLIC_ADDRESSES = ['/ip4/1.2.3.4/tcp/4001', '/dns4/ring.example.org/tcp/4001'].map(address => multiaddr(address))

/** Addresses as sorted text, to compare as sets */
export function sorted (addresses: Multiaddr[]): string[] {
  return addresses.map(address => address.toString()).sort()
}

/** What `peerStore` holds for `peer`: its addresses as sorted text, undefined when it does not know it */
export async function storedAddresses (peerStore: PeerStore, peer: PeerId): Promise<string[] | undefined> {
  const known = await knownPeer(peerStore, peer)
  return known == null ? undefined : sorted(known.addresses.map(address => address.multiaddr))
}

/** Lets a node dial nothing but 127.0.0.1: whatever addresses a test makes it learn, no traffic leaves the host */
export const loopbackDialsOnly: ConnectionGater = {
  denyDialMultiaddr: async address => !isLoopback(address)
}

/** A stand-in for a connection whose remote address is `address`: where a message it carried came from */
export function connectionFrom (address: string): Connection {
  return { remoteAddr: multiaddr(address) } as unknown as Connection
}
