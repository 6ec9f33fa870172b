/**
 * A node's ring position is bound to its PeerId, which Noise authenticates: its plain position is
 * the hash of the PeerId's multihash bytes, and a minted one hashes those bytes with a nonce
 * (chord/ring-position.ts). Nobody can take a position other than the ones its key earns.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { hashToRingId, ringIdToBytes } from '../chord/id.js'
import { isPlain, positionId } from '../chord/ring-position.js'
import type { RingId } from '../chord/id.js'
import type { PositionProof } from '../chord/ring-position.js'
import type { PeerId } from '@libp2p/interface'

/** The plain position of `peerId`: sha256 of its multihash bytes */
export function ringIdOf (peerId: PeerId): RingId {
  return hashToRingId(peerId.toMultihash().bytes)
}

/** The position `proof` gives `peerId` (its plain one without a proof) */
export function positionOf (peerId: PeerId, proof?: PositionProof): RingId {
  return positionId(peerId.toMultihash().bytes, proof)
}

/**
 * The bytes a peer's positions are bound to, from its name (a PeerId's text): its multihash bytes
 *
 * @throws Error for a name that is no PeerId
 */
export function positionIdentityOf (peer: string): Uint8Array {
  return peerIdFromString(peer).toMultihash().bytes
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

/** A position's proof as peer entries and NOTIFY carry it: nothing for the plain position */
export function proofToWire (proof?: PositionProof): { positionNonce?: Uint8Array<ArrayBuffer>, positionChoice?: number } {
  return proof == null || isPlain(proof) ? {} : { positionNonce: wireBytes(proof.nonce), positionChoice: proof.choice }
}
