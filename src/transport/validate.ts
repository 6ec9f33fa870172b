/**
 * Decoding and validation of /chord/1.0.0 messages: everything protobuf cannot say about them
 * (required fields, lengths, counts, which type carries which field) is checked here, before any
 * of it reaches the ring. Every failure is an `InvalidMessageError`.
 */
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { ringIdFromBytes, sha256 } from '../chord/id.js'
import { WRITER_BYTES } from '../chord/record.js'
import { MAX_CARRIED_VALUE_BYTES, MAX_ID_CHOICES } from '../chord/constants.js'
import { PLAIN_POSITION } from '../chord/ring-position.js'
import { InvalidMessageError } from '../errors.js'
import { MessageType, Neighbours as WireNeighboursCodec, Peer as WirePeerCodec, Request, Response } from '../protocol/generated/chord.js'
import { MAX_VALUE_SIZE } from '../storage/constants.js'
import {
  MAX_DELETIONS_PER_MESSAGE,
  MAX_DELETION_IDS_PER_MESSAGE,
  MAX_IDS_PER_DELETE,
  MAX_OWNED_RECORDS_PER_STORE,
  MAX_STAMP_BYTES,
  MAX_STAMP_DIFFICULTY_ASKED,
  MAX_OWNER_KEY_BYTES,
  MAX_SIGNATURE_BYTES,
  MAX_RECORDS_PER_MESSAGE,
  MAX_SUMMARIES_PER_MESSAGE,
  MAX_ADDR_BYTES,
  MAX_ADDRS_PER_PEER,
  MAX_ERROR_CODE_LENGTH,
  MAX_MESSAGE_SIZE,
  MAX_PEER_ID_BYTES,
  MAX_PEERS_PER_MESSAGE,
  MAX_POSITION_NONCE_BYTES,
  MAX_OWNER_ROUTE_HOPS,
  MAX_WRITER_SUBNET_CHARS,
  OWNER_NONCE_BYTES,
  RING_ID_BYTES
} from './constants.js'
import { carriedOrigin } from './carried-store.js'
import { namespaceFromWire } from './namespaces.js'
import { isCanonicalSubnet } from './subnet.js'
import type { CarriedStore } from './carried-store.js'
import type { RingId } from '../chord/id.js'
import type { ChordRecord, RecordSummary } from '../chord/record.js'
import type { PositionProof } from '../chord/ring-position.js'
import type { NamespaceName, SignedDeletion, StoreAck } from '../chord/rpc.js'
import type { Deletion as WireDeletion, Neighbours, Peer, Record as WireRecord, RecordSummary as WireSummary, StoreOutcome } from '../protocol/generated/chord.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface PingRequest { type: MessageType.PING, neighboursDigest?: number }
export interface GetNeighboursRequest { type: MessageType.GET_NEIGHBOURS }
/** NOTIFY: the proof of the asker's position (the plain position's when the asker sent none) */
export interface NotifyRequest { type: MessageType.NOTIFY, proof: PositionProof }
/** `successorCount`: how many successors a done answer carries at most (absent: the whole list) */
export interface FindSuccessorRequest { type: MessageType.FIND_SUCCESSOR, target: RingId, successorCount?: number }
export interface LookupRequest { type: MessageType.LOOKUP, target: RingId }
/**
 * FIND_OWNER: `nonce` is the asker's, passed on unchanged; `hopsLeft`, how many more times it may
 * be passed on; `successorCount`, how many successors (the owner included) the owner states at most;
 * `carried`, a record of the target's key for the owner to store, its signature not checked yet
 */
export interface FindOwnerRequest { type: MessageType.FIND_OWNER, target: RingId, nonce: Uint8Array, hopsLeft: number, successorCount?: number, carried?: CarriedStore }
export interface LeavingRequest { type: MessageType.LEAVING, neighbours: Neighbours }
/** `carriedFor`: never from the wire; the signing writer, when the records came carried by a FIND_OWNER (handlers/find-owner.ts) */
export interface StoreRequest { type: MessageType.STORE, namespace: NamespaceName, records: ChordRecord[], deletions: SignedDeletion[], carriedFor?: string }
export interface FetchRequest { type: MessageType.FETCH, namespace: NamespaceName, key: Uint8Array, after?: Uint8Array }
export interface RangeDigestRequest { type: MessageType.RANGE_DIGEST, namespace: NamespaceName, start: RingId, end: RingId }
export interface RangeSummariesRequest { type: MessageType.RANGE_SUMMARIES, namespace: NamespaceName, start: RingId, end: RingId }
export interface DeleteRequest { type: MessageType.DELETE, namespace: NamespaceName, deletion: SignedDeletion }

/** A request whose fields are all present and well-formed for its type */
export type ValidRequest =
  | PingRequest | GetNeighboursRequest | NotifyRequest | FindSuccessorRequest | LookupRequest | FindOwnerRequest | LeavingRequest
  | StoreRequest | FetchRequest | RangeDigestRequest | RangeSummariesRequest | DeleteRequest

/** A wire peer entry whose fields all decoded; its ring id is as claimed, not yet checked */
export interface DecodedPeer {
  peerId: PeerId
  ringId: RingId
  proof: PositionProof
  multiaddrs: Multiaddr[]
}

// enforced while decoding, so an oversized list is refused before it is built
const PEER_LIMITS = { addrs: MAX_ADDRS_PER_PEER }
const NEIGHBOURS_LIMITS = { predecessor: PEER_LIMITS, successors: MAX_PEERS_PER_MESSAGE, successors$: PEER_LIMITS }
const DELETION_LIMITS = { ids: MAX_IDS_PER_DELETE }

export function decodeRequest (bytes: Uint8Array | Uint8ArrayList): ValidRequest {
  checkSize(bytes)
  const request = decode(() => Request.decode(bytes, {
    limits: {
      neighbours: NEIGHBOURS_LIMITS,
      records: MAX_RECORDS_PER_MESSAGE,
      ids: MAX_IDS_PER_DELETE,
      deletions: MAX_DELETIONS_PER_MESSAGE,
      deletions$: DELETION_LIMITS
    }
  }))
  switch (request.type) {
    case MessageType.PING:
      return request.neighboursDigest == null ? { type: request.type } : { type: request.type, neighboursDigest: request.neighboursDigest }
    case MessageType.GET_NEIGHBOURS:
      return { type: request.type }
    case MessageType.NOTIFY:
      return { type: request.type, proof: validatePositionProof(request) }
    case MessageType.FIND_SUCCESSOR: {
      const target = ringIdFromBytes(requireRingIdBytes(request.target, 'target'))
      if (request.successorCount == null) {
        return { type: request.type, target }
      }
      if (request.successorCount < 1) {
        throw new InvalidMessageError('a FIND_SUCCESSOR asks for at least one successor')
      }
      return { type: request.type, target, successorCount: request.successorCount }
    }
    case MessageType.LOOKUP:
      return { type: request.type, target: ringIdFromBytes(requireRingIdBytes(request.target, 'target')) }
    case MessageType.FIND_OWNER: {
      const target = ringIdFromBytes(requireRingIdBytes(request.target, 'target'))
      if (request.nonce?.byteLength !== OWNER_NONCE_BYTES) {
        throw new InvalidMessageError(`a FIND_OWNER carries a ${OWNER_NONCE_BYTES}-byte nonce`)
      }
      if (request.hopsLeft == null || request.hopsLeft > MAX_OWNER_ROUTE_HOPS) {
        throw new InvalidMessageError(`a FIND_OWNER may be passed on at most ${MAX_OWNER_ROUTE_HOPS} times`)
      }
      if (request.successorCount != null && request.successorCount < 1) {
        throw new InvalidMessageError('a FIND_OWNER asks for at least one successor')
      }
      const asked = request.successorCount == null ? {} : { successorCount: request.successorCount }
      const carried = decodeCarried(request, target)
      return { type: request.type, target, nonce: request.nonce, hopsLeft: request.hopsLeft, ...asked, ...(carried == null ? {} : { carried }) }
    }
    case MessageType.LEAVING:
      if (request.neighbours == null) {
        throw new InvalidMessageError('LEAVING without neighbours')
      }
      return { type: request.type, neighbours: request.neighbours }
    case MessageType.STORE: {
      const namespace = namespaceFromWire(request.namespace)
      if (request.deletions.length > 0 && namespace !== 'mailbox') {
        throw new InvalidMessageError('only a STORE in MAILBOX carries deletions')
      }
      if (request.records.length === 0 && request.deletions.length === 0) {
        throw new InvalidMessageError('STORE without records or deletions')
      }
      if (namespace === 'owned' && request.records.length > MAX_OWNED_RECORDS_PER_STORE) {
        throw new InvalidMessageError(`a STORE of owned records carries at most ${MAX_OWNED_RECORDS_PER_STORE}`)
      }
      return { type: request.type, namespace, records: request.records.map(decodeRecord), deletions: decodeDeletions(request.deletions) }
    }
    case MessageType.FETCH:
      return {
        type: request.type,
        namespace: namespaceFromWire(request.namespace),
        key: requireRingIdBytes(request.key, 'key'),
        after: request.after == null ? undefined : requireRingIdBytes(request.after, 'after')
      }
    case MessageType.RANGE_DIGEST:
    case MessageType.RANGE_SUMMARIES:
      return {
        type: request.type,
        namespace: namespaceFromWire(request.namespace),
        start: ringIdFromBytes(requireRingIdBytes(request.rangeStart, 'rangeStart')),
        end: ringIdFromBytes(requireRingIdBytes(request.rangeEnd, 'rangeEnd'))
      }
    case MessageType.DELETE:
      return { type: request.type, namespace: namespaceFromWire(request.namespace), deletion: decodeDeletion(request, 'DELETE') }
    default:
      throw new InvalidMessageError(`request type ${request.type} is not supported`)
  }
}

/** The record a FIND_OWNER carries, if any: one small record of the target's key, its origin and signature well-formed */
function decodeCarried (request: Request, target: RingId): CarriedStore | undefined {
  if (request.records.length === 0) {
    if (request.origin != null || request.originSignature != null) {
      throw new InvalidMessageError('a FIND_OWNER names an origin only with a record it carries')
    }
    return undefined
  }
  if (request.records.length > 1) {
    throw new InvalidMessageError('a FIND_OWNER carries at most one record')
  }
  const record = decodeRecord(request.records[0])
  if (record.value.byteLength > MAX_CARRIED_VALUE_BYTES) {
    throw new InvalidMessageError(`a record carried by a FIND_OWNER is at most ${MAX_CARRIED_VALUE_BYTES} bytes`)
  }
  if (record.writer != null) {
    throw new InvalidMessageError('a carried record names no writer: the node that hands it to the owner is its writer')
  }
  if (ringIdFromBytes(record.key) !== target) {
    throw new InvalidMessageError('a FIND_OWNER carries a record of the key it looks up, no other')
  }
  if (request.origin == null || request.originSignature == null || request.originSignature.byteLength === 0 || request.originSignature.byteLength > MAX_SIGNATURE_BYTES) {
    throw new InvalidMessageError(`a carried record comes with its origin and a signature of 1–${MAX_SIGNATURE_BYTES} bytes`)
  }
  return { namespace: namespaceFromWire(request.namespace), record, origin: carriedOrigin(request.origin), signature: request.originSignature }
}

/** Decodes the answer to a request of type `expected` */
export function decodeResponse (bytes: Uint8Array | Uint8ArrayList, expected: MessageType): Response {
  checkSize(bytes)
  const response = decode(() => Response.decode(bytes, {
    limits: {
      neighbours: NEIGHBOURS_LIMITS,
      peers: MAX_PEERS_PER_MESSAGE,
      peers$: PEER_LIMITS,
      records: MAX_RECORDS_PER_MESSAGE,
      summaries: MAX_SUMMARIES_PER_MESSAGE,
      stored: { declined: MAX_RECORDS_PER_MESSAGE, deletions: MAX_DELETIONS_PER_MESSAGE, deletions$: DELETION_LIMITS }
    }
  }))

  if (response.type !== expected) {
    throw new InvalidMessageError(`expected a ${expected} response, got ${response.type}`)
  }

  if (response.status === Response.Status.ERROR) {
    const code = response.errorCode ?? ''
    if (code.length === 0 || code.length > MAX_ERROR_CODE_LENGTH) {
      throw new InvalidMessageError(`error code must be 1–${MAX_ERROR_CODE_LENGTH} characters`)
    }
    if (response.retryAfterMs != null) {
      requireTime(response.retryAfterMs)
    }
    if (response.stampDifficulty != null && response.stampDifficulty > MAX_STAMP_DIFFICULTY_ASKED) {
      throw new InvalidMessageError(`a stamp difficulty is at most ${MAX_STAMP_DIFFICULTY_ASKED}`)
    }
    return response
  }

  if (expected === MessageType.GET_NEIGHBOURS && response.neighbours == null) {
    throw new InvalidMessageError('GET_NEIGHBOURS response without neighbours')
  }

  if (expected === MessageType.FIND_SUCCESSOR && response.done && response.peers.length === 0) {
    throw new InvalidMessageError('FIND_SUCCESSOR response is done but names no successor')
  }

  if (expected === MessageType.LOOKUP && (!response.done || response.peers.length === 0)) {
    throw new InvalidMessageError('a LOOKUP response names the target\'s successors, done')
  }

  if (expected === MessageType.FIND_OWNER) {
    const statement = response.ownerStatement
    if (statement == null || statement.owner.byteLength === 0 || statement.neighbours.byteLength === 0) {
      throw new InvalidMessageError('a FIND_OWNER response carries the owner and its neighbours')
    }
    if (statement.signature.byteLength === 0 || statement.signature.byteLength > MAX_SIGNATURE_BYTES) {
      throw new InvalidMessageError(`an owner statement needs a signature of 1–${MAX_SIGNATURE_BYTES} bytes`)
    }
    if (statement.stored != null && statement.stored.byteLength !== RING_ID_BYTES) {
      throw new InvalidMessageError(`an owner statement names a stored record by its ${RING_ID_BYTES}-byte id`)
    }
    if (response.hops == null || response.hops < 1 || response.hops > MAX_OWNER_ROUTE_HOPS + 1) {
      throw new InvalidMessageError(`a FIND_OWNER response went through 1–${MAX_OWNER_ROUTE_HOPS + 1} nodes`)
    }
  }

  if (expected === MessageType.RANGE_DIGEST && (response.count == null || response.digest?.byteLength !== RING_ID_BYTES)) {
    throw new InvalidMessageError(`RANGE_DIGEST response needs a count and a ${RING_ID_BYTES}-byte digest`)
  }

  return response
}

/**
 * What a node says it did with the `sent` records of a STORE: declined indexes must name records
 * sent, once each. A node that said nothing (an earlier version) declined nothing it told of.
 */
export function decodeStoreOutcome (stored: StoreOutcome | undefined, sent: number): StoreAck {
  if (stored == null) {
    return { deletions: [] }
  }
  if (stored.declined.some(index => index >= sent) || new Set(stored.declined).size !== stored.declined.length) {
    throw new InvalidMessageError(`a STORE's answer declines each of the ${sent} records sent at most once`)
  }
  const predecessor = stored.predecessor == null ? {} : { predecessor: ringIdFromBytes(requireRingIdBytes(stored.predecessor, 'predecessor')) }
  return { declined: stored.declined, deletions: decodeDeletions(stored.deletions), ...predecessor }
}

/** A wire record as the store takes it: key and value checked, id computed here, never trusted */
export function decodeRecord (record: WireRecord): ChordRecord {
  const key = requireRingIdBytes(record.key, 'record key')
  if (record.value.byteLength > MAX_VALUE_SIZE) {
    throw new InvalidMessageError(`a record value is at most ${MAX_VALUE_SIZE} bytes`)
  }
  const decoded: ChordRecord = { key, value: record.value, id: sha256(record.value), expiresAt: requireTime(record.expiresAt) }
  if (record.writer != null) {
    if (record.writer.byteLength !== WRITER_BYTES) {
      throw new InvalidMessageError(`a record's writer is ${WRITER_BYTES} bytes`)
    }
    decoded.writer = record.writer
  }
  if (record.writerSubnet != null) {
    if (decoded.writer == null || record.writerSubnet.length > MAX_WRITER_SUBNET_CHARS || !isCanonicalSubnet(record.writerSubnet)) {
      throw new InvalidMessageError(`a record's writerSubnet is a writer's IPv4 /24 or IPv6 /48 in CIDR text, at most ${MAX_WRITER_SUBNET_CHARS} characters`)
    }
    decoded.writerSubnet = record.writerSubnet
  }
  if (record.stamp != null) {
    if (record.stamp.byteLength === 0 || record.stamp.byteLength > MAX_STAMP_BYTES) {
      throw new InvalidMessageError(`a record's stamp is 1 to ${MAX_STAMP_BYTES} bytes`)
    }
    decoded.stamp = record.stamp
  }
  return decoded
}

export function decodeSummary (summary: WireSummary): RecordSummary {
  return {
    key: requireRingIdBytes(summary.key, 'summary key'),
    id: requireRingIdBytes(summary.id, 'summary id'),
    expiresAt: requireTime(summary.expiresAt)
  }
}

/** The fields of an owner-signed deletion, whether a DELETE's or a `Deletion` message's */
type DeletionFields = Pick<Request, 'key' | 'ids' | 'owner' | 'signedAt' | 'signature'>

function decodeDeletion (fields: DeletionFields, what: string): SignedDeletion {
  const { owner, signature, signedAt } = fields
  if (owner == null || owner.byteLength === 0 || owner.byteLength > MAX_OWNER_KEY_BYTES) {
    throw new InvalidMessageError(`${what} needs an owner key of 1–${MAX_OWNER_KEY_BYTES} bytes`)
  }
  if (signature == null || signature.byteLength === 0 || signature.byteLength > MAX_SIGNATURE_BYTES) {
    throw new InvalidMessageError(`${what} needs a signature of 1–${MAX_SIGNATURE_BYTES} bytes`)
  }
  if (fields.ids.length === 0) {
    throw new InvalidMessageError(`${what} names no record`)
  }
  return {
    key: requireRingIdBytes(fields.key, 'key'),
    ids: fields.ids.map(id => requireRingIdBytes(id, 'id')),
    owner,
    signedAt: requireTime(signedAt ?? -1),
    signature
  }
}

/**
 * The deletions a STORE or its answer carries: each as strict as a DELETE, at most
 * MAX_DELETIONS_PER_MESSAGE of them (checked while decoding) naming at most
 * MAX_DELETION_IDS_PER_MESSAGE ids together
 */
export function decodeDeletions (deletions: WireDeletion[]): SignedDeletion[] {
  const decoded = deletions.map(deletion => decodeDeletion(deletion, 'a deletion'))
  const ids = decoded.reduce((count, deletion) => count + deletion.ids.length, 0)
  if (ids > MAX_DELETION_IDS_PER_MESSAGE) {
    throw new InvalidMessageError(`the deletions of one message name at most ${MAX_DELETION_IDS_PER_MESSAGE} ids`)
  }
  return decoded
}

function requireTime (ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new InvalidMessageError('a time must be a non-negative integer number of ms')
  }
  return ms
}

/** Checks one peer entry; the caller decides whether a bad entry spoils the whole message */
export function validatePeer (peer: Peer): DecodedPeer {
  return { ...validatePeerIdentity(peer), multiaddrs: validatePeerAddresses(peer) }
}

/** The entry's peer id, claimed ring id and position proof, decoded (the claim is not yet checked against the id) */
export function validatePeerIdentity (peer: Peer): { peerId: PeerId, ringId: RingId, proof: PositionProof } {
  return {
    peerId: decodePeerId(peer.peerId),
    ringId: ringIdFromBytes(requireRingIdBytes(peer.ringId, 'ringId')),
    proof: validatePositionProof(peer)
  }
}

/**
 * How a position was minted: a nonce of 1–MAX_POSITION_NONCE_BYTES bytes and a choice below
 * MAX_ID_CHOICES, each absent for the plain position. Whether the proof pays the network's
 * difficulty is the ring's to judge (chord/position-rules.ts).
 */
export function validatePositionProof (fields: { positionNonce?: Uint8Array, positionChoice?: number }): PositionProof {
  const { positionNonce: nonce, positionChoice: choice = 0 } = fields
  if (nonce != null && (nonce.byteLength === 0 || nonce.byteLength > MAX_POSITION_NONCE_BYTES)) {
    throw new InvalidMessageError(`a position nonce is 1 to ${MAX_POSITION_NONCE_BYTES} bytes`)
  }
  if (!Number.isInteger(choice) || choice < 0 || choice >= MAX_ID_CHOICES) {
    throw new InvalidMessageError(`a position choice is below ${MAX_ID_CHOICES}`)
  }
  return nonce == null && choice === 0 ? PLAIN_POSITION : { nonce: nonce ?? new Uint8Array(0), choice }
}

/** The entry's addresses, each a valid multiaddr (decoding let through at most MAX_ADDRS_PER_PEER) */
export function validatePeerAddresses (peer: Peer): Multiaddr[] {
  return peer.addrs.map(decodeMultiaddr)
}

/** A peer id from its 1–MAX_PEER_ID_BYTES multihash bytes; only ids derived from a public key are accepted */
export function decodePeerId (bytes: Uint8Array): PeerId {
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_PEER_ID_BYTES) {
    throw new InvalidMessageError(`peer id must be 1–${MAX_PEER_ID_BYTES} bytes`)
  }
  let peerId: PeerId
  try {
    peerId = peerIdFromMultihash(Digest.decode(bytes))
  } catch (err) {
    throw new InvalidMessageError('peer id is not a valid multihash', { cause: err })
  }
  // a URL "peer id" names no key, so no node can authenticate as it
  if (peerId.type === 'url') {
    throw new InvalidMessageError('peer id is not derived from a public key')
  }
  return peerId
}

/** One binary multiaddr of 1–MAX_ADDR_BYTES bytes */
export function decodeMultiaddr (bytes: Uint8Array): Multiaddr {
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_ADDR_BYTES) {
    throw new InvalidMessageError(`an address must be 1–${MAX_ADDR_BYTES} bytes`)
  }
  try {
    return multiaddr(bytes)
  } catch (err) {
    throw new InvalidMessageError('address is not a valid multiaddr', { cause: err })
  }
}

function requireRingIdBytes (bytes: Uint8Array | undefined, field: string): Uint8Array {
  if (bytes?.byteLength !== RING_ID_BYTES) {
    throw new InvalidMessageError(`${field} must be ${RING_ID_BYTES} bytes`)
  }
  return bytes
}

function checkSize (bytes: Uint8Array | Uint8ArrayList): void {
  // the framing refuses larger frames before reading them; this guards any other path
  if (bytes.byteLength > MAX_MESSAGE_SIZE) {
    throw new InvalidMessageError(`message is larger than ${MAX_MESSAGE_SIZE} bytes`)
  }
}

/** The neighbours an owner statement carries, as the bytes its owner signed */
export function decodeStatedNeighbours (bytes: Uint8Array): Neighbours {
  return decode(() => WireNeighboursCodec.decode(bytes, { limits: NEIGHBOURS_LIMITS }))
}

/** The owner's own entry an owner statement carries, as the bytes it signed */
export function decodeStatedPeer (bytes: Uint8Array): Peer {
  return decode(() => WirePeerCodec.decode(bytes, { limits: PEER_LIMITS }))
}

function decode<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new InvalidMessageError('message is not valid protobuf for /chord/1.0.0', { cause: err })
  }
}
