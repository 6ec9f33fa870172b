/**
 * How /chord/… messages sit on a stream: each is an unsigned varint length followed by that many
 * bytes of protobuf.
 */
import { lpStream } from '@libp2p/utils'
import * as varint from 'uint8-varint'
import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'

export type FramedStream = LengthPrefixedStream<Stream>

/** A length prefix that runs on past the varint of the largest message a protocol allows */
export class FrameLengthError extends Error {
  static name = 'FrameLengthError'
  name = 'FrameLengthError'
}

/**
 * Wraps a stream for reading and writing whole messages. Call it once per stream: the wrapper
 * buffers what it has received.
 *
 * A length prefix over `maxMessageSize` (the protocol's own limit) fails the read before the body
 * is buffered, and so does a prefix with more bytes than the varint of `maxMessageSize` needs,
 * as soon as that many bytes have come without the varint ending (the reader would otherwise
 * wait for ever for a varint that never ends). The protocols are strictly request → response, so
 * a well-behaved peer never has more than one message in flight; a peer that sends more than one
 * maximal frame ahead overflows the buffer and the stream is reset.
 */
export function frameStream (stream: Stream, maxMessageSize: number): FramedStream {
  const maxLengthLength = varint.encodingLength(maxMessageSize)
  return lpStream(stream, {
    maxDataLength: maxMessageSize,
    maxLengthLength,
    maxBufferSize: maxMessageSize + maxLengthLength,
    lengthDecoder: (prefix: Uint8ArrayList): number => {
      // the reader calls this once per byte until the varint ends (it retries on RangeError),
      // and checks the prefix's length only after that: refuse a prefix already too long here
      if (prefix.byteLength > maxLengthLength) {
        throw new FrameLengthError(`a length prefix is at most ${maxLengthLength} bytes`)
      }
      return varint.decode(prefix)
    }
  })
}
