/**
 * The nonce that pays for the node's ring position (chord/ring-position.ts) and the candidate it
 * chose at its first join, kept beside its private key: minting costs about 2^difficulty hashes,
 * and a restarted node must sit where it sat, so its arc, its records and its neighbours' routing
 * entries stay valid.
 */
import { mintNonce, puzzleWork } from '../chord/ring-position.js'
import { DURABLE, SUBLEVELS } from './database.js'
import type { NodeDatabase } from './database.js'
import type { AbstractBatchOptions, AbstractPutOptions, AbstractSublevel } from 'abstract-level'

const POSITION_NONCE = 'position-nonce'
const POSITION_CHOICE = 'position-choice'

function metaOf (database: NodeDatabase): AbstractSublevel<NodeDatabase, string | Uint8Array, string, Uint8Array> {
  return database.sublevel<string, Uint8Array>(SUBLEVELS.meta, { valueEncoding: 'view' })
}

/**
 * The nonce saved in `database` if it still pays `difficulty` for `identity` (the same key, a
 * difficulty no higher than it was minted for), or a new one, saved durably before it is returned
 */
export async function loadOrMintPositionNonce (database: NodeDatabase, identity: Uint8Array, difficulty: number, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  const meta = metaOf(database)
  const saved = await meta.get(POSITION_NONCE)
  if (saved != null && (difficulty === 0 || puzzleWork(identity, saved) >= difficulty)) {
    return difficulty === 0 ? new Uint8Array(0) : new Uint8Array(saved)
  }
  const nonce = await mintNonce(identity, difficulty, options)
  if (nonce.byteLength > 0) {
    // a choice among the old nonce's candidates means nothing for the new one's
    await meta.batch([
      { type: 'put', key: POSITION_NONCE, value: nonce },
      { type: 'del', key: POSITION_CHOICE }
    ], DURABLE as AbstractBatchOptions<string, Uint8Array>)
  }
  return nonce
}

/** The candidate the node took at its first join (with the kept nonce), if it took one */
export async function loadPositionChoice (database: NodeDatabase): Promise<number | undefined> {
  const saved = await metaOf(database).get(POSITION_CHOICE)
  return saved == null || saved.byteLength !== 4 ? undefined : new DataView(saved.buffer, saved.byteOffset, 4).getUint32(0)
}

/** Keep the candidate the node took, durably: a restart takes it again */
export async function savePositionChoice (database: NodeDatabase, choice: number): Promise<void> {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, choice)
  await metaOf(database).put(POSITION_CHOICE, bytes, DURABLE as AbstractPutOptions<string, Uint8Array>)
}
