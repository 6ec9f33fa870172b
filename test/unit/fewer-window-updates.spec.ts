import { strict as assert } from 'node:assert'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { fewerWindowUpdates } from '../../src/node/fewer-window-updates.js'
import { waitFor } from '../helpers/wait-for.js'
import type { MultiaddrConnection, Stream, StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'

/** yamux's frame header: version, type, flags (2), stream id (4), length (4) */
const HEADER_BYTES = 12
const DATA = 0
const WINDOW_UPDATE = 1
/** yamux's `StreamState.Established` */
const ESTABLISHED = 3

/** Counts the yamux frames of each type that `connection` sends */
function countFrames (connection: MultiaddrConnection): Map<number, number> {
  const counts = new Map<number, number>()
  const unread = new Uint8ArrayList()
  const send = connection.send.bind(connection)
  connection.send = data => {
    unread.append(data)
    while (unread.byteLength >= HEADER_BYTES) {
      const type = unread.get(1)
      const length = unread.getUint32(8)
      const frameBytes = HEADER_BYTES + (type === DATA ? length : 0)
      if (unread.byteLength < frameBytes) {
        break
      }
      unread.consume(frameBytes)
      counts.set(type, (counts.get(type) ?? 0) + 1)
    }
    return send(data)
  }
  return counts
}

/** Two yamux muxers over an in-memory connection, the server echoing what every stream brings unless told not to */
function muxerPair (factory: StreamMuxerFactory, serverFactory = factory, echo = true): { client: StreamMuxer, server: StreamMuxer, sent: Array<Map<number, number>> } {
  const [outbound, inbound] = multiaddrConnectionPair()
  const sent = [countFrames(outbound), countFrames(inbound)]
  const client = factory.createStreamMuxer(outbound)
  const server = serverFactory.createStreamMuxer(inbound)
  server.addEventListener('stream', ({ detail: stream }) => {
    stream.addEventListener('message', ({ data }) => {
      if (echo) {
        stream.send(data)
      }
    })
  })
  return { client, server, sent }
}

/** yamux's stream state, which only its internals hold (3: established, SYN and ACK exchanged) */
function stateOf (stream: Stream): number {
  return (stream as unknown as { state: number }).state
}

/** Sends `data` on `stream` and waits until as many bytes have come back */
async function echoed (stream: Stream, data: Uint8Array): Promise<void> {
  let received = 0
  const back = new Promise<void>(resolve => {
    const onMessage = ({ data: chunk }: { data: Uint8Array | Uint8ArrayList }): void => {
      received += chunk.byteLength
      if (received >= data.byteLength) {
        stream.removeEventListener('message', onMessage)
        resolve()
      }
    }
    stream.addEventListener('message', onMessage)
  })
  stream.send(data)
  await back
}

function windowUpdates (sent: Array<Map<number, number>>): number {
  return sent.reduce((sum, counts) => sum + (counts.get(WINDOW_UPDATE) ?? 0), 0)
}

describe('fewerWindowUpdates', () => {
  it('answers 50 small exchanges on one stream with no window update beyond the stream\'s opening, where yamux sends one per frame', async () => {
    const plain = muxerPair(yamux()())
    const fewer = muxerPair(fewerWindowUpdates(yamux())({}))

    for (const { client } of [plain, fewer]) {
      const stream = await client.createStream()
      for (let i = 0; i < 50; i++) {
        await echoed(stream, new Uint8Array(64).fill(i))
      }
    }

    assert.ok(windowUpdates(plain.sent) >= 100, `${windowUpdates(plain.sent)} window updates from yamux alone`)
    // the client's SYN, and the server's ACK unless its first answer carried it
    assert.ok(windowUpdates(fewer.sent) <= 2, `${windowUpdates(fewer.sent)} window updates`)
  })

  it('carries 4 MiB each way on one stream, 16 times the initial window', async () => {
    const { client, sent } = muxerPair(fewerWindowUpdates(yamux())({}))
    const stream = await client.createStream()

    await echoed(stream, new Uint8Array(4 * 1024 * 1024).fill(7))

    // beyond the stream's opening, the window was granted again as it was used
    assert.ok(windowUpdates(sent) > 2, `${windowUpdates(sent)} window updates`)
  })

  for (const [client, server] of [['wrapped', 'plain yamux'], ['plain yamux', 'wrapped']]) {
    it(`carries 4 MiB each way between client (${client}) and server (${server})`, async () => {
      const wrapped = fewerWindowUpdates(yamux())({})
      const plain = yamux()()
      const pair = muxerPair(client === 'wrapped' ? wrapped : plain, server === 'wrapped' ? wrapped : plain)
      const stream = await pair.client.createStream()

      await echoed(stream, new Uint8Array(4 * 1024 * 1024).fill(9))

      assert.equal(stateOf(stream), ESTABLISHED)
    })
  }

  it('acknowledges a stream whose receiver only reads', async () => {
    const { client } = muxerPair(fewerWindowUpdates(yamux())({}), undefined, false)
    const stream = await client.createStream()

    stream.send(new Uint8Array(64))

    await waitFor(() => stateOf(stream) === ESTABLISHED, 'the server\'s ACK')
  })

  it('opens streams both ways and closes them', async () => {
    const { client, server } = muxerPair(fewerWindowUpdates(yamux())({}))
    const opened: Stream[] = []
    client.addEventListener('stream', ({ detail: stream }) => {
      opened.push(stream)
      stream.addEventListener('message', ({ data }) => { stream.send(data) })
    })

    const fromServer = await server.createStream()
    await echoed(fromServer, Uint8Array.of(1, 2, 3))
    await fromServer.close()

    await waitFor(() => opened.length === 1 && opened[0].remoteWriteStatus === 'closed', 'the client to see the server\'s stream open and close')
  })

  it('leaves a muxer without yamux\'s stream maker as it is', () => {
    const muxer = { protocol: '/test' } as unknown as StreamMuxer
    const factory = { protocol: '/test', createStreamMuxer: () => muxer } as unknown as StreamMuxerFactory

    assert.equal(fewerWindowUpdates(() => factory)({}).createStreamMuxer({} as unknown as MultiaddrConnection), muxer)
  })
})
