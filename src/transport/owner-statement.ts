/**
 * The owner's statement that answers a recursive lookup (FIND_OWNER, docs/protocol.md): its
 * neighbours, signed with its libp2p key over the asker's nonce and the target. Whoever relays it,
 * the asker believes only what the owner signed for this one request; the relays can drop it or
 * delay it, not change it or answer with an old one.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { concat } from 'uint8arrays/concat'
import { fromString } from 'uint8arrays/from-string'
import { InvalidMessageError, VerificationError } from '../errors.js'
import { Neighbours as NeighboursCodec } from '../protocol/generated/chord.js'
import { wireBytes } from './ring-id.js'
import { decodeStatedNeighbours } from './validate.js'
import type { WirePeers } from './wire-peers.js'
import type { NodeRef, Neighbours, OwnerStatement } from '../chord/rpc.js'
import type { OwnerStatement as WireOwnerStatement } from '../protocol/generated/chord.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** Sets these signatures apart from anything else a node's key signs (Noise handshakes, peer records) */
export const OWNER_STATEMENT_DOMAIN = 'libp2p-chord/owner-statement/1'

const DOMAIN = fromString(OWNER_STATEMENT_DOMAIN)

/** What the owner signs: the domain, the nonce and target (fixed lengths), then its encoded neighbours */
export function signedBytes (nonce: Uint8Array, target: Uint8Array, neighbours: Uint8Array): Uint8Array {
  return concat([DOMAIN, nonce, target, neighbours])
}

/** Our statement as the owner of `target`, for the asker whose request carried `nonce` */
export async function signOwnerStatement (privateKey: PrivateKey, wirePeers: WirePeers, self: NodeRef, neighbours: Neighbours, nonce: Uint8Array, target: Uint8Array): Promise<WireOwnerStatement> {
  const [owner] = await wirePeers.encode([self])
  const encoded = NeighboursCodec.encode(await wirePeers.encodeNeighbours(neighbours))
  const signature = wireBytes(await privateKey.sign(signedBytes(nonce, target, encoded)))
  return { owner, neighbours: encoded, signature }
}

/**
 * The statement's owner and neighbours, once its owner's signature over our nonce and target
 * checks out. `relayedBy` is the node that handed it to us, for the peer entries' bookkeeping.
 *
 * @throws InvalidMessageError when the owner entry or the neighbours do not decode, or the owner's
 *   peer id holds no key to check with; VerificationError when the signature does not verify
 */
export async function checkOwnerStatement (wirePeers: WirePeers, statement: WireOwnerStatement, nonce: Uint8Array, target: Uint8Array, hops: number, relayedBy: PeerId): Promise<OwnerStatement> {
  const [owner] = statement.owner == null ? [] : await wirePeers.decode([statement.owner], relayedBy)
  if (owner == null) {
    throw new InvalidMessageError(`${relayedBy} relayed an owner statement whose owner entry is invalid`)
  }
  const ownerId = peerIdFromString(owner.peer)
  if (ownerId.publicKey == null) {
    throw new InvalidMessageError(`${owner.peer} has no key in its peer id to check its owner statement with`)
  }
  if (!await ownerId.publicKey.verify(signedBytes(nonce, target, statement.neighbours), statement.signature)) {
    throw new VerificationError(`the owner statement of ${owner.peer}, relayed by ${relayedBy}, is not signed by it`)
  }
  const neighbours = await wirePeers.decodeNeighbours(decodeStatedNeighbours(statement.neighbours), ownerId)
  return { owner, neighbours, hops }
}
