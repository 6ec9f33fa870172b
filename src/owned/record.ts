/**
 * Owned records: a value stored under a key that only its owner's identity can write, as an IPNS
 * record is to kad-dht. The key is derived from the owner's public key and the record's name, and
 * the record carries the owner's signature over everything in it, so any node can check it; a
 * replica keeps only the highest `seq` of each (owner, name), so an older record cannot come back.
 *
 * Strict decoding: a record is taken only in its one canonical encoding (re-encoding gives the same
 * bytes), so one record has one id.
 */
import { equals } from 'uint8arrays/equals'
import { InvalidRecordError, VerificationError } from '../errors.js'
import { verifySignature } from '../mailbox/identity.js'
import { PublicKey } from '../mailbox/public-key.js'
import { labelledHash, transcript, uint64 } from '../chord/transcript.js'
import { OwnedRecord as WireOwnedRecord } from '../protocol/generated/owned.js'
import { MAX_OWNED_NAME_BYTES, MAX_OWNED_VALUE_SIZE, OWNED_KEY_LABEL, OWNED_RECORD_CONTEXT } from './constants.js'
import type { Identity } from '../mailbox/identity.js'

/** What the owner signs: every field of the record but the signature */
export interface OwnedFields {
  /** the name, as UTF-8 bytes */
  name: Uint8Array
  /** at least 1; a replica keeps the highest */
  seq: number
  /** ms since the epoch, the owner's clock */
  publishedAt: number
  /** ms since the epoch */
  expiresAt: number
  value: Uint8Array
}

/** A decoded owned record (its signature checked or not, as the function that made it says) */
export interface OwnedRecord extends OwnedFields {
  owner: PublicKey
  signature: Uint8Array
}

/** The ring position of `owner`'s record named `name` (used as it is, like a mailbox key) */
export function ownedKey (owner: PublicKey, name: Uint8Array): Uint8Array {
  return labelledHash(OWNED_KEY_LABEL, owner.bytes, name)
}

/** The bytes the owner signs (inside a user signature with OWNED_RECORD_CONTEXT) */
export function ownedTranscript (owner: PublicKey, fields: OwnedFields): Uint8Array {
  return transcript(OWNED_RECORD_CONTEXT, owner.bytes, fields.name, uint64(fields.seq), uint64(fields.publishedAt), uint64(fields.expiresAt), fields.value)
}

/** The record's value as stored: the signed, canonically encoded record */
export async function signOwnedRecord (identity: Identity, fields: OwnedFields): Promise<Uint8Array> {
  checkFields(fields, InvalidRecordError)
  const signature = await identity.sign(ownedTranscript(identity.publicKey, fields), OWNED_RECORD_CONTEXT)
  return WireOwnedRecord.encode({ ...fields, owner: identity.publicKey.bytes as Uint8Array<ArrayBuffer>, name: fields.name as Uint8Array<ArrayBuffer>, value: fields.value as Uint8Array<ArrayBuffer>, signature: signature as Uint8Array<ArrayBuffer> })
}

/**
 * Decodes a stored value as an owned record, checking everything but the signature.
 *
 * @throws InvalidRecordError when it is not protobuf, not canonical, or a field breaks its rules
 */
export function decodeOwnedRecord (bytes: Uint8Array): OwnedRecord {
  let wire: WireOwnedRecord
  try {
    wire = WireOwnedRecord.decode(bytes)
  } catch (err) {
    throw new InvalidRecordError('an owned record is not protobuf', { cause: err })
  }
  if (!equals(WireOwnedRecord.encode(wire), bytes)) {
    throw new InvalidRecordError('an owned record must be in its canonical encoding')
  }
  let owner: PublicKey
  try {
    owner = PublicKey.fromBytes(wire.owner)
  } catch (err) {
    throw new InvalidRecordError('the owner of an owned record is not a canonical public key', { cause: err })
  }
  const record: OwnedRecord = { owner, name: wire.name, seq: wire.seq, publishedAt: wire.publishedAt, expiresAt: wire.expiresAt, value: wire.value, signature: wire.signature }
  checkFields(record, InvalidRecordError)
  return record
}

/** @throws VerificationError if the record is not signed by its owner */
export async function verifyOwnedRecord (record: OwnedRecord): Promise<void> {
  if (!await verifySignature(record.owner, ownedTranscript(record.owner, record), record.signature, OWNED_RECORD_CONTEXT)) {
    throw new VerificationError('the owned record is not signed by its owner')
  }
}

/**
 * Whether `a` supersedes `b` (the same owner and name): the higher seq; at an equal seq (two
 * devices of one owner that published at once) the later publishedAt, then the larger signature,
 * so every node picks the same one
 */
export function supersedes (a: OwnedRecord, b: OwnedRecord): boolean {
  if (a.seq !== b.seq) {
    return a.seq > b.seq
  }
  if (a.publishedAt !== b.publishedAt) {
    return a.publishedAt > b.publishedAt
  }
  return compareBytes(a.signature, b.signature) > 0
}

function checkFields (fields: OwnedFields & { signature?: Uint8Array }, ErrorClass: new (message: string) => Error): void {
  if (fields.name.byteLength === 0 || fields.name.byteLength > MAX_OWNED_NAME_BYTES) {
    throw new ErrorClass(`a name is 1 to ${MAX_OWNED_NAME_BYTES} bytes of UTF-8`)
  }
  if (fields.value.byteLength > MAX_OWNED_VALUE_SIZE) {
    throw new ErrorClass(`an owned value is at most ${MAX_OWNED_VALUE_SIZE} bytes`)
  }
  for (const [field, value] of [['seq', fields.seq], ['publishedAt', fields.publishedAt], ['expiresAt', fields.expiresAt]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ErrorClass(`${field} must be an integer from 0 to 2^53 - 1`)
    }
  }
  if (fields.seq < 1) {
    throw new ErrorClass('seq starts at 1')
  }
  if (fields.signature != null && fields.signature.byteLength !== 64) {
    throw new ErrorClass('a signature is 64 bytes')
  }
}

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return a[i] - b[i]
    }
  }
  return a.length - b.length
}
