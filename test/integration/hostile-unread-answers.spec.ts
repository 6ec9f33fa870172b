/**
 * A stranger asks for large answers and never reads them: it opens streams, pauses each (so its
 * muxer stops opening the flow-control window), and sends one FETCH of a full page on every one.
 * A request costs it a hundred bytes; each answer, half a MiB of the node's memory until the
 * answer timeout. The node holds at most MAX_PENDING_ANSWER_BYTES_PER_PEER of answers one peer
 * has not taken, and MAX_TOTAL_PENDING_ANSWER_BYTES for all together; an answer past either is
 * refused RATE_LIMITED, and other peers are answered meanwhile. What an answer held is let go
 * however its stream ends.
 *
 * PeerIds are free, so one host asks as many identities, one connection each: the answers held for
 * the peers of one subnet are capped together too (MAX_PENDING_ANSWER_BYTES_PER_SUBNET), and those
 * to the node's ring neighbours pass every cap strangers share, so that no number of strangers
 * gets the ring's maintenance refused.
 */
import { strict as assert } from 'node:assert'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { equals } from 'uint8arrays/equals'
import { createRecord } from '../../src/chord/record.js'
import { frameStream } from '../../src/protocol/framing.js'
import { MessageType, Namespace, Request, Response } from '../../src/protocol/generated/chord.js'
import {
  ErrorCode, FETCH_PAGE_BYTES, MAX_INBOUND_STREAMS, MAX_MESSAGE_SIZE, MAX_PENDING_ANSWER_BYTES_PER_PEER, MAX_PENDING_ANSWER_BYTES_PER_SUBNET, MAX_SMALL_ANSWER_BYTES,
  MAX_TOTAL_PENDING_ANSWER_BYTES, MIN_PENDING_ANSWER_BYTES_PER_PEER, PROTOCOL
} from '../../src/transport/constants.js'
import { ringIdToWire } from '../../src/transport/ring-id.js'
import { toStoredWireRecord } from '../../src/transport/wire-records.js'
import { KiB } from '../../src/units.js'
import { nodesStoppedAfterEach, strangerHandler } from '../helpers/transport.js'
import { waitFor } from '../helpers/wait-for.js'
import type { RequestOutcome } from '../../src/transport/observed-request.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { FramedStream } from '../../src/protocol/framing.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { TransportInit, TransportUnderTest } from '../helpers/transport.js'
import type { Libp2p, Stream } from '@libp2p/interface'

const KEY = new Uint8Array(32).fill(7)
const VALUE_BYTES = 64 * 1024
/** One full FETCH page of KEY: its values add up to FETCH_PAGE_BYTES */
const PAGE = Array.from({ length: FETCH_PAGE_BYTES / VALUE_BYTES }, (_, i) => createRecord(KEY, new Uint8Array(VALUE_BYTES).fill(i), Date.now() + 3_600_000))
/** A page's answer is its values and a few dozen bytes per record more */
const ANSWER_BYTES = FETCH_PAGE_BYTES + PAGE.length * 128
/**
 * FETCHes a stranger sends ahead on each stream: the stream's flow-control window (grown to a
 * MiB or so while the protocol was negotiated) takes the first answers, the next ones wait
 */
const FETCHES_PER_STREAM = 4
/** A key whose FETCH answer is small (MAX_SMALL_ANSWER_BYTES): one record of 15 KiB */
const SMALL_KEY = new Uint8Array(32).fill(8)
const SMALL_PAGE = [createRecord(SMALL_KEY, new Uint8Array(15 * KiB).fill(1), Date.now() + 3_600_000)]

/** The bytes the node holds for an answer of `records` to a FETCH: its encoding, to the byte */
function fetchAnswerBytes (records: ChordRecord[]): number {
  return Response.encode({ type: MessageType.FETCH, records: records.map(toStoredWireRecord), more: false }).byteLength
}

/** What an attacker's stream receives for a FETCH whose answer did not fit: a one-byte length prefix and the refusal */
const REFUSAL_FRAME_BYTES = 1 + Response.encode({ type: MessageType.FETCH, status: Response.Status.ERROR, errorCode: ErrorCode.RATE_LIMITED }).byteLength

/** A stream whose FETCHes were sent, and which reads nothing */
interface Stalled {
  stream: Stream
  framed: FramedStream
}

describe('answers never read', function () {
  this.timeout(60_000)
  const { startLibp2p, serve } = nodesStoppedAfterEach()

  /** A node serving /chord/1.0.0 that answers a FETCH of SMALL_KEY with SMALL_PAGE, any other with PAGE */
  async function startNode (init: Partial<TransportInit> = {}): Promise<{ node: ChordLibp2p, service: TransportUnderTest }> {
    const node = await startLibp2p()
    const handler = strangerHandler({ onFetchRecords: async (_from, key) => equals(key, SMALL_KEY) ? SMALL_PAGE : PAGE })
    const service = await serve(node, { handler, ...init })
    return { node, service }
  }

  async function stranger (node: ChordLibp2p): Promise<ChordLibp2p> {
    const peer = await startLibp2p()
    await peer.dial(node.getMultiaddrs()[0])
    return peer
  }

  const fetch = (key = KEY): Uint8Array => Request.encode({ type: MessageType.FETCH, namespace: Namespace.RECORDS, key })
  const findSuccessor = (): Uint8Array => Request.encode({ type: MessageType.FIND_SUCCESSOR, target: ringIdToWire(7n) })

  /** Sends FETCHES_PER_STREAM FETCHes on each of `count` fresh streams, paused first so that nothing is read */
  async function stallFetches (from: ChordLibp2p, node: ChordLibp2p, count: number): Promise<Stalled[]> {
    const stalled: Stalled[] = []
    for (let i = 0; i < count; i++) {
      // negotiated before the pause: an optimistic negotiation reads its answer later, and resumes the stream
      const stream = await from.dialProtocol(node.peerId, PROTOCOL, { negotiateFully: true })
      stream.pause()
      const framed = frameStream(stream, MAX_MESSAGE_SIZE)
      for (let j = 0; j < FETCHES_PER_STREAM; j++) {
        await framed.write(fetch())
      }
      stalled.push({ stream, framed })
    }
    return stalled
  }

  /** Sends `request` whole on a fresh stream and resolves to its answer */
  async function ask (from: Pick<Libp2p, 'dialProtocol'>, node: ChordLibp2p, request: Uint8Array): Promise<Response> {
    const framed = frameStream(await from.dialProtocol(node.peerId, PROTOCOL), MAX_MESSAGE_SIZE)
    await framed.write(request)
    return Response.decode(await framed.read())
  }

  /** Bytes waiting in the write buffers of the node's streams to `peer`: memory the count must cover */
  function unsentBytes (node: ChordLibp2p, peer: ChordLibp2p): number {
    return node.getConnections(peer.peerId).flatMap(connection => connection.streams)
      .filter(stream => stream.protocol === PROTOCOL)
      .reduce((bytes, stream) => bytes + stream.writeBufferLength, 0)
  }

  function assertRateLimited (response: Response): void {
    assert.equal(response.status, Response.Status.ERROR)
    assert.equal(response.errorCode, ErrorCode.RATE_LIMITED)
  }

  it(`holds at most MAX_PENDING_ANSWER_BYTES_PER_PEER (${MAX_PENDING_ANSWER_BYTES_PER_PEER} bytes) of one peer's unread answers, refuses it more, and answers others`, async () => {
    assert.ok(MAX_PENDING_ANSWER_BYTES_PER_PEER < (MAX_INBOUND_STREAMS - 1) * FETCH_PAGE_BYTES, 'the stalled streams ask for more than the cap')
    const outcomes: RequestOutcome[] = []
    const { node, service } = await startNode({ onServed: request => { outcomes.push(request.outcome) } })
    const mallory = await stranger(node)
    const stalled = await stallFetches(mallory, node, MAX_INBOUND_STREAMS - 1)
    await waitFor(() => service.pendingAnswerBytes(mallory.peerId.toString()) > MAX_PENDING_ANSWER_BYTES_PER_PEER - ANSWER_BYTES,
      'the answers that fit to be held')

    const held = service.pendingAnswerBytes(mallory.peerId.toString())
    console.log(`      ${stalled.length} streams of ${FETCHES_PER_STREAM} unread FETCHes of a full page: ${held} bytes of answers held, ${unsentBytes(node, mallory)} of them in write buffers`)
    assert.ok(held <= MAX_PENDING_ANSWER_BYTES_PER_PEER, `${held} bytes of answers held for one peer`)
    assert.ok(unsentBytes(node, mallory) <= MAX_PENDING_ANSWER_BYTES_PER_PEER, `${unsentBytes(node, mallory)} bytes in the write buffers of one peer's streams`)
    assertRateLimited(await ask(mallory, node, fetch()))
    // an answer refused for the bytes waiting is reported as the refusal it went out as
    assert.equal(outcomes.at(-1), 'error')

    const honest = await stranger(node)
    const answer = await ask(honest, node, fetch())
    assert.equal(answer.status, Response.Status.OK)
    assert.equal(answer.records.length, PAGE.length)
    assert.equal(outcomes.at(-1), 'ok')
  })

  it('holds at most MAX_TOTAL_PENDING_ANSWER_BYTES for all peers together, and still answers what fits', async () => {
    assert.ok(MAX_TOTAL_PENDING_ANSWER_BYTES >= 8 * MAX_PENDING_ANSWER_BYTES_PER_PEER, 'one peer takes a small part of the whole')
    // two pages per peer, three in all: the second stranger reaches the node's cap before its own
    const maxPendingAnswerBytesPerPeer = 2.5 * FETCH_PAGE_BYTES
    const maxTotalPendingAnswerBytes = 3.5 * FETCH_PAGE_BYTES
    const { node, service } = await startNode({ maxPendingAnswerBytesPerPeer, maxTotalPendingAnswerBytes })
    const mallory = await stranger(node)
    const eve = await stranger(node)

    await stallFetches(mallory, node, 2)
    await waitFor(() => service.pendingAnswerBytes(mallory.peerId.toString()) >= 2 * FETCH_PAGE_BYTES, 'two of mallory\'s answers to be held')
    await stallFetches(eve, node, 2)
    await waitFor(() => service.pendingAnswerBytes(eve.peerId.toString()) >= FETCH_PAGE_BYTES, 'one of eve\'s answers to be held')

    assert.ok(service.pendingAnswerBytes(eve.peerId.toString()) < 2 * FETCH_PAGE_BYTES, 'eve held as much as its own cap allows, past the node\'s')
    assert.ok(service.pendingAnswerBytes() <= maxTotalPendingAnswerBytes, `${service.pendingAnswerBytes()} bytes held in all`)
    const honest = await stranger(node)
    assertRateLimited(await ask(honest, node, fetch()))
    assert.equal((await ask(honest, node, findSuccessor())).status, Response.Status.OK, 'a small answer still fits')
  })

  it(`gives answers of at most MAX_SMALL_ANSWER_BYTES (${MAX_SMALL_ANSWER_BYTES}), ring messages among them, from a reserve past the node-wide cap: strangers filling that cap stop no ring maintenance`, async () => {
    // a node-wide cap that no answer fits: as if strangers had filled it to the byte
    const { node } = await startNode({ maxTotalPendingAnswerBytes: 1 })
    const honest = await stranger(node)
    assert.equal((await ask(honest, node, findSuccessor())).status, Response.Status.OK)
    assertRateLimited(await ask(honest, node, fetch()))
  })

  describe('from many identities of one subnet', () => {
    /**
     * Bytes the node may send ahead on one of an attacker's streams: yamux's least window, which
     * the attacker keeps from growing, so that each stream holds the first answer that does not fit
     */
    const ATTACKER_WINDOW = 256 * KiB
    const ATTACKERS_SUBNET = '192.0.2.0/24'
    const OTHER_SUBNET = '198.51.100.0/24'
    const PAGE_ANSWER_BYTES = fetchAnswerBytes(PAGE)
    const SMALL_ANSWER_BYTES = fetchAnswerBytes(SMALL_PAGE)
    /** small FETCHes on one stream: the window takes this many less two whole, the next is held part sent, the last waits */
    const SMALL_FETCHES_PER_STREAM = Math.floor(ATTACKER_WINDOW / SMALL_ANSWER_BYTES) + 2
    const RING_REQUESTS = {
      PING: Request.encode({ type: MessageType.PING }),
      GET_NEIGHBOURS: Request.encode({ type: MessageType.GET_NEIGHBOURS }),
      NOTIFY: Request.encode({ type: MessageType.NOTIFY }),
      FIND_SUCCESSOR: findSuccessor()
    }
    /** the subnet the node counts each peer's connection in (loopback is not counted: the test says) */
    let subnets: Map<string, string>
    let peers: Libp2p[]

    beforeEach(() => {
      subnets = new Map()
      peers = []
    })

    afterEach(async () => {
      await Promise.all(peers.map(async peer => peer.stop()))
    })

    /** A light peer of its own identity, connected to `node` from `subnet`, whose streams' windows stay ATTACKER_WINDOW */
    async function peerFrom (node: ChordLibp2p, subnet: string): Promise<Libp2p> {
      const peer = await createLibp2p({
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux({ streamOptions: { initialStreamWindowSize: ATTACKER_WINDOW, maxStreamWindowSize: ATTACKER_WINDOW } })]
      })
      peers.push(peer)
      subnets.set(peer.peerId.toString(), subnet)
      await peer.dial(node.getMultiaddrs()[0])
      return peer
    }

    /**
     * Sends `requests` on a fresh stream of `from` that reads nothing, and resolves once the node
     * holds an answer on it (its window is full, the rest of that answer waits) or has refused
     * every request on it
     */
    async function stall (from: Libp2p, node: ChordLibp2p, requests: Uint8Array[]): Promise<'held' | 'refused'> {
      const stream = await from.dialProtocol(node.peerId, PROTOCOL, { negotiateFully: true })
      stream.pause()
      const framed = frameStream(stream, MAX_MESSAGE_SIZE)
      for (const request of requests) {
        await framed.write(request)
      }
      let outcome: 'held' | 'refused' | undefined
      await waitFor(() => {
        outcome = stream.readBufferLength === ATTACKER_WINDOW ? 'held' : stream.readBufferLength === requests.length * REFUSAL_FRAME_BYTES ? 'refused' : undefined
        return outcome != null
      }, 'the node to hold an answer on the stream, or to refuse every request on it')
      return outcome as 'held' | 'refused'
    }

    /** What `from` gets for `request`, as a status or an error code */
    async function outcomeOf (from: Libp2p, node: ChordLibp2p, request: Uint8Array): Promise<string> {
      const response = await ask(from, node, request)
      return response.status === Response.Status.OK ? 'OK' : response.errorCode ?? 'ERROR'
    }

    it('holds the unread answers of one subnet\'s identities to the per-subnet cap (MAX_PENDING_ANSWER_BYTES_PER_SUBNET); its ring neighbour, there too, and strangers elsewhere are answered', async () => {
      // the defaults' caps, scaled down a quarter so that a few dozen streams fill them to the byte:
      // a subnet holds two identities at their cap, the node sixteen; the reserve holds sixteen small
      // answers (at the defaults, 1,024)
      const caps = {
        maxPendingAnswerBytesPerPeer: 2 * PAGE_ANSWER_BYTES,
        maxPendingAnswerBytesPerSubnet: 4 * PAGE_ANSWER_BYTES,
        maxTotalPendingAnswerBytes: 32 * PAGE_ANSWER_BYTES,
        smallAnswerReserveBytes: 16 * SMALL_ANSWER_BYTES
      }
      assert.equal(caps.maxPendingAnswerBytesPerSubnet / caps.maxPendingAnswerBytesPerPeer, MAX_PENDING_ANSWER_BYTES_PER_SUBNET / MAX_PENDING_ANSWER_BYTES_PER_PEER)
      assert.equal(caps.maxTotalPendingAnswerBytes / caps.maxPendingAnswerBytesPerSubnet, MAX_TOTAL_PENDING_ANSWER_BYTES / MAX_PENDING_ANSWER_BYTES_PER_SUBNET)
      assert.ok(SMALL_ANSWER_BYTES <= MAX_SMALL_ANSWER_BYTES, 'the small answers come from the reserve')
      const neighbours = new Set<string>()
      const { node, service } = await startNode({
        ...caps,
        subnetOf: connection => subnets.get(connection.remotePeer.toString()),
        isNeighbour: peer => neighbours.has(peer)
      })

      // sixteen identities of one subnet (one address's connections at the default cap) stall a
      // page on each of two streams; one more a small answer on each of sixteen
      const attackers: Libp2p[] = []
      const pages: string[] = []
      for (let i = 0; i < 16; i++) {
        const attacker = await peerFrom(node, ATTACKERS_SUBNET)
        attackers.push(attacker)
        for (let j = 0; j < 2; j++) {
          pages.push(await stall(attacker, node, [fetch()]))
        }
      }
      const smallAttacker = await peerFrom(node, ATTACKERS_SUBNET)
      attackers.push(smallAttacker)
      const smalls: string[] = []
      for (let j = 0; j < 16; j++) {
        smalls.push(await stall(smallAttacker, node, Array.from({ length: SMALL_FETCHES_PER_STREAM }, () => fetch(SMALL_KEY))))
      }
      const subnetHeld = attackers.reduce((bytes, attacker) => bytes + service.pendingAnswerBytes(attacker.peerId.toString()), 0)

      // at the same moment: the node's ring neighbour, of the same subnet; a newcomer of that subnet; a stranger elsewhere
      const neighbour = await peerFrom(node, ATTACKERS_SUBNET)
      neighbours.add(neighbour.peerId.toString())
      const neighbourGot: Record<string, string> = {}
      for (const [name, request] of Object.entries({ ...RING_REQUESTS, FETCH: fetch() })) {
        neighbourGot[name] = await outcomeOf(neighbour, node, request)
      }
      const newcomer = await peerFrom(node, ATTACKERS_SUBNET)
      const newcomerGot = { FIND_SUCCESSOR: await outcomeOf(newcomer, node, findSuccessor()), FETCH: await outcomeOf(newcomer, node, fetch()) }
      const elsewhereGot = await outcomeOf(await peerFrom(node, OTHER_SUBNET), node, fetch())
      const count = (outcomes: string[], outcome: string): number => outcomes.filter(each => each === outcome).length
      console.log(`      ${attackers.length} identities of one subnet, ${pages.length + smalls.length} streams that never read: pages ${count(pages, 'held')} held, ${count(pages, 'refused')} refused; small answers ${count(smalls, 'held')} held, ${count(smalls, 'refused')} refused; ${subnetHeld} bytes held for the subnet, ${service.pendingAnswerBytes()} in all`)
      console.log(`      the ring neighbour got ${Object.entries(neighbourGot).map(([name, got]) => `${name} ${got}`).join(', ')}; a newcomer of the subnet FIND_SUCCESSOR ${newcomerGot.FIND_SUCCESSOR}, FETCH ${newcomerGot.FETCH}; a stranger elsewhere FETCH ${elsewhereGot}`)

      // past the subnet's cap, an identity holds what any peer may: a few small answers
      const smallsPastTheCap = Math.floor(MIN_PENDING_ANSWER_BYTES_PER_PEER / SMALL_ANSWER_BYTES)
      assert.ok(PAGE_ANSWER_BYTES > MIN_PENDING_ANSWER_BYTES_PER_PEER, 'no page fits in what any peer may hold')
      assert.equal(subnetHeld, 4 * PAGE_ANSWER_BYTES + smallsPastTheCap * SMALL_ANSWER_BYTES, 'the subnet holds its cap, and a few small answers past it')
      assert.deepEqual(pages, [...Array(4).fill('held'), ...Array(28).fill('refused')], 'the identities after the second, each under its own cap, are refused: the subnet is full')
      assert.deepEqual(smalls, [...Array(smallsPastTheCap).fill('held'), ...Array(16 - smallsPastTheCap).fill('refused')], 'small answers count in the subnet\'s cap too')
      assert.deepEqual(Object.values(neighbourGot), ['OK', 'OK', 'OK', 'OK', 'OK'], 'the ring neighbour is answered')
      assert.deepEqual(newcomerGot, { FIND_SUCCESSOR: 'OK', FETCH: ErrorCode.RATE_LIMITED }, 'a stranger of the full subnet gets its ring answers, and no page')
      assert.equal(elsewhereGot, 'OK', 'a stranger of another subnet is answered')
    })

    it('answers the node\'s ring neighbours past every cap strangers share (the subnet\'s, the node\'s, the reserve), and a stranger of their subnet only what any peer may hold (MIN_PENDING_ANSWER_BYTES_PER_PEER)', async () => {
      // caps no answer fits, as if strangers had filled each to the byte
      const neighbours = new Set<string>()
      const { node, service } = await startNode({
        maxPendingAnswerBytesPerSubnet: 1,
        maxTotalPendingAnswerBytes: 1,
        smallAnswerReserveBytes: 0,
        subnetOf: connection => subnets.get(connection.remotePeer.toString()),
        isNeighbour: peer => neighbours.has(peer)
      })
      const neighbour = await peerFrom(node, ATTACKERS_SUBNET)
      neighbours.add(neighbour.peerId.toString())
      const stranger = await peerFrom(node, ATTACKERS_SUBNET)

      for (const [name, request] of Object.entries(RING_REQUESTS)) {
        assert.equal(await outcomeOf(neighbour, node, request), 'OK', `the neighbour's ${name}`)
        assert.equal(await outcomeOf(stranger, node, request), 'OK', `the stranger's ${name}, a small answer to a peer that holds nothing`)
      }
      assert.equal(await outcomeOf(neighbour, node, fetch()), 'OK', 'the neighbour\'s page')
      assert.equal(await outcomeOf(stranger, node, fetch()), ErrorCode.RATE_LIMITED, 'the stranger\'s page')
      // and no more than that: small answers it never reads are held up to it, then refused
      const held = Math.floor(MIN_PENDING_ANSWER_BYTES_PER_PEER / SMALL_ANSWER_BYTES)
      const smalls: string[] = []
      for (let i = 0; i <= held; i++) {
        smalls.push(await stall(stranger, node, Array.from({ length: SMALL_FETCHES_PER_STREAM }, () => fetch(SMALL_KEY))))
      }
      assert.deepEqual(smalls, [...Array(held).fill('held'), 'refused'])
      assert.ok(service.pendingAnswerBytes(stranger.peerId.toString()) <= MIN_PENDING_ANSWER_BYTES_PER_PEER)
      // a page the neighbour does not read is held, counted in the node's total though past it
      const strangersHold = service.pendingAnswerBytes()
      assert.equal(await stall(neighbour, node, [fetch()]), 'held')
      assert.equal(service.pendingAnswerBytes(), strangersHold + PAGE_ANSWER_BYTES)
    })
  })

  describe('lets go of what an answer held', () => {
    /** A node, and a stranger with `count` FETCHes held unread on it */
    async function stalledOn (init: Partial<TransportInit> = {}, count = 3): Promise<{ service: TransportUnderTest, mallory: ChordLibp2p, stalled: Stalled[] }> {
      const { node, service } = await startNode(init)
      const mallory = await stranger(node)
      const stalled = await stallFetches(mallory, node, count)
      await waitFor(() => service.pendingAnswerBytes() >= count * FETCH_PAGE_BYTES, 'the answers to be held')
      return { service, mallory, stalled }
    }

    it('once the peer reads them whole', async () => {
      const { service, stalled } = await stalledOn()
      const answers = await Promise.all(stalled.map(async ({ stream, framed }) => {
        stream.resume()
        const pages: number[] = []
        for (let i = 0; i < FETCHES_PER_STREAM; i++) {
          pages.push(Response.decode(await framed.read()).records.length)
        }
        return pages
      }))
      assert.deepEqual(answers.flat(), Array.from({ length: stalled.length * FETCHES_PER_STREAM }, () => PAGE.length))
      await waitFor(() => service.pendingAnswerBytes() === 0, 'the answers read to be let go', 5_000)
    })

    it('once the peer resets the streams, reporting each answer that never left as failed', async () => {
      const outcomes: RequestOutcome[] = []
      const { service, stalled } = await stalledOn({ onServed: request => { outcomes.push(request.outcome) } })
      const reported = outcomes.length
      for (const { stream } of stalled) {
        stream.abort(new Error('gone'))
      }
      await waitFor(() => service.pendingAnswerBytes() === 0, 'the answers of reset streams to be let go', 5_000)
      await waitFor(() => outcomes.length >= reported + stalled.length, 'the answers held to be reported', 5_000)
      assert.deepEqual(outcomes.slice(reported), stalled.map(() => 'failed'))
    })

    it('once the answer timeout resets the streams', async () => {
      const answerTimeout = 500
      const { service, stalled } = await stalledOn({ answerTimeout })
      await waitFor(() => stalled.every(({ stream }) => stream.status !== 'open'), 'the node to reset the unread streams', 10_000)
      await waitFor(() => service.pendingAnswerBytes() === 0, 'the answers of timed-out streams to be let go', 5_000)
    })

    it('once the node stops', async () => {
      const { service } = await stalledOn()
      await service.stop()
      await waitFor(() => service.pendingAnswerBytes() === 0, 'the answers to be let go when the node stops', 5_000)
    })
  })
})
