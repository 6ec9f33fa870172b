import { strict as assert } from 'node:assert'
import net from 'node:net'
import { memory } from '@libp2p/memory'
import { CODE_P2P } from '@multiformats/multiaddr'
import { createChordLibp2p, INBOUND_CONNECTIONS_PER_SECOND_PER_IP } from '../../src/node/libp2p.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordLibp2p, ChordLibp2pOptions } from '../../src/node/libp2p.js'
import type { Ping } from '@libp2p/ping'

describe('createChordLibp2p', function () {
  this.timeout(30_000)

  let nodes: ChordLibp2p[] = []

  afterEach(async () => {
    await Promise.all(nodes.map(async node => node.stop()))
    nodes = []
  })

  async function start (options: ChordLibp2pOptions): Promise<ChordLibp2p> {
    const node = await createChordLibp2p(options)
    nodes.push(node)
    return node
  }

  it('connects over TCP and WebSockets, authenticated by Noise', async () => {
    const listener = await start({ listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] })
    const dialer = await start({ listen: [] })
    const [tcpAddr] = listener.getMultiaddrs().filter(ma => !ma.toString().includes('/ws'))
    const [wsAddr] = listener.getMultiaddrs().filter(ma => ma.toString().includes('/ws'))

    const overTcp = await dialer.dial(tcpAddr)
    assert.ok(overTcp.remotePeer.equals(listener.peerId))
    assert.equal(overTcp.encryption, '/noise')
    await overTcp.close()

    const overWs = await dialer.dial(wsAddr)
    assert.ok(overWs.remotePeer.equals(listener.peerId))
    assert.ok(overWs.remoteAddr.toString().includes('/ws'))
  })

  it('adds the transports it is given to the defaults', async () => {
    const listener = await start({ listen: ['/memory/chord-libp2p-spec'], transports: [memory()] })
    const dialer = await start({ listen: [], transports: [memory()] })

    const connection = await dialer.dial(listener.getMultiaddrs()[0])

    assert.ok(connection.remotePeer.equals(listener.peerId))
  })

  it(`accepts a burst of connections from one IP beyond libp2p's default of 5 a second (up to ${INBOUND_CONNECTIONS_PER_SECOND_PER_IP})`, async () => {
    const listener = await start({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const dialers = await Promise.all(Array.from({ length: 20 }, async () => start({ listen: [] })))

    await Promise.all(dialers.map(async dialer => dialer.dial(listener.getMultiaddrs()[0])))

    // a resolved dial is not yet acceptance: the listener may still refuse the connection
    await waitFor(() => listener.getConnections().length === dialers.length, 'the listener to hold every connection')
    assert.ok(dialers.every(dialer => dialer.getConnections(listener.peerId).length === 1))
  })

  it('keeps the private addresses a peer reached over a private address lists for itself (a ring on one host or a LAN)', async () => {
    const listener = await start({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const dialer = await start({ listen: [] })
    await dialer.dial(listener.getMultiaddrs()[0])
    const listening = listener.getMultiaddrs()[0].decapsulateCode(CODE_P2P).toString()

    await waitFor(async () => (await dialer.peerStore.get(listener.peerId)).addresses.some(({ multiaddr }) => multiaddr.toString() === listening),
      'identify to store the listener\'s loopback address')
  })

  it('stores none of the private addresses a peer reached over public addresses only lists for itself in identify', async () => {
    const listener = await start({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    // every connection taken for a public one: the listener's loopback addresses are a public peer's private ones
    const dialer = await start({ listen: [], isPrivateConnection: () => false })
    await dialer.dial(listener.getMultiaddrs()[0])

    // identify has run once the listener's protocols are stored
    await waitFor(async () => (await dialer.peerStore.get(listener.peerId)).protocols.includes('/ipfs/id/1.0.0'), 'identify to store the listener\'s protocols')
    assert.deepEqual((await dialer.peerStore.get(listener.peerId)).addresses.map(({ multiaddr }) => multiaddr.toString()), [])
  })

  it('writes each Noise message to the socket whole, its length and ciphertext in one write', async () => {
    const listener = await start({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const dialer = await start({ listen: [] })
    await dialer.dial(listener.getMultiaddrs()[0])

    const writes = await socketWritesDuring(async () => {
      for (let i = 0; i < 10; i++) {
        await (dialer.services.ping as Ping).ping(listener.peerId)
      }
    })

    assert.ok(writes.length >= 20, `${writes.length} socket writes for 10 pings`)
    const partial = writes.filter(bytes => !isWholeNoiseMessages(bytes))
    assert.deepEqual(partial.map(bytes => bytes.byteLength), [])
  })
})

/** Whether `bytes` are whole Noise messages, one after another: each a 2-byte big-endian length, then that many bytes */
function isWholeNoiseMessages (bytes: Uint8Array): boolean {
  let at = 0
  while (at + 2 <= bytes.byteLength) {
    at += 2 + ((bytes[at] << 8) | bytes[at + 1])
  }
  return bytes.byteLength > 0 && at === bytes.byteLength
}

/** The bytes of every socket write this process makes while `work` runs */
async function socketWritesDuring (work: () => Promise<void>): Promise<Uint8Array[]> {
  const writes: Uint8Array[] = []
  const write = net.Socket.prototype.write
  net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (chunk instanceof Uint8Array) {
      writes.push(chunk)
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
  } as typeof write
  try {
    await work()
  } finally {
    net.Socket.prototype.write = write
  }
  return writes
}
