/**
 * A user's public key, in its one canonical binary encoding, and what is derived from it: the
 * address (its text form), the fingerprint (for people to compare) and the mailbox key (where
 * messages to it are stored).
 *
 *   canonical bytes = version (1 byte, = 1) ‖ Ed25519 public key (32) ‖ X25519 public key (32)
 *
 * The Ed25519 key signs (messages, mailbox challenges); the X25519 key receives messages. Two
 * independent keys rather than one converted into the other: each is used only as its algorithm
 * was designed to be. Decoding is strict (exact length, known version, canonical point encodings)
 * so that one user has exactly one encoding, hence one address and one mailbox.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { bytesToNumberLE, equalBytes } from '@noble/curves/utils.js'
import { LRUCache } from 'lru-cache'
import { InvalidMessageError, InvalidOptionsError } from '../errors.js'
import { labelledHash } from '../chord/transcript.js'
import { decodeAddress, encodeAddress } from './address.js'
import {
  CURVE_KEY_LENGTH, FINGERPRINT_BYTES, FINGERPRINT_GROUP_LENGTH, FINGERPRINT_LABEL, MAILBOX_KEY_LABEL,
  PUBLIC_KEY_LENGTH, PUBLIC_KEY_VERSION
} from './constants.js'

/** The prime 2^255 - 19 of both curves' field: an X25519 key is canonical when below it */
const FIELD_PRIME = ed25519.Point.CURVE().p

/** Keys decoded and checked, by their bytes: checking an Ed25519 point costs more than sealing to it */
export const DECODED_KEY_CACHE_SIZE = 1024
const decoded = new LRUCache<string, PublicKey>({ max: DECODED_KEY_CACHE_SIZE })

export class PublicKey {
  /** The canonical encoding; do not modify */
  readonly bytes: Uint8Array<ArrayBuffer>
  /** Text form, what others send to */
  readonly address: string
  /** Short form for people to compare, e.g. "3f2a 9c01 …" */
  readonly fingerprint: string

  private constructor (bytes: Uint8Array<ArrayBuffer>) {
    this.bytes = bytes
    this.address = encodeAddress(bytes)
    this.fingerprint = formatFingerprint(bytes)
  }

  /**
   * Decodes canonical public key bytes, such as the sender key inside a message.
   *
   * @throws InvalidMessageError if the length, version or either key is not as specified
   */
  static fromBytes (bytes: Uint8Array): PublicKey {
    if (bytes.byteLength !== PUBLIC_KEY_LENGTH) {
      throw new InvalidMessageError(`a public key is ${PUBLIC_KEY_LENGTH} bytes, got ${bytes.byteLength}`)
    }
    if (bytes[0] !== PUBLIC_KEY_VERSION) {
      throw new InvalidMessageError(`unknown public key version ${bytes[0]}`)
    }
    const hex = bytesToHex(bytes)
    const known = decoded.get(hex)
    if (known != null) {
      return known
    }
    // not bytes.slice(): a Buffer's slice is a view of the decoder's Buffer, not a copy
    const copy = new Uint8Array(bytes)
    checkSigningKey(signingKeyOf(copy))
    checkAgreementKey(agreementKeyOf(copy))
    const key = new PublicKey(copy)
    decoded.set(hex, key)
    return key
  }

  /**
   * The public key made of an Ed25519 and an X25519 public key.
   *
   * @throws InvalidMessageError if either key is not valid
   */
  static fromKeys (signingKey: Uint8Array, agreementKey: Uint8Array): PublicKey {
    if (signingKey.byteLength !== CURVE_KEY_LENGTH || agreementKey.byteLength !== CURVE_KEY_LENGTH) {
      throw new InvalidMessageError(`both keys are ${CURVE_KEY_LENGTH} bytes`)
    }
    const bytes = new Uint8Array(PUBLIC_KEY_LENGTH)
    bytes[0] = PUBLIC_KEY_VERSION
    bytes.set(signingKey, 1)
    bytes.set(agreementKey, 1 + CURVE_KEY_LENGTH)
    return PublicKey.fromBytes(bytes)
  }

  /** The Ed25519 public key that verifies this user's signatures */
  get signingKey (): Uint8Array {
    return signingKeyOf(this.bytes)
  }

  /** The X25519 public key that messages to this user are encrypted to */
  get agreementKey (): Uint8Array {
    return agreementKeyOf(this.bytes)
  }

  equals (other: PublicKey): boolean {
    return equalBytes(this.bytes, other.bytes)
  }

  toString (): string {
    return this.address
  }
}

/**
 * The public key an address holds.
 *
 * @throws InvalidOptionsError if the text is not a well-formed address of a valid key
 */
export function parseAddress (text: string): PublicKey {
  const bytes = decodeAddress(text)
  try {
    return PublicKey.fromBytes(bytes)
  } catch (err) {
    throw new InvalidOptionsError(`the address does not hold a valid public key: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * The public key a caller means, given as an address or as the key itself
 *
 * @throws InvalidOptionsError for anything else, or an address that does not parse
 */
export function publicKeyOf (person: string | PublicKey): PublicKey {
  if (person instanceof PublicKey) {
    return person
  }
  if (typeof person === 'string') {
    return parseAddress(person)
  }
  throw new InvalidOptionsError('a person is named by address or public key')
}

/**
 * The DHT key of a user's mailbox (32 bytes): a labelled sha256 of the canonical public key bytes.
 * The label keeps mailbox keys apart from every other use of the same key bytes.
 */
export function mailboxKey (publicKey: PublicKey): Uint8Array {
  return labelledHash(MAILBOX_KEY_LABEL, publicKey.bytes)
}

function formatFingerprint (publicKeyBytes: Uint8Array): string {
  const hex = bytesToHex(labelledHash(FINGERPRINT_LABEL, publicKeyBytes).subarray(0, FINGERPRINT_BYTES))
  const groups = hex.match(new RegExp(`.{${FINGERPRINT_GROUP_LENGTH}}`, 'g')) ?? []
  return groups.join(' ')
}

function signingKeyOf (bytes: Uint8Array): Uint8Array {
  return bytes.subarray(1, 1 + CURVE_KEY_LENGTH)
}

function agreementKeyOf (bytes: Uint8Array): Uint8Array {
  return bytes.subarray(1 + CURVE_KEY_LENGTH)
}

/**
 * Strict RFC 8032 decoding (not ZIP-215's lenient one), so a key has one encoding; small-order
 * points are refused because anyone can forge signatures that verify under them.
 */
function checkSigningKey (key: Uint8Array): void {
  let point
  try {
    point = ed25519.Point.fromBytes(key, false)
  } catch (err) {
    throw new InvalidMessageError('the signing key is not a valid Ed25519 point', { cause: err })
  }
  if (point.isSmallOrder()) {
    throw new InvalidMessageError('the signing key is a small-order Ed25519 point')
  }
}

/**
 * X25519 accepts any 32 bytes, reducing them modulo the field prime; refusing values at or above
 * it (and so the unused top bit) leaves one encoding per key. Low-order keys are refused when a
 * message is sealed to them, where the Diffie-Hellman step detects them.
 */
function checkAgreementKey (key: Uint8Array): void {
  if (bytesToNumberLE(key) >= FIELD_PRIME) {
    throw new InvalidMessageError('the key agreement key is not a canonical X25519 encoding')
  }
}
