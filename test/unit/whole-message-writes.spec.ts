import { strict as assert } from 'node:assert'
import { Uint8ArrayList } from 'uint8arraylist'
import { wholeMessageWrites } from '../../src/node/whole-message-writes.js'
import type { ConnectionEncrypter, MessageStream, SecuredConnection } from '@libp2p/interface'

/** An encrypter that sends `message` on the connection it is handed, as Noise would a message */
function sendingEncrypter (message: Uint8Array | Uint8ArrayList): ConnectionEncrypter {
  const secure = async (connection: MessageStream): Promise<SecuredConnection> => {
    connection.send(message)
    return { connection } as unknown as SecuredConnection
  }
  return { protocol: '/test', secureInbound: secure, secureOutbound: secure }
}

/** A connection that records what reaches its own `send` */
function recordingConnection (canSendMore: boolean): { connection: MessageStream, sent: Array<Uint8Array | Uint8ArrayList> } {
  const sent: Array<Uint8Array | Uint8ArrayList> = []
  const connection = {
    send (data: Uint8Array | Uint8ArrayList): boolean {
      sent.push(data)
      return canSendMore
    }
  } as unknown as MessageStream
  return { connection, sent }
}

describe('wholeMessageWrites', () => {
  it('joins a message sent in parts into one buffer, on inbound and outbound connections', async () => {
    const message = new Uint8ArrayList(Uint8Array.of(0, 3), Uint8Array.of(7, 8, 9))
    const encrypter = wholeMessageWrites(() => sendingEncrypter(message))({})
    const inbound = recordingConnection(true)
    const outbound = recordingConnection(true)

    await encrypter.secureInbound(inbound.connection)
    await encrypter.secureOutbound(outbound.connection)

    for (const { sent } of [inbound, outbound]) {
      assert.equal(sent.length, 1)
      assert.ok(sent[0] instanceof Uint8Array)
      assert.deepEqual([...sent[0]], [0, 3, 7, 8, 9])
    }
  })

  it('passes a message already whole as it is, and the connection\'s backpressure back', async () => {
    const message = Uint8Array.of(0, 1, 5)
    const encrypter = wholeMessageWrites(() => sendingEncrypter(message))({})
    const { connection, sent } = recordingConnection(false)

    await encrypter.secureInbound(connection)

    assert.equal(sent[0], message)
    assert.equal(connection.send(Uint8Array.of(1)), false)
  })
})
