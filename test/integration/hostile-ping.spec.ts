/**
 * A stranger pings a node and never takes the echo: it gives the node's answers no window, so they
 * wait, and sends on. libp2p's own ping answers each chunk as it comes and keeps reading while an
 * answer waits, so everything the stranger sends piles up in the node's memory (over a gigabyte in
 * seconds, from one connection). The node's ping stops reading while an answer waits: the rest
 * waits in the stream's read buffer, which libp2p caps.
 */
import { strict as assert } from 'node:assert'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_PING_READ_BUFFER_BYTES } from '../../src/node/constants.js'
import { startNode, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { Libp2p, Stream } from '@libp2p/interface'

const PING_PROTOCOL = '/ipfs/ping/1.0.0'
/** what the stranger tries to send: far more than any buffer a node should hold for it */
const ATTACK_BYTES = 64 * 1024 * 1024
const CHUNK = new Uint8Array(64 * 1024).fill(7)
/** how long the stranger waits for room to send before it takes the stream as stalled */
const STALL_MS = 2_000

describe('a stranger that pings and never takes the echo', function () {
  this.timeout(60_000)
  let nodes: ChordNode[] = []
  let stranger: Libp2p | undefined

  afterEach(async () => {
    await stranger?.stop()
    stranger = undefined
    await stopAll(nodes)
    nodes = []
  })

  it(`gets no more than about MAX_PING_READ_BUFFER_BYTES (${MAX_PING_READ_BUFFER_BYTES}) held by the node, and the node still answers pings`, async () => {
    const victim = await startNode()
    nodes = [victim]
    stranger = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    const stream = await stranger.dialProtocol(victim.getMultiaddrs()[0], PING_PROTOCOL)
    const withheld = stream as Stream & { sendWindowUpdate?: () => void }
    assert.equal(typeof withheld.sendWindowUpdate, 'function', 'the stranger\'s yamux stream can withhold window')
    // the node's echo gets no room to come back
    withheld.sendWindowUpdate = () => {}

    const sent = await sendUntilStopped(stream)
    // what the node took: its read buffer's cap, the window it had granted, what was in flight
    assert.ok(sent <= MAX_PING_READ_BUFFER_BYTES + 2 * 1024 * 1024, `the node took ${sent} bytes of a ping it could not answer`)
    // libp2p's own ping, as its connection monitor sends it, is answered as before
    const other = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { ping: ping() } })
    try {
      await other.dial(victim.getMultiaddrs()[0])
      for (let i = 0; i < 3; i++) {
        assert.ok(await other.services.ping.ping(victim.peerId, { signal: AbortSignal.timeout(5_000) }) >= 0)
      }
    } finally {
      await other.stop()
    }
  })

  it('echoes all a pinger sent when it closes its end while echoes wait, and gives the window back later', async () => {
    const victim = await startNode()
    nodes = [victim]
    stranger = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    const stream = await stranger.dialProtocol(victim.getMultiaddrs()[0], PING_PROTOCOL)
    const withheld = stream as Stream & { sendWindowUpdate: () => void }
    const sendWindowUpdate = withheld.sendWindowUpdate.bind(stream)
    withheld.sendWindowUpdate = () => {}
    let echoed = 0
    stream.addEventListener('message', evt => { echoed += evt.data.byteLength })
    // more than the window the node's echoes may fill (256 KiB): the rest waits unread in the node
    const chunk = new Uint8Array(16 * 1024).fill(1)
    const sent = 19 * chunk.byteLength
    assert.ok(sent - 256 * 1024 < MAX_PING_READ_BUFFER_BYTES)
    for (let i = 0; i < 19; i++) {
      if (!stream.send(chunk)) {
        await stream.onDrain({ signal: AbortSignal.timeout(5_000) })
      }
    }
    await waitFor(() => echoed >= 256 * 1024 - chunk.byteLength, 'the node to fill the window with echoes', 5_000)
    await stream.close({ signal: AbortSignal.timeout(5_000) })
    // room again, a little at a time as the echoes are read
    withheld.sendWindowUpdate = sendWindowUpdate
    sendWindowUpdate()
    await waitFor(() => echoed === sent, `every byte echoed (${echoed} of ${sent})`, 5_000)
    await waitFor(() => stream.status === 'closed', 'the node to close its end', 5_000)
  })

  it('echoes pings sent one after another on one stream, and a burst of them', async () => {
    const victim = await startNode()
    nodes = [victim]
    stranger = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    const stream = await stranger.dialProtocol(victim.getMultiaddrs()[0], PING_PROTOCOL)
    const echoes = new Uint8ArrayList()
    stream.addEventListener('message', evt => { echoes.append(evt.data) })
    const pings = new Uint8ArrayList()
    for (let i = 0; i < 20; i++) {
      const ping = crypto.getRandomValues(new Uint8Array(32))
      pings.append(ping)
      stream.send(ping)
      await waitFor(() => echoes.byteLength === pings.byteLength, `ping ${i} echoed`, 5_000)
    }
    for (let i = 0; i < 50; i++) {
      const ping = crypto.getRandomValues(new Uint8Array(32))
      pings.append(ping)
      stream.send(ping)
    }
    await waitFor(() => echoes.byteLength === pings.byteLength, 'the burst echoed', 5_000)
    assert.deepEqual(echoes.subarray(), pings.subarray())
    await stream.close()
  })
})

/** Bytes sent before the node closed the stream, or stopped giving room (bounded by ATTACK_BYTES) */
async function sendUntilStopped (stream: Stream): Promise<number> {
  let sent = 0
  while (stream.status === 'open' && sent < ATTACK_BYTES) {
    if (!stream.send(CHUNK)) {
      const room = await new Promise<boolean>(resolve => {
        const timer = setTimeout(() => { resolve(false) }, STALL_MS)
        stream.addEventListener('drain', () => { clearTimeout(timer); resolve(true) }, { once: true })
        stream.addEventListener('close', () => { clearTimeout(timer); resolve(false) }, { once: true })
      })
      if (!room) {
        break
      }
    }
    sent += CHUNK.byteLength
  }
  return sent
}
