/**
 * `chord-node backup` of a running node while writes go on, and `chord-node restore` of it into
 * a new directory: the restored node serves every record acknowledged before the backup began,
 * under the same identity. Also what restore refuses.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { ensureBuilt, killAll, runChordNode, startChordNode } from '../helpers/chord-node-process.js'
import { waitFor } from '../helpers/wait-for.js'
import type { NodeProcess } from '../helpers/chord-node-process.js'

/** Writes acknowledged before the backup starts */
const WRITES_BEFORE = 150
/** Concurrent writers, so that writes land while the backup's snapshot is taken and read */
const WRITERS = 4

describe('chord-node backup and restore', function () {
  this.timeout(120_000)
  let dir: string
  let original: NodeProcess | undefined
  let restored: NodeProcess | undefined

  before(async function () {
    this.timeout(300_000)
    await ensureBuilt()
    dir = await mkdtemp(join(tmpdir(), 'chord-cli-backup-'))
  })

  after(async () => {
    await killAll([original, restored])
    await rm(dir, { recursive: true, force: true })
  })

  it('restores a backup taken during writes to a node that serves every record acknowledged before it began', async () => {
    original = startChordNode(join(dir, 'original'), ['--listen', '/ip4/127.0.0.1/tcp/0'])
    const { peerId } = await original.started()
    const node = original

    const acked: string[] = []
    let writing = true
    let next = 0
    const writer = async (): Promise<void> => {
      // `writing` is turned off once the backup is taken
      // eslint-disable-next-line no-unmodified-loop-condition
      while (writing) {
        const key = `key-${next++}`
        await node.call('/v1/put', { key, value: Buffer.from(`value of ${key}`).toString('base64') })
        acked.push(key)
      }
    }
    const writers = Array.from({ length: WRITERS }, writer)
    await waitFor(() => acked.length >= WRITES_BEFORE, `${WRITES_BEFORE} acknowledged writes`, 30_000)

    const ackedBefore = [...acked]
    const file = join(dir, 'node.backup.gz')
    const backup = await runChordNode(['backup', '--data-dir', node.dataDir, '--out', file])
    const writesDuring = acked.length - ackedBefore.length
    writing = false
    await Promise.all(writers)
    assert.equal(backup.code, 0, backup.stderr)
    assert.match(backup.stdout, /^backed up \d+ entries from the running node to /)
    assert.equal((await stat(file)).mode & 0o777, 0o600, 'the backup holds the node key: its owner only')
    console.log(`      backup: ${backup.durationMs} ms, ${writesDuring} writes acknowledged meanwhile`)

    // the original goes away; its backup comes back in a new directory
    assert.equal((await node.stop()).code, 0)
    const restoredDir = join(dir, 'restored')
    const restore = await runChordNode(['restore', '--in', file, '--data-dir', restoredDir])
    assert.equal(restore.code, 0, restore.stderr)
    assert.match(restore.stdout, /^restored \d+ entries into /)

    restored = startChordNode(restoredDir, ['--listen', '/ip4/127.0.0.1/tcp/0'])
    const started = await restored.started()
    assert.equal(started.peerId, peerId, 'the restored node has the same identity')
    for (const key of ackedBefore) {
      const { values } = await restored.call('/v1/get', { key })
      assert.deepEqual(values.map((v: string) => Buffer.from(v, 'base64').toString()), [`value of ${key}`], key)
    }
  })

  it('backs up a node that is not running from its directory', async () => {
    assert.equal((await restored!.stop()).code, 0)
    const file = join(dir, 'stopped.backup.gz')
    const result = await runChordNode(['backup', '--data-dir', restored!.dataDir, '--out', file])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^backed up \d+ entries from the data dir to /)
    const lines = gunzipSync(await readFile(file)).toString().trim().split('\n')
    assert.equal(JSON.parse(lines[0]).format, 'libp2p-chord-backup')
    assert.deepEqual(JSON.parse(lines[lines.length - 1]), { end: true, entries: lines.length - 2 })
  })

  it('refuses to restore into a directory that is not empty, from a cut-off backup, or where no directory can be made', async () => {
    const file = join(dir, 'stopped.backup.gz')
    const occupied = join(dir, 'occupied')
    await mkdir(occupied)
    await writeFile(join(occupied, 'something'), '')
    const intoOccupied = await runChordNode(['restore', '--in', file, '--data-dir', occupied])
    assert.equal(intoOccupied.code, 1)
    assert.match(intoOccupied.stderr, /^chord-node: --data-dir .*occupied is not empty; restore only into a new or empty directory/)

    const cut = join(dir, 'cut.backup.gz')
    await writeFile(cut, await readFile(file))
    await truncate(cut, Math.floor((await stat(cut)).size / 2))
    const fromCut = await runChordNode(['restore', '--in', cut, '--data-dir', join(dir, 'from-cut')])
    assert.equal(fromCut.code, 1)
    assert.match(fromCut.stderr, /nothing was restored/)
    await assert.rejects(stat(join(dir, 'from-cut')), { code: 'ENOENT' }, 'no half-restored directory is left')

    // where no directory can be made (LevelDB's own mkdir would never return there)
    const intoProc = await runChordNode(['restore', '--in', file, '--data-dir', '/proc/chord-restore'])
    assert.equal(intoProc.code, 1)
    assert.match(intoProc.stderr, /^chord-node: --data-dir \/proc\/chord-restore: cannot be written \(ENOENT.*; choose another --data-dir/)
  })
})
