/**
 * A stranger asks for large answers and never reads them: it opens streams, pauses each (so its
 * muxer stops opening the flow-control window), and sends one FETCH of a full page on every one.
 * A request costs it a hundred bytes; each answer, half a MiB of the node's memory until the
 * answer timeout. The node holds at most MAX_PENDING_ANSWER_BYTES_PER_PEER of answers one peer
 * has not taken, and MAX_TOTAL_PENDING_ANSWER_BYTES for all together; an answer past either is
 * refused RATE_LIMITED, and other peers are answered meanwhile. What an answer held is let go
 * however its stream ends.
 */
import { strict as assert } from 'node:assert'
import { createRecord } from '../../src/chord/record.js'
import { frameStream } from '../../src/protocol/framing.js'
import { MessageType, Namespace, Request, Response } from '../../src/protocol/generated/chord.js'
import {
  ErrorCode, FETCH_PAGE_BYTES, MAX_INBOUND_STREAMS, MAX_MESSAGE_SIZE, MAX_PENDING_ANSWER_BYTES_PER_PEER, MAX_SMALL_ANSWER_BYTES, MAX_TOTAL_PENDING_ANSWER_BYTES, PROTOCOL
} from '../../src/transport/constants.js'
import { ringIdToWire } from '../../src/transport/ring-id.js'
import { nodesStoppedAfterEach, strangerHandler } from '../helpers/transport.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { FramedStream } from '../../src/protocol/framing.js'
import type { TransportInit, TransportUnderTest } from '../helpers/transport.js'
import type { Stream } from '@libp2p/interface'

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

/** A stream whose FETCHes were sent, and which reads nothing */
interface Stalled {
  stream: Stream
  framed: FramedStream
}

describe('answers never read', function () {
  this.timeout(60_000)
  const { startLibp2p, serve } = nodesStoppedAfterEach()

  /** A node serving /chord/1.0.0 whose every FETCH is answered with PAGE */
  async function startNode (init: Partial<TransportInit> = {}): Promise<{ node: ChordLibp2p, service: TransportUnderTest }> {
    const node = await startLibp2p()
    const handler = strangerHandler({ onFetchRecords: async () => PAGE })
    const service = await serve(node, { handler, ...init })
    return { node, service }
  }

  async function stranger (node: ChordLibp2p): Promise<ChordLibp2p> {
    const peer = await startLibp2p()
    await peer.dial(node.getMultiaddrs()[0])
    return peer
  }

  const fetch = (): Uint8Array => Request.encode({ type: MessageType.FETCH, namespace: Namespace.RECORDS, key: KEY })
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
  async function ask (from: ChordLibp2p, node: ChordLibp2p, request: Uint8Array): Promise<Response> {
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
    const { node, service } = await startNode()
    const mallory = await stranger(node)
    const stalled = await stallFetches(mallory, node, MAX_INBOUND_STREAMS - 1)
    await waitFor(() => service.pendingAnswerBytes(mallory.peerId.toString()) > MAX_PENDING_ANSWER_BYTES_PER_PEER - ANSWER_BYTES,
      'the answers that fit to be held')

    const held = service.pendingAnswerBytes(mallory.peerId.toString())
    console.log(`      ${stalled.length} streams of ${FETCHES_PER_STREAM} unread FETCHes of a full page: ${held} bytes of answers held, ${unsentBytes(node, mallory)} of them in write buffers`)
    assert.ok(held <= MAX_PENDING_ANSWER_BYTES_PER_PEER, `${held} bytes of answers held for one peer`)
    assert.ok(unsentBytes(node, mallory) <= MAX_PENDING_ANSWER_BYTES_PER_PEER, `${unsentBytes(node, mallory)} bytes in the write buffers of one peer's streams`)
    assertRateLimited(await ask(mallory, node, fetch()))

    const honest = await stranger(node)
    const answer = await ask(honest, node, fetch())
    assert.equal(answer.status, Response.Status.OK)
    assert.equal(answer.records.length, PAGE.length)
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

    it('once the peer resets the streams', async () => {
      const { service, stalled } = await stalledOn()
      for (const { stream } of stalled) {
        stream.abort(new Error('gone'))
      }
      await waitFor(() => service.pendingAnswerBytes() === 0, 'the answers of reset streams to be let go', 5_000)
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
