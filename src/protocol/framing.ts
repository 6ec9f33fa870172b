/**
 * How /chord/… messages sit on a stream: each is an unsigned varint length followed by that many
 * bytes of protobuf.
 */
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

export type FramedStream = LengthPrefixedStream<Stream>

/** A varint carries 7 bits per byte, so 5 bytes hold any length up to 2^35 */
const MAX_LENGTH_PREFIX_BYTES = 5

/**
 * Wraps a stream for reading and writing whole messages. Call it once per stream: the wrapper
 * buffers what it has received.
 *
 * A length prefix over `maxMessageSize` (the protocol's own limit) fails the read before the body
 * is buffered. The protocols are strictly request → response, so a well-behaved peer never has
 * more than one message in flight; a peer that sends more than one maximal frame ahead overflows
 * the buffer and the stream is reset.
 */
export function frameStream (stream: Stream, maxMessageSize: number): FramedStream {
  return lpStream(stream, {
    maxDataLength: maxMessageSize,
    maxBufferSize: maxMessageSize + MAX_LENGTH_PREFIX_BYTES
  })
}
