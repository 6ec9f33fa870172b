/**
 * Sealing a message for one recipient, and opening it.
 *
 * Sealing (sender S, recipient R, body, sentAt):
 *   1. a fresh X25519 key pair (e, E) for this message only;
 *   2. S signs transcript(MESSAGE_SIGNATURE_LABEL, S, R, E, sentAt, body) with its Ed25519 key:
 *      binding R and E means a recipient cannot pass a message on to a third party as if it had
 *      been sent to them;
 *   3. Sealed { sender: S, sentAt, body, signature } is encoded and padded to its size bucket;
 *   4. key ‖ nonce = HKDF-SHA256(X25519(e, R's agreement key), info = transcript(ENVELOPE_KEY_LABEL,
 *      E, R)), and the padded message is encrypted with ChaCha20-Poly1305;
 *   5. Envelope { version, ephemeralKey: E, ciphertext } is what gets stored.
 *
 * Each key is used for exactly one message, so the nonce is derived with it (as HPKE does) rather
 * than sent. The sender's long-term keys take no part in the encryption: stealing them later
 * decrypts nothing. Who sent a message is only inside the ciphertext, and is believed only once
 * its signature verifies.
 */
import { randomBytes } from '@noble/hashes/utils.js'
import { equalBytes } from '@noble/curves/utils.js'
import { InvalidMessageError, InvalidOptionsError, VerificationError } from '../errors.js'
import { Envelope, Sealed } from '../protocol/generated/envelope.js'
import { transcript, uint64 } from '../chord/transcript.js'
import { chachaDecrypt, chachaEncrypt, hkdfSha256, sha256, x25519 } from '../crypto/primitives.js'
import {
  AEAD_KEY_LENGTH, AEAD_NONCE_LENGTH, AEAD_TAG_LENGTH, CURVE_KEY_LENGTH, ENVELOPE_KEY_LABEL, ENVELOPE_VERSION, MAX_ENVELOPE_SIZE,
  FRAME_SIGNATURE_LABEL, MAX_PLAINTEXT_SIZE, MAX_SENT_AT, MESSAGE_SIGNATURE_LABEL, RECEIPT_SIGNATURE_LABEL, SIGNATURE_LENGTH
} from './constants.js'
import { keyAgreement, signTranscript, verifyTranscript } from './identity.js'
import { pad, paddedSizeForContent, paddedSizeForEnvelope, unpad } from './padding.js'
import { PublicKey, parseAddress } from './public-key.js'
import type { Identity } from './identity.js'

/**
 * What a sealed message carries: the application's message, a delivery receipt, or a frame of
 * the devices and groups layer (a ChatFrame)
 */
export type SealedKind = 'message' | 'receipt' | 'frame'

export interface SealOptions {
  /** When the message was written, ms since the Unix epoch; defaults to now */
  sentAt?: number
  /** default 'message' */
  kind?: SealedKind
}

export interface OpenedMessage {
  /** sha256 of the envelope bytes: the id of the record that holds it */
  id: Uint8Array
  /** The sender, whose signature over this message (and over its recipient) has been verified */
  from: PublicKey
  plaintext: Uint8Array
  /** When the sender says it sealed the message (the sender's clock) */
  sentAt: number
  /** what the plaintext is: a message, or a receipt (`decodeReceipt` reads it) */
  kind: SealedKind
}

/** An X25519 key pair used for one message */
export interface EphemeralKeyPair {
  secretKey: Uint8Array
  publicKey: Uint8Array<ArrayBuffer>
}

/**
 * Seals `plaintext` so that only `recipient` can open it, and can tell that `sender` sent it.
 *
 * @throws InvalidOptionsError if the recipient is not a valid key or address, the plaintext is
 * larger than MAX_PLAINTEXT_SIZE, or sentAt is not an integer in [0, MAX_SENT_AT]
 */
export async function seal (sender: Identity, recipient: PublicKey | string, plaintext: Uint8Array, options: SealOptions = {}): Promise<Uint8Array> {
  const secretKey = randomBytes(CURVE_KEY_LENGTH)
  return sealWith(sender, toPublicKey(recipient), plaintext, options.sentAt ?? Date.now(), { secretKey, publicKey: x25519.getPublicKey(secretKey) }, options.kind)
}

/**
 * Opens an envelope sealed for `recipient`.
 *
 * @throws VerificationError if the envelope does not decrypt with the recipient's key (sealed for
 * someone else, altered, truncated or malformed) or the sender's signature does not verify
 * @throws InvalidMessageError if it decrypts but the sealed message inside breaks the format
 */
export async function open (recipient: Identity, envelope: Uint8Array): Promise<OpenedMessage> {
  const { ephemeralKey, sealed } = decryptSealed(recipient, envelope)
  const from = checkSealed(sealed)
  const kind = kindOf(sealed.kind)
  const signed = signedParts(from, recipient.publicKey, ephemeralKey, sealed.sentAt, sealed.body)
  if (!verifyTranscript(from, sealed.signature, SIGNATURE_LABELS[kind], ...signed)) {
    throw new VerificationError('the sender\'s signature does not verify for this recipient')
  }
  return { id: envelopeId(envelope), from, plaintext: sealed.body, sentAt: sealed.sentAt, kind }
}

/** The id of the record that holds an envelope: sha256 of its bytes */
export function envelopeId (envelope: Uint8Array): Uint8Array {
  return sha256(envelope)
}

/**
 * Checks everything about an envelope that can be checked without the recipient's key: size (one
 * of the buckets), version, field lengths, canonical encoding (so one message has one id). For
 * nodes that store envelopes they cannot open.
 *
 * @throws InvalidMessageError naming the first rule broken
 */
export function decodeEnvelope (bytes: Uint8Array): Envelope {
  if (bytes.byteLength > MAX_ENVELOPE_SIZE) {
    throw new InvalidMessageError(`an envelope is at most ${MAX_ENVELOPE_SIZE} bytes, got ${bytes.byteLength}`)
  }
  const paddedSize = paddedSizeForEnvelope(bytes.byteLength)
  if (paddedSize == null) {
    throw new InvalidMessageError(`an envelope's size is one of the padding buckets, not ${bytes.byteLength} bytes`)
  }
  const envelope = decodeOrThrow(() => Envelope.decode(bytes), 'envelope')
  if (envelope.version !== ENVELOPE_VERSION) {
    throw new InvalidMessageError(`unknown envelope version ${envelope.version}`)
  }
  if (envelope.ephemeralKey.byteLength !== CURVE_KEY_LENGTH) {
    throw new InvalidMessageError(`an ephemeral key is ${CURVE_KEY_LENGTH} bytes, got ${envelope.ephemeralKey.byteLength}`)
  }
  if (envelope.ciphertext.byteLength !== paddedSize + AEAD_TAG_LENGTH) {
    throw new InvalidMessageError(`the ciphertext of a ${bytes.byteLength}-byte envelope is ${paddedSize + AEAD_TAG_LENGTH} bytes`)
  }
  if (!equalBytes(Envelope.encode(envelope), bytes)) {
    throw new InvalidMessageError('the envelope is not canonically encoded')
  }
  return envelope
}

// The layers of seal() and open(), exported so that tests can build forged and re-wrapped
// messages; the package's public surface is crypto.ts.

/** `seal()` with a given sentAt and ephemeral key pair */
export function sealWith (sender: Identity, recipient: PublicKey, plaintext: Uint8Array, sentAt: number, ephemeral: EphemeralKeyPair, kind: SealedKind = 'message'): Uint8Array {
  if (!(plaintext instanceof Uint8Array)) {
    throw new InvalidOptionsError('the plaintext is bytes')
  }
  if (plaintext.byteLength > MAX_PLAINTEXT_SIZE) {
    throw new InvalidOptionsError(`a message is at most ${MAX_PLAINTEXT_SIZE} bytes, got ${plaintext.byteLength}`)
  }
  if (!Number.isSafeInteger(sentAt) || sentAt < 0 || sentAt > MAX_SENT_AT) {
    throw new InvalidOptionsError(`sentAt is an integer number of milliseconds in [0, ${MAX_SENT_AT}]`)
  }
  const signed = signedParts(sender.publicKey, recipient, ephemeral.publicKey, sentAt, plaintext)
  const signature = signTranscript(sender, SIGNATURE_LABELS[kind], ...signed)
  // body: a copy, because the generated codec's types ask for an ArrayBuffer-backed array
  return encryptSealed(recipient, ephemeral, { sender: sender.publicKey.bytes, sentAt, body: plaintext.slice(), signature, kind: WIRE_KINDS[kind] })
}

/** Pads, encrypts and wraps a Sealed message for `recipient`, as is (no check of its signature) */
export function encryptSealed (recipient: PublicKey, ephemeral: EphemeralKeyPair, sealed: Sealed): Uint8Array {
  const encoded = Sealed.encode(sealed)
  const paddedSize = paddedSizeForContent(encoded.byteLength)
  if (paddedSize == null) {
    throw new InvalidOptionsError(`a sealed message of ${encoded.byteLength} bytes fits in no envelope`)
  }
  let shared: Uint8Array
  try {
    shared = x25519.getSharedSecret(ephemeral.secretKey, recipient.agreementKey)
  } catch (err) {
    throw new InvalidOptionsError('the recipient\'s key agreement key is of low order: nothing can be sealed to it', { cause: err })
  }
  const { key, nonce } = messageKeys(shared, ephemeral.publicKey, recipient)
  const ciphertext = chachaEncrypt(key, nonce, pad(encoded, paddedSize))
  return Envelope.encode({ version: ENVELOPE_VERSION, ephemeralKey: ephemeral.publicKey, ciphertext })
}

/**
 * Unwraps, decrypts and decodes an envelope; the sealed message inside is not checked further.
 *
 * @throws VerificationError if the envelope is malformed or does not decrypt with this key
 * @throws InvalidMessageError if the decrypted content is not a padded Sealed message
 */
export function decryptSealed (recipient: Identity, bytes: Uint8Array): { ephemeralKey: Uint8Array, sealed: Sealed } {
  let envelope: Envelope
  try {
    envelope = decodeEnvelope(bytes)
  } catch (err) {
    // To its recipient, a malformed envelope is one that was altered: it cannot be opened
    throw new VerificationError(`the envelope cannot be opened: ${(err as Error).message}`, { cause: err })
  }
  let shared: Uint8Array
  try {
    shared = keyAgreement(recipient, envelope.ephemeralKey)
  } catch (err) {
    if (err instanceof InvalidOptionsError) {
      throw err // the recipient is not an identity made by this library
    }
    throw new VerificationError('the envelope\'s ephemeral key is of low order', { cause: err })
  }
  const { key, nonce } = messageKeys(shared, envelope.ephemeralKey, recipient.publicKey)
  let padded: Uint8Array
  try {
    padded = chachaDecrypt(key, nonce, envelope.ciphertext)
  } catch (err) {
    throw new VerificationError('the envelope does not decrypt with this key: it was sealed for someone else or altered', { cause: err })
  }
  const sealed = decodeOrThrow(() => Sealed.decode(unpad(padded)), 'sealed message')
  return { ephemeralKey: envelope.ephemeralKey, sealed }
}

/** The sender's public key, once every field of the sealed message has been checked */
function checkSealed (sealed: Sealed): PublicKey {
  if (sealed.signature.byteLength !== SIGNATURE_LENGTH) {
    throw new InvalidMessageError(`a signature is ${SIGNATURE_LENGTH} bytes, got ${sealed.signature.byteLength}`)
  }
  if (sealed.body.byteLength > MAX_PLAINTEXT_SIZE) {
    throw new InvalidMessageError(`a message is at most ${MAX_PLAINTEXT_SIZE} bytes, got ${sealed.body.byteLength}`)
  }
  if (!Number.isSafeInteger(sealed.sentAt) || sealed.sentAt < 0 || sealed.sentAt > MAX_SENT_AT) {
    throw new InvalidMessageError(`sentAt is an integer in [0, ${MAX_SENT_AT}]`)
  }
  return PublicKey.fromBytes(sealed.sender)
}

/** Each kind is signed under a label of its own: a message's signature never verifies as a receipt's */
const SIGNATURE_LABELS: Record<SealedKind, string> = { message: MESSAGE_SIGNATURE_LABEL, receipt: RECEIPT_SIGNATURE_LABEL, frame: FRAME_SIGNATURE_LABEL }

const WIRE_KINDS: Record<SealedKind, Sealed.Kind> = { message: Sealed.Kind.MESSAGE, receipt: Sealed.Kind.RECEIPT, frame: Sealed.Kind.FRAME }

function kindOf (kind: Sealed.Kind): SealedKind {
  switch (kind) {
    case Sealed.Kind.MESSAGE:
      return 'message'
    case Sealed.Kind.RECEIPT:
      return 'receipt'
    case Sealed.Kind.FRAME:
      return 'frame'
    default:
      throw new InvalidMessageError(`a sealed message of unknown kind ${String(kind)}`)
  }
}

/** What the sender signs: who from, who to, under which ephemeral key, when, what */
function signedParts (sender: PublicKey, recipient: PublicKey, ephemeralKey: Uint8Array, sentAt: number, body: Uint8Array): Uint8Array[] {
  return [sender.bytes, recipient.bytes, ephemeralKey, uint64(sentAt), body]
}

function messageKeys (shared: Uint8Array, ephemeralKey: Uint8Array, recipient: PublicKey): { key: Uint8Array, nonce: Uint8Array } {
  const info = transcript(ENVELOPE_KEY_LABEL, ephemeralKey, recipient.bytes)
  const okm = hkdfSha256(shared, info, AEAD_KEY_LENGTH + AEAD_NONCE_LENGTH)
  return { key: okm.subarray(0, AEAD_KEY_LENGTH), nonce: okm.subarray(AEAD_KEY_LENGTH) }
}

function toPublicKey (recipient: PublicKey | string): PublicKey {
  if (recipient instanceof PublicKey) {
    return recipient
  }
  if (typeof recipient === 'string') {
    return parseAddress(recipient)
  }
  throw new InvalidOptionsError('the recipient is a PublicKey or an address')
}

function decodeOrThrow<T> (decode: () => T, what: string): T {
  try {
    return decode()
  } catch (err) {
    if (err instanceof InvalidMessageError) {
      throw err
    }
    throw new InvalidMessageError(`the ${what} is not valid protobuf`, { cause: err })
  }
}
