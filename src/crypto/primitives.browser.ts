/**
 * The browser build's version of `primitives.ts` (swapped in through the package's `browser`
 * field): the same functions in pure JavaScript (@noble), since a page has no synchronous native
 * Ed25519, X25519, SHA-256 or ChaCha20-Poly1305 (WebCrypto's are asynchronous, and it has no
 * ChaCha20 at all). Same bytes for the same inputs as the Node version: the test vectors check both.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519 as nobleEd25519, x25519 as nobleX25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'

/** Whether these are the platform's native primitives: not here */
export const NATIVE = false

export function sha256 (data: Uint8Array): Uint8Array<ArrayBuffer> {
  return nobleSha256(data) as Uint8Array<ArrayBuffer>
}

export const ed25519 = {
  getPublicKey: (secretKey: Uint8Array): Uint8Array<ArrayBuffer> => nobleEd25519.getPublicKey(secretKey) as Uint8Array<ArrayBuffer>,
  sign: (message: Uint8Array, secretKey: Uint8Array): Uint8Array<ArrayBuffer> => nobleEd25519.sign(message, secretKey) as Uint8Array<ArrayBuffer>,
  /** RFC 8032 verification (not ZIP-215's looser rules) */
  verify: (signature: Uint8Array, message: Uint8Array, key: Uint8Array): boolean => {
    try {
      return nobleEd25519.verify(signature, message, key, { zip215: false })
    } catch {
      return false
    }
  }
}

export const x25519 = {
  getPublicKey: (secretKey: Uint8Array): Uint8Array<ArrayBuffer> => nobleX25519.getPublicKey(secretKey) as Uint8Array<ArrayBuffer>,
  /**
   * @throws Error if `theirs` is of low order: the secret would be all zeros, known to anyone
   */
  getSharedSecret: (secretKey: Uint8Array, theirs: Uint8Array): Uint8Array => nobleX25519.getSharedSecret(secretKey, theirs)
}

/** HKDF-SHA256 with an empty salt (RFC 5869: a hash-length run of zeros) */
export function hkdfSha256 (secret: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdf(nobleSha256, secret, undefined, info, length)
}

/** ChaCha20-Poly1305 (RFC 8439), the 16-byte tag appended to the ciphertext */
export function chachaEncrypt (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array<ArrayBuffer> {
  return chacha20poly1305(key, nonce).encrypt(plaintext) as Uint8Array<ArrayBuffer>
}

/** @throws Error when the tag does not authenticate the ciphertext under this key and nonce */
export function chachaDecrypt (key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  return chacha20poly1305(key, nonce).decrypt(sealed)
}
