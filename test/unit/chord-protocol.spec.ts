import { strict as assert } from 'node:assert'
import { encode as encodeVarint } from 'uint8-varint'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { Uint8ArrayList } from 'uint8arraylist'
import { PLAIN_POSITION } from '../../src/chord/ring-position.js'
import { InvalidMessageError } from '../../src/errors.js'
import { MessageType, Namespace, Neighbours as WireNeighbours, Peer as WirePeer, Request, Response } from '../../src/protocol/generated/chord.js'
import {
  MAX_ADDR_BYTES,
  MAX_ADDRS_PER_PEER,
  MAX_DELETIONS_PER_MESSAGE,
  MAX_DELETION_IDS_PER_MESSAGE,
  MAX_ERROR_CODE_LENGTH,
  MAX_IDS_PER_DELETE,
  MAX_INBOUND_STREAMS,
  MAX_MESSAGE_SIZE,
  MAX_OUTBOUND_STREAMS,
  MAX_OWNED_RECORDS_PER_STORE,
  MAX_OWNER_KEY_BYTES,
  MAX_RECORDS_PER_MESSAGE,
  MAX_SIGNATURE_BYTES,
  MAX_STAMP_BYTES,
  MAX_WRITER_SUBNET_CHARS,
  MAX_STAMP_DIFFICULTY_ASKED,
  MAX_SUMMARIES_PER_MESSAGE,
  MAX_PEER_ID_BYTES,
  MAX_PEERS_PER_MESSAGE,
  MAX_POSITION_NONCE_BYTES,
  OWNER_NONCE_BYTES,
  POOLED_STREAM_IDLE_TIMEOUT,
  REQUEST_READ_TIMEOUT,
  REQUEST_TIMEOUT,
  RING_ID_BYTES,
  STREAM_IDLE_TIMEOUT
} from '../../src/transport/constants.js'
import { ringIdFromBytes } from '../../src/chord/id.js'
import { frameStream } from '../../src/protocol/framing.js'
import { decodeRequest, decodeResponse, decodeStatedNeighbours, decodeStatedPeer, decodeStoreOutcome, validatePeer } from '../../src/transport/validate.js'
import { ringIdOf, ringIdToWire } from '../../src/transport/ring-id.js'
import { waitFor } from '../helpers/wait-for.js'
import type { Deletion, Neighbours, Peer } from '../../src/protocol/generated/chord.js'
import type { PeerId } from '@libp2p/interface'

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function wirePeer (peerId: PeerId, overrides: Partial<Peer> = {}): Peer {
  return {
    peerId: peerId.toMultihash().bytes,
    ringId: ringIdToWire(ringIdOf(peerId)),
    addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001').bytes, multiaddr('/ip4/127.0.0.1/tcp/4002/ws').bytes],
    ...overrides
  }
}

function bytesOf (length: number, fill = 1): Uint8Array<ArrayBuffer> {
  return new Uint8Array(length).fill(fill)
}

/** A well-formed owner-signed deletion of `ids` made-up ids (its signature is not checked here) */
function deletionOf (ids: number): Deletion {
  return { key: bytesOf(32), ids: Array.from({ length: ids }, (_, i) => bytesOf(32, i % 256)), owner: bytesOf(65), signedAt: 1, signature: bytesOf(64) }
}

/** A syntactically valid binary multiaddr of exactly `length` bytes: /dns4/<name>/tcp/4001 */
function addrOfLength (length: number): Uint8Array<ArrayBuffer> {
  const overhead = multiaddr('/dns4/a/tcp/4001').bytes.byteLength - 1
  let nameLength = length - overhead
  // the name's length prefix grows to two bytes from 128 on
  if (nameLength >= 128) {
    nameLength--
  }
  const bytes = multiaddr(`/dns4/${'a'.repeat(nameLength)}/tcp/4001`).bytes
  assert.equal(bytes.byteLength, length)
  return bytes
}

function isInvalidMessage (err: unknown): boolean {
  return err instanceof InvalidMessageError
}

/** Refused by the codec's limits, before the oversized list was built */
function isRefusedWhileDecoding (err: unknown): boolean {
  return err instanceof InvalidMessageError && (err.cause as Error | undefined)?.name === 'MaxLengthError'
}

describe('/chord/1.0.0 wire format', () => {
  let alice: PeerId
  let bob: PeerId

  before(async () => {
    alice = await newPeerId()
    bob = await newPeerId()
  })

  describe('codec round trip', () => {
    it('carries every request type with its fields', () => {
      const target = ringIdOf(bob)
      for (const type of [MessageType.PING, MessageType.GET_NEIGHBOURS]) {
        assert.deepEqual(decodeRequest(Request.encode({ type })), { type })
      }
      // a NOTIFY without a proof is from the plain position, as NOTIFYs from nodes before ring positions are
      assert.deepEqual(decodeRequest(Request.encode({ type: MessageType.NOTIFY })), { type: MessageType.NOTIFY, proof: PLAIN_POSITION })
      const nonce = new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2])
      assert.deepEqual(
        decodeRequest(Request.encode({ type: MessageType.NOTIFY, positionNonce: nonce, positionChoice: 3 })),
        { type: MessageType.NOTIFY, proof: { nonce, choice: 3 } }
      )
      assert.throws(() => decodeRequest(Request.encode({ type: MessageType.NOTIFY, positionNonce: new Uint8Array(MAX_POSITION_NONCE_BYTES + 1) })), isInvalidMessage)
      assert.deepEqual(
        decodeRequest(Request.encode({ type: MessageType.FIND_SUCCESSOR, target: ringIdToWire(target) })),
        { type: MessageType.FIND_SUCCESSOR, target }
      )
      assert.deepEqual(
        decodeRequest(Request.encode({ type: MessageType.FIND_SUCCESSOR, target: ringIdToWire(target), successorCount: 3 })),
        { type: MessageType.FIND_SUCCESSOR, target, successorCount: 3 }
      )
      const neighbours = { predecessor: wirePeer(alice), successors: [wirePeer(bob), wirePeer(alice, { addrs: [] })] }
      assert.deepEqual(decodeRequest(Request.encode({ type: MessageType.LEAVING, neighbours })), { type: MessageType.LEAVING, neighbours })
      // a successor telling its predecessor that its neighbours changed
      assert.deepEqual(decodeRequest(Request.encode({ type: MessageType.PING, neighboursDigest: 0xffffffff })), { type: MessageType.PING, neighboursDigest: 0xffffffff })
    })

    it('carries every response field', () => {
      const neighbours = { predecessor: wirePeer(alice), successors: [wirePeer(bob)] }
      const gotNeighbours = decodeResponse(Response.encode({ type: MessageType.GET_NEIGHBOURS, neighbours }), MessageType.GET_NEIGHBOURS)
      assert.deepEqual(gotNeighbours.neighbours, neighbours)
      assert.equal(gotNeighbours.status, Response.Status.OK)
      assert.equal(gotNeighbours.neighboursDigest, undefined)
      const withDigest = decodeResponse(Response.encode({ type: MessageType.GET_NEIGHBOURS, neighbours, neighboursDigest: 12 }), MessageType.GET_NEIGHBOURS)
      assert.equal(withDigest.neighboursDigest, 12)
      assert.equal(decodeResponse(Response.encode({ type: MessageType.PING, neighboursDigest: 0 }), MessageType.PING).neighboursDigest, 0)

      const found = decodeResponse(Response.encode({ type: MessageType.FIND_SUCCESSOR, done: true, peers: [wirePeer(bob)] }), MessageType.FIND_SUCCESSOR)
      assert.equal(found.done, true)
      assert.deepEqual(found.peers, [wirePeer(bob)])

      const closer = decodeResponse(Response.encode({ type: MessageType.FIND_SUCCESSOR, done: false, peers: [wirePeer(alice)] }), MessageType.FIND_SUCCESSOR)
      assert.equal(closer.done, false)

      const failed = decodeResponse(Response.encode({ type: MessageType.PING, status: Response.Status.ERROR, errorCode: 'INTERNAL' }), MessageType.PING)
      assert.equal(failed.status, Response.Status.ERROR)
      assert.equal(failed.errorCode, 'INTERNAL')
    })

    it('turns a valid peer entry into a peer id, ring id and multiaddrs', () => {
      const peer = validatePeer(wirePeer(alice))
      assert.ok(peer.peerId.equals(alice))
      assert.equal(peer.ringId, ringIdOf(alice))
      assert.deepEqual(peer.multiaddrs.map(ma => ma.toString()), ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4002/ws'])
    })

    it('never sends an empty frame: every message names its type', () => {
      assert.ok(Request.encode({ type: MessageType.PING }).byteLength > 0)
      assert.ok(Response.encode({ type: MessageType.PING }).byteLength > 0)
    })
  })

  describe('requests that break the rules', () => {
    it('rejects bytes that are not protobuf', () => {
      assert.throws(() => decodeRequest(Uint8Array.from([0x0a, 0x05, 0x01])), isInvalidMessage)
    })

    it('rejects a request without a type', () => {
      assert.throws(() => decodeRequest(new Uint8Array()), isInvalidMessage)
    })

    it('rejects a type this version does not know', () => {
      assert.throws(() => decodeRequest(Uint8Array.from([0x08, 99])), isInvalidMessage)
    })

    it('rejects FIND_SUCCESSOR without a target or with a target that is not RING_ID_BYTES long', () => {
      assert.throws(() => decodeRequest(Request.encode({ type: MessageType.FIND_SUCCESSOR })), isInvalidMessage)
      for (const length of [RING_ID_BYTES - 1, RING_ID_BYTES + 1]) {
        assert.throws(() => decodeRequest(Request.encode({ type: MessageType.FIND_SUCCESSOR, target: bytesOf(length) })), isInvalidMessage)
      }
    })

    it('rejects a FIND_SUCCESSOR that asks for no successors', () => {
      const target = ringIdToWire(ringIdOf(bob))
      assert.throws(() => decodeRequest(Request.encode({ type: MessageType.FIND_SUCCESSOR, target, successorCount: 0 })), isInvalidMessage)
    })

    it('rejects LEAVING without neighbours', () => {
      assert.throws(() => decodeRequest(Request.encode({ type: MessageType.LEAVING })), isInvalidMessage)
    })

    it('rejects more than MAX_PEERS_PER_MESSAGE successors', () => {
      const request = (count: number): Uint8Array => Request.encode({
        type: MessageType.LEAVING,
        neighbours: { successors: Array.from({ length: count }, () => wirePeer(bob)) }
      })
      assert.equal(decodeRequest(request(MAX_PEERS_PER_MESSAGE)).type, MessageType.LEAVING)
      assert.throws(() => decodeRequest(request(MAX_PEERS_PER_MESSAGE + 1)), isInvalidMessage)
    })

    it('rejects a STORE of more than MAX_OWNED_RECORDS_PER_STORE owned records, and none in other namespaces for that', () => {
      const record = { key: new Uint8Array(32), value: new Uint8Array(1), expiresAt: 1 }
      const store = (namespace: Namespace, count: number): Uint8Array => Request.encode({ type: MessageType.STORE, namespace, records: Array.from({ length: count }, () => record) })
      assert.equal(decodeRequest(store(Namespace.OWNED, MAX_OWNED_RECORDS_PER_STORE)).type, MessageType.STORE)
      assert.throws(() => decodeRequest(store(Namespace.OWNED, MAX_OWNED_RECORDS_PER_STORE + 1)), InvalidMessageError)
      assert.equal(decodeRequest(store(Namespace.RECORDS, MAX_OWNED_RECORDS_PER_STORE + 1)).type, MessageType.STORE)
    })

    it('rejects a record whose writer is not 8 bytes, or whose stamp is empty or over MAX_STAMP_BYTES', () => {
      const store = (extra: { writer?: Uint8Array<ArrayBuffer>, stamp?: Uint8Array<ArrayBuffer> }): Uint8Array =>
        Request.encode({ type: MessageType.STORE, records: [{ key: new Uint8Array(32), value: new Uint8Array(1), expiresAt: 1, ...extra }] })
      assert.equal(decodeRequest(store({ writer: new Uint8Array(8), stamp: new Uint8Array(MAX_STAMP_BYTES) })).type, MessageType.STORE)
      assert.throws(() => decodeRequest(store({ writer: new Uint8Array(7) })), InvalidMessageError)
      assert.throws(() => decodeRequest(store({ stamp: new Uint8Array(0) })), InvalidMessageError)
      assert.throws(() => decodeRequest(store({ stamp: new Uint8Array(MAX_STAMP_BYTES + 1) })), InvalidMessageError)
    })

    it(`takes a record's writerSubnet only with its writer, as a canonical IPv4 /24 or IPv6 /48 of at most MAX_WRITER_SUBNET_CHARS (${MAX_WRITER_SUBNET_CHARS}) characters`, () => {
      const store = (writerSubnet: string, withWriter = true): Uint8Array =>
        Request.encode({ type: MessageType.STORE, records: [{ key: new Uint8Array(32), value: new Uint8Array(1), expiresAt: 1, ...(withWriter ? { writer: new Uint8Array(8) } : {}), writerSubnet }] })
      const subnetOf = (bytes: Uint8Array): string | undefined => {
        const decoded = decodeRequest(bytes)
        return decoded.type === MessageType.STORE ? decoded.records[0].writerSubnet : undefined
      }
      assert.equal(subnetOf(store('203.0.113.0/24')), '203.0.113.0/24')
      // IPv6 as subnetOf writes it: every group in full
      const v6 = '2001:0db8:0001:0000:0000:0000:0000:0000/48'
      assert.equal(subnetOf(store(v6)), v6)
      for (const wrong of ['203.0.113.7/24', '203.0.113.0/16', '2001:db8:1::/48', '2001:0db8:0001:0000:0000:0000:0000:0000/64', 'x'.repeat(MAX_WRITER_SUBNET_CHARS + 1), '203.0.113.0/24/1', '']) {
        assert.throws(() => decodeRequest(store(wrong)), InvalidMessageError, wrong)
      }
      assert.throws(() => decodeRequest(store('203.0.113.0/24', false)), InvalidMessageError)
    })

    it('takes deletions only in a mailbox STORE, at most MAX_DELETIONS_PER_MESSAGE naming MAX_DELETION_IDS_PER_MESSAGE ids together', () => {
      const store = (deletions: Deletion[], namespace = Namespace.MAILBOX): Uint8Array => Request.encode({ type: MessageType.STORE, namespace, deletions })
      const perDeletion = MAX_DELETION_IDS_PER_MESSAGE / MAX_DELETIONS_PER_MESSAGE
      const full = Array.from({ length: MAX_DELETIONS_PER_MESSAGE }, () => deletionOf(perDeletion))
      const decoded = decodeRequest(store(full))
      assert.equal(decoded.type === MessageType.STORE && decoded.deletions.length, MAX_DELETIONS_PER_MESSAGE, 'deletions alone, without a record')
      assert.throws(() => decodeRequest(store([...full, deletionOf(1)])), isInvalidMessage)
      assert.throws(() => decodeRequest(store([...full.slice(1), deletionOf(perDeletion + 1)])), isInvalidMessage)
      assert.throws(() => decodeRequest(store([deletionOf(1)], Namespace.RECORDS)), isInvalidMessage)
      assert.throws(() => decodeRequest(store([deletionOf(0)])), isInvalidMessage)
      assert.throws(() => decodeRequest(store([{ ...deletionOf(1), signature: new Uint8Array(0) }])), isInvalidMessage)
    })

    it('rejects, while decoding, a STORE of more than MAX_RECORDS_PER_MESSAGE records', () => {
      const record = { key: new Uint8Array(32), value: new Uint8Array(1), expiresAt: 1 }
      const store = (count: number): Uint8Array => Request.encode({ type: MessageType.STORE, records: Array.from({ length: count }, () => record) })
      const decoded = decodeRequest(store(MAX_RECORDS_PER_MESSAGE))
      assert.equal(decoded.type === MessageType.STORE && decoded.records.length, MAX_RECORDS_PER_MESSAGE)
      assert.throws(() => decodeRequest(store(MAX_RECORDS_PER_MESSAGE + 1)), isRefusedWhileDecoding)
    })

    it('rejects, while decoding, a DELETE or a STORE\'s deletion naming more than MAX_IDS_PER_DELETE ids', () => {
      const remove = (ids: number): Uint8Array => Request.encode({ type: MessageType.DELETE, namespace: Namespace.MAILBOX, ...deletionOf(ids) })
      const store = (ids: number): Uint8Array => Request.encode({ type: MessageType.STORE, namespace: Namespace.MAILBOX, deletions: [deletionOf(ids)] })
      const decoded = decodeRequest(remove(MAX_IDS_PER_DELETE))
      assert.equal(decoded.type === MessageType.DELETE && decoded.deletion.ids.length, MAX_IDS_PER_DELETE)
      assert.throws(() => decodeRequest(remove(MAX_IDS_PER_DELETE + 1)), isRefusedWhileDecoding)
      assert.equal(decodeRequest(store(MAX_IDS_PER_DELETE)).type, MessageType.STORE)
      assert.throws(() => decodeRequest(store(MAX_IDS_PER_DELETE + 1)), isRefusedWhileDecoding)
    })

    it('rejects a DELETE or a STORE\'s deletion whose owner key is empty or over MAX_OWNER_KEY_BYTES', () => {
      const remove = (owner: Uint8Array<ArrayBuffer>): Uint8Array => Request.encode({ type: MessageType.DELETE, namespace: Namespace.MAILBOX, ...deletionOf(1), owner })
      const store = (owner: Uint8Array<ArrayBuffer>): Uint8Array => Request.encode({ type: MessageType.STORE, namespace: Namespace.MAILBOX, deletions: [{ ...deletionOf(1), owner }] })
      for (const encode of [remove, store]) {
        assert.doesNotThrow(() => decodeRequest(encode(bytesOf(MAX_OWNER_KEY_BYTES))))
        assert.throws(() => decodeRequest(encode(bytesOf(MAX_OWNER_KEY_BYTES + 1))), (err: Error) => isInvalidMessage(err) && err.message.includes(`owner key of 1–${MAX_OWNER_KEY_BYTES} bytes`))
        assert.throws(() => decodeRequest(encode(new Uint8Array(0))), isInvalidMessage)
      }
    })

    it('rejects a DELETE, a STORE\'s deletion or a carried record whose signature is empty or over MAX_SIGNATURE_BYTES', () => {
      const target = bytesOf(RING_ID_BYTES, 7)
      const remove = (signature: Uint8Array<ArrayBuffer>): Uint8Array => Request.encode({ type: MessageType.DELETE, namespace: Namespace.MAILBOX, ...deletionOf(1), signature })
      const store = (signature: Uint8Array<ArrayBuffer>): Uint8Array => Request.encode({ type: MessageType.STORE, namespace: Namespace.MAILBOX, deletions: [{ ...deletionOf(1), signature }] })
      const carried = (originSignature: Uint8Array<ArrayBuffer>): Uint8Array => Request.encode({
        type: MessageType.FIND_OWNER,
        target,
        nonce: bytesOf(OWNER_NONCE_BYTES),
        hopsLeft: 1,
        records: [{ key: target, value: bytesOf(8), expiresAt: 1 }],
        origin: alice.toMultihash().bytes,
        originSignature
      })
      for (const encode of [remove, store, carried]) {
        assert.doesNotThrow(() => decodeRequest(encode(bytesOf(MAX_SIGNATURE_BYTES))))
        assert.throws(() => decodeRequest(encode(bytesOf(MAX_SIGNATURE_BYTES + 1))), (err: Error) => isInvalidMessage(err) && err.message.includes(`signature of 1–${MAX_SIGNATURE_BYTES} bytes`))
        assert.throws(() => decodeRequest(encode(new Uint8Array(0))), isInvalidMessage)
      }
    })

    it('rejects a message over MAX_MESSAGE_SIZE', () => {
      const padded = new Uint8ArrayList(Request.encode({ type: MessageType.PING }), new Uint8Array(MAX_MESSAGE_SIZE))
      assert.throws(() => decodeRequest(padded), isInvalidMessage)
    })
  })

  describe('responses that break the rules', () => {
    it('rejects an answer to a different request type', () => {
      assert.throws(() => decodeResponse(Response.encode({ type: MessageType.PING }), MessageType.NOTIFY), isInvalidMessage)
    })

    it('rejects an ERROR without a code, or with a code over MAX_ERROR_CODE_LENGTH', () => {
      const error = (errorCode?: string): Uint8Array => Response.encode({ type: MessageType.PING, status: Response.Status.ERROR, errorCode })
      assert.throws(() => decodeResponse(error(), MessageType.PING), isInvalidMessage)
      assert.throws(() => decodeResponse(error(''), MessageType.PING), isInvalidMessage)
      assert.equal(decodeResponse(error('E'.repeat(MAX_ERROR_CODE_LENGTH)), MessageType.PING).errorCode?.length, MAX_ERROR_CODE_LENGTH)
      assert.throws(() => decodeResponse(error('E'.repeat(MAX_ERROR_CODE_LENGTH + 1)), MessageType.PING), isInvalidMessage)
    })

    it('rejects a RATE_LIMITED answer asking a stamp of more than MAX_STAMP_DIFFICULTY_ASKED bits, or a retryAfterMs past 2^53', () => {
      const limited = (fields: Partial<Response>): Uint8Array => Response.encode({ type: MessageType.STORE, status: Response.Status.ERROR, errorCode: 'RATE_LIMITED', ...fields })
      assert.equal(decodeResponse(limited({ retryAfterMs: 1000, stampDifficulty: MAX_STAMP_DIFFICULTY_ASKED }), MessageType.STORE).retryAfterMs, 1000)
      assert.throws(() => decodeResponse(limited({ stampDifficulty: MAX_STAMP_DIFFICULTY_ASKED + 1 }), MessageType.STORE), InvalidMessageError)
      // field 12 written by hand: 2^53 is past what the encoder writes
      const tooLate = Uint8Array.from([...limited({}), 0x60, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10])
      assert.throws(() => decodeResponse(tooLate, MessageType.STORE), InvalidMessageError)
    })

    it('rejects a STORE answer that declines a record it was not sent, or one twice', () => {
      const stored = (declined: number[]): Uint8Array => Response.encode({ type: MessageType.STORE, stored: { declined, deletions: [] } })
      assert.deepEqual(decodeStoreOutcome(decodeResponse(stored([0, 2]), MessageType.STORE).stored, 3), { declined: [0, 2], deletions: [] })
      assert.throws(() => decodeStoreOutcome(decodeResponse(stored([3]), MessageType.STORE).stored, 3), isInvalidMessage)
      assert.throws(() => decodeStoreOutcome(decodeResponse(stored([1, 1]), MessageType.STORE).stored, 3), isInvalidMessage)
      // an answer of an earlier version says nothing of the records
      assert.deepEqual(decodeStoreOutcome(decodeResponse(Response.encode({ type: MessageType.STORE }), MessageType.STORE).stored, 3), { deletions: [] })
    })

    it('takes a STORE answer\'s predecessor only as a 32-byte ring id', () => {
      const stored = (predecessor: Uint8Array): Uint8Array => Response.encode({ type: MessageType.STORE, stored: { declined: [], deletions: [], predecessor: predecessor as Uint8Array<ArrayBuffer> } })
      const id = new Uint8Array(RING_ID_BYTES).fill(7)
      assert.equal(decodeStoreOutcome(decodeResponse(stored(id), MessageType.STORE).stored, 1).predecessor, ringIdFromBytes(id))
      assert.throws(() => decodeStoreOutcome(decodeResponse(stored(new Uint8Array(RING_ID_BYTES - 1)), MessageType.STORE).stored, 1), isInvalidMessage)
      assert.throws(() => decodeStoreOutcome(decodeResponse(stored(new Uint8Array(RING_ID_BYTES + 1)), MessageType.STORE).stored, 1), isInvalidMessage)
    })

    it('rejects, while decoding, a FETCH answer of more than MAX_RECORDS_PER_MESSAGE records, or a STORE answer declining more', () => {
      const record = { key: new Uint8Array(32), value: new Uint8Array(1), expiresAt: 1 }
      const fetched = (count: number): Uint8Array => Response.encode({ type: MessageType.FETCH, records: Array.from({ length: count }, () => record) })
      const stored = (count: number): Uint8Array => Response.encode({ type: MessageType.STORE, stored: { declined: Array.from({ length: count }, (_, i) => i), deletions: [] } })
      assert.equal(decodeResponse(fetched(MAX_RECORDS_PER_MESSAGE), MessageType.FETCH).records.length, MAX_RECORDS_PER_MESSAGE)
      assert.throws(() => decodeResponse(fetched(MAX_RECORDS_PER_MESSAGE + 1), MessageType.FETCH), isRefusedWhileDecoding)
      assert.equal(decodeResponse(stored(MAX_RECORDS_PER_MESSAGE), MessageType.STORE).stored?.declined.length, MAX_RECORDS_PER_MESSAGE)
      assert.throws(() => decodeResponse(stored(MAX_RECORDS_PER_MESSAGE + 1), MessageType.STORE), isRefusedWhileDecoding)
    })

    it('rejects, while decoding, a RANGE_SUMMARIES answer of more than MAX_SUMMARIES_PER_MESSAGE summaries', () => {
      const summary = { key: new Uint8Array(32), id: new Uint8Array(32), expiresAt: 1 }
      const summaries = (count: number): Uint8Array => Response.encode({ type: MessageType.RANGE_SUMMARIES, summaries: Array.from({ length: count }, () => summary) })
      assert.equal(decodeResponse(summaries(MAX_SUMMARIES_PER_MESSAGE), MessageType.RANGE_SUMMARIES).summaries.length, MAX_SUMMARIES_PER_MESSAGE)
      assert.throws(() => decodeResponse(summaries(MAX_SUMMARIES_PER_MESSAGE + 1), MessageType.RANGE_SUMMARIES), isRefusedWhileDecoding)
    })

    it('rejects an owner statement, or a STORE answer\'s deletion, whose signature is empty or over MAX_SIGNATURE_BYTES', () => {
      const owner = WirePeer.encode(wirePeer(alice))
      const neighbours = WireNeighbours.encode({ successors: [wirePeer(bob)] })
      const found = (signature: Uint8Array<ArrayBuffer>): Uint8Array => Response.encode({ type: MessageType.FIND_OWNER, done: true, hops: 1, ownerStatement: { owner, neighbours, signature } })
      assert.equal(decodeResponse(found(bytesOf(MAX_SIGNATURE_BYTES)), MessageType.FIND_OWNER).ownerStatement?.signature.byteLength, MAX_SIGNATURE_BYTES)
      assert.throws(() => decodeResponse(found(bytesOf(MAX_SIGNATURE_BYTES + 1)), MessageType.FIND_OWNER), (err: Error) => isInvalidMessage(err) && err.message.includes(`signature of 1–${MAX_SIGNATURE_BYTES} bytes`))
      assert.throws(() => decodeResponse(found(new Uint8Array(0)), MessageType.FIND_OWNER), isInvalidMessage)

      const stored = (signature: Uint8Array<ArrayBuffer>): Uint8Array => Response.encode({ type: MessageType.STORE, stored: { declined: [], deletions: [{ ...deletionOf(1), signature }] } })
      assert.equal(decodeStoreOutcome(decodeResponse(stored(bytesOf(MAX_SIGNATURE_BYTES)), MessageType.STORE).stored, 1).deletions.length, 1)
      assert.throws(() => decodeStoreOutcome(decodeResponse(stored(bytesOf(MAX_SIGNATURE_BYTES + 1)), MessageType.STORE).stored, 1), isInvalidMessage)
    })

    it('rejects an unknown status', () => {
      // type = PING (field 1), status = 7 (field 2)
      assert.throws(() => decodeResponse(Uint8Array.from([0x08, 0x01, 0x10, 0x07]), MessageType.PING), isInvalidMessage)
    })

    it('rejects GET_NEIGHBOURS answered without neighbours', () => {
      assert.throws(() => decodeResponse(Response.encode({ type: MessageType.GET_NEIGHBOURS }), MessageType.GET_NEIGHBOURS), isInvalidMessage)
    })

    it('rejects FIND_SUCCESSOR answered as done without a successor', () => {
      assert.throws(() => decodeResponse(Response.encode({ type: MessageType.FIND_SUCCESSOR, done: true }), MessageType.FIND_SUCCESSOR), isInvalidMessage)
    })

    it('rejects more than MAX_PEERS_PER_MESSAGE peers', () => {
      const response = (count: number): Uint8Array => Response.encode({
        type: MessageType.FIND_SUCCESSOR,
        done: false,
        peers: Array.from({ length: count }, () => wirePeer(bob))
      })
      assert.equal(decodeResponse(response(MAX_PEERS_PER_MESSAGE), MessageType.FIND_SUCCESSOR).peers.length, MAX_PEERS_PER_MESSAGE)
      assert.throws(() => decodeResponse(response(MAX_PEERS_PER_MESSAGE + 1), MessageType.FIND_SUCCESSOR), isInvalidMessage)
    })

    it('rejects more than MAX_PEERS_PER_MESSAGE successors in neighbours', () => {
      const response = Response.encode({
        type: MessageType.GET_NEIGHBOURS,
        neighbours: { successors: Array.from({ length: MAX_PEERS_PER_MESSAGE + 1 }, () => wirePeer(bob)) }
      })
      assert.throws(() => decodeResponse(response, MessageType.GET_NEIGHBOURS), isInvalidMessage)
    })

    it('rejects a message over MAX_MESSAGE_SIZE', () => {
      const padded = new Uint8ArrayList(Response.encode({ type: MessageType.PING }), new Uint8Array(MAX_MESSAGE_SIZE))
      assert.throws(() => decodeResponse(padded, MessageType.PING), isInvalidMessage)
    })
  })

  describe('peer entries that break the rules', () => {
    it('rejects an empty peer id or one over MAX_PEER_ID_BYTES', () => {
      assert.throws(() => validatePeer(wirePeer(alice, { peerId: new Uint8Array() })), isInvalidMessage)
      assert.throws(() => validatePeer(wirePeer(alice, { peerId: bytesOf(MAX_PEER_ID_BYTES + 1) })), isInvalidMessage)
    })

    it('rejects a peer id that is not a multihash of a key', () => {
      assert.throws(() => validatePeer(wirePeer(alice, { peerId: bytesOf(38, 0xff) })), isInvalidMessage)
      // an identity multihash of text that is no key: a "URL peer id", which no node can authenticate as
      const url = new TextEncoder().encode('https://example.com')
      assert.throws(() => validatePeer(wirePeer(alice, { peerId: Uint8Array.from([0x00, url.byteLength, ...url]) })), isInvalidMessage)
    })

    it('rejects a ring id that is not RING_ID_BYTES long', () => {
      for (const length of [0, RING_ID_BYTES - 1, RING_ID_BYTES + 1]) {
        assert.throws(() => validatePeer(wirePeer(alice, { ringId: bytesOf(length) })), isInvalidMessage)
      }
    })

    it('refuses, while decoding, a message with an entry of more than MAX_ADDRS_PER_PEER addresses, wherever the entry is', () => {
      const addrs = (count: number): Array<Uint8Array<ArrayBuffer>> => Array.from({ length: count }, (_, i) => multiaddr(`/ip4/127.0.0.1/tcp/${4000 + i}`).bytes)
      const full = wirePeer(alice, { addrs: addrs(MAX_ADDRS_PER_PEER) })
      const over = wirePeer(bob, { addrs: addrs(MAX_ADDRS_PER_PEER + 1) })
      const leaving = (neighbours: Neighbours): Uint8Array => Request.encode({ type: MessageType.LEAVING, neighbours })
      const found = (peers: Peer[]): Uint8Array => Response.encode({ type: MessageType.FIND_SUCCESSOR, done: true, peers })
      const neighboursOf = (neighbours: Neighbours): Uint8Array => Response.encode({ type: MessageType.GET_NEIGHBOURS, neighbours })

      assert.equal(validatePeer(full).multiaddrs.length, MAX_ADDRS_PER_PEER)
      assert.deepEqual(decodeRequest(leaving({ predecessor: full, successors: [full] })), { type: MessageType.LEAVING, neighbours: { predecessor: full, successors: [full] } })
      assert.deepEqual(decodeResponse(found([full]), MessageType.FIND_SUCCESSOR).peers, [full])
      assert.deepEqual(decodeStatedPeer(WirePeer.encode(full)), full)
      assert.deepEqual(decodeStatedNeighbours(WireNeighbours.encode({ predecessor: full, successors: [full] })), { predecessor: full, successors: [full] })

      assert.throws(() => decodeRequest(leaving({ predecessor: over, successors: [] })), isRefusedWhileDecoding)
      assert.throws(() => decodeRequest(leaving({ successors: [full, over] })), isRefusedWhileDecoding)
      assert.throws(() => decodeResponse(found([full, over]), MessageType.FIND_SUCCESSOR), isRefusedWhileDecoding)
      assert.throws(() => decodeResponse(neighboursOf({ predecessor: over, successors: [full] }), MessageType.GET_NEIGHBOURS), isRefusedWhileDecoding)
      assert.throws(() => decodeResponse(neighboursOf({ successors: [over] }), MessageType.GET_NEIGHBOURS), isRefusedWhileDecoding)
      assert.throws(() => decodeStatedPeer(WirePeer.encode(over)), isRefusedWhileDecoding)
      assert.throws(() => decodeStatedNeighbours(WireNeighbours.encode({ predecessor: over, successors: [] })), isRefusedWhileDecoding)
      assert.throws(() => decodeStatedNeighbours(WireNeighbours.encode({ successors: [over] })), isRefusedWhileDecoding)
    })

    it('rejects an address over MAX_ADDR_BYTES', () => {
      assert.equal(validatePeer(wirePeer(alice, { addrs: [addrOfLength(MAX_ADDR_BYTES)] })).multiaddrs.length, 1)
      assert.throws(() => validatePeer(wirePeer(alice, { addrs: [addrOfLength(MAX_ADDR_BYTES + 1)] })), isInvalidMessage)
    })

    it('rejects an empty address or one that is not a multiaddr', () => {
      assert.throws(() => validatePeer(wirePeer(alice, { addrs: [new Uint8Array()] })), isInvalidMessage)
      assert.throws(() => validatePeer(wirePeer(alice, { addrs: [Uint8Array.from([0xff, 0xff])] })), isInvalidMessage)
    })
  })

  describe('limits fit together', () => {
    it('fits the largest message the field limits allow into MAX_MESSAGE_SIZE', () => {
      const largestPeer = wirePeer(alice, {
        peerId: bytesOf(MAX_PEER_ID_BYTES),
        addrs: Array.from({ length: MAX_ADDRS_PER_PEER }, () => addrOfLength(MAX_ADDR_BYTES))
      })
      const largest = Response.encode({
        type: MessageType.GET_NEIGHBOURS,
        neighbours: { predecessor: largestPeer, successors: Array.from({ length: MAX_PEERS_PER_MESSAGE }, () => largestPeer) }
      })
      assert.ok(largest.byteLength <= MAX_MESSAGE_SIZE, `${largest.byteLength} > ${MAX_MESSAGE_SIZE}`)
    })

    it('lets the dialer close idle streams before the listener resets them', () => {
      assert.ok(POOLED_STREAM_IDLE_TIMEOUT < STREAM_IDLE_TIMEOUT)
    })

    it('gives a begun request longer to arrive than its dialer waits for the answer, and less than an idle stream', () => {
      assert.ok(REQUEST_TIMEOUT < REQUEST_READ_TIMEOUT)
      assert.ok(REQUEST_READ_TIMEOUT < STREAM_IDLE_TIMEOUT)
    })

    it('accepts as many inbound streams per connection as a peer may open', () => {
      assert.ok(MAX_OUTBOUND_STREAMS <= MAX_INBOUND_STREAMS)
    })
  })

  describe('framing', () => {
    it('reads a frame of MAX_MESSAGE_SIZE bytes', async () => {
      const [outbound, inbound] = await streamPair()
      const body = bytesOf(MAX_MESSAGE_SIZE)
      const received = frameStream(inbound, MAX_MESSAGE_SIZE).read()
      await frameStream(outbound, MAX_MESSAGE_SIZE).write(body)
      assert.equal((await received).byteLength, MAX_MESSAGE_SIZE)
    })

    it('refuses a length prefix over MAX_MESSAGE_SIZE before the body arrives', async () => {
      const [outbound, inbound] = await streamPair()
      const received = frameStream(inbound, MAX_MESSAGE_SIZE).read()
      outbound.send(encodeVarint(MAX_MESSAGE_SIZE + 1))
      await assert.rejects(received, (err: Error) => err.name === 'InvalidDataLengthError')
    })

    it('tells onFrameStart once per frame, when its first byte arrives', async () => {
      const [outbound, inbound] = await streamPair()
      let started = 0
      const framed = frameStream(inbound, MAX_MESSAGE_SIZE, { onFrameStart: () => { started++ } })
      const body = bytesOf(300)
      const prefix = encodeVarint(body.byteLength)
      assert.equal(prefix.byteLength, 2)

      const first = framed.read()
      assert.equal(started, 0, 'a read waiting for a frame is no frame')
      outbound.send(prefix.subarray(0, 1))
      await waitFor(() => started === 1, 'the frame to start', 5_000)
      outbound.send(prefix.subarray(1))
      outbound.send(body)
      assert.equal((await first).byteLength, body.byteLength)

      const second = framed.read()
      await frameStream(outbound, MAX_MESSAGE_SIZE).write(body)
      assert.equal((await second).byteLength, body.byteLength)
      assert.equal(started, 2)
    })
  })
})
