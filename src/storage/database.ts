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
 *
 * On Node a directory holds a LevelDB (`classic-level`); in a browser bundle `level` resolves to
 * IndexedDB (`browser-level`) and the directory name names the IndexedDB database; without a
 * directory everything lives in memory and nothing survives the process.
 */
import { MemoryLevel } from 'memory-level'
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
  tombstones: 'tombstones'
} as const

export async function openNodeDatabase (dataDir?: string): Promise<NodeDatabase> {
  if (dataDir == null) {
    // 'view' keeps Node's Buffer out of browser bundles
    const db: NodeDatabase = new MemoryLevel({ storeEncoding: 'view' })
    await db.open()
    return db
  }
  // Loaded only when a directory is given, so an in-memory node never loads LevelDB's native
  // binding, and a bundler resolves `level` to its browser build
  const { Level } = await import('level')
  const db: NodeDatabase = new Level(dataDir)
  await db.open()
  return db
}

/**
 * Write option for what must survive a crash: classic-level fsyncs the write before resolving,
 * so a write the caller saw complete is still there after `kill -9` or a power cut. The other
 * backends ignore it.
 */
export const DURABLE = { sync: true }
