/**
 * Identifier arithmetic on the 2^256 Chord ring.
 *
 * Ring positions are bigints in [0, 2^256). Intervals follow the Chord paper's notation and wrap
 * around zero; an interval whose two ends are equal is the whole ring (minus the end points where
 * the interval is open), which is what a ring of one node needs.
 */
import { sha256 as platformSha256 } from '../crypto/primitives.js'

export const ID_BITS = 256
export const ID_BYTES = ID_BITS / 8
export const RING_SIZE = 1n << BigInt(ID_BITS)
const MASK = RING_SIZE - 1n

export type RingId = bigint

export function sha256 (bytes: Uint8Array): Uint8Array {
  return platformSha256(bytes)
}

/** The ring position of arbitrary bytes: sha256 read as a big-endian integer */
export function hashToRingId (bytes: Uint8Array): RingId {
  return ringIdFromBytes(sha256(bytes))
}

export function ringIdFromBytes (bytes: Uint8Array): RingId {
  if (bytes.byteLength !== ID_BYTES) {
    throw new RangeError(`a ring id is ${ID_BYTES} bytes, got ${bytes.byteLength}`)
  }
  // 64 bits at a time: a lookup converts ids to and from bytes for every peer entry it handles
  const view = new DataView(bytes.buffer, bytes.byteOffset, ID_BYTES)
  return (view.getBigUint64(0) << 192n) | (view.getBigUint64(8) << 128n) | (view.getBigUint64(16) << 64n) | view.getBigUint64(24)
}

export function ringIdToBytes (id: RingId): Uint8Array {
  const out = new Uint8Array(ID_BYTES)
  const view = new DataView(out.buffer)
  const v = id & MASK
  view.setBigUint64(0, v >> 192n)
  view.setBigUint64(8, BigInt.asUintN(64, v >> 128n))
  view.setBigUint64(16, BigInt.asUintN(64, v >> 64n))
  view.setBigUint64(24, BigInt.asUintN(64, v))
  return out
}

export function ringIdToHex (id: RingId): string {
  return (id & MASK).toString(16).padStart(ID_BYTES * 2, '0')
}

export function ringIdFromHex (hex: string): RingId {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new RangeError('a ring id in hex is 64 hexadecimal digits')
  }
  return BigInt('0x' + hex)
}

/** (id + 2^exponent) mod 2^256: the start of finger `exponent` */
export function addPowerOfTwo (id: RingId, exponent: number): RingId {
  return (id + (1n << BigInt(exponent))) & MASK
}

/** Clockwise distance from `from` to `to`, in [0, 2^256) */
export function distance (from: RingId, to: RingId): RingId {
  return (to - from) & MASK
}

/** x ∈ (a, b), wrapping; a === b means the whole ring except a */
export function inOpenInterval (x: RingId, a: RingId, b: RingId): boolean {
  if (a === b) {
    return x !== a
  }
  const dx = distance(a, x)
  return dx > 0n && dx < distance(a, b)
}

/** x ∈ (a, b], wrapping; a === b means the whole ring */
export function inHalfOpenInterval (x: RingId, a: RingId, b: RingId): boolean {
  if (a === b) {
    return true
  }
  const dx = distance(a, x)
  return dx > 0n && dx <= distance(a, b)
}

/** Orders ring ids (or distances) numerically, for sorting */
export function compareIds (a: RingId, b: RingId): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The ring position of a user key: sha256 of its bytes (strings as UTF-8) */
export function keyPosition (key: string | Uint8Array): Uint8Array {
  const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key
  return sha256(bytes)
}
