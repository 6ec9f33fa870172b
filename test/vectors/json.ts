/**
 * Reading the committed test vectors: bytes are hex strings in the JSON, and the message vectors
 * name their fields as the .proto files do, so they convert to what the generated codecs take.
 */
import { readFileSync } from 'node:fs'

/** Field names whose values are bytes (hex in the JSON) in any of the protocols' messages */
const BYTES_FIELDS = new Set(['target', 'key', 'after', 'rangeStart', 'rangeEnd', 'owner', 'ids', 'signature', 'peerId',
  'ringId', 'addrs', 'value', 'id', 'digest', 'nonce', 'envelopes', 'signedPeerRecord', 'neighbours', 'origin', 'originSignature', 'stored'])

/** The fields of a message vector (hex for bytes, enums by name) as the generated codecs take them */
export function fromJson (value: unknown, field = ''): unknown {
  if (Array.isArray(value)) {
    return value.map(v => fromJson(v, field))
  }
  if (typeof value === 'string' && BYTES_FIELDS.has(field)) {
    return fromHex(value)
  }
  if (value != null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJson(v, k)]))
  }
  return value
}

export function fromHex (hex: string): Uint8Array<ArrayBuffer> {
  if (!/^([0-9a-f]{2})*$/.test(hex)) {
    throw new Error(`not lowercase hex: ${hex.slice(0, 20)}…`)
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** One of the committed vector files, by name (e.g. 'identities.json') */
export function loadVectors<T = any> (name: string): T {
  return JSON.parse(readFileSync(new URL(name, import.meta.url), 'utf8'))
}
