import { strict as assert } from 'node:assert'
import { encode as encodeVarint } from 'uint8-varint'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { NotFoundError } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { silentLogger } from '../helpers/logger.js'
import { madeUpPeerId } from '../helpers/made-up-peer.js'
import { InvalidMessageError } from '../../src/errors.js'
import { MAX_ADDR_BYTES, MAX_ADDRS_PER_PEER, MAX_PEER_ID_BYTES, PROTOCOL as CHORD_PROTOCOL } from '../../src/transport/constants.js'
import { minute } from '../../src/units.js'
import { frameStream } from '../../src/protocol/framing.js'
import {
  MAX_PX_NUM_PEERS,
  MAX_PX_PEER_READS,
  MAX_PX_PEERS,
  MAX_PX_REQUEST_SIZE,
  MAX_PX_RESPONSE_SIZE,
  MAX_SIGNED_PEER_RECORD_BYTES,
  PX_INTERVAL,
  PX_INTERVAL_JITTER,
  PX_REQUESTS_PER_MINUTE
} from '../../src/peer-exchange/constants.js'
import { decodePxRequest, decodePxResponse, validatePxPeer } from '../../src/peer-exchange/validate.js'
import { PxRequest, PxResponse } from '../../src/protocol/generated/px.js'
import { decodePeerId } from '../../src/transport/validate.js'
import { PxResponder } from '../../src/peer-exchange/responder.js'
import type { PxPeer } from '../../src/protocol/generated/px.js'
import type { Connection, Peer, PeerId, PeerStore, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

interface Identity {
  privateKey: PrivateKey
  peerId: PeerId
}

async function newIdentity (): Promise<Identity> {
  const privateKey = await generateKeyPair('Ed25519')
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey) }
}

async function seal (signer: PrivateKey, about: PeerId, addrs: Multiaddr[]): Promise<Uint8Array<ArrayBuffer>> {
  return (await RecordEnvelope.seal(new PeerRecord({ peerId: about, multiaddrs: addrs }), signer)).marshal() as Uint8Array<ArrayBuffer>
}

function signedEntry (peerId: PeerId, signedPeerRecord: Uint8Array<ArrayBuffer>): PxPeer {
  return { peerId: peerId.toMultihash().bytes, signedPeerRecord, addrs: [] }
}

function plainEntry (peerId: PeerId, addrs: Array<Uint8Array<ArrayBuffer>>): PxPeer {
  return { peerId: peerId.toMultihash().bytes, addrs }
}

function tcp (port: number): Multiaddr {
  return multiaddr(`/ip4/127.0.0.1/tcp/${port}`)
}

/** A /dns4 address whose binary form is exactly `bytes` long */
function dnsAddrOf (bytes: number): Multiaddr {
  // /dns4 code (1 byte) + name length varint (2 bytes) + name + /tcp (1 byte code + 2 bytes port)
  return multiaddr(`/dns4/${'a'.repeat(bytes - 6)}/tcp/1`)
}

/**
 * The message with an unknown protobuf field appended, `size` bytes in all: decoders skip it, and
 * an envelope's signature still holds, so only the size limit can refuse it.
 */
function padTo (message: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const tag = 0x7a // field 15, wire type 2 (bytes)
  for (let lengthBytes = 1; lengthBytes <= 3; lengthBytes++) {
    const filler = size - message.byteLength - 1 - lengthBytes
    if (filler >= 0 && encodeVarint(filler).byteLength === lengthBytes) {
      return Uint8Array.from([...message, tag, ...encodeVarint(filler), ...new Uint8Array(filler)])
    }
  }
  throw new Error(`cannot pad ${message.byteLength} bytes to ${size}`)
}

async function rejects (entry: PxPeer): Promise<void> {
  await assert.rejects(validatePxPeer(entry), InvalidMessageError)
}

describe('peer exchange messages', () => {
  describe('requests', () => {
    it('reads how many peers a request asks for', () => {
      assert.equal(decodePxRequest(PxRequest.encode({ numPeers: 3 })), 3)
    })

    it('counts a request for more than MAX_PX_PEERS as one for MAX_PX_PEERS', () => {
      assert.equal(decodePxRequest(PxRequest.encode({ numPeers: MAX_PX_PEERS + 1 })), MAX_PX_PEERS)
      assert.equal(decodePxRequest(PxRequest.encode({ numPeers: MAX_PX_NUM_PEERS })), MAX_PX_PEERS)
    })

    it('rejects a request for more than MAX_PX_NUM_PEERS, rather than reading its low 32 bits', () => {
      // MAX_PX_NUM_PEERS + 1 would be cut to 0 peers, + 2 to 1
      for (const numPeers of [MAX_PX_NUM_PEERS + 1, MAX_PX_NUM_PEERS + 2]) {
        assert.throws(() => decodePxRequest(PxRequest.encode({ numPeers })), (err: Error) => {
          assert.ok(err instanceof InvalidMessageError)
          assert.equal(err.message, `a request asks for 1 to ${MAX_PX_NUM_PEERS} peers, not ${numPeers}`)
          return true
        })
      }
    })

    it('rejects a request for no peers', () => {
      assert.throws(() => decodePxRequest(PxRequest.encode({ numPeers: 0 })), InvalidMessageError)
    })

    it('rejects a request over MAX_PX_REQUEST_SIZE', () => {
      const request = PxRequest.encode({ numPeers: 1 })
      assert.throws(() => decodePxRequest(padTo(request, MAX_PX_REQUEST_SIZE + 1)), InvalidMessageError)
      assert.equal(decodePxRequest(padTo(request, MAX_PX_REQUEST_SIZE)), 1)
    })

    it('rejects a request that is not protobuf', () => {
      assert.throws(() => decodePxRequest(Uint8Array.from([0x08, 0xff])), InvalidMessageError)
    })
  })

  describe('responses', () => {
    let entries: PxPeer[]

    before(async () => {
      entries = await Promise.all(Array.from({ length: MAX_PX_PEERS + 1 }, async () => {
        const { peerId } = await newIdentity()
        return plainEntry(peerId, [tcp(4001).bytes])
      }))
    })

    it('accepts up to as many entries as were asked for', () => {
      const response = decodePxResponse(PxResponse.encode({ peers: entries.slice(0, 3) }), 3)
      assert.equal(response.status, PxResponse.Status.OK)
      assert.equal(response.peers.length, 3)
    })

    it('rejects more entries than were asked for', () => {
      assert.throws(() => decodePxResponse(PxResponse.encode({ peers: entries.slice(0, 3) }), 2), InvalidMessageError)
    })

    it('rejects more than MAX_PX_PEERS entries, whatever was asked', () => {
      assert.throws(() => decodePxResponse(PxResponse.encode({ peers: entries }), 2 ** 32 - 1), InvalidMessageError)
    })

    it('rejects, while decoding, a response with an entry of more than MAX_ADDRS_PER_PEER plain addresses', async () => {
      const addrs = Array.from({ length: MAX_ADDRS_PER_PEER + 1 }, (_, i) => tcp(4000 + i).bytes)
      const full = { ...entries[1], addrs: addrs.slice(1) }
      assert.deepEqual(decodePxResponse(PxResponse.encode({ peers: [entries[0], full] }), 2).peers[1].addrs, addrs.slice(1))
      assert.throws(() => decodePxResponse(PxResponse.encode({ peers: [entries[0], { ...full, addrs }] }), 2),
        (err: Error) => err instanceof InvalidMessageError && (err.cause as Error | undefined)?.name === 'MaxLengthError')
    })

    it('rejects a RATE_LIMITED answer that carries peers', () => {
      const bytes = PxResponse.encode({ status: PxResponse.Status.RATE_LIMITED, peers: entries.slice(0, 1) })
      assert.throws(() => decodePxResponse(bytes, MAX_PX_PEERS), InvalidMessageError)
      assert.equal(decodePxResponse(PxResponse.encode({ status: PxResponse.Status.RATE_LIMITED }), 1).status, PxResponse.Status.RATE_LIMITED)
    })

    it('rejects a status it does not know', () => {
      assert.throws(() => decodePxResponse(Uint8Array.from([0x08, 0x07]), 1), InvalidMessageError)
    })

    it('rejects a response over MAX_PX_RESPONSE_SIZE', () => {
      const response = PxResponse.encode({ peers: entries.slice(0, 1) })
      assert.throws(() => decodePxResponse(padTo(response, MAX_PX_RESPONSE_SIZE + 1), 1), InvalidMessageError)
      assert.equal(decodePxResponse(padTo(response, MAX_PX_RESPONSE_SIZE), 1).peers.length, 1)
    })

    it('rejects bytes that are not protobuf', () => {
      assert.throws(() => decodePxResponse(Uint8Array.from([0x12, 0x40, 0x01]), 1), InvalidMessageError)
    })
  })

  describe('entries', () => {
    let alice: Identity
    let mallory: Identity

    before(async () => {
      [alice, mallory] = await Promise.all([newIdentity(), newIdentity()])
    })

    it('accepts a record signed by the peer about itself, with the record\'s addresses', async () => {
      const record = await seal(alice.privateKey, alice.peerId, [tcp(4001), tcp(4002)])
      const peer = await validatePxPeer(signedEntry(alice.peerId, record))
      assert.ok(peer.id.equals(alice.peerId))
      assert.deepEqual(peer.multiaddrs.map(String), ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4002'])
      assert.deepEqual(peer.signedPeerRecord, record)
    })

    it('accepts plain addresses', async () => {
      const peer = await validatePxPeer(plainEntry(alice.peerId, [tcp(4001).bytes]))
      assert.ok(peer.id.equals(alice.peerId))
      assert.deepEqual(peer.multiaddrs.map(String), ['/ip4/127.0.0.1/tcp/4001'])
      assert.equal(peer.signedPeerRecord, undefined)
    })

    it('rejects a record signed by another key than the peer\'s', async () => {
      await rejects(signedEntry(alice.peerId, await seal(mallory.privateKey, alice.peerId, [tcp(4001)])))
      await rejects(signedEntry(alice.peerId, await seal(mallory.privateKey, mallory.peerId, [tcp(4001)])))
    })

    it('rejects a record the peer signed about another peer', async () => {
      await rejects(signedEntry(mallory.peerId, await seal(alice.privateKey, mallory.peerId, [tcp(4001)])))
    })

    it('rejects a record whose signature does not verify', async () => {
      const record = await seal(alice.privateKey, alice.peerId, [tcp(4001)])
      record[record.length - 1] ^= 0x01
      await rejects(signedEntry(alice.peerId, record))
    })

    it('rejects an envelope that holds something other than a peer record', async () => {
      const notARecord = {
        domain: PeerRecord.DOMAIN,
        codec: Uint8Array.from([0x03, 0x02]),
        marshal: () => new PeerRecord({ peerId: alice.peerId, multiaddrs: [tcp(4001)] }).marshal(),
        equals: () => false
      }
      const envelope = (await RecordEnvelope.seal(notARecord, alice.privateKey)).marshal() as Uint8Array<ArrayBuffer>
      await rejects(signedEntry(alice.peerId, envelope))
    })

    it('rejects a record over MAX_SIGNED_PEER_RECORD_BYTES', async () => {
      const record = await seal(alice.privateKey, alice.peerId, [tcp(4001)])
      await rejects(signedEntry(alice.peerId, padTo(record, MAX_SIGNED_PEER_RECORD_BYTES + 1)))
      assert.ok(await validatePxPeer(signedEntry(alice.peerId, padTo(record, MAX_SIGNED_PEER_RECORD_BYTES))))
    })

    it('rejects a record with more than MAX_ADDRS_PER_PEER addresses', async () => {
      const addrs = Array.from({ length: MAX_ADDRS_PER_PEER + 1 }, (_, i) => tcp(4000 + i))
      await rejects(signedEntry(alice.peerId, await seal(alice.privateKey, alice.peerId, addrs)))
      assert.ok(await validatePxPeer(signedEntry(alice.peerId, await seal(alice.privateKey, alice.peerId, addrs.slice(1)))))
    })

    it('rejects a record with an address over MAX_ADDR_BYTES', async () => {
      assert.equal(dnsAddrOf(MAX_ADDR_BYTES + 1).bytes.byteLength, MAX_ADDR_BYTES + 1)
      await rejects(signedEntry(alice.peerId, await seal(alice.privateKey, alice.peerId, [dnsAddrOf(MAX_ADDR_BYTES + 1)])))
      assert.ok(await validatePxPeer(signedEntry(alice.peerId, await seal(alice.privateKey, alice.peerId, [dnsAddrOf(MAX_ADDR_BYTES)]))))
    })

    it('rejects a record without addresses, and an entry without any', async () => {
      await rejects(signedEntry(alice.peerId, await seal(alice.privateKey, alice.peerId, [])))
      await rejects(plainEntry(alice.peerId, []))
    })

    it('rejects an entry with both a signed record and plain addresses', async () => {
      const record = await seal(alice.privateKey, alice.peerId, [tcp(4001)])
      await rejects({ peerId: alice.peerId.toMultihash().bytes, signedPeerRecord: record, addrs: [tcp(6666).bytes] })
    })

    it('rejects a plain address over MAX_ADDR_BYTES, or one that is not a multiaddr', async () => {
      await rejects(plainEntry(alice.peerId, [dnsAddrOf(MAX_ADDR_BYTES + 1).bytes]))
      await rejects(plainEntry(alice.peerId, [Uint8Array.from([0xff, 0xff, 0xff])]))
    })

    it('rejects an address that ends in another peer\'s id, accepts one that ends in its own', async () => {
      await rejects(plainEntry(alice.peerId, [tcp(4001).encapsulate(`/p2p/${mallory.peerId}`).bytes]))
      await rejects(signedEntry(alice.peerId, await seal(alice.privateKey, alice.peerId, [tcp(4001).encapsulate(`/p2p/${mallory.peerId}`)])))
      assert.ok(await validatePxPeer(plainEntry(alice.peerId, [tcp(4001).encapsulate(`/p2p/${alice.peerId}`).bytes])))
    })

    it('rejects a peer id that is empty, over MAX_PEER_ID_BYTES or not a multihash', async () => {
      for (const peerId of [new Uint8Array(0), new Uint8Array(MAX_PEER_ID_BYTES + 1), Uint8Array.from([0xff, 0x01])]) {
        await rejects({ peerId, addrs: [tcp(4001).bytes] })
      }
    })
  })

  describe('limits fit together', () => {
    it('fits MAX_PX_PEERS of the largest entries the limits allow into MAX_PX_RESPONSE_SIZE', () => {
      const withRecords = Array.from({ length: MAX_PX_PEERS }, () => ({
        peerId: new Uint8Array(MAX_PEER_ID_BYTES),
        signedPeerRecord: new Uint8Array(MAX_SIGNED_PEER_RECORD_BYTES),
        addrs: []
      }))
      const withAddresses = Array.from({ length: MAX_PX_PEERS }, () => ({
        peerId: new Uint8Array(MAX_PEER_ID_BYTES),
        addrs: Array.from({ length: MAX_ADDRS_PER_PEER }, () => new Uint8Array(MAX_ADDR_BYTES))
      }))
      assert.ok(PxResponse.encode({ peers: withRecords }).byteLength <= MAX_PX_RESPONSE_SIZE)
      assert.ok(PxResponse.encode({ peers: withAddresses }).byteLength <= MAX_PX_RESPONSE_SIZE)
    })

    it('fits the largest request into MAX_PX_REQUEST_SIZE', () => {
      assert.ok(PxRequest.encode({ numPeers: MAX_PX_NUM_PEERS }).byteLength <= MAX_PX_REQUEST_SIZE)
    })

    it('leaves a well-behaved peer under PX_REQUESTS_PER_MINUTE: one round per shortest interval, plus one on connecting or starting', () => {
      const shortestInterval = PX_INTERVAL * (1 - PX_INTERVAL_JITTER)
      assert.ok(Math.ceil(minute / shortestInterval) + 1 <= PX_REQUESTS_PER_MINUTE)
    })
  })
})

describe('PxResponder', () => {
  let self: Identity
  let requester: Identity
  let stranger: Identity

  before(async () => {
    [self, requester, stranger] = await Promise.all([newIdentity(), newIdentity(), newIdentity()])
  })

  function peer (peerId: PeerId, options: { addrs?: Multiaddr[], protocols?: string[], envelope?: Uint8Array } = {}): Peer {
    return {
      id: peerId,
      addresses: (options.addrs ?? [tcp(4001)]).map(multiaddr => ({ multiaddr, isCertified: false })),
      protocols: options.protocols ?? [CHORD_PROTOCOL],
      metadata: new Map(),
      tags: new Map(),
      peerRecordEnvelope: options.envelope
    }
  }

  /**
   * Sends a request for `numPeers` to a responder whose peer store holds `peers` and whose answers
   * may name `candidates` (by default every one of `peers`); `reads` counts the peers it looked
   * up, and the peer store refuses to be scanned
   */
  async function request (peers: Peer[], numPeers: number, candidates = peers.map(p => p.id.toString())): Promise<{ framed: ReturnType<typeof frameStream>, served: Promise<void>, reads: () => number }> {
    const stored = new Map(peers.map(p => [p.id.toString(), p]))
    let reads = 0
    const peerStore = {
      get: async (peerId: PeerId) => {
        reads++
        const peer = stored.get(peerId.toString())
        if (peer == null) {
          throw new NotFoundError('not in the peer store')
        }
        return peer
      },
      all: async () => { throw new Error('an answer does not scan the peer store') }
    } as unknown as PeerStore
    const responder = new PxResponder({ peerId: self.peerId, peerStore, logger: silentLogger() }, {
      requestsPerMinute: PX_REQUESTS_PER_MINUTE,
      serveTimeout: 5000,
      candidates: () => candidates
    })
    const [outbound, inbound] = await streamPair()
    const served = responder.serve(inbound, { remotePeer: requester.peerId } as unknown as Connection)
    const framed = frameStream(outbound, MAX_PX_RESPONSE_SIZE)
    await framed.write(PxRequest.encode({ numPeers }))
    return { framed, served, reads: () => reads }
  }

  /** Asks a responder whose peer store holds `peers`, and that may name `candidates`, for `numPeers` of them */
  async function ask (peers: Peer[], numPeers: number, candidates?: string[]): Promise<PxResponse> {
    const { framed, served } = await request(peers, numPeers, candidates)
    const response = PxResponse.decode(await framed.read())
    await served
    return response
  }

  it('names only ring nodes other than the requester and itself, that have addresses', async () => {
    const eligible = await newIdentity()
    const response = await ask([
      peer(self.peerId),
      peer(requester.peerId),
      peer(stranger.peerId, { protocols: ['/ipfs/id/1.0.0'] }),
      peer((await newIdentity()).peerId, { addrs: [] }),
      peer(eligible.peerId)
    ], MAX_PX_PEERS)

    assert.deepEqual(response.peers.map(nameOf), [eligible.peerId.toString()])
  })

  it('names only its candidates, however many other ring nodes its peer store holds', async () => {
    const candidates = await Promise.all(Array.from({ length: 3 }, async () => peer((await newIdentity()).peerId)))
    const strangers = Array.from({ length: 2000 }, () => peer(madeUpPeerId()))
    const { framed, served, reads } = await request([...strangers, ...candidates], MAX_PX_PEERS, candidates.map(p => p.id.toString()))
    const response = PxResponse.decode(await framed.read())
    await served

    assert.deepEqual(response.peers.map(nameOf).sort(), candidates.map(p => p.id.toString()).sort())
    assert.equal(reads(), candidates.length)
  })

  it(`looks up at most MAX_PX_PEER_READS (${MAX_PX_PEER_READS}) candidates for one answer`, async () => {
    // candidates the peer store holds nothing of: none can be named, and each costs a read
    const unknown = Array.from({ length: MAX_PX_PEER_READS * 3 }, () => madeUpPeerId().toString())
    const eligible = peer((await newIdentity()).peerId)
    const { framed, served, reads } = await request([eligible], MAX_PX_PEERS, [...unknown, eligible.id.toString()])
    const response = PxResponse.decode(await framed.read())
    await served

    assert.ok(response.peers.length <= 1)
    assert.equal(reads(), MAX_PX_PEER_READS)
  })

  it('passes a signed record on as it is, and plain addresses (within the limits) where there is none', async () => {
    const signer = await newIdentity()
    const envelope = await seal(signer.privateKey, signer.peerId, [tcp(4001)])
    const tooLong = dnsAddrOf(MAX_ADDR_BYTES + 1)
    const many = Array.from({ length: MAX_ADDRS_PER_PEER + 2 }, (_, i) => tcp(5000 + i))
    const response = await ask([
      peer(signer.peerId, { envelope }),
      peer(stranger.peerId, { addrs: [tooLong, ...many] })
    ], MAX_PX_PEERS)

    const bySigner = response.peers.find(p => nameOf(p) === signer.peerId.toString())
    const byStranger = response.peers.find(p => nameOf(p) === stranger.peerId.toString())
    assert.deepEqual(bySigner?.signedPeerRecord, envelope)
    assert.deepEqual(bySigner?.addrs, [])
    assert.equal(byStranger?.signedPeerRecord, undefined)
    assert.deepEqual(byStranger?.addrs.map(bytes => multiaddr(bytes).toString()), many.slice(0, MAX_ADDRS_PER_PEER).map(String))
  })

  it('sends plain addresses for a peer whose signed record is over MAX_SIGNED_PEER_RECORD_BYTES', async () => {
    const signer = await newIdentity()
    const envelope = padTo(await seal(signer.privateKey, signer.peerId, [tcp(4001)]), MAX_SIGNED_PEER_RECORD_BYTES + 1)
    const [entry] = (await ask([peer(signer.peerId, { envelope, addrs: [tcp(4001)] })], 1)).peers

    assert.equal(entry.signedPeerRecord, undefined)
    assert.deepEqual(entry.addrs.map(bytes => multiaddr(bytes).toString()), ['/ip4/127.0.0.1/tcp/4001'])
  })

  it('resets the stream of a request for more than MAX_PX_NUM_PEERS, unanswered and without reading its peer store', async () => {
    const { framed, served, reads } = await request([peer(stranger.peerId)], MAX_PX_NUM_PEERS + 1)
    await served
    await assert.rejects(framed.read(), { name: 'StreamResetError' })
    assert.equal(reads(), 0)
  })

  it('answers with at most as many peers as asked for, each at most once', async () => {
    const peers = await Promise.all(Array.from({ length: 10 }, async () => peer((await newIdentity()).peerId)))
    const response = await ask(peers, 4)

    const named = response.peers.map(nameOf)
    assert.equal(named.length, 4)
    assert.equal(new Set(named).size, 4)
  })
})

/** The peer id an entry names, as a string */
function nameOf (entry: PxPeer): string {
  return decodePeerId(entry.peerId).toString()
}
