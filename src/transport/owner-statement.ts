/**
 * The owner's statement that answers a recursive lookup (FIND_OWNER, docs/protocol.md): its own
 * peer entry and its neighbours, signed with its libp2p key over the asker's nonce and the target.
 * Whoever relays it, the asker believes only what the owner signed for this one request; the
 * relays can drop it or delay it, not change any of it (its position, its addresses, its
 * neighbours) or answer with an old one. Nothing of it is used before the signature checks out.
 *
 * When the request carried a record (carried-store.ts) and the owner stored it, the statement
 * says so under a domain of its own, with the record's id: a relay can neither claim a write that
 * did not happen nor hide one that did without the statement failing its check.
 */
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { concat } from 'uint8arrays/concat'
import { equals } from 'uint8arrays/equals'
import { fromString } from 'uint8arrays/from-string'
import { sha256 } from '../chord/id.js'
import { InvalidMessageError, VerificationError } from '../errors.js'
import { Neighbours as NeighboursCodec, Peer as PeerCodec } from '../protocol/generated/chord.js'
import { nodeSignatureVerifies, signAsNode } from './node-signatures.js'
import { wireBytes } from './ring-id.js'
import { decodeStatedNeighbours, decodeStatedPeer } from './validate.js'
import type { WirePeers } from './wire-peers.js'
import type { NodeRef, Neighbours, OwnerStatement } from '../chord/rpc.js'
import type { OwnerStatement as WireOwnerStatement } from '../protocol/generated/chord.js'
import type { Connection, PeerId, PrivateKey } from '@libp2p/interface'

/** The node that handed us an owner's statement, and the connection it came over */
export interface Relay {
  peerId: PeerId
  connection: Connection
}

/** Sets these signatures apart from anything else a node's key signs (Noise handshakes, peer records) */
export const OWNER_STATEMENT_DOMAIN = 'libp2p-chord/owner-statement/1'

/** The domain of a statement whose owner also stored the record the request carried */
export const OWNER_STATEMENT_STORED_DOMAIN = 'libp2p-chord/owner-statement-stored/1'

const DOMAIN = fromString(OWNER_STATEMENT_DOMAIN)
const STORED_DOMAIN = fromString(OWNER_STATEMENT_STORED_DOMAIN)

/**
 * What the owner signs: the domain, the nonce and target (fixed lengths), a hash of its own
 * encoded peer entry (fixed length), the id of the record it stored if it did (fixed length, and
 * then the other domain), then its encoded neighbours
 */
export function signedBytes (nonce: Uint8Array, target: Uint8Array, owner: Uint8Array, neighbours: Uint8Array, stored?: Uint8Array): Uint8Array {
  return stored == null
    ? concat([DOMAIN, nonce, target, sha256(owner), neighbours])
    : concat([STORED_DOMAIN, nonce, target, sha256(owner), stored, neighbours])
}

/** Keys whose PeerId carries them, so that an asker can check what they sign */
const KEYS_IN_PEER_IDS = new Set(['Ed25519', 'secp256k1'])

/** Whether others can check what `privateKey` signs, its PeerId carrying the public key: an owner's statement, a carried record */
export function canStateOwnership (privateKey: PrivateKey): boolean {
  return KEYS_IN_PEER_IDS.has(privateKey.type)
}

/**
 * Our statement as the owner of `target`, for the asker whose request carried `nonce`; `stored`,
 * the id of the record it carried, when we stored it
 */
export async function signOwnerStatement (privateKey: PrivateKey, wirePeers: WirePeers, self: NodeRef, neighbours: Neighbours, nonce: Uint8Array, target: Uint8Array, stored?: Uint8Array): Promise<WireOwnerStatement> {
  const [entry] = await wirePeers.encode([self])
  const owner = PeerCodec.encode(entry)
  const encoded = NeighboursCodec.encode(await wirePeers.encodeNeighbours(neighbours))
  const signature = wireBytes(await signAsNode(privateKey, signedBytes(nonce, target, owner, encoded, stored)))
  return { owner, neighbours: encoded, signature, ...(stored == null ? {} : { stored: wireBytes(stored) }) }
}

/**
 * The statement's owner and neighbours, once its owner's signature over our nonce and target
 * checks out. `relay` is the node that handed it to us, and the connection it came over: the
 * statement's addresses are taken as that node's word (a private one only from a node on our own
 * networks); `carried`, the id of the record our request carried, if it carried one.
 *
 * @throws InvalidMessageError when the owner entry or the neighbours do not decode, the owner's
 *   peer id holds no key to check with, or the statement says it stored a record we did not
 *   send; VerificationError when the signature does not verify
 */
export async function checkOwnerStatement (wirePeers: WirePeers, statement: WireOwnerStatement, nonce: Uint8Array, target: Uint8Array, hops: number, relay: Relay, carried?: Uint8Array): Promise<OwnerStatement> {
  if (statement.stored != null && (carried == null || !equals(statement.stored, carried))) {
    throw new InvalidMessageError(`${relay.peerId} relayed an owner statement that stored a record the request did not carry`)
  }
  const entry = decodeStatedPeer(statement.owner)
  let ownerId: PeerId
  try {
    ownerId = peerIdFromMultihash(Digest.decode(entry.peerId))
  } catch (err) {
    throw new InvalidMessageError(`${relay.peerId} relayed an owner statement whose owner has no valid peer id`, { cause: err })
  }
  if (ownerId.publicKey == null) {
    throw new InvalidMessageError(`${ownerId} has no key in its peer id to check its owner statement with`)
  }
  if (!await nodeSignatureVerifies(ownerId.publicKey, signedBytes(nonce, target, statement.owner, statement.neighbours, statement.stored), statement.signature)) {
    throw new VerificationError(`the owner statement of ${ownerId}, relayed by ${relay.peerId}, is not signed by it`)
  }
  // signed by the owner: now its entry, and the addresses in it, may be taken in
  const [owner] = await wirePeers.decode([entry], ownerId, relay.connection)
  if (owner == null) {
    throw new InvalidMessageError(`${ownerId} stated ownership with an invalid peer entry`)
  }
  const neighbours = await wirePeers.decodeNeighbours(decodeStatedNeighbours(statement.neighbours), ownerId, relay.connection)
  return { owner, neighbours, hops, ...(statement.stored == null ? {} : { stored: true }) }
}
