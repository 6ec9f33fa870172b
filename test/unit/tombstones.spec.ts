import assert from 'node:assert/strict'
import { MAX_UNHELD_TOMBSTONES_PER_MAILBOX, Tombstones } from '../../src/mailbox/tombstones.js'
import { openNodeDatabase } from '../../src/storage/database.js'
import { createRecord } from '../../src/chord/record.js'
import type { NodeDatabase } from '../../src/storage/database.js'

async function openTombstones (database: NodeDatabase): Promise<Tombstones> {
  const tombstones = new Tombstones(database)
  await tombstones.open()
  return tombstones
}

const mailboxA = new Uint8Array(32).fill(1)
const mailboxB = new Uint8Array(32).fill(2)
const LATER = Date.now() + 60_000

function envelopeIn (mailbox: Uint8Array, n: number): ReturnType<typeof createRecord> {
  return createRecord(mailbox, new TextEncoder().encode(`envelope ${n}`), LATER)
}

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
    const early = Array.from({ length: MAX_UNHELD_TOMBSTONES_PER_MAILBOX + 1 }, (_, i) => envelopeIn(mailboxA, i))
    await tombstones.addIfRoom(early)
    assert.equal(tombstones.size, MAX_UNHELD_TOMBSTONES_PER_MAILBOX)
    assert.equal(tombstones.admit(early).length, 1, 'the one past the allowance is let go')
    // another mailbox has its own allowance
    await tombstones.addIfRoom([envelopeIn(mailboxB, 0)])
    assert.equal(tombstones.size, MAX_UNHELD_TOMBSTONES_PER_MAILBOX + 1)
  })

  it('survives a reopen and forgets what has expired', async () => {
    const tombstones = await openTombstones(database)
    await tombstones.add([envelopeIn(mailboxA, 1), createRecord(mailboxA, new Uint8Array([9]), 1000)], 0)
    const reopened = await openTombstones(database)
    assert.equal(reopened.size, 2)
    await reopened.sweep(2000)
    assert.equal(reopened.size, 1)
  })
})
