import assert from 'node:assert/strict'
import { ConnectionClosedError } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { streamPair } from '@libp2p/utils'
import { StreamPool } from '../../src/transport/stream-pool.js'
import { silentLogger } from '../helpers/logger.js'
import type { Connection } from '@libp2p/interface'

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
