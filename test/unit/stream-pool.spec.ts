import assert from 'node:assert/strict'
import { ConnectionClosedError } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKeyPair } from '@libp2p/crypto/keys'
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

describe('stream pool', () => {
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
