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

/** Echo what `stream` carries until the peer closes its end, reading no more while an echo waits */
async function echoPaced (stream: Stream, timeoutMs: number): Promise<void> {
  stream.maxReadBufferLength = MAX_PING_READ_BUFFER_BYTES
  const signal = AbortSignal.timeout(timeoutMs)
  const onTimeout = (): void => { stream.abort(new Error(`ping not finished within ${timeoutMs} ms`)) }
  signal.addEventListener('abort', onTimeout, { once: true })
  const onMessage = (evt: StreamMessageEvent): void => {
    if (!stream.send(evt.data)) {
      stream.pause()
    }
  }
  const onDrain = (): void => { stream.resume() }
  stream.addEventListener('message', onMessage)
  stream.addEventListener('drain', onDrain)
  try {
    if (stream.remoteWriteStatus !== 'closed') {
      await new Promise<void>(resolve => {
        stream.addEventListener('remoteCloseWrite', () => { resolve() }, { once: true })
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
