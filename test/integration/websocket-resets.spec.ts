/**
 * A WebSocket connection the node resets, or whose upgrade fails, has its socket closed, as a TCP
 * connection's would be. `@libp2p/websockets` resets with `close(1006)`, which no WebSocket may
 * send, and closes a failed inbound upgrade with a close handshake the peer need never answer:
 * before, every such socket stayed open (or for 30 s), counted by no connection limit.
 */
import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { connect } from 'node:net'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { closingWebSocketResets } from '../../src/index.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordLibp2p, ChordLibp2pOptions } from '../../src/node/libp2p.js'
import type { Connection, Libp2p } from '@libp2p/interface'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

/** far less than the 30 s a WebSocket close handshake may wait for a peer that never answers */
const CLOSE_DEADLINE_MS = 3_000
/** RFC 6455's constant, joined to the client's key for the server's answer */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** What the tests read of a WebSocket: `ws`'s, accepted, can also be terminated; Node's, dialed, not */
interface WebSocketLike {
  readyState: number
  terminate?: () => void
}

/** the WebSocket under a connection of `@libp2p/websockets` */
function websocketOf (connection: Connection): WebSocketLike {
  return (connection as unknown as { maConn: { websocket: WebSocketLike } }).maConn.websocket
}
const CLOSED = 3

/** the first byte of a WebSocket close frame: the last fragment, opcode 8 */
const CLOSE_FRAME = 0x88

/** A server that accepts any WebSocket and answers nothing, keeping the first byte each socket sends */
async function silentWebSocketServer (): Promise<{ server: Server, port: number, firstBytes: number[] }> {
  const firstBytes: number[] = []
  const server = createServer()
  server.on('upgrade', (request, socket: Socket) => {
    const accept = createHash('sha1').update(`${String(request.headers['sec-websocket-key'])}${WEBSOCKET_GUID}`).digest('base64')
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
    socket.on('error', () => {})
    socket.once('data', (data: Buffer) => firstBytes.push(data[0]))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  assert.ok(address != null && typeof address === 'object')
  return { server, port: address.port, firstBytes }
}

describe('WebSocket resets', function () {
  this.timeout(30_000)

  let nodes: Libp2p[] = []
  let servers: Server[] = []

  afterEach(async () => {
    await Promise.all(nodes.map(async node => node.stop()))
    servers.forEach(server => { server.closeAllConnections(); server.close() })
    nodes = []
    servers = []
  })

  async function start (options: ChordLibp2pOptions): Promise<ChordLibp2p> {
    const node = await createChordLibp2p(options)
    nodes.push(node)
    return node
  }

  /** A node listening on WebSockets, and another connected to it: each one's side of the connection */
  async function connectedOverWebSockets (): Promise<{ listener: ChordLibp2p, dialer: ChordLibp2p, inbound: Connection, outbound: Connection }> {
    const listener = await start({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    const dialer = await start({ listen: [] })
    const outbound = await dialer.dial(listener.getMultiaddrs()[0])
    await waitFor(() => listener.getConnections(dialer.peerId).length === 1, 'the listener to hold the connection')
    return { listener, dialer, inbound: listener.getConnections(dialer.peerId)[0], outbound }
  }

  /** How many times `node` tells of a connection's close and of a peer's disconnection from now on */
  function closesTold (node: Libp2p): { closes: number, disconnects: number } {
    const told = { closes: 0, disconnects: 0 }
    node.addEventListener('connection:close', () => { told.closes++ })
    node.addEventListener('peer:disconnect', () => { told.disconnects++ })
    return told
  }

  it('closes the socket of an inbound connection it resets, and tells of its close once', async () => {
    const { listener, dialer, inbound } = await connectedOverWebSockets()
    const told = closesTold(listener)

    inbound.abort(new Error('reset by the test'))

    await waitFor(() => websocketOf(inbound).readyState === CLOSED, 'the listener\'s socket to close', CLOSE_DEADLINE_MS)
    await waitFor(() => dialer.getConnections(listener.peerId).length === 0, 'the dialer to see its connection end', CLOSE_DEADLINE_MS)
    assert.deepEqual(told, { closes: 1, disconnects: 1 })
  })

  it('closes the socket of an outbound connection it resets', async () => {
    const { listener, dialer, outbound } = await connectedOverWebSockets()

    outbound.abort(new Error('reset by the test'))

    await waitFor(() => listener.getConnections(dialer.peerId).length === 0, 'the listener to see the connection end', CLOSE_DEADLINE_MS)
  })

  it('tells of the close of an outbound connection it resets once, though the peer drops the socket instead of answering', async () => {
    const { dialer, inbound, outbound } = await connectedOverWebSockets()
    const told = closesTold(dialer)

    outbound.abort(new Error('reset by the test'))
    websocketOf(inbound).terminate?.()

    await waitFor(() => websocketOf(outbound).readyState === CLOSED, 'the dialer\'s socket to close', CLOSE_DEADLINE_MS)
    assert.equal(outbound.status, 'aborted')
    assert.deepEqual(told, { closes: 1, disconnects: 1 })
  })

  it('closes at once a WebSocket whose upgrade it denies, even if the peer never answers the close', async () => {
    const listener = await start({ listen: ['/ip4/127.0.0.1/tcp/0/ws'], connectionGater: { denyInboundConnection: async () => true } })
    await assertClosesDeniedWebSockets(listener)
  })

  it('does the same for an application\'s own libp2p node, given closingWebSocketResets(webSockets())', async () => {
    const own = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0/ws'] },
      transports: [closingWebSocketResets(webSockets())],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: { denyInboundConnection: async () => true }
    })
    nodes.push(own)
    await assertClosesDeniedWebSockets(own)
  })

  /** A raw WebSocket that never answers a close frame, denied by `listener`'s gater, is closed within CLOSE_DEADLINE_MS */
  async function assertClosesDeniedWebSockets (listener: Libp2p): Promise<void> {
    const port = Number(listener.getMultiaddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    let answer = ''
    socket.on('data', data => { answer += data.toString('latin1') })
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 7).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)

    await waitFor(() => socket.closed, 'the listener to close the socket', CLOSE_DEADLINE_MS)
    assert.match(answer, /^HTTP\/1.1 101/, 'the WebSocket was accepted before the upgrade was denied')
  }

  // Node's WebSocket, which dials, has no way to drop its socket: it sends a close frame, and the
  // socket ends when the peer answers it
  it('sends a close frame on the WebSocket of an outbound upgrade that fails', async () => {
    const { server, port, firstBytes } = await silentWebSocketServer()
    servers.push(server)
    const dialer = await start({ listen: [], connectionGater: { denyOutboundConnection: async () => true } })
    const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

    await assert.rejects(dialer.dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws/p2p/${stranger.toString()}`)), /denied|blocked/i)

    await waitFor(() => firstBytes.length === 1, 'the dialer to send a frame', CLOSE_DEADLINE_MS)
    assert.equal(firstBytes[0], CLOSE_FRAME)
  })
})
