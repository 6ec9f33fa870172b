/**
 * `publish` and `resolve`: an identity's records on the ring, in the OWNED namespace.
 *
 * A publish picks a seq above any the ring holds for (owner, name): the newest it can resolve,
 * plus one, and at least the current time in ms, so that a device that cannot see the newest
 * record (cut off, or publishing for the first time from a restored identity) still picks one
 * above every earlier publish of a clock that was right. The record is signed, then written to
 * the key's replicas like any record; each replica checks it and keeps only the newest.
 *
 * A resolve asks every replica, checks every record's signature itself (a replica may lie), and
 * returns the newest.
 */
import { equals } from 'uint8arrays/equals'
import { utf8 } from '../chord/transcript.js'
import { InvalidOptionsError, TooLargeError } from '../errors.js'
import { createRecord } from '../chord/record.js'
import { expiresAtFor } from '../chord/ttl.js'
import { parseAddress } from '../mailbox/public-key.js'
import { MAX_OWNED_NAME_BYTES, MAX_OWNED_VALUE_SIZE } from './constants.js'
import { decodeOwnedRecord, ownedKey, signOwnedRecord, supersedes, verifyOwnedRecord } from './record.js'
import type { OwnedRecord } from './record.js'
import type { Replication } from '../chord/replication.js'
import type { TtlPolicy } from '../chord/ttl.js'
import type { Identity } from '../mailbox/identity.js'
import type { PublicKey } from '../mailbox/public-key.js'

export interface PublishOptions {
  /** how long replicas keep the record, ms; capped by the nodes' maximum */
  ttlMs?: number
  signal?: AbortSignal
}

export interface PublishResult {
  /** the record's version: higher than any earlier one of this owner and name */
  seq: number
  /** replicas that stored it durably */
  replicas: number
}

export interface ResolvedRecord {
  value: Uint8Array
  seq: number
  /** when the owner published it, ms since the epoch (the owner's clock) */
  publishedAt: number
}

export interface OwnedRecordsInit {
  /** replication of the owned namespace */
  replication: Pick<Replication, 'put' | 'get'>
  ttl: TtlPolicy
  now?(): number
}

export class OwnedRecords {
  private readonly init: OwnedRecordsInit
  private readonly now: () => number

  constructor (init: OwnedRecordsInit) {
    this.init = init
    this.now = init.now ?? Date.now
  }

  /**
   * Sign `value` as `identity`'s record `name`, with a seq above any the ring holds, and store it
   * on the record's replicas
   *
   * @throws InvalidOptionsError for a name that is not 1 to MAX_OWNED_NAME_BYTES of UTF-8, or a bad TTL
   * @throws TooLargeError for a value over MAX_OWNED_VALUE_SIZE
   */
  async publish (identity: Identity, name: string, value: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    const nameBytes = nameOf(name)
    if (!(value instanceof Uint8Array)) {
      throw new InvalidOptionsError('an owned value is bytes')
    }
    if (value.byteLength > MAX_OWNED_VALUE_SIZE) {
      throw new TooLargeError(`an owned value is at most ${MAX_OWNED_VALUE_SIZE} bytes, this one is ${value.byteLength}`)
    }
    const now = this.now()
    const expiresAt = expiresAtFor(options.ttlMs, now, this.init.ttl)
    const key = ownedKey(identity.publicKey, nameBytes)
    const newest = await this.newest(identity.publicKey, key, options)
    const seq = Math.max(now, (newest?.seq ?? 0) + 1)
    const signed = await signOwnedRecord(identity, { name: nameBytes, seq, publishedAt: now, expiresAt, value })
    const { replicas } = await this.init.replication.put([createRecord(key, signed, expiresAt)], { signal: options.signal })
    return { seq, replicas }
  }

  /**
   * The newest record `address` (an address, or its public key) published under `name`, as
   * its owner signed it; undefined when the ring holds none
   */
  async resolve (address: string | PublicKey, name: string, options: { signal?: AbortSignal } = {}): Promise<ResolvedRecord | undefined> {
    const owner = typeof address === 'string' ? parseAddress(address) : address
    const newest = await this.newest(owner, ownedKey(owner, nameOf(name)), options)
    return newest == null ? undefined : { value: newest.value, seq: newest.seq, publishedAt: newest.publishedAt }
  }

  /** The newest record under `key` that `owner` signed, of every replica's */
  private async newest (owner: PublicKey, key: Uint8Array, options: { signal?: AbortSignal }): Promise<OwnedRecord | undefined> {
    let newest: OwnedRecord | undefined
    for (const record of await this.init.replication.get(key, options)) {
      try {
        const owned = decodeOwnedRecord(record.value)
        if (!owned.owner.equals(owner) || !equals(ownedKey(owned.owner, owned.name), key)) {
          continue
        }
        await verifyOwnedRecord(owned)
        if (newest == null || supersedes(owned, newest)) {
          newest = owned
        }
      } catch {
        // a replica that holds something else under the key: it is not the owner's
      }
    }
    return newest
  }
}

/** A name's UTF-8 bytes, checked */
function nameOf (name: string): Uint8Array {
  if (typeof name !== 'string') {
    throw new InvalidOptionsError('a name is a string')
  }
  const bytes = utf8(name)
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_OWNED_NAME_BYTES) {
    throw new InvalidOptionsError(`a name is 1 to ${MAX_OWNED_NAME_BYTES} bytes of UTF-8, got ${bytes.byteLength}`)
  }
  return bytes
}
