/**
 * `chord-node backup` and `chord-node restore`.
 *
 * A backup of a running node goes through its admin API: the node holds the LevelDB lock, and
 * takes the snapshot itself while it keeps working. A node that is not running is read from its
 * directory directly. Either way the lines are checked as they arrive (a cut-off backup is an
 * error, not a file), gzipped, and the file appears only once it is whole.
 *
 * A restore writes into a new directory beside the target and renames it into place at the end,
 * so an interrupted restore leaves no half-database behind; the target must be new or empty.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { readdir, rename, rm, stat } from 'node:fs/promises'
import { resolve as resolvePath } from 'node:path'
import { createInterface } from 'node:readline'
import { Readable, pipeline as pipelineCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { BackupReader, InvalidBackupError, exportDatabase, importDatabase } from '../storage/backup.js'
import { makeDirectory } from '../storage/make-directory.js'
import { AdminClient } from './admin-client.js'
import { BackupError, DataDirLockedError, NodeUnreachableError, findCode } from './errors.js'
import { dataDirError } from './preflight.js'
import type { Level } from 'level'

export interface BackupResult {
  entries: number
  bytes: number
  /** whether the running node made it, or it was read from its directory */
  from: 'running node' | 'data dir'
}

export async function backup (dataDir: string, out: string): Promise<BackupResult> {
  const partial = `${out}.partial-${process.pid}`
  let source: Readable
  let from: BackupResult['from'] = 'running node'
  let closeDatabase = async (): Promise<void> => {}
  try {
    const client = await AdminClient.forDataDir(dataDir)
    source = await client.stream('/v1/backup')
  } catch (err) {
    if (!(err instanceof NodeUnreachableError)) {
      throw err
    }
    // no node runs there: read the directory itself (which fails if a node does hold it)
    from = 'data dir'
    const db = await openExisting(dataDir, err)
    closeDatabase = async () => { await db.close() }
    source = Readable.from(exportDatabase(db))
  }
  const reader = new BackupReader()
  const checked = async function * (): AsyncGenerator<string> {
    for await (const line of createInterface({ input: source, crlfDelay: Infinity })) {
      reader.line(line)
      yield `${line}\n`
    }
    reader.end()
  }
  try {
    await pipeline(Readable.from(checked()), createGzip(), createWriteStream(partial, { mode: 0o600 }))
    await rename(partial, out)
  } catch (err: any) {
    await rm(partial, { force: true })
    if (err instanceof InvalidBackupError) {
      throw new BackupError(`the backup from the ${from} is not whole (${err.message}); nothing was written to ${out}`, { cause: err })
    }
    if (findCode(err, 'EACCES', 'ENOENT', 'EROFS', 'ENOSPC') != null) {
      throw new BackupError(`--out ${out}: cannot write it (${err.code}); choose a writable path`, { cause: err })
    }
    throw err
  } finally {
    await closeDatabase()
  }
  return { entries: reader.end(), bytes: (await stat(out)).size, from }
}

async function openExisting (dataDir: string, unreachable: NodeUnreachableError): Promise<Level> {
  if (!await isNonEmptyDirectory(dataDir)) {
    throw new BackupError(`--data-dir ${dataDir}: no node data there to back up`)
  }
  const { Level } = await import('level')
  const db = new Level(dataDir, { createIfMissing: false })
  try {
    await db.open()
  } catch (err) {
    if (findCode(err, 'LEVEL_LOCKED') != null) {
      throw new DataDirLockedError(`--data-dir ${dataDir} is held by a running node, but ${unreachable.message}; a running node is backed up through its admin API (do not start it with --admin off)`, { cause: err })
    }
    throw new BackupError(`--data-dir ${dataDir}: cannot open its database (${(err as Error).message})`, { cause: err })
  }
  return db
}

export async function restore (input: string, dataDir: string): Promise<{ entries: number }> {
  if (await isNonEmptyDirectory(dataDir)) {
    throw new BackupError(`--data-dir ${dataDir} is not empty; restore only into a new or empty directory (move the old one aside first)`)
  }
  const target = resolvePath(dataDir)
  const temporary = `${target}.restoring-${process.pid}`
  // made here, a level at a time: LevelDB's own mkdir would never return where one cannot be made
  await makeDirectory(temporary).catch(err => { throw dataDirError(dataDir, err) })
  const { Level } = await import('level')
  const db = new Level(temporary)
  let entries: number
  try {
    await db.open()
    // an error of the file (missing, unreadable) reaches the lines through the gunzip stream
    const gunzip = pipelineCallback(createReadStream(input), createGunzip(), () => {})
    entries = await importDatabase(db, createInterface({ input: gunzip, crlfDelay: Infinity }))
    await db.close()
    await rm(target, { recursive: true, force: true })
    await rename(temporary, target)
  } catch (err: any) {
    await db.close().catch(() => {})
    await rm(temporary, { recursive: true, force: true })
    if (err instanceof InvalidBackupError) {
      throw new BackupError(`--in ${input}: ${err.message}; nothing was restored`, { cause: err })
    }
    if (err?.code === 'ENOENT' && err?.path === input) {
      throw new BackupError(`--in ${input}: no such file`, { cause: err })
    }
    if (err?.code === 'Z_DATA_ERROR' || err?.code === 'Z_BUF_ERROR') {
      throw new BackupError(`--in ${input}: not a backup made by chord-node backup (not gzip data, or cut off); nothing was restored`, { cause: err })
    }
    throw err
  }
  return { entries }
}

async function isNonEmptyDirectory (path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length > 0
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return false
    }
    if (err.code === 'ENOTDIR') {
      return true
    }
    throw err
  }
}
