/**
 * libp2p's ping service, its answers paced by the peer that asks. libp2p's handler echoes each
 * chunk as it comes and reads on while an echo waits for the peer to take it; a peer that sends
 * without taking its echoes (it gives them no window) has everything it sends kept in memory until
 * the ping's 10 s timeout: over a gigabyte from one connection in seconds (docs/security.md). Here
 * the stream stops reading while an echo waits, so the rest waits in the stream's read buffer,
 * capped at MAX_PING_READ_BUFFER_BYTES (a ping is 32 bytes and waits for its echo): past that the
 * stream is reset. Pings sent the usual way, one at a time, are answered as before.
 *
 * The service's handler is a public method of libp2p's `Ping` class, not of its interface: it is
 * replaced only where the service has one, before the service registers it.
 */
import { ping } from '@libp2p/ping'
import { MAX_PING_READ_BUFFER_BYTES, PING_TIMEOUT } from './constants.js'
import type { Stream, StreamMessageEvent } from '@libp2p/interface'
import type { Ping, PingComponents, PingInit } from '@libp2p/ping'

interface Handled {
  handlePing?: (stream: Stream) => Promise<void>
}

/** `ping(init)`, answering each peer no faster than it takes the answers */
export function pacedPing (init: PingInit = {}): (components: PingComponents) => Ping {
  const timeout = init.timeout ?? PING_TIMEOUT
  return components => {
    const service = ping(init)(components)
    const handled = service as Ping & Handled
    if (typeof handled.handlePing === 'function') {
      handled.handlePing = async stream => { await echoPaced(stream, timeout) }
    }
    return service
  }
}

/**
 * Echo what `stream` carries until the peer has closed its end and all it sent is echoed, reading
 * no more while an echo waits. Nothing here may throw out of an event listener (the process would
 * end): whatever goes wrong ends the stream instead.
 */
async function echoPaced (stream: Stream, timeoutMs: number): Promise<void> {
  stream.maxReadBufferLength = MAX_PING_READ_BUFFER_BYTES
  const signal = AbortSignal.timeout(timeoutMs)
  const onTimeout = (): void => { stream.abort(new Error(`ping not finished within ${timeoutMs} ms`)) }
  signal.addEventListener('abort', onTimeout, { once: true })
  const guarded = <E>(listener: (evt: E) => void) => (evt: E): void => {
    try {
      listener(evt)
    } catch (err) {
      stream.abort(err as Error)
    }
  }
  const onMessage = guarded((evt: StreamMessageEvent) => {
    // once our end is closing, what still comes is not answered
    if (stream.writeStatus === 'writable' && !stream.send(evt.data)) {
      stream.pause()
    }
  })
  const onDrain = guarded(() => {
    if (stream.readStatus === 'paused') {
      stream.resume()
    }
  })
  stream.addEventListener('message', onMessage)
  stream.addEventListener('drain', onDrain)
  try {
    // 'end': the peer closed its end and everything it sent was read, so echoed or being echoed
    if (!stream.readableEnded && stream.status === 'open') {
      await new Promise<void>(resolve => {
        stream.addEventListener('end', () => { resolve() }, { once: true })
        stream.addEventListener('close', () => { resolve() }, { once: true })
      })
    }
    if (stream.status === 'open') {
      await stream.close({ signal })
    }
  } catch (err) {
    stream.abort(err as Error)
  } finally {
    signal.removeEventListener('abort', onTimeout)
    stream.removeEventListener('message', onMessage)
    stream.removeEventListener('drain', onDrain)
  }
}
