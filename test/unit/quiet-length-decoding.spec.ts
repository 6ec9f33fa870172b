import { strict as assert } from 'node:assert'
import { noise } from '@chainsafe/libp2p-noise'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { quietLengthDecoding } from '../../src/node/quiet-length-decoding.js'
import { wholeMessageWrites } from '../../src/node/whole-message-writes.js'
import type { ConnectionEncrypter, MessageStream, SecuredConnection, Upgrader } from '@libp2p/interface'

interface DecoderInside {
  decoder: {
    lengthDecoder: (data: Uint8ArrayList) => number
    decode: (data: Uint8Array) => Iterable<Uint8ArrayList>
  }
}

async function encrypter (wrap: boolean): Promise<ConnectionEncrypter> {
  const privateKey = await generateKeyPair('Ed25519')
  const components = {
    privateKey,
    peerId: peerIdFromPrivateKey(privateKey),
    logger: defaultLogger(),
    upgrader: { getStreamMuxers: () => new Map() } as unknown as Upgrader
  }
  // wrapped as the node builds wrap it
  return (wrap ? quietLengthDecoding(wholeMessageWrites(noise())) : noise())(components)
}

/** Two ends of a Noise session over an in-memory connection */
async function securedPair (wrap: boolean): Promise<[SecuredConnection, SecuredConnection]> {
  const [outbound, inbound] = multiaddrConnectionPair()
  const [client, server] = await Promise.all([encrypter(wrap), encrypter(wrap)])
  return Promise.all([
    client.secureOutbound(outbound, { skipStreamMuxerNegotiation: true }),
    server.secureInbound(inbound, { skipStreamMuxerNegotiation: true })
  ])
}

function decoderOf (secured: SecuredConnection): DecoderInside['decoder'] {
  return (secured.connection as unknown as DecoderInside).decoder
}

/** What `stream` delivers until it has `byteLength` bytes, joined */
async function received (stream: MessageStream, byteLength: number): Promise<Uint8Array> {
  const data = new Uint8ArrayList()
  return new Promise(resolve => {
    stream.addEventListener('message', event => {
      data.append(event.data)
      if (data.byteLength >= byteLength) {
        resolve(data.subarray())
      }
    })
  })
}

describe('quietLengthDecoding', () => {
  it('finds the installed Noise\'s length decoder, which throws on a short buffer, and makes it answer 0', async () => {
    const [plain] = await securedPair(false)
    assert.throws(() => decoderOf(plain).lengthDecoder(new Uint8ArrayList()), RangeError)

    const [outbound, inbound] = await securedPair(true)

    for (const secured of [outbound, inbound]) {
      const { lengthDecoder } = decoderOf(secured)
      assert.equal(lengthDecoder(new Uint8ArrayList()), 0)
      assert.equal(lengthDecoder(new Uint8ArrayList(Uint8Array.of(1))), 0)
      assert.equal(lengthDecoder(new Uint8ArrayList(Uint8Array.of(1, 2))), 0x0102)
    }
  })

  it('still cuts a message that arrives a byte at a time at its end, and one that arrives with the next', async () => {
    const [, inbound] = await securedPair(true)
    const decoder = decoderOf(inbound)
    const frames = Uint8Array.of(0, 3, 7, 8, 9, 0, 1, 5)
    const cut: number[][] = []

    for (const byte of frames.subarray(0, 5)) {
      for (const message of decoder.decode(Uint8Array.of(byte))) {
        cut.push([...message.subarray()])
      }
    }
    assert.deepEqual(cut, [[7, 8, 9]])
    for (const message of decoder.decode(frames.subarray(5))) {
      cut.push([...message.subarray()])
    }
    assert.deepEqual(cut, [[7, 8, 9], [5]])
  })

  it('carries messages both ways over a real Noise session', async () => {
    const [outbound, inbound] = await securedPair(true)
    // the largest is more than one Noise message
    const sent = [1, 2, 3, 100, 70_000].map(size => new Uint8Array(size).fill(size % 251))
    const all = new Uint8ArrayList(...sent).subarray()
    const atInbound = received(inbound.connection, all.byteLength)
    const atOutbound = received(outbound.connection, 1)

    for (const message of sent) {
      outbound.connection.send(message)
    }
    inbound.connection.send(Uint8Array.of(42))

    assert.deepEqual(await atInbound, all)
    assert.deepEqual([...await atOutbound], [42])
  })

  it('leaves a connection without such a decoder as it is', async () => {
    const connection = {} as unknown as MessageStream
    const inner: ConnectionEncrypter = {
      protocol: '/test',
      secureInbound: async () => ({ connection }) as unknown as SecuredConnection,
      secureOutbound: async () => ({ connection: { decoder: { lengthDecoder: () => 1, encodingLength: () => 8 } } }) as unknown as SecuredConnection
    }
    const wrapped = quietLengthDecoding(() => inner)({})

    assert.equal((await wrapped.secureInbound({} as unknown as MessageStream)).connection, connection)
    const { lengthDecoder } = decoderOf(await wrapped.secureOutbound({} as unknown as MessageStream))
    assert.equal(lengthDecoder(new Uint8ArrayList()), 1)
  })
})
