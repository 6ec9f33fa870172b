/**
 * A record carried by a recursive lookup (FIND_OWNER) to its key's owner, which stores it as it
 * answers (docs/protocol.md, "Records carried to the owner"). The request reaches the owner
 * through other nodes, so the asker signs the record with its libp2p key, over its nonce: a relay
 * can drop it, not change it or move it to another namespace or key. The owner takes it as a
 * STORE from the node that handed it over (whose budgets and shares pay for it; a signer's name
 * costs nothing to make), and in a mailbox counts it against the signer as a sender too.
 */
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { concat } from 'uint8arrays/concat'
import { fromString } from 'uint8arrays/from-string'
import { InvalidMessageError } from '../errors.js'
import { namespaceToWire } from './namespaces.js'
import { nodeSignatureVerifies, signAsNode } from './node-signatures.js'
import { wireBytes } from './ring-id.js'
import { toStoredWireRecord } from './wire-records.js'
import type { ChordRecord } from '../chord/record.js'
import type { NamespaceName } from '../chord/rpc.js'
import type { Request } from '../protocol/generated/chord.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** Sets these signatures apart from anything else a node's key signs */
export const CARRIED_STORE_DOMAIN = 'libp2p-chord/carried-store/1'

const DOMAIN = fromString(CARRIED_STORE_DOMAIN)

/** The namespace as its one signed byte: its number on the wire */
const NAMESPACE_BYTE: Record<NamespaceName, number> = { records: 0, mailbox: 1, owned: 2 }

/** A carried record as the owner takes it: from `origin`, whose signature checked out */
export interface CarriedStore {
  namespace: NamespaceName
  record: ChordRecord
  origin: PeerId
  signature: Uint8Array
}

/**
 * What the asker signs: the domain, its nonce, the namespace, the record's key, id and expiry
 * (fixed lengths), then its stamp's length and the stamp
 */
export function carriedSignedBytes (nonce: Uint8Array, namespace: NamespaceName, record: ChordRecord): Uint8Array {
  const fixed = new Uint8Array(1 + 8 + 1)
  const view = new DataView(fixed.buffer)
  view.setUint8(0, NAMESPACE_BYTE[namespace])
  view.setBigUint64(1, BigInt(record.expiresAt))
  view.setUint8(9, record.stamp?.byteLength ?? 0)
  return concat([DOMAIN, nonce, fixed.subarray(0, 1), record.key, record.id, fixed.subarray(1), record.stamp ?? new Uint8Array(0)])
}

/** Our signature for carrying `record` on the FIND_OWNER whose nonce is `nonce` */
export async function signCarriedStore (privateKey: PrivateKey, nonce: Uint8Array, namespace: NamespaceName, record: ChordRecord): Promise<Uint8Array<ArrayBuffer>> {
  return wireBytes(await signAsNode(privateKey, carriedSignedBytes(nonce, namespace, record)))
}

/**
 * The asker a carried record names, from its peer id's bytes.
 *
 * @throws InvalidMessageError when they are no peer id, or one that holds no key to check with
 */
export function carriedOrigin (bytes: Uint8Array): PeerId {
  let origin: PeerId
  try {
    origin = peerIdFromMultihash(Digest.decode(bytes))
  } catch (err) {
    throw new InvalidMessageError('a carried record\'s origin is not a peer id', { cause: err })
  }
  if (origin.publicKey == null) {
    throw new InvalidMessageError(`${origin} has no key in its peer id to check the record it carries with`)
  }
  return origin
}

/** A FIND_OWNER's fields for a carried record: the record, its namespace, who signed it and the signature */
export function carriedStoreFields ({ namespace, record, origin, signature }: CarriedStore): Partial<Request> {
  return {
    namespace: namespaceToWire(namespace),
    records: [toStoredWireRecord(record)],
    origin: wireBytes(origin.toMultihash().bytes),
    originSignature: wireBytes(signature)
  }
}

/** Whether the origin signed the carried record for the request whose nonce is `nonce` */
export async function carriedStoreVerifies (carried: CarriedStore, nonce: Uint8Array): Promise<boolean> {
  const key = carried.origin.publicKey
  return key != null && await nodeSignatureVerifies(key, carriedSignedBytes(nonce, carried.namespace, carried.record), carried.signature)
}
