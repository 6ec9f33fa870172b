/**
 * Padding to size buckets: every envelope is exactly one of `ENVELOPE_SIZES` bytes long, so its
 * length tells an observer the bucket, not the message length.
 *
 * The encoded Sealed message is padded before encryption with ISO/IEC 7816-4 padding (one 0x80
 * byte, then zeros), which is unambiguous to remove whatever the message ends with, to the size
 * that makes the encoded envelope land exactly on its bucket.
 */
import { InvalidMessageError } from '../errors.js'
import { AEAD_TAG_LENGTH, CURVE_KEY_LENGTH, ENVELOPE_SIZES } from './constants.js'

const PADDING_MARKER = 0x80

/**
 * Envelope bytes other than the ciphertext and its length prefix: the version field (tag, 1-byte
 * value), the ephemeral key field (tag, length, key) and the ciphertext field's tag.
 */
const ENVELOPE_FRAMING = 2 + (2 + CURVE_KEY_LENGTH) + 1

/** Size of the padded Sealed message in an envelope of `envelopeSize` bytes */
export function paddedSizeFor (envelopeSize: number): number {
  // The ciphertext length is a varint whose own size depends on that length: find the size that adds up
  for (let prefixBytes = 1; prefixBytes <= 5; prefixBytes++) {
    const ciphertextLength = envelopeSize - ENVELOPE_FRAMING - prefixBytes
    if (varintSize(ciphertextLength) === prefixBytes) {
      return ciphertextLength - AEAD_TAG_LENGTH
    }
  }
  throw new RangeError(`no envelope is exactly ${envelopeSize} bytes`)
}

/** Padded sizes by envelope size, smallest first */
const BUCKETS = ENVELOPE_SIZES.map(envelopeSize => ({ envelopeSize, paddedSize: paddedSizeFor(envelopeSize) }))

/** The padded size of the smallest bucket that holds `length` bytes and the padding marker, if any does */
export function paddedSizeForContent (length: number): number | undefined {
  return BUCKETS.find(bucket => bucket.paddedSize > length)?.paddedSize
}

/** The padded size inside an envelope of `envelopeSize` bytes, if that is a bucket's size */
export function paddedSizeForEnvelope (envelopeSize: number): number | undefined {
  return BUCKETS.find(bucket => bucket.envelopeSize === envelopeSize)?.paddedSize
}

export function pad (content: Uint8Array, paddedSize: number): Uint8Array {
  if (content.byteLength >= paddedSize) {
    throw new RangeError(`${content.byteLength} bytes do not fit in ${paddedSize} with padding`)
  }
  const out = new Uint8Array(paddedSize)
  out.set(content)
  out[content.byteLength] = PADDING_MARKER
  return out
}

/**
 * The content before the padding.
 *
 * @throws InvalidMessageError if the padding is malformed (the last non-zero byte is not 0x80)
 */
export function unpad (padded: Uint8Array): Uint8Array {
  let end = padded.byteLength - 1
  while (end >= 0 && padded[end] === 0) {
    end--
  }
  if (end < 0 || padded[end] !== PADDING_MARKER) {
    throw new InvalidMessageError('the sealed message is not padded correctly')
  }
  return padded.subarray(0, end)
}

function varintSize (value: number): number {
  let size = 1
  while (value >= 0x80) {
    value = Math.floor(value / 0x80)
    size++
  }
  return size
}
