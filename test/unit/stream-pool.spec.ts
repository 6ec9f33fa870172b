import assert from 'node:assert/strict'
import { ConnectionClosedError } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { streamPair } from '@libp2p/utils'
import { frameStream } from '../../src/protocol/framing.js'
import { Request, Response } from '../../src/protocol/generated/chord.js'
import { MAX_MESSAGE_SIZE, MAX_POOLED_STREAMS_PER_PEER } from '../../src/transport/constants.js'
import { ringIdOf } from '../../src/transport/ring-id.js'
import { RpcClient } from '../../src/transport/rpc-client.js'
import { StreamPool } from '../../src/transport/stream-pool.js'
import { silentLogger } from '../helpers/logger.js'
import type { WirePeers } from '../../src/transport/wire-peers.js'
import type { Connection, Stream } from '@libp2p/interface'

/** A connection libp2p lists as open whose muxer has closed: it opens no stream */
function connectionWithClosedMuxer (): Connection & { aborted?: Error } {
  const connection = {
    status: 'open',
    streams: [],
    newStream: async () => { throw new ConnectionClosedError('The connection muxer is "closed" and not "open"') },
    abort (err: Error) {
      connection.aborted = err
      connection.status = 'aborted'
    }
  } as unknown as Connection & { aborted?: Error }
  return connection
}

/** A connection whose streams open when the test says: `pending` holds the opens not yet answered */
function connectionOpeningOnDemand (): Connection & { pending: Array<() => void>, opened: number } {
  const connection = {
    status: 'open',
    streams: [],
    pending: [] as Array<() => void>,
    opened: 0,
    newStream: async () => {
      const { promise, resolve } = Promise.withResolvers<void>()
      connection.pending.push(resolve)
      await promise
      connection.opened++
      const [outbound] = await streamPair()
      return outbound
    }
  }
  return connection as unknown as Connection & { pending: Array<() => void>, opened: number }
}

/**
 * A connection to a /chord peer that answers each request when the test says: `held` holds the
 * answers not yet sent, `streams` the outbound streams opened on it
 */
function connectionAnsweringOnDemand (): Connection & { held: Array<() => void>, streams: Stream[] } {
  const connection = {
    status: 'open',
    streams: [] as Stream[],
    held: [] as Array<() => void>,
    newStream: async () => {
      const [outbound, inbound] = await streamPair()
      connection.streams.push(outbound)
      void answer(inbound, connection.held)
      return outbound
    }
  }
  return connection as unknown as Connection & { held: Array<() => void>, streams: Stream[] }
}

/** Answers every request on `stream` with an empty OK once the test releases it from `held` */
async function answer (stream: Stream, held: Array<() => void>): Promise<void> {
  const framed = frameStream(stream, MAX_MESSAGE_SIZE)
  try {
    while (true) {
      const request = Request.decode(await framed.read())
      await new Promise<void>(resolve => held.push(resolve))
      await framed.write(Response.encode({ type: request.type, status: Response.Status.OK, peers: [], records: [], summaries: [] }))
    }
  } catch {
    // the client closed the stream
    await stream.close().catch((err: Error) => { stream.abort(err) })
  }
}

async function until (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting until ${what}`)
    }
    await new Promise(resolve => setImmediate(resolve))
  }
}

describe('stream pool', () => {
  it('opens one stream on a fresh connection before the others: the remote closes a connection past its early streams', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const connection = connectionOpeningOnDemand()
    const pool = new StreamPool({ logger: silentLogger(), dial: async () => connection },
      { protocol: '/test/1.0.0', maxStreamsPerPeer: 16, maxIdleStreamsPerPeer: 1, idleTimeout: 1000, openTimeout: 1000, maxMessageSize: 1024 })
    pool.start()

    // yamux's default maxEarlyStreams is 10: a burst of 16 would break the connection
    const acquiring = Array.from({ length: 16 }, async () => pool.acquire(peer))
    await until(() => connection.pending.length > 0, 'the first stream is being opened')
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(connection.pending.length, 1, 'only one stream is opened before the remote took one')

    connection.pending.shift()?.()
    await until(() => connection.pending.length === 15, 'the other 15 are being opened')
    connection.pending.splice(0).forEach(open => { open() })
    const streams = await Promise.all(acquiring)
    assert.equal(streams.length, 16)
    assert.equal(connection.opened, 16)
    await pool.stop()
  })

  it('lets the next stream go first when the first one on a fresh connection fails', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const connection = connectionOpeningOnDemand()
    let failFirst = true
    const newStream = connection.newStream.bind(connection)
    connection.newStream = async (...args: Parameters<Connection['newStream']>) => {
      if (failFirst) {
        failFirst = false
        connection.pending.push(() => {})
        throw new Error('negotiation failed')
      }
      return newStream(...args)
    }
    const pool = new StreamPool({ logger: silentLogger(), dial: async () => connection },
      { protocol: '/test/1.0.0', maxStreamsPerPeer: 4, maxIdleStreamsPerPeer: 1, idleTimeout: 1000, openTimeout: 1000, maxMessageSize: 1024 })
    pool.start()

    const first = pool.acquire(peer)
    const second = pool.acquire(peer)
    await assert.rejects(first, /negotiation failed/)
    await until(() => connection.pending.length === 2, 'the second stream is being opened')
    connection.pending.pop()?.()
    await second
    assert.equal(connection.opened, 1)
    await pool.stop()
  })

  it('closes a connection listed as open that can open no stream, so the next request dials afresh', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const dialled: Array<Connection & { aborted?: Error }> = []
    const pool = new StreamPool({
      logger: silentLogger(),
      dial: async () => {
        // libp2p hands out the open connection it has, else a new one
        const open = dialled.find(c => c.status === 'open') ?? connectionWithClosedMuxer()
        if (!dialled.includes(open)) {
          dialled.push(open)
        }
        return open
      }
    }, { protocol: '/test/1.0.0', maxStreamsPerPeer: 4, maxIdleStreamsPerPeer: 1, idleTimeout: 1000, openTimeout: 1000, maxMessageSize: 1024 })
    pool.start()

    await assert.rejects(pool.acquire(peer), { name: 'ConnectionClosedError' })
    assert.equal(dialled[0].aborted?.name, 'ConnectionClosedError', 'the connection was closed')
    await assert.rejects(pool.acquire(peer), { name: 'ConnectionClosedError' })
    assert.equal(dialled.length, 2, 'the next request dialled a new connection')
    await pool.stop()
  })
})

describe('the RPC client\'s stream pool', () => {
  it('keeps MAX_POOLED_STREAMS_PER_PEER idle streams to a peer by default, closes the one over, and reuses the ones kept', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const to = { id: ringIdOf(peer), peer: peer.toString() }
    const connection = connectionAnsweringOnDemand()
    const client = new RpcClient({ logger: silentLogger(), dial: async () => connection, register: async () => 'topology', unregister: () => {} },
      { wirePeers: { peerIdOf: () => peer } as unknown as WirePeers })
    await client.start()
    const writable = (): Stream[] => connection.streams.filter(stream => stream.status === 'open' && stream.writeStatus === 'writable')

    // one request over the limit in flight at once: each has a stream of its own
    const over = Array.from({ length: MAX_POOLED_STREAMS_PER_PEER + 1 }, async () => client.ping(to))
    await until(() => connection.held.length === MAX_POOLED_STREAMS_PER_PEER + 1, 'every request to arrive')
    connection.held.splice(0).forEach(release => { release() })
    await Promise.all(over)
    assert.equal(connection.streams.length, MAX_POOLED_STREAMS_PER_PEER + 1)
    await until(() => writable().length < connection.streams.length, 'the stream over the limit to close')
    assert.equal(writable().length, MAX_POOLED_STREAMS_PER_PEER, 'one stream closed, the others kept')

    // as many requests at once as streams kept: they take the idle ones, opening none
    const again = Array.from({ length: MAX_POOLED_STREAMS_PER_PEER }, async () => client.ping(to))
    await until(() => connection.held.length === MAX_POOLED_STREAMS_PER_PEER, 'the requests to arrive')
    connection.held.splice(0).forEach(release => { release() })
    await Promise.all(again)
    assert.equal(connection.streams.length, MAX_POOLED_STREAMS_PER_PEER + 1, 'no stream opened')
    await client.stop()
  })
})
