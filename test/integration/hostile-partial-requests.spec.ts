/**
 * A stranger starts /chord/1.0.0 requests and never finishes them: on every stream a connection
 * may open, it announces a frame of MAX_MESSAGE_SIZE, sends all of it but the last byte, and
 * stops. Each stream holds up to a MiB of the node's memory for as long as the node waits, so the
 * node resets a stream whose request has begun but not arrived whole within its read deadline,
 * however long it lets a stream with nothing pending sit idle. A request that arrives slowly,
 * but within the read deadline, is answered.
 */
import { strict as assert } from 'node:assert'
import { encode as encodeVarint } from 'uint8-varint'
import { frameStream } from '../../src/protocol/framing.js'
import { MessageType, Request, Response } from '../../src/protocol/generated/chord.js'
import { MAX_INBOUND_STREAMS, MAX_MESSAGE_SIZE, PROTOCOL } from '../../src/transport/constants.js'
import { ringIdToWire } from '../../src/transport/ring-id.js'
import { nodesStoppedAfterEach, strangerHandler } from '../helpers/transport.js'
import { waitFor } from '../helpers/wait-for.js'
import type { TransportInit } from '../helpers/transport.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { Stream } from '@libp2p/interface'

/** bytes of one chunk a stranger writes: a partial maximal frame goes out in a few of them */
const CHUNK = 64 * 1024

describe('requests begun and never finished', function () {
  this.timeout(60_000)
  const { startLibp2p, serve } = nodesStoppedAfterEach()

  /** A node serving /chord/1.0.0 with the given timeouts, and a stranger connected to it */
  async function world (init: Partial<TransportInit>): Promise<{ node: ChordLibp2p, mallory: ChordLibp2p }> {
    const node = await startLibp2p()
    await serve(node, { handler: strangerHandler(), ...init })
    const mallory = await startLibp2p()
    await mallory.dial(node.getMultiaddrs()[0])
    return { node, mallory }
  }

  /** The /chord streams `node` still serves for `mallory` */
  function servedStreams (node: ChordLibp2p, mallory: ChordLibp2p): Stream[] {
    return node.getConnections(mallory.peerId).flatMap(connection => connection.streams)
      .filter(stream => stream.protocol === PROTOCOL && stream.direction === 'inbound' && stream.status === 'open')
  }

  /** A FIND_SUCCESSOR, encoded: a few dozen bytes a test can send in pieces */
  const findSuccessor = (): Uint8Array => Request.encode({ type: MessageType.FIND_SUCCESSOR, target: ringIdToWire(7n) })

  /** Sends `request` whole on a fresh stream and resolves to its answer */
  async function ask (mallory: ChordLibp2p, node: ChordLibp2p, request: Uint8Array): Promise<Response> {
    const framed = frameStream(await mallory.dialProtocol(node.peerId, PROTOCOL), MAX_MESSAGE_SIZE)
    await framed.write(request)
    return Response.decode(await framed.read())
  }

  it('resets every stream whose maximal request stalls one byte short, within the read deadline', async () => {
    const requestReadTimeout = 300
    // the idle timeout outlasts the test: only the read deadline can end these streams
    const { node, mallory } = await world({ requestReadTimeout, streamIdleTimeout: 10 * 60_000 })

    const streams: Stream[] = []
    for (let i = 0; i < MAX_INBOUND_STREAMS; i++) {
      const stream = await mallory.dialProtocol(node.peerId, PROTOCOL)
      stream.send(encodeVarint(MAX_MESSAGE_SIZE))
      for (let sent = 0; sent < MAX_MESSAGE_SIZE - 1; sent += CHUNK) {
        stream.send(new Uint8Array(Math.min(CHUNK, MAX_MESSAGE_SIZE - 1 - sent)))
      }
      streams.push(stream)
    }

    const took = await waitFor(() => streams.every(stream => stream.status !== 'open'), 'every stalled stream to be reset', 20_000)
    console.log(`      ${streams.length} stalled streams of ${MAX_MESSAGE_SIZE - 1} bytes each reset ${took} ms after the last was sent`)
    await waitFor(() => servedStreams(node, mallory).length === 0, 'the node to let go of them', 5_000)
    assert.equal((await ask(mallory, node, findSuccessor())).status, Response.Status.OK, 'the node goes on answering')
  })

  it('lets a stream with nothing pending sit for the idle timeout, however short the read deadline', async () => {
    const requestReadTimeout = 100
    const streamIdleTimeout = 10 * requestReadTimeout
    const { node, mallory } = await world({ requestReadTimeout, streamIdleTimeout })

    const silent = await mallory.dialProtocol(node.peerId, PROTOCOL)
    const answered = await mallory.dialProtocol(node.peerId, PROTOCOL)
    const framed = frameStream(answered, MAX_MESSAGE_SIZE)
    await framed.write(findSuccessor())
    assert.equal(Response.decode(await framed.read()).status, Response.Status.OK)
    const opened = Date.now()

    // the listener ends both for their silence, never for a request's deadline
    await waitFor(() => silent.status !== 'open' && answered.status !== 'open', 'the idle streams to be reset', 20_000)
    const kept = Date.now() - opened
    assert.ok(kept >= 5 * requestReadTimeout, `kept ${kept} ms, reset before the idle timeout`)
  })

  it('answers a request that arrives slowly, over more than the idle timeout, within the read deadline', async () => {
    const streamIdleTimeout = 200
    const { node, mallory } = await world({ streamIdleTimeout, requestReadTimeout: 50 * streamIdleTimeout })

    const slow = await mallory.dialProtocol(node.peerId, PROTOCOL)
    // opened after the slow one, so its idle timeout ends after the slow one's would
    const silent = await mallory.dialProtocol(node.peerId, PROTOCOL)
    const framed = frameStream(slow, MAX_MESSAGE_SIZE)
    const request = findSuccessor()
    slow.send(encodeVarint(request.byteLength))
    slow.send(request.subarray(0, request.byteLength / 2))

    // a stream opened with it and left silent marks the idle timeout passing
    await waitFor(() => silent.status !== 'open', 'the silent stream to be reset for its silence', 10_000)
    assert.equal(slow.status, 'open', 'the stream whose request has begun is not idle')
    slow.send(request.subarray(request.byteLength / 2))

    assert.equal(Response.decode(await framed.read()).status, Response.Status.OK)
  })
})
