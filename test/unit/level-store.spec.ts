import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { RING_SIZE, ringIdFromBytes, ringIdToBytes } from '../../src/chord/id.js'
import { InvalidOptionsError, InvalidRecordError, NotStartedError, QuotaExceededError, TooLargeError } from '../../src/errors.js'
import { KEY_TALLY_ENTRIES, MAX_BYTES_PER_KEY, MAX_RECORDS_PER_KEY, MAX_TOTAL_BYTES, MAX_VALUE_SIZE, MIN_WRITER_BYTES, MIN_WRITER_RECORDS_PER_KEY, SUBNET_SHARE, SWEEP_BATCH_SIZE, WRITER_SHARE } from '../../src/storage/constants.js'
import { hour } from '../../src/units.js'
import { SUBLEVELS, openNodeDatabase } from '../../src/storage/database.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import { encodeStats, storedSize } from '../../src/storage/record-layout.js'
import { createRecord } from '../../src/chord/record.js'
import { resolveStoreLimits } from '../../src/storage/store-limits.js'
import type { NodeDatabase } from '../../src/storage/database.js'
import type { LevelRecordStore } from '../../src/storage/level-store.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { StoreLimits } from '../../src/storage/store-limits.js'

const NOW = 1_700_000_000_000
const LATER = NOW + hour
const MAX = RING_SIZE - 1n
const HIGH = 1n << 255n // first byte 0x80: catches any encoding that is not plain bytes

function record (position: bigint, value: string, expiresAt = LATER): ChordRecord {
  return createRecord(ringIdToBytes(position), new TextEncoder().encode(value), expiresAt)
}

function text (records: ChordRecord[]): string[] {
  return records.map(r => new TextDecoder().decode(r.value))
}

async function collect<T> (items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) {
    out.push(item)
  }
  return out
}

for (const backend of ['memory', 'disk'] as const) {
  describe(`level record store (${backend})`, () => {
    let dir: string | undefined
    let database: NodeDatabase
    let store: LevelRecordStore

    async function open (limits?: Partial<StoreLimits>): Promise<void> {
      database = await openNodeDatabase(dir)
      store = await openLevelStore({ database, limits })
    }

    async function reopen (limits?: Partial<StoreLimits>): Promise<void> {
      await store.close()
      await database.close()
      await open(limits)
    }

    /** entries in one of the store's sublevels, read past the store */
    async function rawCount (name: string): Promise<number> {
      const sublevel = database.sublevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' })
      return (await collect(sublevel.keys())).length
    }

    beforeEach(async () => {
      dir = backend === 'disk' ? await mkdtemp(join(tmpdir(), 'chord-store-')) : undefined
      await open()
    })

    afterEach(async () => {
      await store.close()
      await database.close()
      if (dir != null) {
        await rm(dir, { recursive: true, force: true })
      }
    })

    describe('sets of records', () => {
      it('stores the same value under a key once', async () => {
        const a = record(1n, 'a')
        const first = await store.put([a, a], { now: NOW })
        assert.equal(first.added.length, 1)
        const second = await store.put([a], { now: NOW })
        assert.deepEqual([second.added.length, second.existing.length], [0, 1])
        assert.deepEqual(text(await store.get(a.key, { now: NOW })), ['a'])
        assert.equal(store.stats().records, 1)
      })

      it('keeps the later expiry when a record is put again', async () => {
        const key = ringIdToBytes(1n)
        await store.put([record(1n, 'a', LATER + hour)], { now: NOW })
        await store.put([record(1n, 'a', LATER)], { now: NOW })
        assert.equal((await store.get(key, { now: NOW }))[0].expiresAt, LATER + hour)
        await store.put([record(1n, 'a', LATER + 2 * hour)], { now: NOW })
        assert.equal((await store.get(key, { now: NOW }))[0].expiresAt, LATER + 2 * hour)
        // the old expiry left the index: a sweep at the old time keeps the record
        assert.equal(await store.sweepExpired({ now: LATER + hour }), 0)
        assert.equal(await rawCount(SUBLEVELS.expiry), 1)
      })

      it('returns every value under a key, and only that key', async () => {
        await store.put([record(HIGH, 'a'), record(HIGH, 'b'), record(HIGH, 'c'), record(HIGH + 1n, 'd')], { now: NOW })
        const got = await store.get(ringIdToBytes(HIGH), { now: NOW })
        assert.deepEqual(text(got).sort(), ['a', 'b', 'c'])
        for (const r of got) {
          assert.equal(r.value.constructor, Uint8Array)
          assert.equal(ringIdFromBytes(r.key), HIGH)
        }
        assert.deepEqual(text(await store.get(ringIdToBytes(HIGH + 1n), { now: NOW })), ['d'])
        assert.deepEqual(await store.get(ringIdToBytes(2n), { now: NOW }), [])
      })

      it('says which of some ids a key holds live, each once, with its expiry', async () => {
        await store.put([record(1n, 'a'), record(1n, 'b', NOW + 10), record(1n, 'c'), record(2n, 'd')], { now: NOW })
        const ids = (values: string[]): Uint8Array[] => values.map(value => record(1n, value).id)
        const held = await store.held(ringIdToBytes(1n), ids(['a', 'b', 'a', 'd', 'missing']), { now: NOW })
        assert.deepEqual(held.map(summary => summary.id), ids(['a', 'b']))
        assert.deepEqual(held.map(summary => summary.expiresAt), [LATER, NOW + 10])
        assert.deepEqual((await store.held(ringIdToBytes(1n), ids(['a', 'b']), { now: NOW + 10 })).map(summary => summary.id), ids(['a']))
        await assert.rejects(store.held(ringIdToBytes(1n), [new Uint8Array(3)]), InvalidRecordError)
      })

      it('pages a key\'s live records in id order, within a count and a byte budget (the first record whatever its size)', async () => {
        const values = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff']
        await store.put([...values.map(value => record(HIGH, value)), record(HIGH, 'expired', NOW + 10), record(HIGH + 1n, 'other key')], { now: NOW })
        const key = ringIdToBytes(HIGH)
        const inIdOrder = values.map(value => record(HIGH, value)).sort((a, b) => Buffer.compare(a.id, b.id))
        const pages: string[][] = []
        let after: Uint8Array | undefined
        let scanned = 0
        do {
          const page = await store.page(key, { after, maxRecords: 2, maxBytes: 8, now: NOW + 10 })
          scanned += page.scanned
          pages.push(text(page.records))
          after = page.next
        } while (after != null)
        assert.deepEqual(pages.flat(), text(inIdOrder))
        // each page reads on from the last and stops one past itself, whatever the key holds
        assert.ok(scanned <= values.length + 1 + pages.length, `${scanned} headers read for ${pages.length} pages of ${values.length + 1}`)
        assert.ok(pages.every(page => page.length >= 1 && page.length <= 2))
        assert.ok(pages.every(page => page.length === 1 || page.join('').length <= 8))
        const big = await store.page(key, { maxRecords: 10, maxBytes: 0, now: NOW })
        assert.equal(big.records.length, 1, 'a first record over the byte budget still makes a page')
        assert.deepEqual(await store.page(ringIdToBytes(2n), { maxRecords: 10, maxBytes: 100, now: NOW }), { records: [], next: undefined, scanned: 0 })
      })

      it('refuses malformed records', async () => {
        const good = record(1n, 'a')
        await assert.rejects(store.put([{ ...good, id: new Uint8Array(32) }]), InvalidRecordError)
        await assert.rejects(store.put([{ ...good, key: new Uint8Array(31) }]), InvalidRecordError)
        await assert.rejects(store.put([{ ...good, expiresAt: 1.5 }]), InvalidRecordError)
        await assert.rejects(store.get(new Uint8Array(3)), InvalidRecordError)
        await assert.rejects(store.delete(good.key, [new Uint8Array(33)]), InvalidRecordError)
        assert.equal(store.stats().records, 0)
      })
    })

    describe('ring ranges', () => {
      beforeEach(async () => {
        await store.put([0n, 10n, 20n, 30n, HIGH, MAX].map(p => record(p, p.toString(16))), { now: NOW })
      })

      async function positions (from: bigint, to: bigint): Promise<bigint[]> {
        return (await collect(store.range(from, to, { now: NOW }))).map(r => ringIdFromBytes(r.key))
      }

      it('reads (from, to] without wrapping', async () => {
        assert.deepEqual(await positions(10n, 30n), [20n, 30n])
        assert.deepEqual(await positions(9n, 10n), [10n])
        assert.deepEqual(await positions(30n, MAX), [HIGH, MAX])
      })

      it('wraps past zero', async () => {
        assert.deepEqual(await positions(HIGH, 10n), [MAX, 0n, 10n])
        assert.deepEqual(await positions(MAX, 0n), [0n])
      })

      it('reads the whole ring when from === to, starting after from', async () => {
        assert.deepEqual(await positions(20n, 20n), [30n, HIGH, MAX, 0n, 10n, 20n])
        assert.deepEqual(await positions(5n, 5n), [10n, 20n, 30n, HIGH, MAX, 0n])
      })

      it('reads values in batches across a long range', async () => {
        const many = Array.from({ length: 150 }, (_, i) => record(1000n + BigInt(i), `v${i}`))
        await store.put(many, { now: NOW })
        const got = await collect(store.range(999n, 2000n, { now: NOW }))
        assert.deepEqual(text(got), many.map((_, i) => `v${i}`))
      })

      it('summarises a range without values, in the same order', async () => {
        const summaries = await collect(store.summaries(HIGH, 10n, { now: NOW }))
        assert.deepEqual(summaries.map(s => ringIdFromBytes(s.key)), [MAX, 0n, 10n])
        assert.deepEqual(summaries.map(s => s.expiresAt), [LATER, LATER, LATER])
        assert.equal('value' in summaries[0], false)
      })

      it('leaves expired records out of ranges', async () => {
        await store.put([record(25n, 'short', NOW + 10)], { now: NOW })
        assert.deepEqual(await positions(20n, 30n), [25n, 30n])
        const later = (await collect(store.range(20n, 30n, { now: NOW + 10 }))).map(r => ringIdFromBytes(r.key))
        assert.deepEqual(later, [30n])
      })
    })

    describe('digests', () => {
      it('is equal for equal sets, whatever the order and expiry, and differs otherwise', async () => {
        const other = await openLevelStore()
        try {
          const records = [record(1n, 'a'), record(1n, 'b'), record(HIGH, 'c')]
          await store.put(records, { now: NOW })
          await other.put(records.reverse().map(r => ({ ...r, expiresAt: r.expiresAt + hour })), { now: NOW })
          const mine = await store.digest(0n, 0n, { now: NOW })
          assert.deepEqual(await other.digest(0n, 0n, { now: NOW }), mine)
          assert.equal(mine.count, 3)

          await other.put([record(2n, 'd')], { now: NOW })
          const changed = await other.digest(0n, 0n, { now: NOW })
          assert.equal(changed.count, 4)
          assert.notDeepEqual(changed.hash, mine.hash)

          // the same count with a different member still differs
          await other.delete(ringIdToBytes(1n), [record(1n, 'a').id])
          const swapped = await other.digest(0n, 0n, { now: NOW })
          assert.equal(swapped.count, 3)
          assert.notDeepEqual(swapped.hash, mine.hash)

          // outside the range, the difference does not show
          assert.deepEqual(await other.digest(HIGH - 1n, HIGH, { now: NOW }), await store.digest(HIGH - 1n, HIGH, { now: NOW }))
        } finally {
          await other.close()
        }
      })

      it('counts only live records', async () => {
        await store.put([record(1n, 'a', NOW + 10), record(2n, 'b')], { now: NOW })
        assert.equal((await store.digest(0n, 0n, { now: NOW + 10 })).count, 1)
      })

      it('counts every record a scan reads, expired ones too, and reads no more than its limit: a range holding as many is refused as too large', async () => {
        // (MAX, 3] wraps past zero: two spans of the store, one limit
        await store.put([record(MAX, 'a'), record(1n, 'b', NOW + 10), record(2n, 'c'), record(3n, 'd'), record(4n, 'e')], { now: NOW })
        const whole = { read: 0 }
        assert.equal((await store.digest(MAX - 1n, 3n, { now: NOW + 10, tally: whole })).count, 3)
        assert.equal(whole.read, 4)

        const fits = { limit: 5, read: 0 }
        assert.equal((await store.digest(MAX - 1n, 3n, { now: NOW + 10, tally: fits })).count, 3)
        assert.equal(fits.read, 4)
        for (const limit of [4, 2]) {
          const cut = { limit, read: 0 }
          await assert.rejects(store.digest(MAX - 1n, 3n, { now: NOW + 10, tally: cut }), TooLargeError)
          assert.equal(cut.read, limit)
          const listed = { limit, read: 0 }
          await assert.rejects(collect(store.summaries(MAX - 1n, 3n, { now: NOW + 10, tally: listed })), TooLargeError)
          assert.equal(listed.read, limit)
        }
      })
    })

    describe('delete', () => {
      it('removes the given ids of a key and counts what it removed', async () => {
        const a = record(1n, 'a')
        const b = record(1n, 'b')
        await store.put([a, b, record(2n, 'a')], { now: NOW })
        assert.equal(await store.delete(a.key, [a.id, record(1n, 'never stored').id, a.id]), 1)
        assert.deepEqual(text(await store.get(a.key, { now: NOW })), ['b'])
        assert.deepEqual(text(await store.get(ringIdToBytes(2n), { now: NOW })), ['a'])
        assert.equal(await store.delete(a.key, [a.id]), 0)
        assert.deepEqual(store.stats(), { records: 2, bytes: 2 * storedSize(1) })
        for (const name of [SUBLEVELS.records, SUBLEVELS.headers, SUBLEVELS.expiry]) {
          assert.equal(await rawCount(name), 2)
        }
      })
    })

    describe('expiry', () => {
      it('stops returning a record when it expires and removes it from disk on sweep', async () => {
        const r = record(1n, 'a', NOW + 1000)
        await store.put([r], { now: NOW })
        assert.equal((await store.get(r.key, { now: NOW + 999 })).length, 1)
        assert.equal((await store.get(r.key, { now: NOW + 1000 })).length, 0)
        assert.equal(await rawCount(SUBLEVELS.records), 1)

        assert.equal(await store.sweepExpired({ now: NOW + 999 }), 0)
        assert.equal(await store.sweepExpired({ now: NOW + 1000 }), 1)
        for (const name of [SUBLEVELS.records, SUBLEVELS.headers, SUBLEVELS.expiry]) {
          assert.equal(await rawCount(name), 0, name)
        }
        assert.deepEqual(store.stats(), { records: 0, bytes: 0 })
      })

      it('sweeps more than one batch', async () => {
        const count = SWEEP_BATCH_SIZE * 2 + 7
        const records = Array.from({ length: count }, (_, i) => record(BigInt(i), 'x', NOW + 10 + i))
        await store.put(records, { now: NOW })
        await store.put([record(MAX, 'kept')], { now: NOW })
        assert.equal(await store.sweepExpired({ now: NOW + 10 + count }), count)
        assert.equal(await rawCount(SUBLEVELS.records), 1)
        assert.deepEqual(store.stats(), { records: 1, bytes: storedSize(4) })
      })

      it('does not store records that have already expired', async () => {
        const result = await store.put([record(1n, 'old', NOW), record(1n, 'new')], { now: NOW })
        assert.deepEqual(text(result.expired), ['old'])
        assert.deepEqual(text(result.added), ['new'])
        assert.equal(await rawCount(SUBLEVELS.records), 1)
      })

      it('stores again a value whose earlier copy expired', async () => {
        await store.put([record(1n, 'a', NOW + 10)], { now: NOW })
        const result = await store.put([record(1n, 'a', LATER)], { now: NOW + 10 })
        assert.equal(result.added.length, 1)
        assert.equal((await store.get(ringIdToBytes(1n), { now: NOW + 20 }))[0].expiresAt, LATER)
        assert.deepEqual(store.stats(), { records: 1, bytes: storedSize(1) })
        assert.equal(await rawCount(SUBLEVELS.expiry), 1)
      })
    })

    describe('quotas', () => {
      async function assertUnchanged (check: () => Promise<void>): Promise<void> {
        const before = store.stats()
        await check()
        assert.deepEqual(store.stats(), before)
      }

      it('refuses a value over maxValueSize and writes nothing of the batch', async () => {
        await reopen({ maxValueSize: 10 })
        await store.put([record(1n, 'x'.repeat(10))], { now: NOW })
        await assertUnchanged(async () => {
          await assert.rejects(store.put([record(2n, 'ok'), record(3n, 'x'.repeat(11))], { now: NOW }), QuotaExceededError)
        })
        assert.deepEqual(await store.get(ringIdToBytes(2n), { now: NOW }), [])
        assert.equal((await store.get(ringIdToBytes(1n), { now: NOW })).length, 1)
      })

      it('refuses more than maxRecordsPerKey live records under a key', async () => {
        await reopen({ maxRecordsPerKey: 3 })
        await store.put([record(1n, 'a'), record(1n, 'b'), record(1n, 'c', NOW + 10)], { now: NOW })
        await assertUnchanged(async () => {
          await assert.rejects(store.put([record(2n, 'elsewhere'), record(1n, 'd')], { now: NOW }), QuotaExceededError)
        })
        assert.deepEqual(text(await store.get(ringIdToBytes(1n), { now: NOW })).sort(), ['a', 'b', 'c'])
        assert.deepEqual(await store.get(ringIdToBytes(2n), { now: NOW }), [])
        // putting what is already there is not growth
        await store.put([record(1n, 'a', LATER + hour)], { now: NOW })
        // an expired record frees its place
        await store.put([record(1n, 'd')], { now: NOW + 10 })
        assert.deepEqual(text(await store.get(ringIdToBytes(1n), { now: NOW + 10 })).sort(), ['a', 'b', 'd'])
      })

      it('lets exactly maxRecordsPerKey of many concurrent puts in', async () => {
        await reopen({ maxRecordsPerKey: 5 })
        const outcomes = await Promise.allSettled(
          Array.from({ length: 12 }, async (_, i) => await store.put([record(1n, `m${i}`)], { now: NOW }))
        )
        assert.equal(outcomes.filter(o => o.status === 'fulfilled').length, 5)
        for (const o of outcomes) {
          if (o.status === 'rejected') {
            assert.ok(o.reason instanceof QuotaExceededError)
          }
        }
        assert.equal((await store.get(ringIdToBytes(1n), { now: NOW })).length, 5)
      })

      it('refuses more than maxBytesPerKey under a key', async () => {
        await reopen({ maxBytesPerKey: 2 * storedSize(10) })
        await store.put([record(1n, 'a'.repeat(10)), record(1n, 'b'.repeat(10))], { now: NOW })
        await assertUnchanged(async () => {
          await assert.rejects(store.put([record(1n, 'c')], { now: NOW }), QuotaExceededError)
        })
        await store.put([record(2n, 'c'.repeat(10))], { now: NOW })
        assert.equal((await store.get(ringIdToBytes(1n), { now: NOW })).length, 2)
      })

      it('refuses more than maxTotalBytes in the store', async () => {
        await reopen({ maxTotalBytes: 3 * storedSize(10) })
        await store.put([record(1n, 'a'.repeat(10)), record(2n, 'b'.repeat(10)), record(3n, 'c'.repeat(10))], { now: NOW })
        await assertUnchanged(async () => {
          await assert.rejects(store.put([record(4n, 'd')], { now: NOW }), QuotaExceededError)
        })
        assert.equal((await collect(store.range(0n, 0n, { now: NOW }))).length, 3)
      })

      it('sweeps expired records to make room before refusing', async () => {
        await reopen({ maxTotalBytes: 2 * storedSize(10) })
        await store.put([record(1n, 'a'.repeat(10), NOW + 10), record(2n, 'b'.repeat(10))], { now: NOW })
        await store.put([record(3n, 'c'.repeat(10))], { now: NOW + 10 })
        assert.deepEqual(store.stats(), { records: 2, bytes: 2 * storedSize(10) })
        assert.equal(await rawCount(SUBLEVELS.records), 2)
      })

      describe('writers\' shares', () => {
        const alice = new Uint8Array(8).fill(0xa1)
        const bob = new Uint8Array(8).fill(0xb0)

        it('refuses a writer more than maxRecordsPerWriterPerKey records of a key, and nobody else', async () => {
          await reopen({ maxRecordsPerWriterPerKey: 2 })
          await store.put([record(1n, 'a1'), record(1n, 'a2')], { now: NOW, writer: alice })
          await assert.rejects(store.put([record(1n, 'a3')], { now: NOW, writer: alice }), QuotaExceededError)
          // the same writer under another key, another writer, the node's own writes
          await store.put([record(2n, 'a3')], { now: NOW, writer: alice })
          await store.put([record(1n, 'b1'), record(1n, 'b2')], { now: NOW, writer: bob })
          await store.put([record(1n, 'own 1'), record(1n, 'own 2'), record(1n, 'own 3')], { now: NOW })
          assert.equal((await store.get(ringIdToBytes(1n), { now: NOW })).length, 7)
          // a record already there costs nothing, whoever sends it again
          await store.put([record(1n, 'a1')], { now: NOW, writer: alice })
        })

        it('refuses a writer more than maxBytesPerWriterPerKey bytes of a key', async () => {
          await reopen({ maxBytesPerWriterPerKey: storedSize(10) * 2 })
          await store.put([record(1n, '0123456789')], { now: NOW, writer: alice })
          await assert.rejects(store.put([record(1n, '0123456789x')], { now: NOW, writer: alice }), QuotaExceededError)
          await store.put([record(1n, 'abcdefghij')], { now: NOW, writer: alice })
        })

        it('refuses a writer more than maxBytesPerWriter bytes of the store, and gives its share back as its records go', async () => {
          await reopen({ maxBytesPerWriter: storedSize(2) * 3 })
          await store.put([record(1n, 'a1'), record(2n, 'a2')], { now: NOW, writer: alice })
          await store.put([record(3n, 'a3', NOW + 10)], { now: NOW, writer: alice })
          assert.deepEqual(await store.writerStats(alice), { records: 3, bytes: storedSize(2) * 3 })
          await assert.rejects(store.put([record(4n, 'a4')], { now: NOW, writer: alice }), QuotaExceededError)
          await store.put([record(4n, 'b4')], { now: NOW, writer: bob })

          // deleted, and expired and swept: both give the writer its room back
          await store.delete(ringIdToBytes(1n), [record(1n, 'a1').id])
          await store.put([record(4n, 'a4')], { now: NOW, writer: alice })
          await store.sweepExpired({ now: NOW + 10 })
          assert.deepEqual(await store.writerStats(alice), { records: 2, bytes: storedSize(2) * 2 })
          await store.put([record(5n, 'a5')], { now: NOW + 10, writer: alice })
          assert.deepEqual(await store.writerStats(bob), { records: 1, bytes: storedSize(2) })
        })

        it('keeps a record\'s writer through an expiry extension (and, on disk, the writer\'s totals across a reopen)', async () => {
          await reopen({ maxBytesPerWriter: storedSize(2) * 2 })
          await store.put([record(1n, 'a1'), record(2n, 'a2')], { now: NOW, writer: alice })
          // extended by a neighbour (no writer): still alice's
          await store.put([record(1n, 'a1', LATER + 1000)], { now: NOW })
          if (backend === 'disk') {
            await reopen({ maxBytesPerWriter: storedSize(2) * 2 })
          }
          await assert.rejects(store.put([record(3n, 'a3')], { now: NOW, writer: alice }), QuotaExceededError)
          await store.delete(ringIdToBytes(1n), [record(1n, 'a1').id])
          await store.put([record(3n, 'a3')], { now: NOW, writer: alice })
        })

        describe(`subnets' shares (maxBytesPerSubnet, by default SUBNET_SHARE ${SUBNET_SHARE} of the store)`, () => {
          const carol = new Uint8Array(8).fill(0xc0)
          const sybils = Array.from({ length: 5 }, (_, i) => new Uint8Array(8).fill(0x50 + i))
          const HOSTILE = '203.0.113.0/24'
          const ELSEWHERE = '198.51.100.0/24'

          it('defaults to a quarter of the store, never less than one writer\'s share', () => {
            const limits = resolveStoreLimits({ maxTotalBytes: 1024 * 1024 * 1024 })
            assert.equal(limits.maxBytesPerSubnet, 1024 * 1024 * 1024 * SUBNET_SHARE)
            assert.equal(resolveStoreLimits({ maxTotalBytes: 1024 * 1024 * 1024, maxBytesPerWriter: 600 * 1024 * 1024 }).maxBytesPerSubnet, 600 * 1024 * 1024)
          })

          it('refuses the identities of one subnet more than maxBytesPerSubnet together, and nobody elsewhere', async () => {
            await reopen({ maxBytesPerWriter: storedSize(2) * 2, maxBytesPerSubnet: storedSize(2) * 5 })
            // each identity within its own share, the subnet's filled by the third
            await store.put([record(1n, 's1'), record(2n, 's2')], { now: NOW, writer: sybils[0], subnet: HOSTILE })
            await store.put([record(3n, 's3'), record(4n, 's4')], { now: NOW, writer: sybils[1], subnet: HOSTILE })
            await store.put([record(5n, 's5')], { now: NOW, writer: sybils[2], subnet: HOSTILE })
            await assertUnchanged(async () => {
              await assert.rejects(store.put([record(6n, 's6')], { now: NOW, writer: sybils[2], subnet: HOSTILE }), /the writers of 203\.0\.113\.0\/24 would hold/)
              await assert.rejects(store.put([record(6n, 's6')], { now: NOW, writer: sybils[3], subnet: HOSTILE }), QuotaExceededError)
            })
            assert.deepEqual(await store.subnetStats(HOSTILE), { records: 5, bytes: storedSize(2) * 5 })
            // another subnet, loopback (no subnet), the node's own writes
            await store.put([record(6n, 'c6')], { now: NOW, writer: carol, subnet: ELSEWHERE })
            await store.put([record(6n, 'b6')], { now: NOW, writer: bob })
            await store.put([record(6n, 'o6')], { now: NOW })
            // a record already held costs nothing
            await store.put([record(1n, 's1')], { now: NOW, writer: sybils[0], subnet: HOSTILE })
          })

          it('counts a writer under the first subnet it wrote from, through repairs and other addresses, until it holds nothing', async () => {
            await reopen({ maxBytesPerSubnet: storedSize(2) * 3 })
            await store.put([record(1n, 's1'), record(2n, 's2')], { now: NOW, writer: sybils[0], subnet: HOSTILE })
            // the same identity from elsewhere, and its records repaired in by a neighbour: still the first subnet's
            await store.put([record(3n, 's3')], { now: NOW, writer: sybils[0], subnet: ELSEWHERE })
            await assert.rejects(store.put([record(4n, 's4')], { now: NOW, writer: sybils[0], subnet: ELSEWHERE }), QuotaExceededError)
            const repaired = { ...record(5n, 'r5'), writer: sybils[0] }
            const skipped = await store.put([repaired], { now: NOW, overShare: 'skip' })
            assert.equal(skipped.overShare.length, 1)
            assert.deepEqual(await store.subnetStats(ELSEWHERE), { records: 0, bytes: 0 })
            // deleted and swept, the subnet gets its share back; once the writer holds nothing it may count elsewhere
            await store.delete(ringIdToBytes(1n), [record(1n, 's1').id])
            assert.deepEqual(await store.subnetStats(HOSTILE), { records: 2, bytes: storedSize(2) * 2 })
            await store.delete(ringIdToBytes(2n), [record(2n, 's2').id])
            await store.delete(ringIdToBytes(3n), [record(3n, 's3').id])
            assert.deepEqual(await store.subnetStats(HOSTILE), { records: 0, bytes: 0 })
            await store.put([record(4n, 's4')], { now: NOW, writer: sybils[0], subnet: ELSEWHERE })
            assert.deepEqual(await store.subnetStats(ELSEWHERE), { records: 1, bytes: storedSize(2) })
          })

          it('counts a neighbour\'s repair under the subnet it names for each writer, and names it in what it hands on', async () => {
            await reopen({ maxBytesPerSubnet: storedSize(2) * 2 })
            const repaired = (key: bigint, value: string, writer: Uint8Array, writerSubnet?: string): ChordRecord => ({ ...record(key, value), writer, ...(writerSubnet == null ? {} : { writerSubnet }) })
            // copies of two identities' records, both of one subnet on the node that sends them: the third left out
            const written = await store.put([repaired(1n, 's1', sybils[0], HOSTILE), repaired(2n, 's2', sybils[1], HOSTILE), repaired(3n, 's3', sybils[1], HOSTILE)], { now: NOW, overShare: 'skip' })
            assert.deepEqual([written.added.length, written.overShare.length], [2, 1])
            assert.deepEqual(await store.subnetStats(HOSTILE), { records: 2, bytes: storedSize(2) * 2 })
            // the identities now count there when they write themselves, from anywhere
            await assert.rejects(store.put([record(4n, 's4')], { now: NOW, writer: sybils[2], subnet: HOSTILE }), QuotaExceededError)
            await assert.rejects(store.put([record(4n, 's4')], { now: NOW, writer: sybils[0], subnet: ELSEWHERE }), QuotaExceededError)
            // what the node hands a neighbour names each writer's subnet; a writer under none, none
            await store.put([record(5n, 'c5')], { now: NOW, writer: carol })
            const handed = await collect(store.range(0n, 0n, { now: NOW, withWriters: true }))
            assert.deepEqual(handed.map(r => [text([r])[0], r.writerSubnet]).sort(), [['c5', undefined], ['s1', HOSTILE], ['s2', HOSTILE]])
            assert.deepEqual((await store.get(ringIdToBytes(1n), { now: NOW, withWriters: true })).map(r => r.writerSubnet), [HOSTILE])
            assert.deepEqual((await store.get(ringIdToBytes(1n), { now: NOW })).map(r => r.writerSubnet), [undefined])
          })

          if (backend === 'disk') {
            it('makes each subnet\'s totals the sum of its writers\' again when it opens, whatever was left on disk', async () => {
              await store.put([record(1n, 's1'), record(2n, 's2')], { now: NOW, writer: sybils[0], subnet: HOSTILE })
              await store.put([record(3n, 's3')], { now: NOW, writer: sybils[1], subnet: HOSTILE })
              // totals off by what an earlier build, or a crash of the disk, could leave
              const meta = database.sublevel<string, Uint8Array>(SUBLEVELS.meta, { valueEncoding: 'view' })
              await meta.put(`subnet/${HOSTILE}`, encodeStats({ records: 1000, bytes: 1_000_000 }))
              await meta.put(`subnet/${ELSEWHERE}`, encodeStats({ records: 1, bytes: 1 }))
              await reopen()
              assert.deepEqual(await store.subnetStats(HOSTILE), { records: 3, bytes: storedSize(2) * 3 })
              assert.deepEqual(await store.subnetStats(ELSEWHERE), { records: 0, bytes: 0 })
            })
          }

          it('takes on what a writer held before it was first seen from a subnet (and keeps the totals across a reopen on disk)', async () => {
            await reopen({ maxBytesPerSubnet: storedSize(2) * 3 })
            // stored through a relay (no subnet known), then the writer comes itself
            await store.put([record(1n, 's1'), record(2n, 's2')], { now: NOW, writer: sybils[0] })
            await store.put([record(3n, 's3', NOW + 10)], { now: NOW, writer: sybils[0], subnet: HOSTILE })
            assert.deepEqual(await store.subnetStats(HOSTILE), { records: 3, bytes: storedSize(2) * 3 })
            if (backend === 'disk') {
              await reopen({ maxBytesPerSubnet: storedSize(2) * 3 })
            }
            await assert.rejects(store.put([record(4n, 's4')], { now: NOW, writer: sybils[1], subnet: HOSTILE }), QuotaExceededError)
            await store.sweepExpired({ now: NOW + 10 })
            assert.deepEqual(await store.subnetStats(HOSTILE), { records: 2, bytes: storedSize(2) * 2 })
            await store.put([record(4n, 's4')], { now: NOW + 10, writer: sybils[1], subnet: HOSTILE })
          })
        })

        it('refuses a writer named by other than 8 bytes', async () => {
          await assert.rejects(store.put([record(1n, 'x')], { now: NOW, writer: new Uint8Array(7) }), InvalidRecordError)
        })
      })

      it('rejects limits that are not positive integers', () => {
        assert.throws(() => resolveStoreLimits({ maxTotalBytes: 0 }), InvalidOptionsError)
        assert.throws(() => resolveStoreLimits({ maxValueSize: 1.5 }), InvalidOptionsError)
        assert.equal(resolveStoreLimits({ maxRecordsPerKey: 7 }).maxRecordsPerKey, 7)
      })
    })

    describe('key tallies (what a put checks without reading its key\'s headers)', () => {
      const writers = [new Uint8Array(8).fill(1), new Uint8Array(8).fill(2), undefined]
      const SUBNET = '192.0.2.0/24'
      type Step =
        | { op: 'put', key: number, value: number, writer: number, ttl: number }
        | { op: 'delete', key: number, value: number }
        | { op: 'sweep' }
        | { op: 'wait', ms: number }
      const step: fc.Arbitrary<Step> = fc.oneof(
        { weight: 6, arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.nat(1), value: fc.nat(7), writer: fc.nat(2), ttl: fc.integer({ min: 1, max: 60 }) }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(1), value: fc.nat(7) }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('sweep' as const) }) },
        { weight: 2, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 15 }) }) }
      )

      it('takes and refuses exactly what a count of the key\'s live records would, through puts, expiries, deletions and sweeps, its writers\' subnet counting what they hold', async () => {
        const limits = { maxRecordsPerKey: 5, maxRecordsPerWriterPerKey: 3 }
        await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 60 }), async steps => {
          await reopen(limits)
          // on disk, the run before left its records
          for (const key of [0n, 1n]) {
            await store.delete(ringIdToBytes(key), Array.from({ length: 8 }, (_, value) => record(key, `v${value}`).id))
          }
          /** the model: each key's records by value, with expiry and writer */
          const model = new Map<number, Map<number, { expiresAt: number, writer: number }>>([[0, new Map()], [1, new Map()]])
          let now = NOW
          for (const s of steps) {
            if (s.op === 'wait') {
              now += s.ms
            } else if (s.op === 'sweep') {
              await store.sweepExpired({ now })
            } else if (s.op === 'delete') {
              await store.delete(ringIdToBytes(BigInt(s.key)), [record(BigInt(s.key), `v${s.value}`).id])
              model.get(s.key)?.delete(s.value)
            } else {
              const held = model.get(s.key) ?? new Map()
              const live = [...held].filter(([, r]) => r.expiresAt > now)
              const old = held.get(s.value)
              const expiresAt = now + s.ttl
              const fits = live.length < limits.maxRecordsPerKey &&
                (writers[s.writer] == null || live.filter(([, r]) => r.writer === s.writer).length < limits.maxRecordsPerWriterPerKey)
              // both writers wrote from one subnet: its totals must stay the sum of theirs
              const put = store.put([record(BigInt(s.key), `v${s.value}`, expiresAt)], { now, writer: writers[s.writer], subnet: writers[s.writer] == null ? undefined : SUBNET })
              if (old != null && old.expiresAt > now) {
                await put
                old.expiresAt = Math.max(old.expiresAt, expiresAt)
              } else if (fits) {
                await put
                held.set(s.value, { expiresAt, writer: s.writer })
              } else {
                await assert.rejects(put, QuotaExceededError)
              }
            }
            const [first, second] = await Promise.all(writers.slice(0, 2).map(async writer => await store.writerStats(writer ?? new Uint8Array(8))))
            assert.deepEqual(await store.subnetStats(SUBNET), { records: first.records + second.records, bytes: first.bytes + second.bytes })
            for (const [key, held] of model) {
              const expected = [...held].filter(([, r]) => r.expiresAt > now).map(([value]) => `v${value}`).sort()
              assert.deepEqual(text(await store.get(ringIdToBytes(BigInt(key)), { now })).sort(), expected)
            }
          }
        }), { seed: 0x7a11e5, numRuns: backend === 'memory' ? 150 : 25 })
      })

      it(`counts a key right again once its tally is evicted (more than KEY_TALLY_ENTRIES, ${KEY_TALLY_ENTRIES}, keys written since)`, async () => {
        await reopen({ maxRecordsPerKey: 2 })
        await store.put([record(HIGH, 'a'), record(HIGH, 'b')], { now: NOW })
        await store.put(Array.from({ length: KEY_TALLY_ENTRIES + 1 }, (_, i) => record(BigInt(i + 1), 'other')), { now: NOW })
        await assert.rejects(store.put([record(HIGH, 'c')], { now: NOW }), QuotaExceededError)
        await store.delete(ringIdToBytes(HIGH), [record(HIGH, 'a').id])
        await store.put([record(HIGH, 'c')], { now: NOW })
        await assert.rejects(store.put([record(HIGH, 'd')], { now: NOW }), QuotaExceededError)
      })
    })

    describe('stats and lifecycle', () => {
      it('keeps counts that match what is stored', async () => {
        await store.put([record(1n, 'aa'), record(1n, 'b', NOW + 10), record(HIGH, 'ccc')], { now: NOW })
        await store.delete(ringIdToBytes(HIGH), [record(HIGH, 'ccc').id])
        await store.sweepExpired({ now: NOW + 10 })
        assert.deepEqual(store.stats(), { records: 1, bytes: storedSize(2) })
        assert.equal(await rawCount(SUBLEVELS.records), 1)
      })

      if (backend === 'disk') {
        it('keeps records and counts across a reopen', async () => {
          await store.put([record(1n, 'aa'), record(2n, 'b'), record(HIGH, 'ccc')], { now: NOW })
          await store.delete(ringIdToBytes(2n), [record(2n, 'b').id])
          const before = store.stats()
          await reopen()
          assert.deepEqual(store.stats(), before)
          assert.deepEqual(text(await collect(store.range(0n, 0n, { now: NOW }))), ['aa', 'ccc'])
        })
      }

      it('refuses to work once closed, and closes twice without harm', async () => {
        await store.close()
        await store.close()
        await assert.rejects(store.put([record(1n, 'a')]), NotStartedError)
        await assert.rejects(store.get(ringIdToBytes(1n)), NotStartedError)
        await assert.rejects(collect(store.range(0n, 0n)), NotStartedError)
        // the shared database stays open for its other users
        assert.equal(database.status, 'open')
      })

      it('serves again when the same store and database are opened after being closed (a node started again)', async () => {
        await store.put([record(1n, 'a')], { now: NOW })
        await store.close()
        await database.close()

        await database.open()
        await store.open()

        assert.deepEqual(text(await store.get(ringIdToBytes(1n), { now: NOW })), ['a'])
        await store.put([record(2n, 'bb')], { now: NOW })
        assert.deepEqual(store.stats(), { records: 2, bytes: storedSize(1) + storedSize(2) })
      })
    })
  })
}

describe('level record store default limits', () => {
  let store: LevelRecordStore

  beforeEach(async () => {
    store = await openLevelStore()
  })

  afterEach(async () => {
    await store.close()
  })

  function sized (position: bigint, size: number, tag: number): ChordRecord {
    const value = new Uint8Array(size)
    new DataView(value.buffer).setUint32(0, tag)
    return createRecord(ringIdToBytes(position), value, LATER)
  }

  it(`takes values up to MAX_VALUE_SIZE (${MAX_VALUE_SIZE} bytes)`, async () => {
    await store.put([sized(1n, MAX_VALUE_SIZE, 0)], { now: NOW })
    await assert.rejects(store.put([sized(2n, MAX_VALUE_SIZE + 1, 0)], { now: NOW }), QuotaExceededError)
  })

  it(`takes up to MAX_RECORDS_PER_KEY (${MAX_RECORDS_PER_KEY}) records under a key`, async () => {
    await store.put(Array.from({ length: MAX_RECORDS_PER_KEY }, (_, i) => sized(1n, 4, i)), { now: NOW })
    await assert.rejects(store.put([sized(1n, 4, MAX_RECORDS_PER_KEY)], { now: NOW }), QuotaExceededError)
  })

  it(`takes WRITER_SHARE (${WRITER_SHARE}) of each quota from one writer: ${Math.ceil(MAX_RECORDS_PER_KEY * WRITER_SHARE)} records of a key, ${Math.ceil(MAX_TOTAL_BYTES * WRITER_SHARE)} bytes of the store`, async () => {
    const writer = new Uint8Array(8).fill(1)
    const share = MAX_RECORDS_PER_KEY * WRITER_SHARE
    assert.equal(resolveStoreLimits().maxRecordsPerWriterPerKey, share)
    assert.equal(resolveStoreLimits().maxBytesPerWriterPerKey, MAX_BYTES_PER_KEY * WRITER_SHARE)
    assert.equal(resolveStoreLimits().maxBytesPerWriter, MAX_TOTAL_BYTES * WRITER_SHARE)
    await store.put(Array.from({ length: share }, (_, i) => sized(1n, 4, i)), { now: NOW, writer })
    await assert.rejects(store.put([sized(1n, 4, share)], { now: NOW, writer }), QuotaExceededError)
    // a store of a few KiB still takes a few values of a key, and a few MiB, from one writer
    const small = resolveStoreLimits({ maxRecordsPerKey: 3, maxTotalBytes: 4096 })
    assert.equal(small.maxRecordsPerWriterPerKey, MIN_WRITER_RECORDS_PER_KEY)
    assert.equal(small.maxBytesPerWriter, MIN_WRITER_BYTES)
  })

  it(`takes up to MAX_BYTES_PER_KEY (${MAX_BYTES_PER_KEY} bytes) under a key`, async () => {
    const fit = Math.floor(MAX_BYTES_PER_KEY / storedSize(MAX_VALUE_SIZE))
    await store.put(Array.from({ length: fit }, (_, i) => sized(1n, MAX_VALUE_SIZE, i)), { now: NOW })
    await assert.rejects(store.put([sized(1n, MAX_VALUE_SIZE, fit)], { now: NOW }), QuotaExceededError)
  })
})

describe('openLevelStore with a database of its own', () => {
  it('opens in memory when given no directory and closes the database with the store', async () => {
    const store = await openLevelStore()
    await store.put([record(1n, 'a')], { now: NOW })
    assert.equal((await store.get(ringIdToBytes(1n), { now: NOW })).length, 1)
    await store.close()
  })

  it('opens on disk in a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chord-store-'))
    try {
      let store = await openLevelStore({ dataDir: dir })
      await store.put([record(1n, 'a')], { now: NOW })
      await store.close()
      store = await openLevelStore({ dataDir: dir })
      assert.equal((await store.get(ringIdToBytes(1n), { now: NOW })).length, 1)
      await store.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
