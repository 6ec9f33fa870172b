/**
 * A way into a ring: an address to dial (a bootstrap address, possibly `/dnsaddr`, which libp2p
 * resolves) or a peer known by its id (from the peer cache or the peer store, whose addresses
 * libp2p holds). Reaching one means connecting to it: the Noise-authenticated connection says
 * which peer answered, and so which ring position it holds.
 */
import { ringIdOf } from '../transport/ring-id.js'
import type { NodeRef } from '../chord/rpc.js'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export type EntryCandidate = { address: Multiaddr } | { peerId: PeerId }

/** What reaching a candidate needs from libp2p; a libp2p node satisfies it */
export interface EntryDialer {
  dial(target: Multiaddr | PeerId, options?: AbortOptions): Promise<{ remotePeer: PeerId }>
}

/** Connect to the candidate; resolves to the ring node that answered */
export async function reachEntry (dialer: EntryDialer, candidate: EntryCandidate, options: AbortOptions = {}): Promise<NodeRef> {
  const target = 'address' in candidate ? candidate.address : candidate.peerId
  const { remotePeer } = await dialer.dial(target, options)
  return { id: ringIdOf(remotePeer), peer: remotePeer.toString() }
}

export function describeEntry (candidate: EntryCandidate): string {
  return 'address' in candidate ? candidate.address.toString() : `peer ${candidate.peerId.toString()}`
}
