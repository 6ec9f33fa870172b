import { strict as assert } from 'node:assert'
import net from 'node:net'
import { memory } from '@libp2p/memory'
import { CODE_P2P } from '@multiformats/multiaddr'
import { MAX_EARLY_STREAMS } from '../../src/node/constants.js'
import { createChordLibp2p, INBOUND_CONNECTIONS_PER_SECOND_PER_IP } from '../../src/node/libp2p.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordLibp2p, ChordLibp2pOptions } from '../../src/node/libp2p.js'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
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

  it('keeps every method of a connection gater made from a class', async () => {
    class Blocklist {
      readonly blocked = new Set<string>()
      denyDialPeer (peer: PeerId): boolean {
        return this.blocked.has(peer.toString())
      }
    }
    const listener = await start({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const blocklist = new Blocklist()
    blocklist.blocked.add(listener.peerId.toString())
    const dialer = await start({ listen: [], connectionGater: blocklist })

    await assert.rejects(dialer.dial(listener.getMultiaddrs()[0]), /blocked by gater|denied/i)
    assert.equal(dialer.getConnections(listener.peerId).length, 0)
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

  describe('streams a peer opens the moment it connects', () => {
    const PROTOCOL = '/test/burst/1.0.0'
    /**
     * What opening one stream of PROTOCOL sends, each part a yamux frame (12-byte header) in a
     * Noise message (2-byte length, 16-byte tag): the SYN, then multistream-select's header and
     * the protocol, each a varint length and a line
     */
    const SYN_BYTES = 12 + 18
    const OPENING_BYTES = SYN_BYTES + (12 + 18 + (1 + '/multistream/1.0.0\n'.length) + (1 + `${PROTOCOL}\n`.length))

    /**
     * A listener whose last check of each inbound connection waits until `setUp` says (given the
     * bytes that have arrived on the connection meanwhile), and a peer that opens `streams` streams
     * as soon as it is connected. `heldTooLong` tells whether the check gave up waiting.
     */
    async function burstBeforeSetUp (streams: number, setUp: (arrived: number) => boolean): Promise<{ connection: Connection, opened: Array<Promise<Stream>>, heldTooLong: () => boolean }> {
      let arrived = 0
      let heldTooLong = false
      const listener = await start({
        listen: ['/ip4/127.0.0.1/tcp/0'],
        connectionGater: {
          denyInboundUpgradedConnection: async (_peer, connection) => {
            connection.addEventListener('message', ({ data }) => { arrived += data.byteLength })
            await waitFor(() => setUp(arrived), 'the connection to be set up', 10_000).catch(() => { heldTooLong = true })
            return false
          }
        }
      })
      await listener.handle(PROTOCOL, async stream => { await stream.close() }, { maxInboundStreams: streams })
      const dialer = await start({ listen: [] })
      const connection = await dialer.dial(listener.getMultiaddrs()[0])
      const opened = Array.from({ length: streams }, async () => connection.newStream(PROTOCOL, { maxOutboundStreams: streams }))
      return { connection, opened, heldTooLong: () => heldTooLong }
    }

    it(`keeps the connection of a peer that opens ${MAX_EARLY_STREAMS} streams at once, beyond libp2p's default of 10`, async () => {
      // its identify stream is one of them, and its opening arrives before the check begins to
      // count; held until the burst's openings have arrived. A frame of the dialer's other than a
      // stream's (its ping's answer, 30 bytes) may be counted with them, so a burst stream may
      // not have begun when it is set free: 63 or 62 early streams, well past libp2p's 10
      const { connection, opened, heldTooLong } = await burstBeforeSetUp(MAX_EARLY_STREAMS - 1, arrived => arrived >= (MAX_EARLY_STREAMS - 1) * OPENING_BYTES)

      assert.equal((await Promise.all(opened)).length, MAX_EARLY_STREAMS - 1)
      assert.equal(connection.status, 'open')
      assert.equal(heldTooLong(), false)
    })

    it(`resets the streams of a peer that opens more than ${MAX_EARLY_STREAMS} before its connection is set up`, async () => {
      let reset = false
      // with its identify stream, one more than the limit; held until the peer's streams are
      // reset, which only the limit does while the connection is held
      const { opened, heldTooLong } = await burstBeforeSetUp(MAX_EARLY_STREAMS, () => reset)
      for (const stream of opened) {
        stream.catch((err: Error) => { reset ||= err.name === 'StreamResetError' })
      }

      assert.ok((await Promise.allSettled(opened)).some(({ status }) => status === 'rejected'))
      assert.equal(reset, true)
      assert.equal(heldTooLong(), false)
    })
  })

  it('writes each Noise message to the socket whole, its length and ciphertext in one write', async () => {
    const listener = await start({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const dialer = await start({ listen: [] })
    await dialer.dial(listener.getMultiaddrs()[0])

    // the connection between the two, not whatever else the process still has open
    const port = Number(listener.getMultiaddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)
    const writes = await socketWritesDuring(port, async () => {
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

/** The bytes of every socket write this process makes while `work` runs on a connection to or from `port` */
async function socketWritesDuring (port: number, work: () => Promise<void>): Promise<Uint8Array[]> {
  const writes: Uint8Array[] = []
  const write = net.Socket.prototype.write
  net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (chunk instanceof Uint8Array && (this.localPort === port || this.remotePort === port)) {
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
