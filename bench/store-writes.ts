/**
 * What one put costs the record store (LevelDB on disk, as a node runs it) as its key fills up:
 * a mailbox is one key, and each envelope stored on a replica is a put to it. The CPU of each put
 * of one 600-byte record (a chat message's envelope) from a new writer, into a key already holding
 * 0, 100 and 900 records (the timed puts take it to at most 1,000 of MAX_RECORDS_PER_KEY, 1,024),
 * after the store has warmed up.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRecord } from '../src/chord/record.js'
import { openLevelStore } from '../src/storage/level-store.js'
import { cpuMsSince, cpuNow } from './harness/cpu-time.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { LevelRecordStore } from '../src/storage/level-store.js'

/** records already under the key when its puts are timed (and MAX_RECORDS_PER_KEY is 1,024) */
const HELD = [0, 100, 900]

/** a sealed chat message's size, about */
const VALUE_BYTES = 600

/** puts to other keys first, so that the timed ones run compiled code */
const WARMUP_PUTS = 300

const WRITER_BYTES = 8

export const storeWrites: Benchmark = {
  name: 'store-writes',
  description: 'CPU of one put into a key of the LevelDB record store, as the key holds more records',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const timedPuts = context.quick ? 20 : 100
    const dir = await mkdtemp(join(tmpdir(), 'chord-store-writes-'))
    const store = await openLevelStore({ dataDir: dir })
    try {
      for (let i = 0; i < WARMUP_PUTS; i++) {
        await putOne(store, randomBytes(32))
      }
      const rows: Array<{ held: number, cpuMicrosPerPut: number, wallMicrosPerPut: number }> = []
      for (const held of HELD) {
        context.progress(`filling a key with ${held} records`)
        const key = randomBytes(32)
        for (let i = 0; i < held; i++) {
          await putOne(store, key)
        }
        const cpu = cpuNow()
        const started = performance.now()
        for (let i = 0; i < timedPuts; i++) {
          await putOne(store, key)
        }
        rows.push({ held, cpuMicrosPerPut: cpuMsSince(cpu) * 1000 / timedPuts, wallMicrosPerPut: (performance.now() - started) * 1000 / timedPuts })
      }
      return {
        tables: [{
          title: `one put of a ${VALUE_BYTES}-byte record, LevelDB on disk (µs per put, ${timedPuts} puts)`,
          columns: ['records under the key', 'CPU µs', 'wall µs'],
          rows: rows.map(row => [row.held, row.cpuMicrosPerPut.toFixed(0), row.wallMicrosPerPut.toFixed(0)]),
          notes: ['CPU: the whole process, LevelDB\'s own threads included']
        }],
        results: { valueBytes: VALUE_BYTES, timedPuts, rows }
      }
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** One record from a writer of its own, as a replica stores a new sender's envelope */
async function putOne (store: LevelRecordStore, key: Uint8Array): Promise<void> {
  await store.put([createRecord(key, randomBytes(VALUE_BYTES), Date.now() + 3_600_000)], { writer: randomBytes(WRITER_BYTES) })
}
