import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { SUBLEVELS, openNodeDatabase } from '../../src/storage/database.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import { parseHeader, storedSize } from '../../src/storage/record-layout.js'

const WRITER = fileURLToPath(new URL('../fixtures/durable-writer.ts', import.meta.url))
/** acknowledged puts after which the writer is killed, per round */
const ACKS_BEFORE_KILL = 40
const ROUNDS = 8
/** longest wait for the writer's acknowledgements, and for it to die */
const DEADLINE_MS = 30_000

interface Ack { key: string, id: string }

/**
 * Run the writer until it has acknowledged `count` puts, then SIGKILL it mid-stream. Resolves
 * with every acknowledgement it printed, including any that arrived before it died.
 */
async function writeThenKill (dataDir: string, first: number, count: number): Promise<Ack[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, String(first), '100000'], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const acks: Ack[] = []
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  const lines = createInterface({ input: child.stdout })
  const drained = new Promise<void>(resolve => lines.once('close', resolve))
  let timer: NodeJS.Timeout | undefined

  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`writer acknowledged ${acks.length} of ${count} in ${DEADLINE_MS} ms`)) }, DEADLINE_MS)
      lines.on('line', line => {
        const [key, id] = line.split(' ')
        acks.push({ key, id })
        if (acks.length === count) {
          child.kill('SIGKILL')
          resolve()
        }
      })
      child.once('exit', code => { reject(new Error(`writer exited (${code}) before ${count} puts: ${stderr}`)) })
    })
    await exited
    // acknowledgements still buffered in the pipe when it died were acknowledged too
    await drained
  } finally {
    clearTimeout(timer)
    child.kill('SIGKILL')
  }
  return acks
}

describe('record store durability', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chord-durability-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps every record whose put resolved when the process is killed with SIGKILL', async () => {
    const acked: Ack[] = []
    for (let round = 0; round < ROUNDS; round++) {
      acked.push(...await writeThenKill(dir, round * 100_000, ACKS_BEFORE_KILL))
    }
    assert.ok(acked.length >= ROUNDS * ACKS_BEFORE_KILL)

    const database = await openNodeDatabase(dir)
    try {
      const store = await openLevelStore({ database })
      for (const { key, id } of acked) {
        const stored = await store.get(uint8ArrayFromString(key, 'base16'))
        assert.ok(stored.some(r => uint8ArrayFromString(id, 'base16').every((b, i) => r.id[i] === b)), `record ${id} lost`)
      }

      // the persisted counters went down with the data, batch by batch: they still match it
      const headers = database.sublevel<Uint8Array, Uint8Array>(SUBLEVELS.headers, { keyEncoding: 'view', valueEncoding: 'view' })
      let records = 0
      let bytes = 0
      for await (const value of headers.values()) {
        records++
        bytes += storedSize(parseHeader(value).valueLength)
      }
      assert.deepEqual(store.stats(), { records, bytes })
      assert.ok(records >= acked.length)
      await store.close()
    } finally {
      await database.close()
    }
  })
})
