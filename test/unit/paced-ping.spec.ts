/**
 * The ping handler of `pacedPing`, driven through the orders of events a peer can bring about on
 * a stream: echoes waiting for window while the peer closes its end, window coming back in
 * pieces. A stream here behaves as libp2p's do where it matters: sending, pausing or resuming
 * a stream whose end is closing throws, and an exception out of an event listener reaches the
 * process as an uncaught exception (the test fails; a node would exit).
 */
import assert from 'node:assert/strict'
import { pacedPing } from '../../src/node/paced-ping.js'
import { MAX_PING_READ_BUFFER_BYTES } from '../../src/node/constants.js'
import { waitFor } from '../helpers/wait-for.js'
import type { Stream } from '@libp2p/interface'
import type { PingComponents } from '@libp2p/ping'

class StreamEvent extends Event {
  constructor (type: string, readonly data?: Uint8Array) { super(type) }
}

/** A stream whose peer sends what the test says and grants the window the test gives */
class PeerStream extends EventTarget {
  status = 'open'
  readStatus = 'readable'
  writeStatus = 'writable'
  remoteWriteStatus = 'writable'
  readableEnded = false
  maxReadBufferLength = Infinity
  /** bytes we may still send before the peer gives more window */
  window: number
  readonly unread: Uint8Array[] = []
  readonly echoed: Uint8Array[] = []
  closedByUs = false

  constructor (window: number) {
    super()
    this.window = window
  }

  send (data: Uint8Array): boolean {
    if (this.writeStatus !== 'writable') {
      throw new Error(`Cannot write to a stream that is ${this.writeStatus}`)
    }
    this.echoed.push(data)
    this.window -= data.byteLength
    return this.window > 0
  }

  pause (): void {
    if (this.readStatus === 'closed' || this.readStatus === 'closing') {
      throw new Error('Cannot pause a stream that is closing/closed')
    }
    this.readStatus = 'paused'
  }

  resume (): void {
    if (this.readStatus === 'closed' || this.readStatus === 'closing') {
      throw new Error('Cannot resume a stream that is closing/closed')
    }
    this.readStatus = 'readable'
    this.deliver()
  }

  /** the peer sends `data` */
  arrive (data: Uint8Array): void {
    this.unread.push(data)
    this.deliver()
  }

  /** the peer closes its end */
  peerCloses (): void {
    this.remoteWriteStatus = 'closed'
    this.dispatchEvent(new StreamEvent('remoteCloseWrite'))
    this.maybeEnd()
  }

  /** the peer gives `bytes` more window */
  grant (bytes: number): void {
    this.window += bytes
    this.dispatchEvent(new StreamEvent('drain'))
  }

  async close (): Promise<void> {
    this.writeStatus = 'closing'
    this.closedByUs = true
    this.status = 'closed'
    this.dispatchEvent(new StreamEvent('close'))
  }

  aborted?: Error

  /** as libp2p's: everything closes, unread data goes, and 'close' is told */
  abort (err: Error): void {
    if (this.status !== 'open') {
      return
    }
    this.aborted = err
    this.status = 'aborted'
    this.readStatus = 'closed'
    this.writeStatus = 'closed'
    this.unread.length = 0
    this.dispatchEvent(new StreamEvent('close'))
  }

  private deliver (): void {
    while (this.readStatus === 'readable' && this.unread.length > 0) {
      const data = this.unread.shift() as Uint8Array
      this.dispatchEvent(new StreamEvent('message', data))
    }
    if (this.unread.reduce((sum, d) => sum + d.byteLength, 0) > this.maxReadBufferLength) {
      this.abort(new Error('read buffer over its limit'))
      return
    }
    this.maybeEnd()
  }

  private maybeEnd (): void {
    if (!this.readableEnded && this.remoteWriteStatus === 'closed' && this.unread.length === 0) {
      this.readStatus = 'closed'
      this.readableEnded = true
      this.dispatchEvent(new StreamEvent('end'))
    }
  }
}

/** The handler `pacedPing` registers, taken from the service it makes */
function pingHandler (): (stream: Stream) => Promise<void> {
  const service = pacedPing()({} as unknown as PingComponents) as unknown as { handlePing: (stream: Stream) => Promise<void> }
  return service.handlePing
}

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)
const total = (chunks: Uint8Array[]): number => chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0)

describe('pacedPing', () => {
  it('caps what a ping stream holds unread at MAX_PING_READ_BUFFER_BYTES', async () => {
    const stream = new PeerStream(1024)
    const handled = pingHandler()(stream as unknown as Stream)
    assert.equal(stream.maxReadBufferLength, MAX_PING_READ_BUFFER_BYTES)
    stream.peerCloses()
    await handled
  })

  it('echoes what waited unread when the peer closes its end first, and the window comes back later', async () => {
    const stream = new PeerStream(1024)
    const handled = pingHandler()(stream as unknown as Stream)
    stream.arrive(bytes(1024, 1)) // fills the window: reading stops
    assert.equal(stream.readStatus, 'paused')
    stream.arrive(bytes(512, 2))
    stream.peerCloses()
    stream.grant(256)
    stream.grant(4096)
    await handled
    assert.equal(stream.aborted, undefined)
    assert.equal(total(stream.echoed), 1536)
    assert.ok(stream.closedByUs)
  })

  it('comes through window given back in several pieces after the peer closed, each a drain', async () => {
    const stream = new PeerStream(100)
    const handled = pingHandler()(stream as unknown as Stream)
    for (let i = 0; i < 5; i++) {
      stream.arrive(bytes(100, i))
    }
    stream.peerCloses()
    for (let i = 0; i < 8; i++) {
      stream.grant(100)
    }
    await handled
    assert.equal(stream.aborted, undefined)
    assert.equal(total(stream.echoed), 500)
  })

  it('ends, and lets the stream go, when what waits unread while an echo waits goes over the cap', async () => {
    const stream = new PeerStream(1024)
    const handled = pingHandler()(stream as unknown as Stream)
    stream.arrive(bytes(1024, 1))
    assert.equal(stream.readStatus, 'paused')
    for (let i = 0; i <= MAX_PING_READ_BUFFER_BYTES / 4096; i++) {
      stream.arrive(bytes(4096, 2))
    }
    await handled
    assert.equal(stream.status, 'aborted')
    assert.equal(total(stream.echoed), 1024)
  })

  it('answers pings one at a time, and closes once the peer has closed and all is echoed', async () => {
    const stream = new PeerStream(256 * 1024)
    const handled = pingHandler()(stream as unknown as Stream)
    for (let i = 0; i < 10; i++) {
      stream.arrive(bytes(32, i))
      await waitFor(() => stream.echoed.length === i + 1, `ping ${i} echoed`, 1_000)
    }
    assert.equal(stream.closedByUs, false)
    stream.peerCloses()
    await handled
    assert.ok(stream.closedByUs)
  })
})
