/**
 * The cryptographic primitives of the mailbox (sealing, identities), of node-key signatures on
 * a lookup's path (transport/node-signatures.ts) and the ring's hash (positions, record ids), on
 * Node: its own `crypto` (OpenSSL) for Ed25519, X25519, SHA-256, HKDF-SHA256 and ChaCha20-Poly1305. A browser build swaps this module for `primitives.browser.ts`
 * (the package's `browser` field), the same functions in pure JavaScript (@noble), where no
 * synchronous native primitive exists. Both give the same bytes for the same inputs (every one of
 * these is deterministic): the test vectors check both.
 *
 * Keys cross this interface as raw bytes, as the formats carry them; OpenSSL takes keys as
 * key objects, which are made from the raw bytes wrapped in their fixed DER prefix. A secret key's
 * object is kept as long as the array holding the secret (an identity's own, used for every
 * message), and dies with it (an ephemeral key, used once); public keys' objects are kept by
 * value, a bounded number of them.
 */
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, sign as opensslSign, verify as opensslVerify } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { KeyObject } from 'node:crypto'

/** Whether these are the platform's native primitives (the browser build's are pure JavaScript) */
export const NATIVE = true

/** PKCS#8 and SPKI DER prefixes of a raw 32-byte Ed25519 / X25519 key (RFC 8410) */
const ED25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const X25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])
const X25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])

/** Public key objects kept, by value: the peers written to and heard from most */
const PUBLIC_KEY_CACHE_SIZE = 1024

/** a secret's key object, by the very array that holds the secret (it goes when the array does), per algorithm */
const privateKeys = new Map<Uint8Array, WeakMap<Uint8Array, KeyObject>>([
  [ED25519_PKCS8_PREFIX, new WeakMap()],
  [X25519_PKCS8_PREFIX, new WeakMap()]
])
const publicKeys = new LRUCache<string, KeyObject>({ max: PUBLIC_KEY_CACHE_SIZE })

function privateKey (prefix: Uint8Array, raw: Uint8Array): KeyObject {
  const kept = privateKeys.get(prefix)
  let key = kept?.get(raw)
  if (key == null) {
    key = createPrivateKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'pkcs8' })
    kept?.set(raw, key)
  }
  return key
}

function publicKey (prefix: Uint8Array, raw: Uint8Array): KeyObject {
  const id = `${prefix[9]}:${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')}`
  let key = publicKeys.get(id)
  if (key == null) {
    key = createPublicKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'spki' })
    publicKeys.set(id, key)
  }
  return key
}

/** A public key's raw 32 bytes: its JWK's `x` (OpenSSL writes a JWK faster than an SPKI encoding) */
function rawPublicKey (key: KeyObject): Uint8Array<ArrayBuffer> {
  const { x } = key.export({ format: 'jwk' })
  if (x == null) {
    throw new Error(`a ${key.asymmetricKeyType ?? 'key'} public key without a JWK x`)
  }
  return Uint8Array.from(Buffer.from(x, 'base64url'))
}

export const ed25519 = {
  getPublicKey (secretKey: Uint8Array): Uint8Array<ArrayBuffer> {
    return rawPublicKey(createPublicKey(privateKey(ED25519_PKCS8_PREFIX, secretKey)))
  },
  sign (message: Uint8Array, secretKey: Uint8Array): Uint8Array<ArrayBuffer> {
    return Uint8Array.from(opensslSign(null, message, privateKey(ED25519_PKCS8_PREFIX, secretKey)))
  },
  /** RFC 8032 verification; a public key that is not a point on the curve verifies nothing */
  verify (signature: Uint8Array, message: Uint8Array, key: Uint8Array): boolean {
    try {
      return opensslVerify(null, message, publicKey(ED25519_SPKI_PREFIX, key), signature)
    } catch {
      return false
    }
  }
}

export const x25519 = {
  getPublicKey (secretKey: Uint8Array): Uint8Array<ArrayBuffer> {
    return rawPublicKey(createPublicKey(privateKey(X25519_PKCS8_PREFIX, secretKey)))
  },
  /**
   * @throws Error if `theirs` is of low order: the secret would be all zeros, known to anyone
   */
  getSharedSecret (secretKey: Uint8Array, theirs: Uint8Array): Uint8Array {
    const shared = diffieHellman({ privateKey: privateKey(X25519_PKCS8_PREFIX, secretKey), publicKey: publicKey(X25519_SPKI_PREFIX, theirs) })
    if (shared.every(byte => byte === 0)) {
      throw new Error('X25519 with a low-order public key')
    }
    return Uint8Array.from(shared)
  }
}

/** SHA-256 (OpenSSL's: several times faster than JavaScript's on an envelope's kilobyte) */
export function sha256 (data: Uint8Array): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(createHash('sha256').update(data).digest())
}

/** HKDF-SHA256 with an empty salt (RFC 5869: a hash-length run of zeros, which HMAC makes the same) */
export function hkdfSha256 (secret: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), info, length))
}

/** ChaCha20-Poly1305 (RFC 8439), the 16-byte tag appended to the ciphertext */
export function chachaEncrypt (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array<ArrayBuffer> {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
  const body = cipher.update(plaintext)
  cipher.final()
  return Uint8Array.from(Buffer.concat([body, cipher.getAuthTag()]))
}

/** @throws Error when the tag does not authenticate the ciphertext under this key and nonce */
export function chachaDecrypt (key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.byteLength < 16) {
    throw new Error('a ChaCha20-Poly1305 ciphertext is at least its 16-byte tag')
  }
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - 16))
  const plaintext = decipher.update(sealed.subarray(0, sealed.byteLength - 16))
  decipher.final()
  return Uint8Array.from(plaintext)
}
