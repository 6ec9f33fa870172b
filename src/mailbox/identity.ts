/**
 * A user identity: the secret keys made on the user's device, with the public key others send to.
 *
 * Keys come from @noble/curves and randomness from `crypto.getRandomValues`, so an identity is
 * made the same way in Node and in browsers. The secret keys never leave this module except
 * through `export()`: they are kept in a WeakMap rather than on the object, and other modules of
 * the package reach them only through the two operations below that need them (signing a
 * labelled transcript, X25519 agreement).
 *
 * Exported form (`export()`, 69 bytes):
 *
 *   version (1 byte, = 1) ‖ Ed25519 seed (32) ‖ X25519 secret (32) ‖ checksum (4)
 *
 * where the checksum is the first bytes of a labelled sha256 of what precedes it. The export is
 * the secret itself, unencrypted: store it as you would a password.
 */
import { randomBytes } from '@noble/hashes/utils.js'
import { equalBytes } from '@noble/curves/utils.js'
import { InvalidOptionsError } from '../errors.js'
import { labelledHash, transcript, utf8 } from '../chord/transcript.js'
import { ed25519, x25519 } from '../crypto/primitives.js'
import {
  IDENTITY_EXPORT_CHECKSUM_LENGTH, IDENTITY_EXPORT_LABEL, IDENTITY_EXPORT_LENGTH, IDENTITY_EXPORT_VERSION,
  SECRET_KEY_LENGTH, SIGNATURE_LENGTH, USER_SIGNATURE_LABEL
} from './constants.js'
import { PublicKey } from './public-key.js'

export interface Identity {
  readonly publicKey: PublicKey
  /** Text form of the public key: what others send to */
  readonly address: string
  /** Short form of the public key for people to compare */
  readonly fingerprint: string

  /**
   * Signs `bytes` for the purpose named by `context` (e.g. "libp2p-chord/mailbox/subscribe/v1").
   * The signature covers the context too, so it verifies only for that purpose, and it can never
   * pass for the signature inside a sealed message.
   */
  sign (bytes: Uint8Array, context: string): Promise<Uint8Array>

  /** The secret keys in a versioned, checksummed form that `importIdentity()` restores */
  export (): Promise<Uint8Array>
}

interface SecretKeys {
  /** Ed25519 seed */
  signing: Uint8Array
  /** X25519 secret scalar */
  agreement: Uint8Array
}

const secretKeys = new WeakMap<Identity, SecretKeys>()

class LocalIdentity implements Identity {
  readonly publicKey: PublicKey
  readonly address: string
  readonly fingerprint: string

  constructor (publicKey: PublicKey) {
    this.publicKey = publicKey
    this.address = publicKey.address
    this.fingerprint = publicKey.fingerprint
  }

  async sign (bytes: Uint8Array, context: string): Promise<Uint8Array> {
    return signTranscript(this, USER_SIGNATURE_LABEL, ...userSignedParts(bytes, context))
  }

  async export (): Promise<Uint8Array> {
    const { signing, agreement } = secretsOf(this)
    const out = new Uint8Array(IDENTITY_EXPORT_LENGTH)
    out[0] = IDENTITY_EXPORT_VERSION
    out.set(signing, 1)
    out.set(agreement, 1 + SECRET_KEY_LENGTH)
    const body = out.subarray(0, IDENTITY_EXPORT_LENGTH - IDENTITY_EXPORT_CHECKSUM_LENGTH)
    out.set(exportChecksum(body), body.byteLength)
    return out
  }
}

/** A new identity with fresh random keys */
export async function createIdentity (): Promise<Identity> {
  return fromSecrets({
    signing: randomBytes(SECRET_KEY_LENGTH),
    agreement: randomBytes(SECRET_KEY_LENGTH)
  })
}

/**
 * Restores an identity from the bytes `Identity.export()` returned.
 *
 * @throws InvalidOptionsError if they are not an exported identity (length, version, checksum)
 */
export async function importIdentity (saved: Uint8Array): Promise<Identity> {
  if (!(saved instanceof Uint8Array) || saved.byteLength !== IDENTITY_EXPORT_LENGTH) {
    throw new InvalidOptionsError(`an exported identity is ${IDENTITY_EXPORT_LENGTH} bytes`)
  }
  if (saved[0] !== IDENTITY_EXPORT_VERSION) {
    throw new InvalidOptionsError(`unknown exported identity version ${saved[0]}`)
  }
  const body = saved.subarray(0, IDENTITY_EXPORT_LENGTH - IDENTITY_EXPORT_CHECKSUM_LENGTH)
  if (!equalBytes(exportChecksum(body), saved.subarray(body.byteLength))) {
    throw new InvalidOptionsError('the exported identity is damaged: its checksum does not match')
  }
  return fromSecrets({
    signing: saved.slice(1, 1 + SECRET_KEY_LENGTH),
    agreement: saved.slice(1 + SECRET_KEY_LENGTH, 1 + 2 * SECRET_KEY_LENGTH)
  })
}

/** Whether `signature` is `publicKey`'s signature, made with `Identity.sign(bytes, context)` */
export async function verifySignature (publicKey: PublicKey, bytes: Uint8Array, signature: Uint8Array, context: string): Promise<boolean> {
  return verifyTranscript(publicKey, signature, USER_SIGNATURE_LABEL, ...userSignedParts(bytes, context))
}

/** Ed25519 signature over `transcript(label, ...parts)`; for this package's own protocols */
export function signTranscript (identity: Identity, label: string, ...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return ed25519.sign(transcript(label, ...parts), secretsOf(identity).signing)
}

/** Whether `signature` is a `signTranscript()` signature of `publicKey` (strict RFC 8032 rules) */
export function verifyTranscript (publicKey: PublicKey, signature: Uint8Array, label: string, ...parts: Uint8Array[]): boolean {
  if (signature.byteLength !== SIGNATURE_LENGTH) {
    return false
  }
  return ed25519.verify(signature, transcript(label, ...parts), publicKey.signingKey)
}

/**
 * X25519 shared secret between the identity's key agreement key and `otherKey`.
 *
 * @throws Error if `otherKey` is of low order, which would make the secret zero
 */
export function keyAgreement (identity: Identity, otherKey: Uint8Array): Uint8Array {
  return x25519.getSharedSecret(secretsOf(identity).agreement, otherKey)
}

function fromSecrets (secrets: SecretKeys): Identity {
  const publicKey = PublicKey.fromKeys(ed25519.getPublicKey(secrets.signing), x25519.getPublicKey(secrets.agreement))
  const identity = new LocalIdentity(publicKey)
  secretKeys.set(identity, secrets)
  return identity
}

function secretsOf (identity: Identity): SecretKeys {
  const secrets = secretKeys.get(identity)
  if (secrets == null) {
    throw new InvalidOptionsError('an identity comes from createIdentity() or importIdentity()')
  }
  return secrets
}

function userSignedParts (bytes: Uint8Array, context: string): Uint8Array[] {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidOptionsError('only bytes can be signed')
  }
  if (typeof context !== 'string' || context.length === 0) {
    throw new InvalidOptionsError('a signature needs a context naming what it is for')
  }
  return [utf8(context), bytes]
}

function exportChecksum (body: Uint8Array): Uint8Array {
  return labelledHash(IDENTITY_EXPORT_LABEL, body).subarray(0, IDENTITY_EXPORT_CHECKSUM_LENGTH)
}
