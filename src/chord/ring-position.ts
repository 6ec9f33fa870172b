/**
 * Where a node sits on the ring, bound to the identity its transport authenticates (on libp2p,
 * the PeerId bytes: for an Ed25519 key, the public key itself) and, when the network asks for it,
 * paid for with work (a static puzzle, as in S/Kademlia).
 *
 * A position is proven by a nonce and a choice:
 *
 *   puzzle(identity, nonce)  = sha256(transcript(POSITION_PUZZLE_LABEL, identity, nonce))
 *   position(identity, ∅, 0) = sha256(identity)                                   the plain id
 *   position(identity, nonce, choice)
 *                            = sha256(transcript(POSITION_LABEL, identity, nonce, uint64be(choice)))
 *
 * In a network of difficulty d and c choices a position is valid when its puzzle begins with at
 * least d zero bits and its choice is below c. The puzzle binds the work to the identity, and the
 * position hashes the nonce once more so that positions spread evenly over the ring (a position
 * that had to begin with d zero bits would crowd into 2^-d of it). Minting costs about 2^d hashes,
 * checking two; the c choices one nonce opens let a joining node pick, without paying again, the
 * candidate that evens the load (position-choice.ts). With no nonce and choice 0 a node sits where
 * nodes that predate positions do, so a network of difficulty 0 and one choice is unchanged.
 */
import { findNonce, leadingZeroBits } from './proof-of-work.js'
import { hashToRingId, ringIdFromBytes } from './id.js'
import { labelledHash, uint64 } from './transcript.js'
import type { RingId } from './id.js'

/** Domain separation of the hash that proves the work */
export const POSITION_PUZZLE_LABEL = 'libp2p-chord/ring-position-puzzle/v1'

/** Domain separation of the hash that places a node with a nonce or a choice */
export const POSITION_LABEL = 'libp2p-chord/ring-position/v1'

/** How a node's position was minted: the nonce that pays the network's difficulty, and the candidate taken */
export interface PositionProof {
  readonly nonce: Uint8Array
  readonly choice: number
}

/** The position every identity has without minting anything: no nonce, choice 0 */
export const PLAIN_POSITION: PositionProof = { nonce: new Uint8Array(0), choice: 0 }

/** Whether `proof` names the plain position (and so need not travel) */
export function isPlain (proof: PositionProof = PLAIN_POSITION): boolean {
  return proof.nonce.byteLength === 0 && proof.choice === 0
}

/** The ring position `proof` gives `identity` */
export function positionId (identity: Uint8Array, proof: PositionProof = PLAIN_POSITION): RingId {
  if (isPlain(proof)) {
    return hashToRingId(identity)
  }
  return ringIdFromBytes(labelledHash(POSITION_LABEL, identity, proof.nonce, uint64(proof.choice)))
}

/** The leading zero bits of the puzzle of `identity` with `nonce`: the work the nonce proves */
export function puzzleWork (identity: Uint8Array, nonce: Uint8Array): number {
  return leadingZeroBits(labelledHash(POSITION_PUZZLE_LABEL, identity, nonce))
}

/**
 * A nonce whose puzzle meets `difficulty` for `identity`: none at difficulty 0, where positions
 * cost nothing; otherwise the first that does (about 2^difficulty hashes)
 */
export async function mintNonce (identity: Uint8Array, difficulty: number, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  if (difficulty === 0) {
    return new Uint8Array(0)
  }
  return findNonce(nonce => puzzleWork(identity, nonce), difficulty, options)
}

/** The `choices` candidate positions one nonce opens for `identity`, choice 0 first */
export function candidatePositions (identity: Uint8Array, nonce: Uint8Array, choices: number): Array<{ id: RingId, proof: PositionProof }> {
  return Array.from({ length: choices }, (_, choice) => {
    const proof = { nonce, choice }
    return { id: positionId(identity, proof), proof }
  })
}
