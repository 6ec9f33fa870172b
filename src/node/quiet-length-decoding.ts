/**
 * A connection encrypter whose secured connections find the end of what they have read without
 * an exception. Noise's secured connection cuts what it reads into messages with `@libp2p/utils`'
 * `LengthPrefixedDecoder`, which asks the length decoder again after every whole message, on
 * what is left: most often nothing. Noise's `uint16BEDecode` answers a buffer shorter than its 2
 * bytes by throwing a `RangeError`, stack trace and all, which the decoder catches as "wait for
 * more": one exception for every message received, about a fifth of the CPU of a small request's
 * round trip on loopback (docs/benchmarks.md). Here a buffer shorter than 2 bytes reads as the
 * length of an empty message instead; its 2-byte prefix alone is more than the buffer holds, so
 * the decoder waits for more exactly as it does on the exception, and a buffer of 2 bytes or more
 * is read by Noise's own decoder.
 *
 * The decoder is not part of Noise's API. It is reached on each secured connection, where Noise
 * 17 keeps it, and changed only when it is the decoder described above (2-byte lengths);
 * otherwise the connection is left as Noise made it: slower, not wrong. A test checks that the
 * installed Noise still has that shape. Once Noise or the decoder checks for a short buffer
 * itself, this wrapper has nothing left to do.
 */
import { aroundSecuring } from './around-securing.js'
import type { ConnectionEncrypter, SecuredConnection } from '@libp2p/interface'

/** Bytes of a Noise message's length prefix */
const LENGTH_BYTES = 2

/** What the decoder of a Noise connection is expected to look like; any other shape is left alone */
interface LengthPrefixedDecoderShape {
  lengthDecoder: (data: { byteLength: number }) => number
  encodingLength: (length: number) => number
}

/** `encrypter` (e.g. `noise()`), its secured connections reading message lengths without exceptions */
export function quietLengthDecoding<Components> (encrypter: (components: Components) => ConnectionEncrypter): (components: Components) => ConnectionEncrypter {
  return aroundSecuring(encrypter, { secured: quieted })
}

/** `secured`, its connection's length decoder answering a short buffer with 0 rather than an exception */
function quieted<T extends SecuredConnection<unknown>> (secured: T): T {
  const decoder: unknown = (secured.connection as unknown as { decoder?: unknown }).decoder
  if (isTwoByteLengthDecoder(decoder)) {
    const decode = decoder.lengthDecoder
    decoder.lengthDecoder = data => data.byteLength < LENGTH_BYTES ? 0 : decode(data)
  }
  return secured
}

function isTwoByteLengthDecoder (decoder: unknown): decoder is LengthPrefixedDecoderShape {
  if (typeof decoder !== 'object' || decoder == null) {
    return false
  }
  const { lengthDecoder, encodingLength } = decoder as Partial<LengthPrefixedDecoderShape>
  return typeof lengthDecoder === 'function' && typeof encodingLength === 'function' && encodingLength(0) === LENGTH_BYTES
}
