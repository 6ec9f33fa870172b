/**
 * A node's ring position is the hash of its PeerId. The PeerId is authenticated by Noise, so
 * nobody can take a position other than the one its key earns.
 */
import { hashToRingId, ringIdToBytes } from '../chord/id.js'
import type { RingId } from '../chord/id.js'
import type { PeerId } from '@libp2p/interface'

export function ringIdOf (peerId: PeerId): RingId {
  return hashToRingId(peerId.toMultihash().bytes)
}

/** A ring id as the wire carries it: 32 bytes, big-endian */
export function ringIdToWire (id: RingId): Uint8Array<ArrayBuffer> {
  return wireBytes(ringIdToBytes(id))
}

/**
 * Bytes typed as the generated codecs ask (backed by an ArrayBuffer). Everything this project
 * hands the codecs is: nothing here allocates a SharedArrayBuffer.
 */
export function wireBytes (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>
}
