/**
 * How fast a mailbox takes envelopes from senders that are not its node's ring neighbours: each
 * sender an eighth of the mailbox's rate, all of them the whole rate, and past it, envelopes that
 * carry a stamp of the work the node asks.
 */
import assert from 'node:assert/strict'
import { createRecord } from '../../src/chord/record.js'
import { ForbiddenError, QuotaExceededError, RateLimitedError } from '../../src/errors.js'
import { createIdentity } from '../../src/index.js'
import { MAX_ENVELOPES_PER_MAILBOX_PER_WINDOW, MAX_ENVELOPES_PER_SENDER_PER_WINDOW, MAX_RATED_MAILBOXES, MAX_STAMP_DIFFICULTY, MAILBOX_ACCEPT_WINDOW, STAMP_BYTES } from '../../src/mailbox/constants.js'
import { MailboxRules } from '../../src/mailbox/namespace-rules.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { seal } from '../../src/mailbox/seal.js'
import { makeStamp, stampWork } from '../../src/mailbox/stamp.js'
import { KeptDeletions } from '../../src/mailbox/kept-deletions.js'
import { Tombstones } from '../../src/mailbox/tombstones.js'
import { openNodeDatabase } from '../../src/storage/database.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import type { MailboxRulesInit } from '../../src/mailbox/namespace-rules.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { Replication } from '../../src/chord/replication.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { Identity } from '../../src/index.js'
import type { LevelRecordStore } from '../../src/storage/level-store.js'

const self: NodeRef = { id: 1n, peer: 'self' }
const neighbour: NodeRef = { id: 2n, peer: 'neighbour' }
const sender = (i: number): NodeRef => ({ id: BigInt(100 + i), peer: `sender ${i}` })
/** The first byte of the made-up mailbox keys the node of these tests does not keep */
const NOT_KEPT = 0xee

describe('a mailbox\'s acceptance rates', function () {
  this.timeout(60_000)
  let store: LevelRecordStore
  let bob: Identity
  let alice: Identity
  let envelopes: Uint8Array[]

  before(async () => {
    // Bob's mailbox is one the node keeps: a key made at random starts with NOT_KEPT once in 256
    do {
      bob = await createIdentity()
    } while (mailboxKey(bob.publicKey)[0] === NOT_KEPT)
    alice = await createIdentity()
    envelopes = await Promise.all(Array.from({ length: MAX_ENVELOPES_PER_MAILBOX_PER_WINDOW + 2 }, async (_, i) => seal(alice, bob.publicKey, new TextEncoder().encode(`m${i}`))))
  })

  async function rules (options: Pick<MailboxRulesInit, 'stampDifficulty' | 'acceptance'> = {}): Promise<MailboxRules> {
    store = await openLevelStore()
    const database = await openNodeDatabase()
    const tombstones = new Tombstones(database)
    await tombstones.open()
    const kept = new KeptDeletions(database)
    await kept.open()
    // every mailbox is kept but the made-up ones of NOT_KEPT
    const keeps = (record: ChordRecord): boolean => record.key[0] !== NOT_KEPT
    const replication = {
      onStoreRecords: async (_from: NodeRef, records: ChordRecord[]) => {
        if (!records.some(keeps)) {
          throw new ForbiddenError('none of the records is of a key this node keeps')
        }
        return store.put(records.filter(keeps))
      },
      keptOf: async (records: ChordRecord[]) => records.filter(keeps)
    } as unknown as Replication
    return new MailboxRules({ self, replication, store, tombstones, kept, maxTtl: 3_600_000, isNeighbour: peer => peer === neighbour.peer, ...options })
  }

  afterEach(async () => { await store.close() })

  const recordOf = (i: number): ChordRecord => createRecord(mailboxKey(bob.publicKey), envelopes[i], Date.now() + 60_000)

  it(`takes MAX_ENVELOPES_PER_SENDER_PER_WINDOW (${MAX_ENVELOPES_PER_SENDER_PER_WINDOW}) from one sender and MAX_ENVELOPES_PER_MAILBOX_PER_WINDOW (${MAX_ENVELOPES_PER_MAILBOX_PER_WINDOW}) from all, then refuses with when to retry`, async () => {
    const mailbox = await rules()
    let next = 0
    const senders = MAX_ENVELOPES_PER_MAILBOX_PER_WINDOW / MAX_ENVELOPES_PER_SENDER_PER_WINDOW
    for (let s = 0; s < senders; s++) {
      for (let i = 0; i < MAX_ENVELOPES_PER_SENDER_PER_WINDOW; i++) {
        await mailbox.onStoreRecords(sender(s), [recordOf(next++)])
      }
      if (s === 0) {
        await assert.rejects(mailbox.onStoreRecords(sender(0), [recordOf(next)]), (err: RateLimitedError) =>
          err instanceof RateLimitedError && err.retryAfterMs != null && err.retryAfterMs > 0 && err.retryAfterMs <= MAILBOX_ACCEPT_WINDOW && err.stampDifficulty == null)
      }
    }
    // the mailbox's whole rate is spent: a new sender is refused too
    await assert.rejects(mailbox.onStoreRecords(sender(senders), [recordOf(next)]), RateLimitedError)
    // an envelope it holds already costs nothing
    await mailbox.onStoreRecords(sender(senders), [recordOf(0)])
  })

  it('does not count a ring neighbour\'s repairs, nor the node\'s own writes', async () => {
    const mailbox = await rules({ acceptance: { perMailbox: 2, perSender: 1 } })
    await mailbox.onStoreRecords(sender(0), [recordOf(0)])
    await mailbox.onStoreRecords(sender(1), [recordOf(1)])
    await assert.rejects(mailbox.onStoreRecords(sender(2), [recordOf(2)]), RateLimitedError)
    await mailbox.onStoreRecords(neighbour, [recordOf(3), recordOf(4)])
    await mailbox.onStoreRecords(self, [recordOf(5)])
  })

  it('counts an envelope carried through a relay against the relay\'s share and its writer\'s both, a neighbour relay\'s too', async () => {
    const mailbox = await rules({ acceptance: { perMailbox: 8, perSender: 2 } })
    // the writer sends one itself and one carried: its share is spent, however it sends
    await mailbox.onStoreRecords(sender(0), [recordOf(0)])
    await mailbox.onStoreRecords(sender(1), [recordOf(1)], [], { carriedFor: sender(0).peer })
    await assert.rejects(mailbox.onStoreRecords(sender(2), [recordOf(2)], [], { carriedFor: sender(0).peer }), RateLimitedError)
    await assert.rejects(mailbox.onStoreRecords(sender(0), [recordOf(2)]), RateLimitedError)
    // fresh writers through one relay share the relay's: its one left, then none
    await mailbox.onStoreRecords(sender(1), [recordOf(3)], [], { carriedFor: sender(3).peer })
    await assert.rejects(mailbox.onStoreRecords(sender(1), [recordOf(4)], [], { carriedFor: sender(4).peer }), RateLimitedError)
    // a ring neighbour that hands over a carried envelope is a sender, not a repair
    await mailbox.onStoreRecords(neighbour, [recordOf(5)], [], { carriedFor: sender(5).peer })
    await mailbox.onStoreRecords(neighbour, [recordOf(6)], [], { carriedFor: sender(6).peer })
    await assert.rejects(mailbox.onStoreRecords(neighbour, [recordOf(7)], [], { carriedFor: sender(7).peer }), RateLimitedError)
  })

  it('gives the rates back when the write after them is refused: the STORE that follows pays once', async () => {
    const mailbox = await rules({ acceptance: { perMailbox: 8, perSender: 1 } })
    // a store that refuses the next write (a writer past its share, a full disk)
    const put = store.put.bind(store)
    let refuse = true
    store.put = async (...args) => {
      if (refuse) {
        refuse = false
        throw new QuotaExceededError('full')
      }
      return put(...args)
    }
    await assert.rejects(mailbox.onStoreRecords(sender(0), [recordOf(0)], [], { carriedFor: sender(1).peer }), QuotaExceededError)
    // the writer's one envelope this window, and the relay's, are theirs still
    await mailbox.onStoreRecords(sender(1), [recordOf(0)])
    await mailbox.onStoreRecords(sender(0), [recordOf(1)])
    await assert.rejects(mailbox.onStoreRecords(sender(1), [recordOf(2)]), RateLimitedError)
  })

  it('remembers the rates of MAX_RATED_MAILBOXES mailboxes: past it, a flood of lightly used ones forgets no rate spent or nearly spent', async () => {
    const mailbox = await rules({ acceptance: { perMailbox: 8, perSender: 4 } })
    // sender 0 one short of its share, sender 1 at it; bob's mailbox one short of its rate
    await mailbox.onStoreRecords(sender(0), [recordOf(0), recordOf(1), recordOf(2)])
    await mailbox.onStoreRecords(sender(1), [recordOf(3), recordOf(4), recordOf(5), recordOf(6)])
    // the i-th other mailbox, rated after bob's; STOREs of many mailboxes each, to keep it quick
    const elsewhere = (i: number): ChordRecord => {
      const key = new Uint8Array(mailboxKey(bob.publicKey).byteLength)
      new DataView(key.buffer).setUint32(0, i + 1)
      return createRecord(key, envelopes[0], Date.now() + 60_000)
    }
    // twice as many as are remembered, by another sender, one envelope each
    for (let start = 0; start < 2 * MAX_RATED_MAILBOXES; start += 256) {
      await mailbox.onStoreRecords(sender(2), Array.from({ length: 256 }, (_, i) => elsewhere(start + i)))
    }
    await assert.rejects(mailbox.onStoreRecords(sender(1), [recordOf(7)]), RateLimitedError, 'sender 1\'s spent share is still remembered')
    await mailbox.onStoreRecords(sender(0), [recordOf(7)])
    await assert.rejects(mailbox.onStoreRecords(sender(0), [recordOf(8)]), RateLimitedError, 'sender 0 had one envelope left, not a fresh share')
    await assert.rejects(mailbox.onStoreRecords(sender(3), [recordOf(8)]), RateLimitedError, 'bob\'s mailbox has taken its rate: that is remembered too')
  })

  it('charges nothing, and remembers nothing, for a STORE of mailboxes the node does not keep: a flood of them forgets no spent rate', async () => {
    const mailbox = await rules({ acceptance: { perMailbox: 8, perSender: 1 } })
    await mailbox.onStoreRecords(sender(0), [recordOf(0)])
    const madeUp = (i: number): ChordRecord => {
      const key = new Uint8Array(32).fill(NOT_KEPT)
      new DataView(key.buffer).setUint32(1, i)
      return createRecord(key, envelopes[0], Date.now() + 60_000)
    }
    for (let start = 0; start < 2 * MAX_RATED_MAILBOXES; start += 1024) {
      await assert.rejects(mailbox.onStoreRecords(sender(0), Array.from({ length: 1024 }, (_, i) => madeUp(start + i))), ForbiddenError)
    }
    await assert.rejects(mailbox.onStoreRecords(sender(0), [recordOf(1)]), RateLimitedError, 'its share of bob\'s mailbox is still spent')
  })

  it('takes an envelope stamped with the work it asks once the rate is spent, and only that', async () => {
    const mailbox = await rules({ stampDifficulty: 6 })
    for (let i = 0; i < MAX_ENVELOPES_PER_SENDER_PER_WINDOW; i++) {
      await mailbox.onStoreRecords(sender(0), [recordOf(i)])
    }
    const unpaid = recordOf(MAX_ENVELOPES_PER_SENDER_PER_WINDOW)
    await assert.rejects(mailbox.onStoreRecords(sender(0), [unpaid]), (err: RateLimitedError) => err instanceof RateLimitedError && err.stampDifficulty === 6)
    const stamp = await makeStamp(unpaid.key, unpaid.id, 6)
    assert.ok(stampWork(unpaid.key, unpaid.id, stamp) >= 6)
    // bound to its envelope: the same stamp on another is (almost surely) worth less
    const other = recordOf(MAX_ENVELOPES_PER_SENDER_PER_WINDOW + 1)
    if (stampWork(other.key, other.id, stamp) < 6) {
      await assert.rejects(mailbox.onStoreRecords(sender(0), [{ ...other, stamp }]), RateLimitedError)
    }
    await mailbox.onStoreRecords(sender(0), [{ ...unpaid, stamp }])
  })

  it(`makes stamps of 1 to MAX_STAMP_DIFFICULTY (${MAX_STAMP_DIFFICULTY}) bits, of STAMP_BYTES (${STAMP_BYTES}) bytes`, async () => {
    const key = new Uint8Array(32).fill(1)
    const id = new Uint8Array(32).fill(2)
    const stamp = await makeStamp(key, id, 10)
    assert.equal(stamp.byteLength, STAMP_BYTES)
    assert.ok(stampWork(key, id, stamp) >= 10)
    assert.equal(stampWork(key, id, new Uint8Array(STAMP_BYTES + 1)), 0)
    await assert.rejects(makeStamp(key, id, MAX_STAMP_DIFFICULTY + 1))
    await assert.rejects(makeStamp(key, id, 0))
  })
})
