/**
 * Proof-of-work stamps on envelopes: what a sender pays, in hashing, to have an envelope taken by
 * a mailbox that is taking envelopes faster than its acceptance rate. A stamp is a nonce such
 * that
 *
 *   sha256(transcript("libp2p-chord/envelope-stamp/v1", mailbox key, envelope id, nonce))
 *
 * begins with at least `difficulty` zero bits: hashcash, bound to one envelope in one mailbox, so
 * it cannot be spent on another. Checking one costs a node one sha256; making one costs the sender
 * about 2^difficulty.
 */
import { InvalidOptionsError } from '../errors.js'
import { findNonce, leadingZeroBits } from '../chord/proof-of-work.js'
import { labelledHash } from '../chord/transcript.js'
import { MAX_STAMP_DIFFICULTY, STAMP_BYTES, STAMP_LABEL } from './constants.js'

/** The leading zero bits of the stamp's hash: how much work it proves (0 for a stamp of the wrong size) */
export function stampWork (mailboxKey: Uint8Array, envelopeId: Uint8Array, stamp: Uint8Array): number {
  if (stamp.byteLength !== STAMP_BYTES) {
    return 0
  }
  return leadingZeroBits(labelledHash(STAMP_LABEL, mailboxKey, envelopeId, stamp))
}

/**
 * A stamp of at least `difficulty` bits for the envelope `envelopeId` in the mailbox `mailboxKey`.
 * Yields to the event loop every few thousand hashes, and gives up when `signal` aborts.
 *
 * @throws InvalidOptionsError for a difficulty outside 1 to MAX_STAMP_DIFFICULTY
 */
export async function makeStamp (mailboxKey: Uint8Array, envelopeId: Uint8Array, difficulty: number, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  if (!Number.isInteger(difficulty) || difficulty < 1 || difficulty > MAX_STAMP_DIFFICULTY) {
    throw new InvalidOptionsError(`a stamp's difficulty is 1 to ${MAX_STAMP_DIFFICULTY} bits, got ${difficulty}`)
  }
  return findNonce(stamp => stampWork(mailboxKey, envelopeId, stamp), difficulty, options)
}
