/**
 * Owner-signed acknowledgements kept behind the tombstones, to hand on to replicas that missed
 * them: bounded in bytes and per STORE, gone with their envelopes' lifetime, and checked and
 * applied by the mailbox's rules when a STORE (or its answer) carries them.
 */
import assert from 'node:assert/strict'
import { MAX_DELETIONS_PER_STORE, MAX_DELETION_IDS_PER_STORE } from '../../src/chord/constants.js'
import { ringIdFromBytes } from '../../src/chord/id.js'
import { createRecord } from '../../src/chord/record.js'
import { Replication } from '../../src/chord/replication.js'
import { DEFAULT_TTL_POLICY } from '../../src/chord/ttl.js'
import { VerificationError } from '../../src/errors.js'
import { createIdentity } from '../../src/index.js'
import { KeptDeletions, MAX_KEPT_DELETION_BYTES } from '../../src/mailbox/kept-deletions.js'
import { MailboxRules } from '../../src/mailbox/namespace-rules.js'
import { signDeletion } from '../../src/mailbox/proofs.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { seal } from '../../src/mailbox/seal.js'
import { Tombstones } from '../../src/mailbox/tombstones.js'
import { openNodeDatabase } from '../../src/storage/database.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { NodeRef, RecordRpc, SignedDeletion } from '../../src/chord/rpc.js'
import type { NodeDatabase } from '../../src/storage/database.js'
import type { LevelRecordStore } from '../../src/storage/level-store.js'

/** A time an hour after now: read when used, since a whole suite may run between import and test */
const later = (): number => Date.now() + 3_600_000

/** A deletion as the store keeps it; its signature is not checked here */
function deletionOf (key: Uint8Array, ids: number, fill = 1): SignedDeletion {
  return {
    key,
    ids: Array.from({ length: ids }, (_, i) => Uint8Array.from([fill, ...new Uint8Array(30), i % 256])),
    owner: new Uint8Array(65).fill(fill),
    signedAt: 1,
    signature: new Uint8Array(64).fill(fill)
  }
}

function mailbox (n: number): Uint8Array {
  return new Uint8Array(32).fill(n)
}

describe('kept deletions', () => {
  let database: NodeDatabase

  beforeEach(async () => { database = await openNodeDatabase() })
  afterEach(async () => { await database.close() })

  async function openKept (maxBytes?: number): Promise<KeptDeletions> {
    const kept = new KeptDeletions(database, { maxBytes })
    await kept.open()
    return kept
  }

  it('keeps a deletion until its envelopes would have expired, across a reopen', async () => {
    const kept = await openKept()
    await kept.keep(deletionOf(mailbox(1), 2), 1000, 0)
    await kept.keep(deletionOf(mailbox(2), 1, 2), later(), 0)
    // one kept already, and one that has expired, are not kept again
    await kept.keep(deletionOf(mailbox(1), 2), 1000, 0)
    await kept.keep(deletionOf(mailbox(3), 1, 3), 10, 20)
    const reopened = await openKept()
    assert.equal(reopened.size, 2)
    await reopened.sweep(2000)
    assert.equal(reopened.size, 1)
    assert.deepEqual(reopened.naming([{ key: mailbox(1), id: deletionOf(mailbox(1), 1).ids[0] }]), [])
  })

  it('keeps no more than MAX_KEPT_DELETION_BYTES: past it the oldest give way to the newest, across a reopen', async () => {
    assert.equal((await openKept()).bytes, 0)
    const [first, second, third] = [1, 2, 3].map(n => deletionOf(mailbox(n), 1, n))
    const size = 32 + 65 + 64 + 32
    const kept = await openKept(2 * size)
    for (const deletion of [first, second, third]) {
      await kept.keep(deletion, later(), 0)
    }
    assert.deepEqual([kept.size, kept.bytes], [2, 2 * size])
    const named = (deletion: SignedDeletion): SignedDeletion[] => kept.naming([{ key: deletion.key, id: deletion.ids[0] }])
    assert.deepEqual([named(first), named(second), named(third)], [[], [second], [third]])
    const reopened = await openKept(2 * size)
    assert.equal(reopened.size, 2, 'the one that gave way is gone from the disk too')
    // one larger than all the room there is is not kept, and takes nothing away
    await reopened.keep(deletionOf(mailbox(4), 8, 4), later(), 0)
    assert.deepEqual([reopened.size, reopened.bytes], [2, 2 * size])
    assert.ok(MAX_KEPT_DELETION_BYTES / size > 80_000, 'the default keeps some 80,000 single acknowledgements')
  })

  it('hands on at most MAX_DELETIONS_PER_STORE naming MAX_DELETION_IDS_PER_STORE ids, of the range asked only', async () => {
    const kept = await openKept()
    const many = Array.from({ length: MAX_DELETIONS_PER_STORE + 1 }, (_, i) => deletionOf(mailbox(1), 1, i + 1))
    for (const deletion of many) {
      await kept.keep(deletion, later(), 0)
    }
    const position = ringIdFromBytes(mailbox(1))
    assert.equal(kept.inRange(position - 1n, position).length, MAX_DELETIONS_PER_STORE)
    assert.equal(kept.inRange(position, position + 1n).length, 0)
    assert.equal(kept.naming(many.map(d => ({ key: d.key, id: d.ids[0] }))).length, MAX_DELETIONS_PER_STORE)

    const wide = await openKept()
    await wide.keep(deletionOf(mailbox(2), MAX_DELETION_IDS_PER_STORE, 7), later(), 0)
    await wide.keep(deletionOf(mailbox(2), 1, 8), later(), 0)
    const ids = wide.inRange(ringIdFromBytes(mailbox(2)) - 1n, ringIdFromBytes(mailbox(2))).reduce((sum, d) => sum + d.ids.length, 0)
    assert.ok(ids <= MAX_DELETION_IDS_PER_STORE)
  })
})

describe('a mailbox STORE that carries deletions', function () {
  this.timeout(30_000)
  const self: NodeRef = { id: 1n, peer: 'self' }
  const neighbour: NodeRef = { id: 2n, peer: 'neighbour' }
  let database: NodeDatabase
  let store: LevelRecordStore

  afterEach(async () => {
    await store.close()
    await database.close()
  })

  async function rules (): Promise<{ rules: MailboxRules, tombstones: Tombstones, kept: KeptDeletions }> {
    database = await openNodeDatabase()
    store = await openLevelStore()
    const tombstones = new Tombstones(database)
    const kept = new KeptDeletions(database)
    await Promise.all([tombstones.open(), kept.open()])
    // the replication a node runs: what the tombstones let in is written, and every mailbox is kept
    const replication = {
      onStoreRecords: async (_from: NodeRef, records: ChordRecord[]) => ({ ...await store.put(tombstones.admit(records)), declined: [] }),
      keeps: async () => true
    } as unknown as Replication
    return { rules: new MailboxRules({ self, replication, store, tombstones, kept, maxTtl: 3_600_000, isNeighbour: peer => peer === neighbour.peer }), tombstones, kept }
  }

  it('drops what a deletion names once its signature checks, and hands the deletion back to whoever offers those envelopes again', async () => {
    const { rules: mailboxRules, kept } = await rules()
    const [alice, bob] = await Promise.all([createIdentity(), createIdentity()])
    const key = mailboxKey(bob.publicKey)
    const envelope = createRecord(key, await seal(alice, bob.publicKey, new TextEncoder().encode('hi')), later())
    await mailboxRules.onStoreRecords(neighbour, [envelope])
    const deletion = await signDeletion(bob, [envelope.id], Date.now())

    // a forged deletion refuses the STORE and changes nothing
    const forged = { ...deletion, signature: deletion.signature.map(b => b ^ 1) }
    await assert.rejects(mailboxRules.onStoreRecords(neighbour, [], [forged]), VerificationError)
    assert.equal((await store.get(key)).length, 1)

    const receipt = await mailboxRules.onStoreRecords(neighbour, [], [deletion])
    assert.equal(receipt.signatureChecks, 1)
    assert.equal((await store.get(key)).length, 0)
    assert.equal(kept.size, 1)
    // known now: no signature to check again
    assert.equal((await mailboxRules.onStoreRecords(neighbour, [], [deletion])).signatureChecks, 0)

    // a replica that missed it offers the envelope back: it is not taken, and the answer says why
    const offered = await mailboxRules.onStoreRecords(neighbour, [envelope])
    assert.equal((await store.get(key)).length, 0)
    assert.equal(offered.deletions?.length, 1)
    assert.deepEqual(offered.deletions?.[0].ids, [envelope.id])
  })

  it('deletes what a deletion it holds tombstones for names, when the envelope outlived its tombstone\'s delete', async () => {
    const { rules: mailboxRules, tombstones } = await rules()
    const [alice, bob] = await Promise.all([createIdentity(), createIdentity()])
    const key = mailboxKey(bob.publicKey)
    const envelope = createRecord(key, await seal(alice, bob.publicKey, new TextEncoder().encode('hi')), later())
    await store.put([envelope])
    // the tombstone went in and the delete did not (a crash or stop in between, a restored backup)
    await tombstones.add([envelope], Date.now())
    const deletion = await signDeletion(bob, [envelope.id], Date.now())
    // a stranger's replay costs the store nothing: only a neighbour's repair looks
    await mailboxRules.onStoreRecords({ id: 3n, peer: 'a stranger' }, [], [deletion])
    assert.equal((await store.get(key)).length, 1)
    const receipt = await mailboxRules.onStoreRecords(neighbour, [], [deletion])
    assert.equal(receipt.signatureChecks, 0, 'covered here: no signature to check')
    assert.deepEqual(await store.get(key), [])
  })

  it('leaves out a deletion that does not check from a STORE\'s answer, and applies the rest', async () => {
    const { rules: mailboxRules, tombstones } = await rules()
    const bob = await createIdentity()
    const good = await signDeletion(bob, [new Uint8Array(32).fill(5)], Date.now())
    const bad = { ...good, ids: [new Uint8Array(32).fill(6)] }
    assert.equal(await mailboxRules.takeDeletions([bad, good], 'answer'), 2)
    assert.ok(tombstones.covers(good))
    assert.ok(!tombstones.covers(bad))
  })

  it('takes from a STORE\'s answer only the deletions that name an envelope the STORE carried', async () => {
    const key = mailbox(3)
    const ours = createRecord(key, new TextEncoder().encode('ours'), later())
    const naming = deletionOf(key, 2, 3)
    naming.ids[1] = ours.id
    const unrelated = deletionOf(mailbox(4), 8, 4)
    const taken: SignedDeletion[][] = []
    const self: NodeRef = { id: 1n, peer: 'self' }
    const replica: NodeRef = { id: 2n, peer: 'replica' }
    const store = await openLevelStore()
    try {
      const replication = new Replication({
        ring: { self } as ChordRing,
        namespace: 'mailbox',
        rpc: { storeRecords: async () => ({ declined: [], deletions: [unrelated, naming] }) } as unknown as RecordRpc,
        store,
        ttl: DEFAULT_TTL_POLICY,
        takeDeletions: async deletions => { taken.push(deletions) }
      })
      await replication.storeConfirmed(replica, [ours])
      assert.deepEqual(taken, [[naming]])
    } finally {
      await store.close()
    }
  })
})
