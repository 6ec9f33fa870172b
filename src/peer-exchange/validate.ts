/**
 * Decoding and validation of /chord/px/1.0.0 messages: everything protobuf cannot say about them
 * (counts, sizes, which status carries what) and, for each peer entry, that it names a real peer
 * with addresses, signed by that peer where a signed record is given. Every failure is an
 * `InvalidMessageError`.
 */
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { CODE_P2P } from '@multiformats/multiaddr'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { InvalidMessageError } from '../errors.js'
import { MAX_ADDR_BYTES, MAX_ADDRS_PER_PEER } from '../transport/constants.js'
import { PxRequest, PxResponse } from '../protocol/generated/px.js'
import { decodeMultiaddr, decodePeerId } from '../transport/validate.js'
import { MAX_PX_NUM_PEERS, MAX_PX_PEERS, MAX_PX_REQUEST_SIZE, MAX_PX_RESPONSE_SIZE, MAX_SIGNED_PEER_RECORD_BYTES } from './constants.js'
import type { PxPeer } from '../protocol/generated/px.js'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'

/** A peer learned through peer exchange, with the addresses its entry proved or named */
export interface ExchangedPeer extends PeerInfo {
  /** the envelope its addresses came from, when the entry carried one (already verified) */
  signedPeerRecord?: Uint8Array
}

/**
 * How many peers the request asks for: 1 to MAX_PX_NUM_PEERS (a uint32), and more than
 * MAX_PX_PEERS counts as MAX_PX_PEERS. A number beyond uint32 (2^32 + 1, or -1 written as a
 * 64-bit varint) is refused rather than cut to its low bits.
 */
export function decodePxRequest (bytes: Uint8Array | Uint8ArrayList): number {
  checkSize(bytes, MAX_PX_REQUEST_SIZE)
  const { numPeers } = decode(() => PxRequest.decode(bytes))
  if (!Number.isSafeInteger(numPeers) || numPeers < 1 || numPeers > MAX_PX_NUM_PEERS) {
    throw new InvalidMessageError(`a request asks for 1 to ${MAX_PX_NUM_PEERS} peers, not ${numPeers}`)
  }
  return Math.min(numPeers, MAX_PX_PEERS)
}

/**
 * The answer to a request for `requested` peers. Its entries are not checked yet: one bad entry
 * costs only itself (see `validatePxPeer`), while a response that breaks these rules is discarded.
 * The counts of entries and of each entry's addresses are checked while decoding, before the lists
 * are built.
 */
export function decodePxResponse (bytes: Uint8Array | Uint8ArrayList, requested: number): PxResponse {
  checkSize(bytes, MAX_PX_RESPONSE_SIZE)
  const response = decode(() => PxResponse.decode(bytes, { limits: { peers: MAX_PX_PEERS, peers$: { addrs: MAX_ADDRS_PER_PEER } } }))

  if (response.peers.length > requested) {
    throw new InvalidMessageError(`asked for ${requested} peers, got ${response.peers.length}`)
  }
  if (response.status !== PxResponse.Status.OK && response.peers.length > 0) {
    throw new InvalidMessageError(`a ${response.status} response carries no peers`)
  }
  return response
}

/**
 * Checks one peer entry of a decoded response (so of at most MAX_ADDRS_PER_PEER plain addresses)
 * and returns the peer with its addresses. A signed record must be signed by the peer the entry
 * names and be about that peer; plain addresses are taken as the responder states them. Either
 * way the peer must have at least one address.
 */
export async function validatePxPeer (entry: PxPeer): Promise<ExchangedPeer> {
  const id = decodePeerId(entry.peerId)

  if (entry.signedPeerRecord != null) {
    if (entry.addrs.length > 0) {
      throw new InvalidMessageError('an entry with a signed record carries no other addresses')
    }
    const multiaddrs = checkAddresses(await openSignedPeerRecord(entry.signedPeerRecord, id), id)
    return { id, multiaddrs, signedPeerRecord: entry.signedPeerRecord }
  }

  return { id, multiaddrs: checkAddresses(entry.addrs.map(decodeMultiaddr), id) }
}

/** The addresses of a verified peer record made by `peerId` about itself */
async function openSignedPeerRecord (bytes: Uint8Array, peerId: PeerId): Promise<Multiaddr[]> {
  if (bytes.byteLength > MAX_SIGNED_PEER_RECORD_BYTES) {
    throw new InvalidMessageError(`a signed peer record is at most ${MAX_SIGNED_PEER_RECORD_BYTES} bytes`)
  }

  let envelope: RecordEnvelope
  let record: PeerRecord
  try {
    envelope = await RecordEnvelope.openAndCertify(bytes, PeerRecord.DOMAIN)
    record = PeerRecord.createFromProtobuf(envelope.payload)
  } catch (err) {
    throw new InvalidMessageError('signed peer record does not verify', { cause: err })
  }

  if (!uint8ArrayEquals(envelope.payloadType, PeerRecord.CODEC)) {
    throw new InvalidMessageError('signed envelope does not hold a peer record')
  }
  // the signature only proves who signed: a record is worth something only about its signer
  if (!peerIdFromPublicKey(envelope.publicKey).equals(peerId)) {
    throw new InvalidMessageError(`peer record of ${peerId} is signed by another key`)
  }
  if (!record.peerId.equals(peerId)) {
    throw new InvalidMessageError(`peer record signed by ${peerId} is about ${record.peerId}`)
  }
  if (record.multiaddrs.length > MAX_ADDRS_PER_PEER) {
    throw new InvalidMessageError(`a peer may carry at most ${MAX_ADDRS_PER_PEER} addresses`)
  }
  if (record.multiaddrs.some(ma => ma.bytes.byteLength > MAX_ADDR_BYTES)) {
    throw new InvalidMessageError(`an address must be 1–${MAX_ADDR_BYTES} bytes`)
  }
  return record.multiaddrs
}

/** At least one address, and none that ends in another peer's /p2p id */
function checkAddresses (multiaddrs: Multiaddr[], peerId: PeerId): Multiaddr[] {
  if (multiaddrs.length === 0) {
    throw new InvalidMessageError(`no address for ${peerId}`)
  }
  for (const ma of multiaddrs) {
    const last = ma.getComponents().at(-1)
    if (last?.code === CODE_P2P && last.value !== peerId.toString()) {
      throw new InvalidMessageError(`address ${ma} of ${peerId} names another peer`)
    }
  }
  return multiaddrs
}

function checkSize (bytes: Uint8Array | Uint8ArrayList, max: number): void {
  // the framing refuses larger frames before reading them; this guards any other path
  if (bytes.byteLength > max) {
    throw new InvalidMessageError(`message is larger than ${max} bytes`)
  }
}

function decode<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new InvalidMessageError('message is not valid protobuf for /chord/px/1.0.0', { cause: err })
  }
}
