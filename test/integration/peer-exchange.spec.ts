import { strict as assert } from 'node:assert'
import { encode as encodeVarint } from 'uint8-varint'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidMessageError, RateLimitedError, RequestTimeoutError } from '../../src/errors.js'
import { PROTOCOL as CHORD_PROTOCOL } from '../../src/transport/constants.js'
import { frameStream } from '../../src/protocol/framing.js'
import {
  MAX_PX_PEERS,
  MAX_PX_REQUEST_SIZE,
  MAX_PX_RESPONSE_SIZE,
  PX_MAX_STREAMS_PER_CONNECTION,
  PX_PROTOCOL,
  PX_REQUESTS_PER_MINUTE
} from '../../src/peer-exchange/constants.js'
import { PxRequest, PxResponse } from '../../src/protocol/generated/px.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { peerExchange } from '../../src/peer-exchange/peer-exchange.js'
import { captureComponents } from '../helpers/libp2p-components.js'
import { waitFor } from '../helpers/wait-for.js'
import type { PxPeer } from '../../src/protocol/generated/px.js'
import type { PeerExchange, PeerExchangeComponents } from '../../src/peer-exchange/peer-exchange.js'
import type { ChordLibp2p, ChordLibp2pOptions } from '../../src/node/libp2p.js'
import type { Libp2p, PeerId, PrivateKey, Stream } from '@libp2p/interface'

const LOOPBACK = ['/ip4/127.0.0.1/tcp/0']

describe('peer exchange (/chord/px/1.0.0)', function () {
  this.timeout(60_000)

  let nodes: Array<Pick<Libp2p, 'stop'>> = []

  afterEach(async () => {
    await Promise.all(nodes.map(async node => node.stop()))
    nodes = []
  })

  /** A node on loopback that speaks /chord/1.0.0 (as far as identify tells), with peer exchange unless turned off */
  async function startNode (options: ChordLibp2pOptions = {}): Promise<ChordLibp2p> {
    const node = await createChordLibp2p({ listen: LOOPBACK, ...options })
    nodes.push(node)
    // only the protocol's presence matters here: the ring itself is not under test
    await node.handle(CHORD_PROTOCOL, stream => { stream.abort(new Error('no ring in this test')) })
    return node
  }

  function px (node: ChordLibp2p): PeerExchange {
    const service = node.services.peerExchange
    assert.ok(service != null, 'peer exchange is on')
    return service
  }

  async function connect (from: Pick<Libp2p, 'dial'>, to: Pick<Libp2p, 'getMultiaddrs'>): Promise<void> {
    await from.dial(to.getMultiaddrs()[0])
  }

  /** Waits until `node` has identified `peers` as ring nodes, so it may name them in answers */
  async function waitUntilKnownAsChordPeers (node: ChordLibp2p, peers: ChordLibp2p[]): Promise<void> {
    await waitFor(async () => {
      const known = await Promise.all(peers.map(async peer => node.peerStore.get(peer.peerId).then(p => p.protocols.includes(CHORD_PROTOCOL), () => false)))
      return known.every(Boolean)
    }, `${peers.length} peers to be identified as ring nodes`, 10_000)
  }

  async function knows (node: ChordLibp2p, peerId: PeerId): Promise<boolean> {
    return node.peerStore.has(peerId)
  }

  /** A node whose /chord/px/1.0.0 handler answers every request with `answer`, written raw */
  async function startLiar (answer: (request: Uint8Array) => Uint8Array | Uint8Array[]): Promise<ChordLibp2p> {
    const liar = await startNode({ peerExchange: false })
    await liar.handle(PX_PROTOCOL, async (stream) => {
      const framed = frameStream(stream, MAX_PX_REQUEST_SIZE)
      const request = (await framed.read()).subarray()
      for (const chunk of [answer(request)].flat()) {
        stream.send(chunk)
      }
      await stream.close()
    })
    return liar
  }

  function framedResponse (response: Partial<PxResponse>): Uint8Array {
    const body = PxResponse.encode(response)
    return Uint8Array.from([...encodeVarint(body.byteLength), ...body])
  }

  it('lets a node connected to one peer of a 16-node ring learn at least 8 others, with dialable addresses', async () => {
    const hub = await startNode()
    const others = await Promise.all(Array.from({ length: 15 }, async () => startNode()))
    await Promise.all(others.map(async other => connect(other, hub)))
    await waitUntilKnownAsChordPeers(hub, others)

    const newcomer = await startNode()
    const announced = new Set<string>()
    px(newcomer).addEventListener('peer', event => { announced.add(event.detail.id.toString()) })

    const started = performance.now()
    await connect(newcomer, hub)
    let learned: ChordLibp2p[] = []
    await waitFor(async () => {
      const known = await Promise.all(others.map(async other => knows(newcomer, other.peerId)))
      learned = others.filter((other, i) => known[i] && announced.has(other.peerId.toString()))
      return learned.length >= 8
    }, 'the newcomer to learn 8 peers', 10_000)
    const elapsed = performance.now() - started
    console.log(`        learned ${learned.length} of 15 peers through ${PX_PROTOCOL} in ${elapsed.toFixed(0)} ms after connecting`)
    const exchangeStarted = performance.now()
    const again = await px(newcomer).exchange(hub.peerId)
    console.log(`        one exchange of ${again.length} signed records, checked, on the open connection: ${(performance.now() - exchangeStarted).toFixed(1)} ms`)

    // what it learned came signed by each peer, and it is enough to dial them
    const target = learned[0]
    assert.ok((await newcomer.peerStore.get(target.peerId)).peerRecordEnvelope != null)
    assert.equal(newcomer.getConnections(target.peerId).length, 0, 'peer exchange dials nobody')
    const connection = await newcomer.dial(target.peerId)
    assert.ok(connection.remotePeer.equals(target.peerId))
  })

  it('answers with a sample from around the ring, not only some fixed neighbours', async () => {
    const hub = await startNode({ peerExchange: { requestsPerMinute: 100 } })
    const others = await Promise.all(Array.from({ length: 12 }, async () => startNode()))
    await Promise.all(others.map(async other => connect(other, hub)))
    await waitUntilKnownAsChordPeers(hub, others)
    const asker = await startNode()
    await connect(asker, hub)

    const named = new Set<string>()
    for (let round = 0; round < 20; round++) {
      for (const peer of await px(asker).exchange(hub.peerId, 3)) {
        named.add(peer.id.toString())
      }
    }
    // in 20 uniform samples of 3 out of 12, a given peer goes unnamed with probability 0.75^20 ≈ 0.3%
    assert.ok(named.size >= 9, `only ${named.size} distinct peers named`)
    assert.ok(!named.has(asker.peerId.toString()), 'never the asker itself')
  })

  it(`answers at most PX_REQUESTS_PER_MINUTE (${PX_REQUESTS_PER_MINUTE}) requests a minute from one peer; the rest are refused, and others are still served`, async () => {
    const responder = await startNode()
    const peer = await startNode()
    await connect(peer, responder)
    await waitUntilKnownAsChordPeers(responder, [peer])
    const flooder = await startNode({ peerExchange: false })
    await connect(flooder, responder)

    const statuses: PxResponse.Status[] = []
    for (let i = 0; i < PX_REQUESTS_PER_MINUTE + 5; i++) {
      const stream = await flooder.dialProtocol(responder.peerId, PX_PROTOCOL)
      const framed = frameStream(stream, MAX_PX_RESPONSE_SIZE)
      await framed.write(PxRequest.encode({ numPeers: MAX_PX_PEERS }))
      const response = PxResponse.decode(await framed.read())
      await stream.close()
      statuses.push(response.status)
      if (response.status === PxResponse.Status.RATE_LIMITED) {
        assert.equal(response.peers.length, 0)
      }
    }

    assert.equal(statuses.filter(status => status === PxResponse.Status.OK).length, PX_REQUESTS_PER_MINUTE)
    assert.deepEqual(statuses.slice(PX_REQUESTS_PER_MINUTE), Array(5).fill(PxResponse.Status.RATE_LIMITED))
    // the flood cost the flooder only: another peer is answered, and the flooder stays connected
    const bystander = await startNode()
    await connect(bystander, responder)
    const named = (await px(bystander).exchange(responder.peerId)).map(p => p.id.toString())
    assert.ok(named.includes(peer.peerId.toString()))
    assert.equal(flooder.getConnections(responder.peerId).length, 1)
  })

  it('rejects with RateLimitedError when the asked peer refuses', async () => {
    const responder = await startNode({ peerExchange: { requestsPerMinute: 1 } })
    const asker = await startNode()
    await connect(asker, responder)

    await assert.rejects(async () => {
      // the first answer may already have gone to the round the connection started
      for (let i = 0; i < 3; i++) {
        await px(asker).exchange(responder.peerId)
      }
    }, RateLimitedError)
  })

  it('ignores an answer that is not protobuf, stores nothing, and keeps working', async () => {
    const liar = await startLiar(() => Uint8Array.from([5, 0xff, 0xff, 0xff, 0xff, 0xff]))
    const { asker, honest, known } = await askerWithHonestPeer()
    await connect(asker, liar)
    await waitUntilKnownAsChordPeers(asker, [liar])
    const peersBefore = (await asker.peerStore.all()).length

    await assert.rejects(px(asker).exchange(liar.peerId), InvalidMessageError)

    assert.equal((await asker.peerStore.all()).length, peersBefore)
    assert.deepEqual((await px(asker).exchange(honest.peerId)).map(p => p.id.toString()), [known.peerId.toString()])
  })

  it(`ignores an answer framed over MAX_PX_RESPONSE_SIZE (${MAX_PX_RESPONSE_SIZE} bytes) before reading it`, async () => {
    const liar = await startLiar(() => [encodeVarint(MAX_PX_RESPONSE_SIZE + 1), new Uint8Array(1024)])
    const { asker, honest, known } = await askerWithHonestPeer()
    await connect(asker, liar)

    await assert.rejects(px(asker).exchange(liar.peerId), InvalidMessageError)

    assert.deepEqual((await px(asker).exchange(honest.peerId)).map(p => p.id.toString()), [known.peerId.toString()])
  })

  it('ignores an answer with more peers than were asked for, storing none of them', async () => {
    const strangers = await Promise.all(Array.from({ length: 3 }, async () => signedStranger()))
    const liar = await startLiar(() => framedResponse({ peers: strangers.map(s => s.entry) }))
    const { asker } = await askerWithHonestPeer()
    await connect(asker, liar)

    await assert.rejects(px(asker).exchange(liar.peerId, 2), InvalidMessageError)

    for (const stranger of strangers) {
      assert.equal(await knows(asker, stranger.peerId), false)
    }
  })

  it('drops entries whose peer id and signed record disagree, keeps the valid ones', async () => {
    const good = await signedStranger()
    const victim = await signedStranger()
    const attacker = await signedStranger()
    const forgedForVictim = await sealRecord(attacker.privateKey, victim.peerId, ['/ip4/127.0.0.1/tcp/6666'])
    const aboutAttackerButSignedByVictim = await sealRecord(victim.privateKey, attacker.peerId, ['/ip4/127.0.0.1/tcp/6667'])
    const entries: PxPeer[] = [
      // the victim's id with the attacker's own valid record
      { peerId: victim.peerId.toMultihash().bytes, signedPeerRecord: attacker.entry.signedPeerRecord, addrs: [] },
      // a record about the victim, signed by the attacker
      { peerId: victim.peerId.toMultihash().bytes, signedPeerRecord: forgedForVictim, addrs: [] },
      // a record signed by the victim, claiming to be about the attacker
      { peerId: attacker.peerId.toMultihash().bytes, signedPeerRecord: aboutAttackerButSignedByVictim, addrs: [] },
      // a valid record whose signature was tampered with
      { peerId: attacker.peerId.toMultihash().bytes, signedPeerRecord: tamper(attacker.entry.signedPeerRecord), addrs: [] },
      good.entry
    ]
    const liar = await startLiar(() => framedResponse({ peers: entries }))
    const { asker } = await askerWithHonestPeer()
    await connect(asker, liar)
    const announced: string[] = []
    px(asker).addEventListener('peer', event => { announced.push(event.detail.id.toString()) })

    const peers = await px(asker).exchange(liar.peerId)

    assert.deepEqual(peers.map(p => p.id.toString()), [good.peerId.toString()])
    assert.deepEqual(announced, [good.peerId.toString()])
    assert.equal(await knows(asker, victim.peerId), false)
    assert.equal(await knows(asker, attacker.peerId), false)
    // the valid record is kept as signed, to be passed on as it is
    const stored = await asker.peerStore.get(good.peerId)
    assert.ok(stored.peerRecordEnvelope != null)
    assert.deepEqual(stored.addresses.map(a => a.multiaddr.toString()), good.addrs)
    // a peer is news once: the same answer again announces nobody
    await px(asker).exchange(liar.peerId)
    assert.deepEqual(announced, [good.peerId.toString()])
  })

  it('rejects with RequestTimeoutError when the peer does not answer within requestTimeout', async () => {
    const silent = await startNode({ peerExchange: false })
    await silent.handle(PX_PROTOCOL, () => {})
    const asker = await startNode({ peerExchange: { requestTimeout: 200 } })
    await connect(asker, silent)

    const started = performance.now()
    await assert.rejects(px(asker).exchange(silent.peerId), RequestTimeoutError)
    assert.ok(performance.now() - started < 2000)
  })

  it('resets an inbound stream that sends no request within serveTimeout, not sooner', async () => {
    const serveTimeout = 200
    const responder = await startNode({ peerExchange: { serveTimeout } })
    const asker = await startNode({ peerExchange: false })
    await connect(asker, responder)

    const started = Date.now()
    const stream = await asker.dialProtocol(responder.peerId, PX_PROTOCOL)
    await waitFor(() => isShut(stream), 'the responder to reset the silent stream', serveTimeout + 2000)
    assert.ok(Date.now() - started >= serveTimeout, `reset after ${Date.now() - started} ms`)
  })

  it('resets an inbound stream whose request is over MAX_PX_REQUEST_SIZE', async () => {
    const responder = await startNode()
    const asker = await startNode({ peerExchange: false })
    await connect(asker, responder)

    const stream = await asker.dialProtocol(responder.peerId, PX_PROTOCOL)
    await frameStream(stream, MAX_PX_REQUEST_SIZE * 2).write(new Uint8Array(MAX_PX_REQUEST_SIZE + 1))
    await waitFor(() => isShut(stream), 'the responder to reset the stream', 5000)
  })

  it(`accepts at most PX_MAX_STREAMS_PER_CONNECTION (${PX_MAX_STREAMS_PER_CONNECTION}) peer exchange streams per connection`, async () => {
    const responder = await startNode()
    const asker = await startNode({ peerExchange: false })
    await connect(asker, responder)

    for (let i = 0; i < PX_MAX_STREAMS_PER_CONNECTION; i++) {
      await asker.dialProtocol(responder.peerId, PX_PROTOCOL)
    }
    await assert.rejects(async () => {
      const extra = await asker.dialProtocol(responder.peerId, PX_PROTOCOL)
      const framed = frameStream(extra, MAX_PX_RESPONSE_SIZE)
      await framed.write(PxRequest.encode({ numPeers: 1 }))
      await framed.read()
    })
  })

  it('answers a request for more than MAX_PX_PEERS with MAX_PX_PEERS peers', async () => {
    const hub = await startNode()
    const others = await Promise.all(Array.from({ length: MAX_PX_PEERS + 2 }, async () => startNode({ peerExchange: false })))
    await Promise.all(others.map(async other => connect(other, hub)))
    await waitUntilKnownAsChordPeers(hub, others)
    const asker = await startNode({ peerExchange: false })
    await connect(asker, hub)

    const stream = await asker.dialProtocol(hub.peerId, PX_PROTOCOL)
    const framed = frameStream(stream, MAX_PX_RESPONSE_SIZE)
    await framed.write(PxRequest.encode({ numPeers: 1000 }))
    const response = PxResponse.decode(await framed.read())

    assert.equal(response.status, PxResponse.Status.OK)
    assert.equal(response.peers.length, MAX_PX_PEERS)
  })

  it('asks a peer that was already connected when it started, at once', async () => {
    const hub = await startNode()
    const known = await startNode({ peerExchange: false })
    await connect(known, hub)
    await waitUntilKnownAsChordPeers(hub, [known])
    // a node whose peer exchange is built from its components but started only once it is connected
    const capture = captureComponents<PeerExchangeComponents>()
    const asker = await createChordLibp2p({ listen: LOOPBACK, peerExchange: false }, { components: capture.factory })
    nodes.push(asker)
    await connect(asker, hub)
    await waitFor(async () => (await asker.peerStore.get(hub.peerId)).protocols.includes(PX_PROTOCOL), 'the asker to identify the hub', 10_000)
    const discovery = peerExchange()(capture.components)
    const announced = new Set<string>()
    discovery.addEventListener('peer', event => { announced.add(event.detail.id.toString()) })

    await discovery.start()
    try {
      // the first timed round is minutes away: only an ask at start can bring the peer this soon
      await waitFor(() => announced.has(known.peerId.toString()), 'the peer the hub knows to be announced', 10_000)
    } finally {
      await discovery.stop()
    }
  })

  it('asks a connected peer every interval, by itself', async () => {
    // rounds come every ~100 ms here; the hub must not refuse them before the late peer arrives
    const hub = await startNode({ peerExchange: { requestsPerMinute: 1000 } })
    const asker = await startNode({ peerExchange: { interval: 100 } })
    await connect(asker, hub)
    // the hub learns of a ring node only after the asker's first round
    const late = await startNode({ peerExchange: false })
    await connect(late, hub)
    await waitUntilKnownAsChordPeers(hub, [late])

    await waitFor(async () => knows(asker, late.peerId), 'a later round to bring the late peer', 10_000)
    assert.equal(asker.getConnections(late.peerId).length, 0, 'peer exchange dials nobody')
  })

  /** A requester connected to an honest responder that knows exactly one ring node */
  async function askerWithHonestPeer (): Promise<{ asker: ChordLibp2p, honest: ChordLibp2p, known: ChordLibp2p }> {
    const honest = await startNode({ peerExchange: { requestsPerMinute: 100 } })
    const known = await startNode({ peerExchange: false })
    await connect(known, honest)
    await waitUntilKnownAsChordPeers(honest, [known])
    const asker = await startNode()
    await connect(asker, honest)
    // the round the connection started is over once its news is stored
    await waitFor(async () => knows(asker, known.peerId), 'the first round to finish', 10_000)
    return { asker, honest, known }
  }
})

interface Stranger {
  privateKey: PrivateKey
  peerId: PeerId
  addrs: string[]
  entry: PxPeer & { signedPeerRecord: Uint8Array<ArrayBuffer> }
}

/** A peer that exists only as a key and a signed record of its own */
async function signedStranger (): Promise<Stranger> {
  const privateKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey)
  const addrs = [`/ip4/127.0.0.1/tcp/${10_000 + Math.floor(Math.random() * 50_000)}`]
  const signedPeerRecord = await sealRecord(privateKey, peerId, addrs)
  return { privateKey, peerId, addrs, entry: { peerId: peerId.toMultihash().bytes, signedPeerRecord, addrs: [] } }
}

async function sealRecord (signer: PrivateKey, about: PeerId, addrs: string[]): Promise<Uint8Array<ArrayBuffer>> {
  const record = new PeerRecord({ peerId: about, multiaddrs: addrs.map(a => multiaddr(a)) })
  return (await RecordEnvelope.seal(record, signer)).marshal() as Uint8Array<ArrayBuffer>
}

/** The same envelope with the last byte of its signature flipped */
function tamper (envelope: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const copy = envelope.slice()
  copy[copy.length - 1] ^= 0xff
  return copy
}

function isShut (stream: Stream): boolean {
  return stream.status === 'reset' || stream.status === 'aborted' || stream.status === 'closed'
}
