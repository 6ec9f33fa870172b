/**
 * A second, minimal mailbox client, written from docs/protocol.md alone: it shows that the spec is
 * enough to interoperate. It uses none of the library's codecs, framing or cryptography: protobuf
 * is encoded by hand (uint8-varint and plain bytes), the cryptography is @noble's primitives
 * called as the spec says, addresses are multiformats' base58btc, and libp2p only provides the
 * connection (TCP, Noise, Yamux) and its streams.
 *
 * The library appears only on the other side: a ring of library nodes (test/helpers/ring.ts) and
 * a library user who sends a message through the public API. The client looks up its mailbox's
 * replica set, subscribes (SUBSCRIBE → CHALLENGE → PROVE), receives the message, opens it, and
 * acknowledges it with a DELETE it builds itself; the message is then gone from every replica.
 * The client's pieces are also checked against the published test vectors.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { createLibp2p } from 'libp2p'
import { base58btc } from 'multiformats/bases/base58'
import * as varint from 'uint8-varint'
import { createIdentity } from '../../src/index.js'
import { internalsOf } from '../../src/testing.js'
import { expectedReplicas, startRing, stopAll } from '../helpers/ring.js'
import type { ChordNode } from '../../src/index.js'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/* ======================================================================================
 * The client, from docs/protocol.md
 * ====================================================================================== */

/* ---- section 1: transcripts ---- */

function uint32be (n: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n)
  return out
}

function uint64be (n: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

function transcript (label: string, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(...[utf8ToBytes(label), ...parts].flatMap(part => [uint32be(part.byteLength), part]))
}

/* ---- section 1: protobuf, by hand ---- */

type FieldValue = number | boolean | Uint8Array
type Fields = Map<number, FieldValue[]>

/** Fields in ascending order; numbers, enums and bools as varints, bytes length-delimited */
function encodeMessage (fields: Array<[number, FieldValue | undefined]>): Uint8Array {
  const out: Uint8Array[] = []
  for (const [field, value] of fields) {
    if (value === undefined) {
      continue
    }
    if (value instanceof Uint8Array) {
      out.push(varint.encode(field << 3 | 2), varint.encode(value.byteLength), value)
    } else {
      out.push(varint.encode(field << 3), varint.encode(Number(value)))
    }
  }
  return concatBytes(...out)
}

function readVarint (bytes: Uint8Array, offset: number): [number, number] {
  const value = varint.decode(bytes, offset)
  return [value, varint.encodingLength(value)]
}

function decodeMessage (bytes: Uint8Array): Fields {
  const fields: Fields = new Map()
  let offset = 0
  while (offset < bytes.byteLength) {
    const [tag, tagLength] = readVarint(bytes, offset)
    offset += tagLength
    let value: FieldValue
    if ((tag & 7) === 0) {
      const [n, length] = readVarint(bytes, offset)
      offset += length
      value = n
    } else if ((tag & 7) === 2) {
      const [length, prefix] = readVarint(bytes, offset)
      offset += prefix
      if (offset + length > bytes.byteLength) {
        throw new Error('truncated field')
      }
      value = bytes.subarray(offset, offset + length)
      offset += length
    } else {
      throw new Error(`unexpected wire type ${tag & 7}`)
    }
    fields.set(tag >>> 3, [...(fields.get(tag >>> 3) ?? []), value])
  }
  return fields
}

function num (fields: Fields, field: number): number {
  return Number(fields.get(field)?.at(-1) ?? 0)
}

function bytes (fields: Fields, field: number): Uint8Array | undefined {
  const value = fields.get(field)?.at(-1)
  return value instanceof Uint8Array ? value : undefined
}

function allBytes (fields: Fields, field: number): Uint8Array[] {
  return (fields.get(field) ?? []).filter((v): v is Uint8Array => v instanceof Uint8Array)
}

/* ---- section 1: framing over a libp2p stream ---- */

class Frames {
  private buffer = new Uint8Array(0)
  private readonly chunks: AsyncIterator<Uint8Array | { subarray(): Uint8Array }>

  constructor (private readonly stream: Stream, private readonly maxMessageSize: number) {
    this.chunks = stream[Symbol.asyncIterator]()
  }

  async write (message: Uint8Array): Promise<void> {
    if (!this.stream.send(concatBytes(varint.encode(message.byteLength), message))) {
      await this.stream.onDrain()
    }
  }

  /** The next whole message; rejects when the stream ends or the deadline passes first */
  async read (timeoutMs: number): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs
    while (true) {
      const frame = this.take()
      if (frame != null) {
        return frame
      }
      const chunk = await withDeadline(this.chunks.next(), deadline - Date.now(), 'a frame')
      if (chunk.done === true) {
        throw new Error('the stream ended')
      }
      this.buffer = concatBytes(this.buffer, chunk.value instanceof Uint8Array ? chunk.value : chunk.value.subarray())
    }
  }

  private take (): Uint8Array | undefined {
    let length: number, prefix: number
    try {
      [length, prefix] = readVarint(this.buffer, 0)
    } catch {
      return undefined // the prefix is not all here yet
    }
    if (length > this.maxMessageSize) {
      throw new Error(`a frame of ${length} bytes is over the limit of ${this.maxMessageSize}`)
    }
    if (this.buffer.byteLength < prefix + length) {
      return undefined
    }
    const message = this.buffer.slice(prefix, prefix + length)
    this.buffer = this.buffer.slice(prefix + length)
    return message
  }
}

async function withDeadline<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`no ${what} within the deadline`)) }, Math.max(ms, 0))
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}

/* ---- section 1: connections, PeerId bytes, ring positions ---- */

const CHORD = '/chord/1.0.0'
const MAILBOX = '/chord/mailbox/1.0.0'
const MAX_MESSAGE_SIZE = 1_048_576
const MAX_MAILBOX_EVENT_SIZE = 593_920
const RING = 1n << 256n
const REQUEST_TIMEOUT = 5000

function toBigInt (position: Uint8Array): bigint {
  return BigInt('0x' + bytesToHex(position))
}

/** A ring node as a Peer entry describes it */
interface RingPeer {
  peerIdBytes: Uint8Array
  peerId: string
  ringId: bigint
  addrs: Multiaddr[]
}

function ringPeer (peerIdBytes: Uint8Array, addrs: Multiaddr[]): RingPeer {
  return { peerIdBytes, peerId: base58btc.baseEncode(peerIdBytes), ringId: toBigInt(sha256(peerIdBytes)), addrs }
}

/** A Peer message: kept only if its ring id is sha256 of its PeerId bytes */
function decodePeer (entry: Uint8Array): RingPeer | undefined {
  const fields = decodeMessage(entry)
  const peerIdBytes = bytes(fields, 1)
  const ringId = bytes(fields, 2)
  if (peerIdBytes == null || ringId?.byteLength !== 32 || bytesToHex(sha256(peerIdBytes)) !== bytesToHex(ringId)) {
    return undefined
  }
  return ringPeer(peerIdBytes, allBytes(fields, 3).map(addr => multiaddr(addr)))
}

/* ---- section 6: user keys ---- */

interface Keys {
  ed25519Seed: Uint8Array
  x25519Secret: Uint8Array
  /** the canonical public key K */
  publicKey: Uint8Array
}

function keysFrom (ed25519Seed: Uint8Array, x25519Secret: Uint8Array): Keys {
  const publicKey = concatBytes(new Uint8Array([1]), ed25519.getPublicKey(ed25519Seed), x25519.getPublicKey(x25519Secret))
  return { ed25519Seed, x25519Secret, publicKey }
}

function addressOf (publicKey: Uint8Array): string {
  const checksum = sha256(transcript('libp2p-chord/address-checksum/v1', publicKey)).subarray(0, 4)
  return 'chord:' + base58btc.baseEncode(concatBytes(publicKey, checksum))
}

function mailboxKeyOf (publicKey: Uint8Array): Uint8Array {
  return sha256(transcript('libp2p-chord/mailbox-key/v1', publicKey))
}

/* ---- section 7: owner signatures ---- */

const SUBSCRIBE_CONTEXT = 'libp2p-chord/mailbox/subscribe/v1'
const DELETE_CONTEXT = 'libp2p-chord/mailbox/delete/v1'

function userSignature (keys: Keys, context: string, m: Uint8Array): Uint8Array {
  return ed25519.sign(transcript('libp2p-chord/user-signature/v1', utf8ToBytes(context), m), keys.ed25519Seed)
}

function proveSignature (keys: Keys, nodePeerIdBytes: Uint8Array, nonce: Uint8Array): Uint8Array {
  return userSignature(keys, SUBSCRIBE_CONTEXT, transcript(SUBSCRIBE_CONTEXT, nodePeerIdBytes, mailboxKeyOf(keys.publicKey), nonce))
}

function deleteRequest (keys: Keys, ids: Uint8Array[], signedAt: number): Uint8Array {
  const key = mailboxKeyOf(keys.publicKey)
  const signature = userSignature(keys, DELETE_CONTEXT, transcript(DELETE_CONTEXT, key, uint64be(signedAt), ...ids))
  return concatBytes(
    encodeMessage([[1, 10], [5, key], [9, 1], [10, keys.publicKey]]),
    ...ids.map(id => encodeMessage([[11, id]])),
    encodeMessage([[12, signedAt], [13, signature]])
  )
}

/* ---- section 8: opening an envelope ---- */

const BUCKETS = new Map([[512, 457], [2048, 1993], [8192, 8137], [32768, 32712], [65536, 65480]])

interface Opened { id: string, sender: Uint8Array, sentAt: number, body: Uint8Array }

function openEnvelope (keys: Keys, envelope: Uint8Array): Opened {
  const padded = BUCKETS.get(envelope.byteLength)
  assert.ok(padded != null, `an envelope of ${envelope.byteLength} bytes is not one of the bucket sizes`)
  const fields = decodeMessage(envelope)
  const ephemeralKey = bytes(fields, 2)
  const ciphertext = bytes(fields, 3)
  assert.equal(num(fields, 1), 1, 'envelope version')
  assert.equal(ephemeralKey?.byteLength, 32, 'ephemeral key length')
  assert.equal(ciphertext?.byteLength, padded + 16, 'ciphertext length')
  assert.equal(bytesToHex(encodeMessage([[1, 1], [2, ephemeralKey], [3, ciphertext]])), bytesToHex(envelope), 'canonical encoding')

  const shared = x25519.getSharedSecret(keys.x25519Secret, ephemeralKey)
  const okm = hkdf(sha256, shared, undefined, transcript('libp2p-chord/envelope-key/v1', ephemeralKey, keys.publicKey), 44)
  const plain = chacha20poly1305(okm.subarray(0, 32), okm.subarray(32)).decrypt(ciphertext)
  let end = plain.byteLength - 1
  while (end >= 0 && plain[end] === 0) {
    end--
  }
  assert.equal(plain[end], 0x80, 'padding marker')

  const sealed = decodeMessage(plain.subarray(0, end))
  const sender = bytes(sealed, 1) ?? new Uint8Array(0)
  const sentAt = num(sealed, 2)
  const body = bytes(sealed, 3) ?? new Uint8Array(0)
  const signature = bytes(sealed, 4) ?? new Uint8Array(0)
  assert.equal(sender.byteLength, 65, 'sender key length')
  assert.equal(sender[0], 1, 'sender key version')
  assert.equal(signature.byteLength, 64, 'signature length')
  const signed = transcript('libp2p-chord/envelope-signature/v1', sender, keys.publicKey, ephemeralKey, uint64be(sentAt), body)
  assert.ok(ed25519.verify(signature, signed, sender.subarray(1, 33), { zip215: false }), 'the sender\'s signature verifies')
  return { id: bytesToHex(sha256(envelope)), sender, sentAt, body }
}

/* ---- section 2: one request per stream; lookups ---- */

async function dial (client: Libp2p, peer: RingPeer, protocol: string): Promise<Stream> {
  let lastError: unknown
  for (const addr of peer.addrs) {
    try {
      // wire entries carry addresses without /p2p; a bootstrap address has it already
      const full = addr.toString().endsWith(`/p2p/${peer.peerId}`) ? addr : addr.encapsulate(`/p2p/${peer.peerId}`)
      return await client.dialProtocol(full, protocol, { signal: AbortSignal.timeout(REQUEST_TIMEOUT) })
    } catch (err) {
      lastError = err
    }
  }
  throw lastError ?? new Error(`no address to dial ${peer.peerId}`)
}

/** Writes one Request on a new stream and returns the Response's fields */
async function request (client: Libp2p, peer: RingPeer, message: Uint8Array): Promise<Fields> {
  const stream = await dial(client, peer, CHORD)
  try {
    const frames = new Frames(stream, MAX_MESSAGE_SIZE)
    await frames.write(message)
    const response = decodeMessage(await frames.read(REQUEST_TIMEOUT))
    assert.equal(num(response, 1), num(decodeMessage(message), 1), 'the response repeats the request type')
    await stream.close()
    return response
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}

/** The successors of `target`, responsible node first: an iterative FIND_SUCCESSOR from `entry` */
async function findSuccessors (client: Libp2p, entry: RingPeer, target: Uint8Array): Promise<RingPeer[]> {
  const goal = toBigInt(target)
  const distance = (peer: RingPeer): bigint => ((goal - peer.ringId) % RING + RING) % RING
  const candidates = new Map([[entry.peerId, entry]])
  const asked = new Set<string>()
  for (let hop = 0; hop < 48 && candidates.size > 0; hop++) {
    const next = [...candidates.values()].sort((a, b) => (distance(a) < distance(b) ? -1 : 1))[0]
    candidates.delete(next.peerId)
    asked.add(next.peerId)
    const response = await request(client, next, encodeMessage([[1, 4], [2, target]]))
    assert.equal(num(response, 2), 0, 'FIND_SUCCESSOR status OK')
    const peers = allBytes(response, 6).map(decodePeer).filter((p): p is RingPeer => p != null)
    if (num(response, 5) !== 0 && peers.length > 0) {
      return peers
    }
    // only nodes between the one asked and the target bring us closer
    for (const peer of peers) {
      if (!asked.has(peer.peerId) && distance(peer) < distance(next) && distance(peer) > 0n) {
        candidates.set(peer.peerId, peer)
      }
    }
  }
  throw new Error('the lookup found no successor')
}

/* ---- section 5: a subscription ---- */

class SpecSubscription {
  readonly seen = new Set<string>()
  private readonly opened: Opened[] = []
  caughtUp = false

  private constructor (private readonly keys: Keys, private readonly stream: Stream, private readonly frames: Frames) {}

  /** SUBSCRIBE → CHALLENGE → PROVE at `node`; resolves once the backlog is complete */
  static async open (client: Libp2p, node: RingPeer, keys: Keys): Promise<SpecSubscription> {
    const stream = await dial(client, node, MAILBOX)
    const frames = new Frames(stream, MAX_MAILBOX_EVENT_SIZE)
    await frames.write(encodeMessage([[1, 1], [2, keys.publicKey]]))
    const challenge = decodeMessage(await frames.read(10_000))
    assert.equal(num(challenge, 1), 1, `expected a CHALLENGE, got an event of type ${num(challenge, 1)} (${new TextDecoder().decode(bytes(challenge, 5))})`)
    const nonce = bytes(challenge, 2)
    assert.equal(nonce?.byteLength, 32, 'nonce length')
    await frames.write(encodeMessage([[1, 2], [3, proveSignature(keys, node.peerIdBytes, nonce)]]))
    const subscription = new SpecSubscription(keys, stream, frames)
    while (!subscription.caughtUp) {
      await subscription.readEvent(10_000)
    }
    return subscription
  }

  /** The next message not seen before, within `timeoutMs` */
  async next (timeoutMs: number): Promise<Opened> {
    const deadline = Date.now() + timeoutMs
    while (this.opened.length === 0) {
      await this.readEvent(deadline - Date.now())
    }
    return this.opened.shift() as Opened
  }

  async close (): Promise<void> {
    await this.stream.close()
  }

  private async readEvent (timeoutMs: number): Promise<void> {
    const event = decodeMessage(await this.frames.read(timeoutMs))
    const type = num(event, 1)
    if (type === 3) {
      throw new Error(`the node refused the subscription: ${new TextDecoder().decode(bytes(event, 5))}`)
    }
    assert.equal(type, 2, 'an ENVELOPES event')
    for (const envelope of allBytes(event, 3)) {
      const id = bytesToHex(sha256(envelope))
      if (!this.seen.has(id)) {
        this.seen.add(id)
        this.opened.push(openEnvelope(this.keys, envelope))
      }
    }
    if (num(event, 4) !== 0) {
      this.caughtUp = true
    }
  }
}

/* ======================================================================================
 * The tests
 * ====================================================================================== */

function vectors (name: string): any {
  return JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8'))
}

describe('a client written from the spec alone', function () {
  this.timeout(120_000)

  describe('reproduces the published vectors', () => {
    const identities = vectors('identities.json').identities as any[]
    const bob = identities.find(i => i.name === 'bob')
    const bobKeys = keysFrom(hexToBytes(bob.ed25519Seed), hexToBytes(bob.x25519Secret))

    it('derives public keys, addresses and mailbox keys', () => {
      for (const identity of identities) {
        const keys = keysFrom(hexToBytes(identity.ed25519Seed), hexToBytes(identity.x25519Secret))
        assert.equal(bytesToHex(keys.publicKey), identity.publicKey)
        assert.equal(addressOf(keys.publicKey), identity.address)
        assert.equal(bytesToHex(mailboxKeyOf(keys.publicKey)), identity.mailboxKey)
      }
    })

    it('opens the envelopes', () => {
      for (const vector of vectors('envelopes.json').envelopes) {
        const opened = openEnvelope(bobKeys, hexToBytes(vector.envelope))
        assert.equal(bytesToHex(opened.body), vector.plaintext)
        assert.equal(opened.sentAt, vector.sentAt)
        assert.equal(opened.id, vector.id)
        assert.equal(bytesToHex(opened.sender), identities.find(i => i.name === vector.sender).publicKey)
      }
    })

    it('signs PROVE and builds the DELETE request byte for byte', () => {
      const { prove, delete: deletion } = vectors('signatures.json')
      assert.equal(bytesToHex(base58btc.baseDecode(prove.node)), prove.nodePeerIdBytes)
      assert.equal(bytesToHex(proveSignature(bobKeys, hexToBytes(prove.nodePeerIdBytes), hexToBytes(prove.nonce))), prove.signature)
      const request = deleteRequest(bobKeys, deletion.ids.map(hexToBytes), deletion.signedAt)
      const published = (vectors('messages.json')['/chord/1.0.0'] as any[]).find(v => v.name.startsWith('DELETE:'))
      assert.equal(bytesToHex(request), published.protobuf)
      assert.equal(bytesToHex(concatBytes(varint.encode(request.byteLength), request)), published.framed)
    })

    it('places nodes on the ring', () => {
      for (const node of vectors('ring.json').nodes) {
        const peer = ringPeer(hexToBytes(node.peerIdBytes), [])
        assert.equal(peer.peerId, node.peerId)
        assert.equal(peer.ringId.toString(16).padStart(64, '0'), node.ringId)
      }
    })
  })

  describe('against a ring of library nodes', () => {
    const REPLICAS = 3
    let nodes: ChordNode[]
    let client: Libp2p

    before(async () => {
      nodes = await startRing(5)
      client = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    })

    after(async () => {
      await client?.stop()
      await stopAll(nodes ?? [])
    })

    it('subscribes, receives a message the library sent, opens it, and acknowledges it off every replica', async () => {
      const bob = keysFrom(ed25519.utils.randomSecretKey(), x25519.utils.randomSecretKey())
      const mailboxKey = mailboxKeyOf(bob.publicKey)
      const entryNode = nodes[0]
      const entry = ringPeer(entryNode.peerId.toMultihash().bytes, entryNode.getMultiaddrs())

      // the replica set of the mailbox, by an iterative lookup the client drives
      const successors = await findSuccessors(client, entry, mailboxKey)
      const replicas = successors.slice(0, REPLICAS)
      const expected = expectedReplicas(nodes, toBigInt(mailboxKey), REPLICAS)
      assert.deepEqual(replicas.map(r => r.peerId), expected.map(n => n.peerId.toString()))

      // subscribe at the responsible node: the mailbox is empty, so the backlog is too
      const subscription = await SpecSubscription.open(client, replicas[0], bob)
      assert.equal(subscription.seen.size, 0)

      // a library user sends to bob's address, made by the client
      const alice = await createIdentity()
      const plaintext = utf8ToBytes('Hello from a library user to a client built from the spec')
      const sent = await nodes[3].mailbox.send(alice, addressOf(bob.publicKey), plaintext)
      assert.equal(sent.replicas, REPLICAS)

      const message = await subscription.next(20_000)
      assert.equal(message.id, sent.id)
      assert.equal(bytesToHex(message.body), bytesToHex(plaintext))
      assert.equal(bytesToHex(message.sender), bytesToHex(alice.publicKey.bytes))
      assert.ok(Math.abs(message.sentAt - Date.now()) < 60_000)
      for (const replica of expected) {
        const held = await internalsOf(replica).mailboxStore.get(mailboxKey)
        assert.ok(held.some(r => bytesToHex(r.id) === message.id), `replica ${replica.peerId} holds the envelope before the ack`)
      }

      // acknowledge: the same signed DELETE to every replica
      const ack = deleteRequest(bob, [hexToBytes(message.id)], Date.now())
      for (const replica of replicas) {
        const response = await request(client, replica, ack)
        assert.equal(num(response, 2), 0, `DELETE on ${replica.peerId} answered ${new TextDecoder().decode(bytes(response, 3))}`)
      }
      for (const node of nodes) {
        const held = await internalsOf(node).mailboxStore.get(mailboxKey)
        assert.ok(!held.some(r => bytesToHex(r.id) === message.id), `node ${node.peerId} no longer holds the envelope`)
      }

      // a DELETE signed by someone else is refused, and a forged PROVE too
      const mallory = keysFrom(ed25519.utils.randomSecretKey(), x25519.utils.randomSecretKey())
      const forged = decodeMessage(deleteRequest(mallory, [hexToBytes(message.id)], Date.now()))
      const claimingBob = encodeMessage([[1, 10], [5, mailboxKey], [9, 1], [10, bob.publicKey], [11, hexToBytes(message.id)],
        [12, num(forged, 12)], [13, bytes(forged, 13)]])
      const refused = await request(client, replicas[0], claimingBob)
      assert.equal(num(refused, 2), 1)
      assert.equal(new TextDecoder().decode(bytes(refused, 3)), 'BAD_SIGNATURE')

      await subscription.close()
    })

    it('is refused with BAD_SIGNATURE when it answers the challenge for another node', async () => {
      const bob = keysFrom(ed25519.utils.randomSecretKey(), x25519.utils.randomSecretKey())
      const node = ringPeer(nodes[1].peerId.toMultihash().bytes, nodes[1].getMultiaddrs())
      const other = nodes[2].peerId.toMultihash().bytes
      const stream = await dial(client, node, MAILBOX)
      const frames = new Frames(stream, MAX_MAILBOX_EVENT_SIZE)
      await frames.write(encodeMessage([[1, 1], [2, bob.publicKey]]))
      const nonce = bytes(decodeMessage(await frames.read(10_000)), 2) ?? new Uint8Array(0)
      await frames.write(encodeMessage([[1, 2], [3, proveSignature(bob, other, nonce)]]))
      const answer = decodeMessage(await frames.read(10_000))
      assert.equal(num(answer, 1), 3)
      assert.equal(new TextDecoder().decode(bytes(answer, 5)), 'BAD_SIGNATURE')
      await stream.close()
    })
  })
})
