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

/** The bit of a varint's byte that says another byte follows */
const VARINT_CONTINUES = 0x80

/**
 * What the reader takes as "read another byte of the length" (it retries on a RangeError). One
 * made once: the decoder's own RangeError past a varint's end carries a new stack trace, made
 * for every frame whose length takes two bytes or more (most frames of a STORE).
 */
const VARINT_UNFINISHED = new RangeError('the varint goes on')

/** A length prefix that runs on past the varint of the largest message a protocol allows */
export class FrameLengthError extends Error {
  static name = 'FrameLengthError'
  name = 'FrameLengthError'
}

export interface FrameStreamOptions {
  /**
   * Called when a read takes the first byte of a frame (once per frame): from then on the reader
   * buffers the frame, so one that waits as long as it likes for a frame to begin can give the
   * rest of it a deadline
   */
  onFrameStart?(): void
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
export function frameStream (stream: Stream, maxMessageSize: number, options: FrameStreamOptions = {}): FramedStream {
  const maxLengthLength = varint.encodingLength(maxMessageSize)
  return lpStream(stream, {
    maxDataLength: maxMessageSize,
    maxLengthLength,
    maxBufferSize: maxMessageSize + maxLengthLength,
    lengthDecoder: (prefix: Uint8ArrayList): number => {
      // the reader calls this once per byte until the varint ends (it retries on RangeError), so
      // the first call is a frame's first byte
      if (prefix.byteLength === 1) {
        options.onFrameStart?.()
      }
      // it checks the prefix's length only once the varint ends: refuse a prefix already too long here
      if (prefix.byteLength > maxLengthLength) {
        throw new FrameLengthError(`a length prefix is at most ${maxLengthLength} bytes`)
      }
      if ((prefix.get(prefix.byteLength - 1) & VARINT_CONTINUES) !== 0) {
        throw VARINT_UNFINISHED
      }
      return varint.decode(prefix)
    }
  })
}
