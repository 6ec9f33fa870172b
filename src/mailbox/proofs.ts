/**
 * What a mailbox owner signs to prove ownership: the answer to a node's subscribe challenge, and
 * the deletion of acknowledged messages. Each purpose has its own signing context, and each
 * transcript binds everything it authorises (which node, which mailbox, which ids, when), so a
 * signature cannot be replayed for another purpose, node or mailbox.
 */
import { equals } from 'uint8arrays/equals'
import { ForbiddenError, VerificationError } from '../errors.js'
import { transcript, uint64 } from '../chord/transcript.js'
import { verifySignature } from './identity.js'
import { PublicKey, mailboxKey } from './public-key.js'
import type { Identity } from './identity.js'
import type { SignedDeletion } from '../chord/rpc.js'

export const SUBSCRIBE_CONTEXT = 'libp2p-chord/mailbox/subscribe/v1'
export const DELETE_CONTEXT = 'libp2p-chord/mailbox/delete/v1'

/** The bytes an owner signs to answer `nonce` from the node whose PeerId bytes are `node` */
function challengeTranscript (node: Uint8Array, mailbox: Uint8Array, nonce: Uint8Array): Uint8Array {
  return transcript(SUBSCRIBE_CONTEXT, node, mailbox, nonce)
}

function deletionTranscript (key: Uint8Array, ids: Uint8Array[], signedAt: number): Uint8Array {
  return transcript(DELETE_CONTEXT, key, uint64(signedAt), ...ids)
}

export async function answerChallenge (identity: Identity, node: Uint8Array, nonce: Uint8Array): Promise<Uint8Array> {
  return identity.sign(challengeTranscript(node, mailboxKey(identity.publicKey), nonce), SUBSCRIBE_CONTEXT)
}

/** @throws VerificationError if `signature` is not the owner's answer to this node's `nonce` */
export async function verifyChallengeAnswer (owner: PublicKey, node: Uint8Array, nonce: Uint8Array, signature: Uint8Array): Promise<void> {
  const signed = challengeTranscript(node, mailboxKey(owner), nonce)
  if (!await verifySignature(owner, signed, signature, SUBSCRIBE_CONTEXT)) {
    throw new VerificationError('the challenge answer does not verify for this mailbox owner')
  }
}

export async function signDeletion (identity: Identity, ids: Uint8Array[], signedAt: number): Promise<SignedDeletion> {
  const key = mailboxKey(identity.publicKey)
  const signature = await identity.sign(deletionTranscript(key, ids, signedAt), DELETE_CONTEXT)
  return { key, ids, owner: identity.publicKey.bytes, signedAt, signature }
}

/**
 * @throws ForbiddenError if the owner key does not own the mailbox named;
 * VerificationError if the signature does not verify
 */
export async function verifyDeletion (deletion: SignedDeletion): Promise<void> {
  const owner = PublicKey.fromBytes(deletion.owner)
  if (!equals(mailboxKey(owner), deletion.key)) {
    throw new ForbiddenError('the signer does not own this mailbox')
  }
  const signed = deletionTranscript(deletion.key, deletion.ids, deletion.signedAt)
  if (!await verifySignature(owner, signed, deletion.signature, DELETE_CONTEXT)) {
    throw new VerificationError('the deletion is not signed by the mailbox owner')
  }
}
