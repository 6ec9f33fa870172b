/**
 * Tombstones of acknowledged mailbox envelopes: each refuses its envelope in its own mailbox only,
 * and ids deleted before their envelope came are remembered, for mailboxes the node keeps, within
 * a per-mailbox and a node-wide allowance of their own, which no stranger's deletions of made-up
 * ids can get past.
 */
import assert from 'node:assert/strict'
import { toString as toHex } from 'uint8arrays/to-string'
import { createRecord } from '../../src/chord/record.js'
import { Replication } from '../../src/chord/replication.js'
import { DEFAULT_TTL_POLICY } from '../../src/chord/ttl.js'
import { createIdentity } from '../../src/index.js'
import { KeptDeletions } from '../../src/mailbox/kept-deletions.js'
import { MailboxRules } from '../../src/mailbox/namespace-rules.js'
import { signDeletion } from '../../src/mailbox/proofs.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { seal } from '../../src/mailbox/seal.js'
import { MAX_TOMBSTONES, MAX_UNHELD_TOMBSTONES, MAX_UNHELD_TOMBSTONES_PER_MAILBOX, Tombstones } from '../../src/mailbox/tombstones.js'
import { SUBLEVELS, openNodeDatabase } from '../../src/storage/database.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { NodeRef, RecordRpc } from '../../src/chord/rpc.js'
import type { Identity } from '../../src/index.js'
import type { Tombstone } from '../../src/mailbox/tombstones.js'
import type { NodeDatabase } from '../../src/storage/database.js'
import type { LevelRecordStore } from '../../src/storage/level-store.js'

async function openTombstones (database: NodeDatabase): Promise<Tombstones> {
  const tombstones = new Tombstones(database)
  await tombstones.open()
  return tombstones
}

const mailboxA = new Uint8Array(32).fill(1)
const mailboxB = new Uint8Array(32).fill(2)
/** An hour ahead: still ahead when a whole suite ran before these tests */
const LATER = Date.now() + 3_600_000

function envelopeIn (mailbox: Uint8Array, n: number): ReturnType<typeof createRecord> {
  return createRecord(mailbox, new TextEncoder().encode(`envelope ${n}`), LATER)
}

/** `count` made-up ids of made-up mailbox `n`, as a stranger's signed deletion names them */
function madeUpIds (n: number, count: number, expiresAt = LATER): Tombstone[] {
  const key = new Uint8Array(32).fill(0xee)
  key[0] = n
  return Array.from({ length: count }, (_, i) => {
    const id = new Uint8Array(32)
    new DataView(id.buffer).setUint16(0, i)
    return { key, id, expiresAt }
  })
}

/** Made-up mailboxes enough, each to its own allowance, to fill MAX_TOMBSTONES if nothing else held them back */
const FLOODING_MAILBOXES = Math.ceil(MAX_TOMBSTONES / MAX_UNHELD_TOMBSTONES_PER_MAILBOX)

describe('mailbox tombstones', () => {
  let database: NodeDatabase

  beforeEach(async () => {
    database = await openNodeDatabase()
  })

  afterEach(async () => {
    await database.close()
  })

  it('refuses a deleted envelope in its own mailbox only', async () => {
    const tombstones = await openTombstones(database)
    const deleted = envelopeIn(mailboxA, 1)
    await tombstones.add([deleted], Date.now())
    assert.deepEqual(tombstones.admit([deleted]), [])
    // the same bytes in another mailbox are another envelope
    const elsewhere = createRecord(mailboxB, deleted.value, LATER)
    assert.deepEqual(tombstones.admit([elsewhere]), [elsewhere])
  })

  it('remembers ids deleted before their envelope arrived, up to MAX_UNHELD_TOMBSTONES_PER_MAILBOX per mailbox', async () => {
    const tombstones = await openTombstones(database)
    // tombstones of envelopes it held take none of the allowance
    await tombstones.add([envelopeIn(mailboxA, -1)], Date.now())
    const early = Array.from({ length: MAX_UNHELD_TOMBSTONES_PER_MAILBOX + 1 }, (_, i) => envelopeIn(mailboxA, i))
    // named twice in one deletion, an id is remembered once
    await tombstones.addIfRoom([...early, early[0]])
    assert.equal(tombstones.size, 1 + MAX_UNHELD_TOMBSTONES_PER_MAILBOX)
    assert.equal(tombstones.admit(early).length, 1, 'the one past the allowance is let go')
    // another mailbox has its own allowance
    await tombstones.addIfRoom([envelopeIn(mailboxB, 0)])
    assert.equal(tombstones.size, 2 + MAX_UNHELD_TOMBSTONES_PER_MAILBOX)
  })

  it(`keeps no more than MAX_UNHELD_TOMBSTONES (${MAX_UNHELD_TOMBSTONES}) ids it never held, all mailboxes together, and still tombstones envelopes it held`, async () => {
    assert.ok(MAX_UNHELD_TOMBSTONES <= MAX_TOMBSTONES / 10)
    const tombstones = await openTombstones(database)
    // strangers' deletions of made-up ids, from as many mailboxes as would fill MAX_TOMBSTONES
    for (let n = 0; n < FLOODING_MAILBOXES; n++) {
      await tombstones.addIfRoom(madeUpIds(n, MAX_UNHELD_TOMBSTONES_PER_MAILBOX))
    }
    assert.equal(tombstones.size, MAX_UNHELD_TOMBSTONES)
    const held = envelopeIn(mailboxA, 1)
    await tombstones.add([held], Date.now())
    assert.deepEqual(tombstones.admit([held]), [])
  })

  it('survives a reopen and forgets what has expired', async () => {
    const tombstones = await openTombstones(database)
    await tombstones.add([envelopeIn(mailboxA, 1), createRecord(mailboxA, new Uint8Array([9]), 1000)], 0)
    const reopened = await openTombstones(database)
    assert.equal(reopened.size, 2)
    await reopened.sweep(2000)
    assert.equal(reopened.size, 1)
  })

  it('counts the ids it never held, per mailbox and in all, across a reopen and a sweep', async () => {
    const tombstones = await openTombstones(database)
    // mailbox 0's expire first; the others fill the node's allowance
    await tombstones.addIfRoom(madeUpIds(0, MAX_UNHELD_TOMBSTONES_PER_MAILBOX, 1000))
    const mailboxes = Math.ceil(MAX_UNHELD_TOMBSTONES / MAX_UNHELD_TOMBSTONES_PER_MAILBOX)
    for (let n = 1; n <= mailboxes; n++) {
      await tombstones.addIfRoom(madeUpIds(n, MAX_UNHELD_TOMBSTONES_PER_MAILBOX))
    }
    await tombstones.add([envelopeIn(mailboxA, 1)], 0)

    const reopened = await openTombstones(database)
    assert.equal(reopened.size, MAX_UNHELD_TOMBSTONES + 1)
    await reopened.addIfRoom(madeUpIds(200, 1))
    assert.equal(reopened.size, MAX_UNHELD_TOMBSTONES + 1, 'the node\'s allowance is still spent')
    await reopened.add([envelopeIn(mailboxA, 2)], 0)
    assert.equal(reopened.size, MAX_UNHELD_TOMBSTONES + 2)

    await reopened.sweep(2000)
    assert.equal(reopened.size, MAX_UNHELD_TOMBSTONES - MAX_UNHELD_TOMBSTONES_PER_MAILBOX + 2)
    // room for mailbox 0's ids again, none for more of mailbox 1's, whose allowance is spent
    await reopened.addIfRoom(madeUpIds(1, MAX_UNHELD_TOMBSTONES_PER_MAILBOX + 1))
    assert.equal(reopened.size, MAX_UNHELD_TOMBSTONES - MAX_UNHELD_TOMBSTONES_PER_MAILBOX + 2)
    await reopened.addIfRoom(madeUpIds(0, MAX_UNHELD_TOMBSTONES_PER_MAILBOX + 1))
    assert.equal(reopened.size, MAX_UNHELD_TOMBSTONES + 2)
  })

  it(`keeps no more than MAX_TOMBSTONES (${MAX_TOMBSTONES}): past it the oldest give way to a held envelope's, never to ids it never held, and an owner's deletion always lands`, async () => {
    const tombstones = await openTombstones(database)
    // the oldest: ids of mailbox 0 deleted before their envelopes came
    await tombstones.addIfRoom(madeUpIds(0, MAX_UNHELD_TOMBSTONES_PER_MAILBOX))
    const first = envelopeIn(mailboxA, 0)
    await tombstones.add([first], Date.now())
    const batch = 1024
    for (let n = 1; tombstones.size < MAX_TOMBSTONES; n += batch) {
      const count = Math.min(batch, MAX_TOMBSTONES - tombstones.size)
      await tombstones.add(Array.from({ length: count }, (_, i) => envelopeIn(mailboxB, n + i)), Date.now())
    }
    const newest = Array.from({ length: MAX_UNHELD_TOMBSTONES_PER_MAILBOX + 1 }, (_, i) => envelopeIn(mailboxA, -1 - i))
    await tombstones.add(newest, Date.now())
    assert.equal(tombstones.size, MAX_TOMBSTONES)
    assert.deepEqual(tombstones.admit(newest), [], 'every new one is remembered')
    assert.deepEqual(tombstones.admit([first]), [first], 'the oldest held one gave way')
    const [unheld] = madeUpIds(0, 1)
    assert.equal(tombstones.covers({ key: unheld.key, ids: [unheld.id] }), false, 'so did the older ids never held')
    // ids anyone can make up push out no tombstone of an envelope the node held
    await tombstones.addIfRoom(madeUpIds(1, MAX_UNHELD_TOMBSTONES_PER_MAILBOX))
    assert.equal(tombstones.covers({ key: madeUpIds(1, 1)[0].key, ids: [madeUpIds(1, 1)[0].id] }), false)
    assert.deepEqual(tombstones.admit(newest), [], 'the held ones are all still there')
    assert.equal(tombstones.size, MAX_TOMBSTONES)
    const reopened = await openTombstones(database)
    assert.equal(reopened.size, MAX_TOMBSTONES, 'what gave way is gone from the disk too')
  })

  it('reads a tombstone stored as its expiry alone, as every one was before unheld ids were told apart, as held', async () => {
    const deleted = envelopeIn(mailboxA, 1)
    const stored = database.sublevel<string, number>(SUBLEVELS.tombstones, { valueEncoding: 'json' })
    await stored.put(toHex(deleted.key, 'base16') + toHex(deleted.id, 'base16'), deleted.expiresAt)
    const tombstones = await openTombstones(database)
    assert.deepEqual(tombstones.admit([deleted]), [])
    // it took none of the mailbox's allowance for ids it never held
    await tombstones.addIfRoom(Array.from({ length: MAX_UNHELD_TOMBSTONES_PER_MAILBOX }, (_, i) => envelopeIn(mailboxA, i + 2)))
    assert.equal(tombstones.size, 1 + MAX_UNHELD_TOMBSTONES_PER_MAILBOX)
  })
})

describe('a mailbox DELETE', function () {
  this.timeout(60_000)
  const self: NodeRef = { id: 1n, peer: 'self' }
  const stranger: NodeRef = { id: 2n, peer: 'a stranger' }
  let database: NodeDatabase
  let store: LevelRecordStore

  afterEach(async () => {
    await store.close()
    await database.close()
  })

  /** The rules of a node that keeps the mailboxes `keeps` says it does */
  async function rules (keeps: (key: Uint8Array) => boolean): Promise<{ rules: MailboxRules, tombstones: Tombstones, kept: KeptDeletions }> {
    database = await openNodeDatabase()
    store = await openLevelStore()
    const tombstones = await openTombstones(database)
    const kept = new KeptDeletions(database)
    await kept.open()
    const replication = { keeps: async (key: Uint8Array) => keeps(key) } as unknown as Replication
    return { rules: new MailboxRules({ self, replication, store, tombstones, kept, maxTtl: 3_600_000 }), tombstones, kept }
  }

  /** An envelope from Alice in Bob's mailbox, held by the node */
  async function heldEnvelope (bob: Identity): Promise<ChordRecord> {
    const alice = await createIdentity()
    const envelope = createRecord(mailboxKey(bob.publicKey), await seal(alice, bob.publicKey, new TextEncoder().encode('hi')), LATER)
    await store.put([envelope])
    return envelope
  }

  it('deletes an envelope whose write landed between the acknowledgement\'s look at the store and its tombstones', async () => {
    const { rules: mailboxRules } = await rules(() => true)
    const bob = await createIdentity()
    const envelope = await heldEnvelope(bob)
    // the first look finds nothing, as when the write was still on its way
    const look = store.held.bind(store)
    let looks = 0
    store.held = async (...args) => (looks++ === 0 ? [] : look(...args))
    await mailboxRules.onDeleteRecords(stranger, await signDeletion(bob, [envelope.id], Date.now()))
    assert.deepEqual(await store.get(envelope.key), [])
  })

  it('deletes what a write stored although an acknowledgement of it was applied while it was written, our own writes included', async () => {
    database = await openNodeDatabase()
    store = await openLevelStore()
    const tombstones = await openTombstones(database)
    const bob = await createIdentity()
    const alice = await createIdentity()
    const envelope = createRecord(mailboxKey(bob.publicKey), await seal(alice, bob.publicKey, new TextEncoder().encode('hi')), LATER)
    const pushed: ChordRecord[] = []
    const replication = new Replication({
      ring: { self } as ChordRing,
      namespace: 'mailbox',
      rpc: {} as RecordRpc,
      store,
      ttl: DEFAULT_TTL_POLICY,
      // the write checks the tombstones, then the acknowledgement's tombstone goes in, then the write lands
      admit: async records => {
        const admitted = tombstones.admit(records)
        await tombstones.addIfRoom([{ key: envelope.key, id: envelope.id, expiresAt: LATER }])
        return admitted
      },
      readmit: records => tombstones.admit(records),
      onRecordsAdded: records => { pushed.push(...records) }
    })
    // a sender that is a replica itself writes here without a STORE
    await replication.onStoreRecords(self, [envelope])
    assert.deepEqual(await store.get(envelope.key), [])
    assert.deepEqual(pushed, [], 'an acknowledged envelope is never pushed to its owner again')
  })

  it('takes an owner\'s acknowledgement after strangers deleted made-up ids of as many mailboxes as MAX_TOMBSTONES takes', async () => {
    const { rules: mailboxRules, tombstones } = await rules(() => true)
    for (let n = 0; n < FLOODING_MAILBOXES; n++) {
      const mallory = await createIdentity()
      const ids = madeUpIds(n, MAX_UNHELD_TOMBSTONES_PER_MAILBOX).map(tombstone => tombstone.id)
      await mailboxRules.onDeleteRecords(stranger, await signDeletion(mallory, ids, Date.now()))
    }
    assert.equal(tombstones.size, MAX_UNHELD_TOMBSTONES)

    const bob = await createIdentity()
    const envelope = await heldEnvelope(bob)
    await mailboxRules.onDeleteRecords(stranger, await signDeletion(bob, [envelope.id], Date.now()))
    assert.deepEqual(await store.get(envelope.key), [])
    assert.deepEqual(tombstones.admit([envelope]), [])
  })

  it('takes an owner\'s acknowledgement when MAX_TOMBSTONES tombstones of envelopes it held are there already (a stranger\'s send-and-delete cycles)', async () => {
    const { rules: mailboxRules, tombstones } = await rules(() => true)
    const batch = 1024
    for (let n = 0; tombstones.size < MAX_TOMBSTONES; n += batch) {
      const count = Math.min(batch, MAX_TOMBSTONES - tombstones.size)
      await tombstones.add(Array.from({ length: count }, (_, i) => envelopeIn(new Uint8Array(32).fill(0xee), n + i)), Date.now())
    }
    const bob = await createIdentity()
    const envelope = await heldEnvelope(bob)
    await mailboxRules.onDeleteRecords(stranger, await signDeletion(bob, [envelope.id], Date.now()))
    assert.deepEqual(await store.get(envelope.key), [])
    assert.deepEqual(tombstones.admit([envelope]), [])
  })

  it('keeps for handing on only deletions of envelopes it held: made-up ids, or a fresh signature over ids deleted already, take none of MAX_KEPT_DELETION_BYTES', async () => {
    const { rules: mailboxRules, kept } = await rules(() => true)
    const mallory = await createIdentity()
    const ids = madeUpIds(0, MAX_UNHELD_TOMBSTONES_PER_MAILBOX).map(tombstone => tombstone.id)
    // each signature a deletion of its own: signed again and again, the same ids would fill the store
    for (let i = 0; i < 5; i++) {
      await mailboxRules.onDeleteRecords(stranger, await signDeletion(mallory, ids, Date.now() + i))
    }
    const bob = await createIdentity()
    const envelope = await heldEnvelope(bob)
    // mostly made-up ids beside one envelope held: the owner of a mailbox cannot buy room with it
    await mailboxRules.onDeleteRecords(stranger, await signDeletion(bob, [envelope.id, ...ids.slice(0, 2)], Date.now()))
    assert.equal(kept.size, 0)

    const other = await heldEnvelope(bob)
    const acknowledgement = await signDeletion(bob, [other.id], Date.now())
    await mailboxRules.onDeleteRecords(stranger, acknowledgement)
    await mailboxRules.onDeleteRecords(stranger, await signDeletion(bob, [other.id], Date.now() + 1))
    assert.equal(kept.size, 1)
    assert.deepEqual(kept.naming([other]), [acknowledgement])

    // an owner acknowledging a new message with two acknowledged already: kept, the old ones
    // counting for nothing either way
    const [third, fourth] = [await heldEnvelope(bob), await heldEnvelope(bob)]
    await mailboxRules.onDeleteRecords(stranger, await signDeletion(bob, [third.id], Date.now()))
    const batch = await signDeletion(bob, [fourth.id, other.id, third.id], Date.now())
    await mailboxRules.onDeleteRecords(stranger, batch)
    assert.deepEqual(kept.naming([fourth]), [batch])
  })

  it('remembers no ids it never held of a mailbox the node does not keep, and still deletes what it holds', async () => {
    const bob = await createIdentity()
    const { rules: mailboxRules, tombstones } = await rules(() => false)
    const envelope = await heldEnvelope(bob)
    const early = new Uint8Array(32).fill(7)
    await mailboxRules.onDeleteRecords(stranger, await signDeletion(bob, [envelope.id, early], Date.now()))
    assert.deepEqual(await store.get(envelope.key), [])
    assert.equal(tombstones.size, 1)
    assert.deepEqual(tombstones.admit([envelope]), [])
  })
})
