/**
 * Outbound streams kept open for reuse, per peer.
 *
 * A request/response round trip on an open stream costs a fraction of one that opens a new stream
 * (protocol negotiation is a round trip of its own), and a lookup pays it at every hop. So a
 * stream that answered is kept for the next request to the same peer. One request is in flight
 * per stream, strictly request → response, so no request ids are needed. A stream whose request
 * failed or timed out is in an unknown state (a late answer may still arrive) and is reset, never
 * reused.
 *
 * Opening a stream costs a round trip of its own: libp2p waits for multistream-select's answer
 * before the first request can go (libp2p 3.3 ignores `negotiateFully: false`). On a wide-area
 * link that doubles a request to a peer we are connected to but have no idle stream with. So a
 * peer kept warm (`keepWarm`, while it is connected) always has one idle stream ready: one is
 * opened off any request's path, and one whose idle timeout ends is replaced by a fresh one.
 *
 * On a connection that has not yet taken a stream of ours, one stream opens first and the rest
 * wait for it: until the remote's libp2p has finished setting the connection up, the streams
 * opened on it queue as "early" streams, and past a few (yamux's `maxEarlyStreams`, 10 by
 * default) the remote closes the whole connection. A burst of requests to a node just dialled
 * would otherwise break the connection every request of the burst travels on.
 */
import { raceSignal } from 'race-signal'
import { NotStartedError } from '../errors.js'
import { frameStream } from '../protocol/framing.js'
import type { FramedStream } from '../protocol/framing.js'
import type { AbortOptions, ComponentLogger, Connection, Logger, PeerId, Stream } from '@libp2p/interface'

export interface StreamPoolComponents {
  logger: ComponentLogger
  /** opens a connection to the peer, or returns the one already open (libp2p's `dial`) */
  dial(peer: PeerId, options?: AbortOptions): Promise<Connection>
}

export interface StreamPoolInit {
  protocol: string
  /** streams to one peer open at once, idle or in use; callers beyond this wait their turn */
  maxStreamsPerPeer: number
  /** idle streams kept per peer; a stream released beyond this is closed */
  maxIdleStreamsPerPeer: number
  /** ms an idle stream is kept before it is closed */
  idleTimeout: number
  /** bytes of the largest frame read or written on a stream */
  maxMessageSize: number
  /** ms a stream opened for a warm peer may take to open */
  openTimeout: number
}

/** A stream lent to one caller for one request: give it back with `release` or `discard` */
export interface PooledStream {
  readonly peer: PeerId
  /** the connection the stream runs on */
  readonly connection: Connection
  readonly stream: Stream
  readonly framed: FramedStream
}

interface IdleStream {
  pooled: PooledStream
  timer: ReturnType<typeof setTimeout>
  onClose(): void
}

interface PeerStreams {
  idle: IdleStream[]
  /** streams lent out or being opened */
  inUse: number
  /** callers waiting for a stream to come free, first come first served */
  waiting: Array<() => void>
}

export class StreamPool {
  private readonly components: StreamPoolComponents
  private readonly init: StreamPoolInit
  private readonly log: Logger
  private readonly peers = new Map<string, PeerStreams>()
  /** peers that keep one idle stream ready, as PeerId strings */
  private readonly warm = new Set<string>()
  /** the streams idle in the pool, to tell them from streams that carry something */
  private readonly idleStreams = new WeakSet<Stream>()
  /** connections a stream of ours was opened on: the remote takes streams on them */
  private readonly accepting = new WeakSet<Connection>()
  /** the first stream being opened on a connection not yet accepting; settles either way */
  private readonly firstOpens = new WeakMap<Connection, Promise<void>>()
  private running = false

  constructor (components: StreamPoolComponents, init: StreamPoolInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('libp2p-chord:transport:stream-pool')
  }

  start (): void {
    this.running = true
  }

  /** An idle stream to `peer` if there is one, else a new one; waits while the peer's cap is reached */
  async acquire (peer: PeerId, options: AbortOptions = {}): Promise<PooledStream> {
    const key = peer.toString()

    while (true) {
      if (!this.running) {
        throw new NotStartedError('the stream pool is closed')
      }
      options.signal?.throwIfAborted()

      const streams = this.streamsOf(key)
      const idle = this.takeIdle(streams)
      if (idle != null) {
        streams.inUse++
        return idle
      }

      if (streams.inUse < this.init.maxStreamsPerPeer) {
        streams.inUse++
        try {
          return await this.open(peer, options)
        } catch (err) {
          this.returnSlot(key, streams)
          throw err
        }
      }

      await this.waitForSlot(streams, options)
    }
  }

  /** Keep one idle stream to `peer` ready from now on, until `stopWarming`: call it while the peer is connected */
  keepWarm (peer: PeerId): void {
    this.warm.add(peer.toString())
    this.refill(peer)
  }

  stopWarming (peer: PeerId): void {
    this.warm.delete(peer.toString())
  }

  /** Whether `stream` is one of ours, idle: it carries nothing */
  isIdle (stream: Stream): boolean {
    return this.idleStreams.has(stream)
  }

  /** The request on this stream completed: keep the stream for the next one */
  release (pooled: PooledStream): void {
    const key = pooled.peer.toString()
    const streams = this.streamsOf(key)

    if (!this.running || !isReusable(pooled.stream) || streams.idle.length >= this.init.maxIdleStreamsPerPeer) {
      // close() never rejects: a stream that cannot close gracefully is reset
      void this.close(pooled)
    } else {
      this.keepIdle(key, streams, pooled)
    }
    this.returnSlot(key, streams)
  }

  /** The request on this stream failed: reset the stream, it may still carry a late answer */
  discard (pooled: PooledStream, err: Error): void {
    const key = pooled.peer.toString()
    pooled.stream.abort(err)
    this.returnSlot(key, this.streamsOf(key))
  }

  /** Close every idle stream; streams in use are closed when they come back */
  async stop (): Promise<void> {
    this.running = false
    this.warm.clear()
    const closing: Array<Promise<void>> = []

    for (const streams of this.peers.values()) {
      for (const idle of streams.idle.splice(0)) {
        this.forget(idle)
        closing.push(this.close(idle.pooled))
      }
      for (const wake of streams.waiting.splice(0)) {
        wake()
      }
    }
    await Promise.all(closing)
  }

  private async open (peer: PeerId, options: AbortOptions): Promise<PooledStream> {
    const connection = await this.components.dial(peer, options)
    let stream: Stream
    try {
      stream = await this.openOn(connection, options)
    } catch (err: any) {
      if (connection.status === 'open' && err.name === 'ConnectionClosedError') {
        // its muxer closed while its socket stays up: libp2p lists such a connection as open and
        // dials hand it out again until TCP gives up on the socket; closing it makes the next
        // request dial afresh
        this.log('closing the connection to %p: it can open no stream', peer)
        connection.abort(err)
      }
      throw err
    }
    this.log.trace('opened stream %s to %p', stream.id, peer)
    return { peer, connection, stream, framed: frameStream(stream, this.init.maxMessageSize) }
  }

  /** A new stream on `connection`, once the remote takes streams on it (see the module's comment) */
  private async openOn (connection: Connection, options: AbortOptions): Promise<Stream> {
    for (let first = this.firstOpens.get(connection); first != null && !this.accepting.has(connection); first = this.firstOpens.get(connection)) {
      await raceSignal(first, options.signal)
    }
    const opening = connection.newStream(this.init.protocol, { signal: options.signal, negotiateFully: false })
    if (this.accepting.has(connection)) {
      return opening
    }
    const settled = opening.then(() => { this.accepting.add(connection) }, () => {})
      .finally(() => { this.firstOpens.delete(connection) })
    this.firstOpens.set(connection, settled)
    return opening
  }

  /** Open a stream to a warm peer that has none idle and none in use, off any request's path */
  private refill (peer: PeerId): void {
    const streams = this.peers.get(peer.toString())
    if (!this.running || !this.warm.has(peer.toString()) || (streams != null && (streams.idle.length > 0 || streams.inUse > 0))) {
      return
    }
    this.acquire(peer, { signal: AbortSignal.timeout(this.init.openTimeout) })
      .then(pooled => { this.release(pooled) })
      .catch(err => { this.log('could not open a ready stream to %p - %e', peer, err) })
  }

  private takeIdle (streams: PeerStreams): PooledStream | undefined {
    // the most recently used stream first: the others may then reach their idle timeout
    for (let idle = streams.idle.pop(); idle != null; idle = streams.idle.pop()) {
      this.forget(idle)
      if (isReusable(idle.pooled.stream)) {
        return idle.pooled
      }
      idle.pooled.stream.abort(new Error('stream closed while idle'))
    }
    return undefined
  }

  private keepIdle (key: string, streams: PeerStreams, pooled: PooledStream): void {
    const idle: IdleStream = {
      pooled,
      timer: setTimeout(() => {
        this.log.trace('closing stream %s to %p: idle', pooled.stream.id, pooled.peer)
        this.drop(key, streams, idle)
        void this.close(pooled)
        // a fresh one takes its place: the listener resets a stream silent for twice the idle timeout
        this.refill(pooled.peer)
      }, this.init.idleTimeout),
      onClose: () => {
        this.drop(key, streams, idle)
      }
    }
    // a stream the remote closes or resets while idle leaves the pool at once
    pooled.stream.addEventListener('close', idle.onClose)
    streams.idle.push(idle)
    this.idleStreams.add(pooled.stream)
  }

  private drop (key: string, streams: PeerStreams, idle: IdleStream): void {
    const index = streams.idle.indexOf(idle)
    if (index !== -1) {
      streams.idle.splice(index, 1)
    }
    this.forget(idle)
    this.forgetPeerIfUnused(key, streams)
  }

  private forget (idle: IdleStream): void {
    clearTimeout(idle.timer)
    this.idleStreams.delete(idle.pooled.stream)
    idle.pooled.stream.removeEventListener('close', idle.onClose)
  }

  private async close (pooled: PooledStream): Promise<void> {
    try {
      await pooled.stream.close()
    } catch (err: any) {
      pooled.stream.abort(err)
    }
  }

  private returnSlot (key: string, streams: PeerStreams): void {
    streams.inUse--
    streams.waiting.shift()?.()
    this.forgetPeerIfUnused(key, streams)
  }

  private async waitForSlot (streams: PeerStreams, options: AbortOptions): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    const onAbort = (): void => {
      const index = streams.waiting.indexOf(resolve)
      if (index !== -1) {
        streams.waiting.splice(index, 1)
      }
      reject(options.signal?.reason)
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    streams.waiting.push(resolve)
    try {
      await promise
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  private streamsOf (key: string): PeerStreams {
    let streams = this.peers.get(key)
    if (streams == null) {
      streams = { idle: [], inUse: 0, waiting: [] }
      this.peers.set(key, streams)
    }
    return streams
  }

  private forgetPeerIfUnused (key: string, streams: PeerStreams): void {
    if (streams.inUse === 0 && streams.idle.length === 0 && streams.waiting.length === 0 && this.peers.get(key) === streams) {
      this.peers.delete(key)
    }
  }
}

function isReusable (stream: Stream): boolean {
  return stream.status === 'open' && stream.writeStatus === 'writable' && stream.remoteWriteStatus === 'writable'
}
