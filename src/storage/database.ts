/**
 * The one LevelDB a node keeps everything in. Each concept lives in its own sublevel, so a single
 * handle (one lock, one write-ahead log) serves them all and a batch can span them atomically:
 *
 *   records  record values, by ring position ‖ id            (record store)
 *   headers  expiry and size of each record, same keys       (record store)
 *   expiry   index by expiry time, for sweeping              (record store)
 *   meta     the node's private key, the store's counters
 *   peers    peers seen recently, for rejoining without bootstrap
 *   mailbox  mailbox envelopes: a record store of their own, with the same sublevels
 *   tombstones  ids of envelopes their owner acknowledged (deleted), until they would have expired
 *   deletions   the owner-signed acknowledgements behind those tombstones, handed on to replicas
 *   owned    owned records: a record store of their own, with the same sublevels
 *
 * On Node a directory holds a LevelDB (`classic-level`); in a browser bundle `level` resolves to
 * IndexedDB (`browser-level`) and the directory name names the IndexedDB database; without a
 * directory everything lives in memory and nothing survives the process.
 */
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { InvalidOptionsError } from '../errors.js'
import { makeDirectory } from './make-directory.js'
import type { AbstractLevel } from 'abstract-level'

/** The root handle; every part of the node opens its own sublevel from it */
export type NodeDatabase = AbstractLevel<string | Uint8Array, string, string>

export const SUBLEVELS = {
  records: 'records',
  headers: 'headers',
  expiry: 'expiry',
  meta: 'meta',
  peers: 'peers',
  /** a second record store (same layout, nested) for mailbox envelopes, kept apart from plain records */
  mailbox: 'mailbox',
  /** ids of acknowledged mailbox envelopes, so no copy of them is taken in again */
  tombstones: 'tombstones',
  /** the owner-signed acknowledgements behind the tombstones, to hand on to replicas that missed them */
  deletions: 'deletions',
  /** owned records (publish/resolve): a record store of their own, with the same sublevels */
  owned: 'owned'
} as const

/**
 * The node's database, on disk in `dataDir` or in memory without one; open it with
 * `openDatabase`. `level` tries to open a database by itself on the next tick and queues what is
 * asked of it meanwhile. That first try creates nothing: LevelDB would make a missing directory
 * with Node's recursive mkdir, which never returns for a path that cannot be made (`/proc/x`).
 */
export function createNodeDatabase (dataDir?: string): NodeDatabase {
  // 'view' keeps Node's Buffer out of browser bundles
  return dataDir == null ? new MemoryLevel({ storeEncoding: 'view' }) : new Level(dataDir, { createIfMissing: false })
}

/**
 * Open a database made by `createNodeDatabase(dataDir)`, its directory made first, one level at a
 * time. This is where an unusable directory (locked by another node, not writable) shows.
 *
 * @throws InvalidOptionsError when the directory cannot be made or opened, saying why
 */
export async function openDatabase (db: NodeDatabase, dataDir?: string): Promise<void> {
  if (dataDir == null) {
    await db.open()
    return
  }
  await makeDirectory(dataDir).catch(err => {
    throw new InvalidOptionsError(`dataDir ${dataDir} cannot be created (${(err as Error).message}); choose another dataDir`, { cause: err })
  })
  await db.open({ createIfMissing: true }).catch(err => {
    throw openFailure(dataDir, err)
  })
}

/** Why `dataDir` did not open, as one line saying what to do; LevelDB's own error is its cause */
function openFailure (dataDir: string, err: Error): InvalidOptionsError {
  // abstract-level wraps the store's error in a generic "Database failed to open"
  const reason = err.cause instanceof Error ? err.cause : err
  if ((reason as { code?: unknown }).code === 'LEVEL_LOCKED') {
    return new InvalidOptionsError(`dataDir ${dataDir} is in use by another running node (its LevelDB lock is held); stop that node, or give this one its own dataDir`, { cause: err })
  }
  return new InvalidOptionsError(`dataDir ${dataDir} cannot be opened: ${reason.message}`, { cause: err })
}

/** A node database, opened */
export async function openNodeDatabase (dataDir?: string): Promise<NodeDatabase> {
  const db = createNodeDatabase(dataDir)
  await openDatabase(db, dataDir)
  return db
}

/**
 * Write option for what must survive a crash: classic-level fsyncs the write before resolving,
 * so a write the caller saw complete is still there after `kill -9` or a power cut. The other
 * backends ignore it.
 */
export const DURABLE = { sync: true }
