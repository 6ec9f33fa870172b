/**
 * Peers that exist only on the wire: what a hostile node names to fill another's peer store. A
 * PeerId costs nothing to make up (a random public key; no private key is needed to name it).
 */
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { ringIdOf, ringIdToWire, wireBytes } from '../../src/transport/ring-id.js'
import type { Peer } from '../../src/protocol/generated/chord.js'
import type { PeerId } from '@libp2p/interface'

/** A random Ed25519 peer id, as an identity multihash of its protobuf public key: 2 + 4 + 32 bytes */
export function madeUpPeerId (): PeerId {
  const multihash = new Uint8Array(38)
  multihash.set([0x00, 0x24, 0x08, 0x01, 0x12, 0x20])
  crypto.getRandomValues(multihash.subarray(6))
  return peerIdFromMultihash(Digest.decode(multihash))
}

/** A wire entry of a made-up peer: its position and four long addresses (`index` keeps them apart) */
export function madeUpPeer (index: number, peerId = madeUpPeerId()): Peer {
  const addrs = Array.from({ length: 4 }, (_, i) => wireBytes(multiaddr(`/dns4/${'a'.repeat(200)}-${index}-${i}.example/tcp/${1000 + i}`).bytes))
  return { peerId: wireBytes(peerId.toMultihash().bytes), ringId: ringIdToWire(ringIdOf(peerId)), addrs }
}
