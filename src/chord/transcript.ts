/**
 * Domain-separated input for hashes, key derivation and signatures.
 *
 * A transcript is a label followed by byte strings, each preceded by its length as a 4-byte
 * big-endian integer. The encoding is injective: two different lists of parts never give the same
 * bytes, so a hash or signature over a transcript can only be read one way, and transcripts with
 * different labels never collide.
 */
import { sha256 } from '@noble/hashes/sha2.js'

const encoder = new TextEncoder()

export function transcript (label: string, ...parts: Uint8Array[]): Uint8Array {
  const all = [encoder.encode(label), ...parts]
  const out = new Uint8Array(all.reduce((sum, part) => sum + 4 + part.byteLength, 0))
  const view = new DataView(out.buffer)
  let offset = 0
  for (const part of all) {
    view.setUint32(offset, part.byteLength)
    out.set(part, offset + 4)
    offset += 4 + part.byteLength
  }
  return out
}

/** sha256 of a transcript */
export function labelledHash (label: string, ...parts: Uint8Array[]): Uint8Array {
  return sha256(transcript(label, ...parts))
}

/** An unsigned integer below 2^64 as 8 big-endian bytes, for numbers inside a transcript */
export function uint64 (value: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(value))
  return out
}

export function utf8 (text: string): Uint8Array {
  return encoder.encode(text)
}
