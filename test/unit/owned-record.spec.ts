/**
 * Owned records alone: their strict encoding, the owner's signature, which of two supersedes the
 * other, and what a replica's admission keeps of a batch.
 */
import assert from 'node:assert/strict'
import { createRecord } from '../../src/chord/record.js'
import { InvalidOptionsError, InvalidRecordError, StaleRecordError, TooLargeError, VerificationError } from '../../src/errors.js'
import { createIdentity } from '../../src/index.js'
import { utf8 } from '../../src/chord/transcript.js'
import { MAX_OWNED_NAME_BYTES, MAX_OWNED_VALUE_SIZE } from '../../src/owned/constants.js'
import { OwnedRecords } from '../../src/owned/owned-records.js'
import { decodeOwnedRecord, ownedKey, signOwnedRecord, supersedes, verifyOwnedRecord } from '../../src/owned/record.js'
import { OwnedAdmission } from '../../src/owned/rules.js'
import { OwnedRecord as WireOwnedRecord } from '../../src/protocol/generated/owned.js'
import { DEFAULT_TTL_POLICY } from '../../src/chord/ttl.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import type { Identity } from '../../src/index.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { OwnedFields } from '../../src/owned/record.js'

const NOW = 1_767_225_600_000
const fields = (seq: number, value = `v${seq}`, publishedAt = NOW): OwnedFields => ({ name: utf8('profile'), seq, publishedAt, expiresAt: NOW + 3_600_000, value: utf8(value) })

async function recordOf (identity: Identity, owned: OwnedFields): Promise<ChordRecord> {
  return createRecord(ownedKey(identity.publicKey, owned.name), await signOwnedRecord(identity, owned), owned.expiresAt)
}

describe('owned records', () => {
  let alice: Identity
  before(async () => { alice = await createIdentity() })

  it('decode only in their canonical encoding, with every field in range, and verify only under their owner\'s key', async () => {
    const signed = await signOwnedRecord(alice, fields(1))
    const decoded = decodeOwnedRecord(signed)
    assert.equal(decoded.seq, 1)
    assert.ok(decoded.owner.equals(alice.publicKey))
    await verifyOwnedRecord(decoded)

    assert.throws(() => decodeOwnedRecord(Uint8Array.from([...signed, 0x08, 0x01])), InvalidRecordError)
    assert.throws(() => decodeOwnedRecord(Uint8Array.from([0xff, 0xff])), InvalidRecordError)
    const wire = WireOwnedRecord.decode(signed)
    assert.throws(() => decodeOwnedRecord(WireOwnedRecord.encode({ ...wire, seq: 0 })), InvalidRecordError)
    assert.throws(() => decodeOwnedRecord(WireOwnedRecord.encode({ ...wire, name: new Uint8Array(MAX_OWNED_NAME_BYTES + 1) })), InvalidRecordError)
    assert.throws(() => decodeOwnedRecord(WireOwnedRecord.encode({ ...wire, owner: new Uint8Array(65) })), InvalidRecordError)
    await assert.rejects(verifyOwnedRecord(decodeOwnedRecord(WireOwnedRecord.encode({ ...wire, value: utf8('changed') as Uint8Array<ArrayBuffer> }))), VerificationError)
  })

  it('supersede by seq, then publishedAt, then signature, the same way on every node', async () => {
    const [a, b] = await Promise.all([signOwnedRecord(alice, fields(2, 'a')), signOwnedRecord(alice, fields(2, 'b'))])
    const [da, db] = [decodeOwnedRecord(a), decodeOwnedRecord(b)]
    assert.notEqual(supersedes(da, db), supersedes(db, da))
    assert.ok(supersedes(decodeOwnedRecord(await signOwnedRecord(alice, fields(3))), da))
    assert.ok(supersedes(decodeOwnedRecord(await signOwnedRecord(alice, fields(2, 'a', NOW + 1))), da))
  })

  describe('a replica\'s admission', () => {
    it('keeps the newest of a batch, supersedes what it held, and refuses one that is only older', async () => {
      const store = await openLevelStore()
      const admission = new OwnedAdmission(store, () => NOW)
      const [v1, v2, v3] = await Promise.all([1, 2, 3].map(async seq => recordOf(alice, fields(seq))))
      const first = await admission.admit([v2, v1])
      assert.deepEqual(first.records.map(r => r.id), [v2.id])
      await store.put(first.records, { now: NOW })

      await assert.rejects(admission.admit([v1]), StaleRecordError)
      const next = await admission.admit([v3])
      assert.deepEqual(next.records.map(r => r.id), [v3.id])
      assert.deepEqual(next.superseded?.map(s => s.ids), [[v2.id]])
      // the record held already passes through, for its lifetime to be extended
      assert.deepEqual((await admission.admit([v2])).records.map(r => r.id), [v2.id])
      await store.close()
    })

    it('refuses a record under another key than ownedKey(owner, name), and one its owner did not sign', async () => {
      const store = await openLevelStore()
      const admission = new OwnedAdmission(store, () => NOW)
      const v1 = await recordOf(alice, fields(1))
      await assert.rejects(admission.admit([{ ...v1, key: new Uint8Array(32) }]), InvalidRecordError)
      const mallory = await createIdentity()
      const hers = await signOwnedRecord(mallory, fields(9))
      const wire = WireOwnedRecord.decode(hers)
      const claimed = WireOwnedRecord.encode({ ...wire, owner: alice.publicKey.bytes as Uint8Array<ArrayBuffer> })
      await assert.rejects(admission.admit([createRecord(v1.key, claimed, NOW + 1000)]), VerificationError)
      await store.close()
    })

    it('stores a record for the lifetime its owner signed, whatever the message carrying it says', async () => {
      const store = await openLevelStore()
      const admission = new OwnedAdmission(store, () => NOW)
      const v1 = await recordOf(alice, fields(1))
      const { records } = await admission.admit([{ ...v1, expiresAt: NOW + 999_999_999 }])
      assert.equal(records[0].expiresAt, fields(1).expiresAt)
      await store.close()
    })
  })

  describe('publish', () => {
    const records = new OwnedRecords({ replication: { put: async () => ({ replicas: 1 }), get: async () => [] }, ttl: DEFAULT_TTL_POLICY })

    it(`refuses a name of more than MAX_OWNED_NAME_BYTES (${MAX_OWNED_NAME_BYTES}) bytes or none, and a value over MAX_OWNED_VALUE_SIZE (${MAX_OWNED_VALUE_SIZE})`, async () => {
      await records.publish(alice, 'x'.repeat(MAX_OWNED_NAME_BYTES), new Uint8Array(MAX_OWNED_VALUE_SIZE))
      await assert.rejects(records.publish(alice, 'x'.repeat(MAX_OWNED_NAME_BYTES + 1), new Uint8Array(1)), InvalidOptionsError)
      await assert.rejects(records.publish(alice, '', new Uint8Array(1)), InvalidOptionsError)
      await assert.rejects(records.publish(alice, 'n', new Uint8Array(MAX_OWNED_VALUE_SIZE + 1)), TooLargeError)
    })

    it('picks a seq above the newest the ring holds, and at least the current time', async () => {
      const newer = await recordOf(alice, fields(Date.now() + 60_000))
      const next = new OwnedRecords({ replication: { put: async () => ({ replicas: 3 }), get: async () => [newer] }, ttl: DEFAULT_TTL_POLICY })
      const { seq } = await next.publish(alice, 'profile', utf8('hello'))
      assert.equal(seq, decodeOwnedRecord(newer.value).seq + 1)
      const first = await records.publish(alice, 'profile', utf8('hello'))
      assert.ok(first.seq >= NOW)
    })
  })
})
