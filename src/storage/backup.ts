/**
 * Backups of a node's whole database (identity, records, envelopes, tombstones, peer cache): a
 * consistent snapshot, taken while the node runs, written as text lines and read back into an
 * empty database.
 *
 * The format is one JSON object per line (newline-delimited JSON):
 *
 *   {"format":"libp2p-chord-backup","version":1,"createdAt":"2026-…Z"}   header
 *   {"k":"<base64 key>","v":"<base64 value>"}                          one per entry, in key order
 *   {"end":true,"entries":12345}                                       trailer
 *
 * Keys and values are the raw bytes LevelDB holds (sublevel prefixes included), so a restore
 * gives back exactly the database that was saved, whatever its layout. The trailer makes a cut-off
 * copy detectable: a backup without it, or whose count disagrees, is refused.
 *
 * Only this module knows the format; callers move its lines around (compressed, over HTTP, to a
 * file). No Node built-ins: a browser node can export its IndexedDB the same way.
 */
import { fromString as fromBase64 } from 'uint8arrays/from-string'
import { toString as toBase64 } from 'uint8arrays/to-string'
import { ChordError } from '../errors.js'
import type { AbstractLevel } from 'abstract-level'

export const BACKUP_FORMAT = 'libp2p-chord-backup'
export const BACKUP_VERSION = 1

/**
 * Entries per chunk of lines handed on, and per write batch on restore: a few hundred entries (at
 * most 64 KiB of value each, by default) keep both the number of writes and memory small.
 */
export const BACKUP_BATCH_ENTRIES = 256

/** A backup is malformed, cut off, or of a format or version this code does not read */
export class InvalidBackupError extends ChordError {
  static name = 'InvalidBackupError'
}

/** The database cannot be read as of one moment (no snapshots), so no consistent backup can be taken */
export class SnapshotNotSupportedError extends ChordError {
  static name = 'SnapshotNotSupportedError'
}

/** Any abstract-level database: the node's (LevelDB, IndexedDB, memory) or a new one to restore into */
export type BackupDatabase = AbstractLevel<any, any, any>

export interface BackupHeader {
  format: typeof BACKUP_FORMAT
  version: number
  /** ISO 8601: when the snapshot was taken */
  createdAt: string
}

/**
 * The whole database as of the first read (the generator's first `next()`), as chunks of backup
 * lines, each ending in a newline. Every write completed before that read is in it; none that
 * starts after it is.
 */
export async function * exportDatabase (db: BackupDatabase, options: { signal?: AbortSignal } = {}): AsyncGenerator<string> {
  // taken before the first await of the caller's loop: the backup is of this moment
  const snapshot = db.supports.explicitSnapshots ? db.snapshot() : undefined
  if (snapshot == null && !db.supports.implicitSnapshots) {
    throw new SnapshotNotSupportedError('this database cannot read from a snapshot, so a backup of it would not be consistent')
  }
  const iterator = db.iterator({ keyEncoding: 'view', valueEncoding: 'view', snapshot, signal: options.signal })
  try {
    const header: BackupHeader = { format: BACKUP_FORMAT, version: BACKUP_VERSION, createdAt: new Date().toISOString() }
    yield `${JSON.stringify(header)}\n`
    let entries = 0
    while (true) {
      const batch: Array<[Uint8Array, Uint8Array]> = await iterator.nextv(BACKUP_BATCH_ENTRIES)
      if (batch.length === 0) {
        break
      }
      entries += batch.length
      yield batch.map(([key, value]) => `${JSON.stringify({ k: toBase64(key, 'base64'), v: toBase64(value, 'base64') })}\n`).join('')
    }
    yield `${JSON.stringify({ end: true, entries })}\n`
  } finally {
    await iterator.close()
    await snapshot?.close()
  }
}

export interface BackupEntry {
  key: Uint8Array
  value: Uint8Array
}

/**
 * Checks backup lines one at a time, as they arrive: the header first, then entries, then the
 * trailer with the right count, then nothing. `end()` says whether the backup was whole.
 */
export class BackupReader {
  header?: BackupHeader
  private entries = 0
  private ended = false
  private lineNumber = 0

  /**
   * The entry on this line, or undefined for the header and the trailer
   *
   * @throws InvalidBackupError when the line does not belong where it is
   */
  line (text: string): BackupEntry | undefined {
    this.lineNumber++
    if (text.trim() === '') {
      return undefined
    }
    const where = `line ${this.lineNumber}`
    let object: any
    try {
      object = JSON.parse(text)
    } catch {
      throw new InvalidBackupError(`${where} is not JSON: not a backup, or a damaged one`)
    }
    if (this.ended) {
      throw new InvalidBackupError(`${where} follows the end of the backup`)
    }
    if (this.header == null) {
      if (object?.format !== BACKUP_FORMAT) {
        throw new InvalidBackupError('not a libp2p-chord backup (its first line names no such format)')
      }
      if (object.version !== BACKUP_VERSION) {
        throw new InvalidBackupError(`backup format version ${object.version} is not one this version reads (${BACKUP_VERSION})`)
      }
      this.header = object as BackupHeader
      return undefined
    }
    if (object?.end === true) {
      if (object.entries !== this.entries) {
        throw new InvalidBackupError(`the backup says it holds ${object.entries} entries but has ${this.entries}`)
      }
      this.ended = true
      return undefined
    }
    if (typeof object?.k !== 'string' || typeof object?.v !== 'string') {
      throw new InvalidBackupError(`${where} is not an entry of a backup`)
    }
    this.entries++
    try {
      return { key: fromBase64(object.k, 'base64'), value: fromBase64(object.v, 'base64') }
    } catch {
      throw new InvalidBackupError(`${where} holds bytes that are not base64`)
    }
  }

  /**
   * The number of entries, once the whole backup has been read
   *
   * @throws InvalidBackupError when it stopped before its end
   */
  end (): number {
    if (this.header == null) {
      throw new InvalidBackupError('the backup is empty')
    }
    if (!this.ended) {
      throw new InvalidBackupError(`the backup stops after ${this.entries} entries, before its end: it was cut off`)
    }
    return this.entries
  }
}

/**
 * Write a backup's entries into `db` (meant to be new and empty); resolves to the number of
 * entries. The caller discards `db` if this rejects: a partial restore is no restore.
 *
 * @throws InvalidBackupError when the lines are not one whole backup
 */
export async function importDatabase (db: BackupDatabase, lines: AsyncIterable<string>): Promise<number> {
  const reader = new BackupReader()
  let batch: BackupEntry[] = []
  const flush = async (): Promise<void> => {
    if (batch.length > 0) {
      await db.batch(batch.map(({ key, value }) => ({ type: 'put' as const, key, value })), { keyEncoding: 'view', valueEncoding: 'view' })
      batch = []
    }
  }
  for await (const line of lines) {
    const entry = reader.line(line)
    if (entry != null) {
      batch.push(entry)
      if (batch.length >= BACKUP_BATCH_ENTRIES) {
        await flush()
      }
    }
  }
  const entries = reader.end()
  await flush()
  return entries
}
