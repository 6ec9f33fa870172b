/**
 * When what was written to a stream has left it. A framed write resolves as soon as the muxer
 * takes some of it (its flow-control window opened once), while the rest still waits in the
 * stream's write buffer for the peer to read on; only an empty write buffer means the peer took
 * it all, or the stream dropped it.
 */
import { StreamClosedError } from '@libp2p/utils'
import type { Stream, StreamCloseEvent } from '@libp2p/interface'

/**
 * Resolves once `stream`'s write buffer is empty: sent on, or thrown away by a reset; rejects if
 * the stream closes with bytes still in it
 */
export async function writtenOut (stream: Stream): Promise<void> {
  if (stream.writeBufferLength === 0) {
    return
  }
  if (stream.status !== 'open') {
    throw new StreamClosedError(`the stream is ${stream.status}`)
  }
  const { promise, resolve, reject } = Promise.withResolvers<void>()
  const onIdle = (): void => {
    if (stream.writeBufferLength === 0) {
      resolve()
    }
  }
  const onClose = (event: StreamCloseEvent): void => {
    reject(event.error ?? new StreamClosedError('the stream closed before its answer was written'))
  }
  stream.addEventListener('idle', onIdle)
  stream.addEventListener('close', onClose)
  try {
    await promise
  } finally {
    stream.removeEventListener('idle', onIdle)
    stream.removeEventListener('close', onClose)
  }
}
