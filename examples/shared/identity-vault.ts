/**
 * How the chat examples keep the user's identity: the bytes `Identity.export()` returns, either
 * as they are or sealed with a passphrase, and the file format of an exported identity. The page
 * and the terminal chat share it, so an identity file moves between them.
 *
 * A passphrase is stretched with PBKDF2-SHA256 and the identity sealed with AES-GCM, both from
 * WebCrypto (the browser's, or Node's `globalThis.crypto`): nothing here implements a primitive.
 */
import { fromString, toString } from 'uint8arrays'
import { importIdentity } from '../../src/index.js'
import type { Identity } from '../../src/index.js'

/**
 * PBKDF2-SHA256 iterations: OWASP's 2023 recommendation for this hash. About half a second in a
 * phone's browser, paid once per unlock, and it multiplies the cost of every guess by as much.
 */
export const PBKDF2_ITERATIONS = 600_000

/** Random salt bytes per sealing: 128 bits, so no two sealed identities share a derived key */
const SALT_BYTES = 16

/** AES-GCM's standard 96-bit nonce, fresh for every sealing */
const IV_BYTES = 12

/** What an exported identity file says it is, so that other files are refused with a clear message */
export const IDENTITY_FILE_TYPE = 'libp2p-chord-identity'
export const IDENTITY_FILE_VERSION = 1

export type StoredSecret =
  | { kind: 'plain', bytes: Uint8Array }
  | { kind: 'sealed', kdf: 'PBKDF2-SHA256', iterations: number, salt: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array }

/** An identity as the page stores it, with the public parts readable without the passphrase */
export interface StoredIdentity {
  address: string
  fingerprint: string
  createdAt: number
  secret: StoredSecret
}

/** The identity file is not one, or is damaged */
export class InvalidIdentityFileError extends Error {
  static name = 'InvalidIdentityFileError'
  name = InvalidIdentityFileError.name
}

/** The passphrase does not open the sealed identity */
export class WrongPassphraseError extends Error {
  static name = 'WrongPassphraseError'
  name = WrongPassphraseError.name
}

export async function storeIdentity (identity: Identity, passphrase?: string): Promise<StoredIdentity> {
  const bytes = await identity.export()
  return {
    address: identity.address,
    fingerprint: identity.fingerprint,
    createdAt: Date.now(),
    secret: passphrase == null ? { kind: 'plain', bytes } : await seal(bytes, passphrase)
  }
}

/** The identity a stored one holds; a sealed one needs its passphrase */
export async function openIdentity (stored: StoredIdentity, passphrase?: string): Promise<Identity> {
  let bytes: Uint8Array
  if (stored.secret.kind === 'plain') {
    bytes = stored.secret.bytes
  } else {
    if (passphrase == null) {
      throw new WrongPassphraseError('this identity is protected by a passphrase')
    }
    bytes = await unseal(stored.secret, passphrase)
  }
  let identity: Identity
  try {
    identity = await importIdentity(bytes)
  } catch (err) {
    throw new InvalidIdentityFileError(`the identity is damaged (${(err as Error).message})`)
  }
  if (identity.address !== stored.address) {
    throw new InvalidIdentityFileError('the identity is damaged: its keys do not match its address')
  }
  return identity
}

async function seal (bytes: Uint8Array, passphrase: string): Promise<StoredSecret> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES))
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const key = await deriveKey(passphrase, salt, PBKDF2_ITERATIONS)
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, bytes as Uint8Array<ArrayBuffer>))
  return { kind: 'sealed', kdf: 'PBKDF2-SHA256', iterations: PBKDF2_ITERATIONS, salt, iv, ciphertext }
}

async function unseal (secret: Extract<StoredSecret, { kind: 'sealed' }>, passphrase: string): Promise<Uint8Array> {
  const key = await deriveKey(passphrase, secret.salt, secret.iterations)
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: secret.iv as Uint8Array<ArrayBuffer> }, key, secret.ciphertext as Uint8Array<ArrayBuffer>))
  } catch {
    // AES-GCM's tag check is what fails: a wrong passphrase and a damaged file look alike
    throw new WrongPassphraseError('the passphrase does not open this identity')
  }
}

async function deriveKey (passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey'])
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt']
  )
}

/* ---- the exported file ---- */

/** The text of an identity file: JSON, the secret as it is stored (sealed when protected) */
export function identityFileText (stored: StoredIdentity): string {
  const secret = stored.secret.kind === 'plain'
    ? { kind: 'plain', bytes: base64(stored.secret.bytes) }
    : { ...stored.secret, salt: base64(stored.secret.salt), iv: base64(stored.secret.iv), ciphertext: base64(stored.secret.ciphertext) }
  return JSON.stringify({ type: IDENTITY_FILE_TYPE, version: IDENTITY_FILE_VERSION, address: stored.address, fingerprint: stored.fingerprint, secret }, null, 2)
}

/**
 * The stored identity an identity file holds. Checks its form only; `openIdentity` checks the
 * keys themselves.
 *
 * @throws InvalidIdentityFileError naming what is wrong
 */
export function parseIdentityFile (text: string): StoredIdentity {
  let file: unknown
  try {
    file = JSON.parse(text)
  } catch {
    throw new InvalidIdentityFileError('this is not an identity file (it is not JSON)')
  }
  if (!isRecord(file) || file.type !== IDENTITY_FILE_TYPE) {
    throw new InvalidIdentityFileError('this is not a libp2p-chord identity file')
  }
  if (file.version !== IDENTITY_FILE_VERSION) {
    throw new InvalidIdentityFileError(`this identity file is of version ${String(file.version)}, which this page does not read`)
  }
  const { address, fingerprint, secret } = file
  if (typeof address !== 'string' || typeof fingerprint !== 'string' || !isRecord(secret)) {
    throw new InvalidIdentityFileError('the identity file is damaged: its address or secret is missing')
  }
  const stored = { address, fingerprint, createdAt: Date.now() }
  if (secret.kind === 'plain') {
    return { ...stored, secret: { kind: 'plain', bytes: fromBase64(secret.bytes) } }
  }
  if (secret.kind === 'sealed' && secret.kdf === 'PBKDF2-SHA256' && Number.isSafeInteger(secret.iterations) && (secret.iterations as number) > 0) {
    return {
      ...stored,
      secret: { kind: 'sealed', kdf: 'PBKDF2-SHA256', iterations: secret.iterations as number, salt: fromBase64(secret.salt), iv: fromBase64(secret.iv), ciphertext: fromBase64(secret.ciphertext) }
    }
  }
  throw new InvalidIdentityFileError('the identity file is damaged: its secret is of no known kind')
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function base64 (bytes: Uint8Array): string {
  return toString(bytes, 'base64')
}

function fromBase64 (value: unknown): Uint8Array {
  if (typeof value !== 'string') {
    throw new InvalidIdentityFileError('the identity file is damaged: a field that holds bytes does not')
  }
  try {
    return fromString(value, 'base64')
  } catch {
    throw new InvalidIdentityFileError('the identity file is damaged: a field that holds bytes is not base64')
  }
}
