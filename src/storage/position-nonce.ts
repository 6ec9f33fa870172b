/**
 * The nonce that pays for the node's ring position (chord/ring-position.ts), kept beside its
 * private key: minting costs about 2^difficulty hashes, and a restarted node must sit where it
 * sat, so its arc, its records and its neighbours' routing entries stay valid.
 */
import { mintNonce, puzzleWork } from '../chord/ring-position.js'
import { DURABLE, SUBLEVELS } from './database.js'
import type { NodeDatabase } from './database.js'
import type { AbstractPutOptions } from 'abstract-level'

const POSITION_NONCE = 'position-nonce'

/**
 * The nonce saved in `database` if it still pays `difficulty` for `identity` (the same key, a
 * difficulty no higher than it was minted for), or a new one, saved durably before it is returned
 */
export async function loadOrMintPositionNonce (database: NodeDatabase, identity: Uint8Array, difficulty: number, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  const meta = database.sublevel<string, Uint8Array>(SUBLEVELS.meta, { valueEncoding: 'view' })
  const saved = await meta.get(POSITION_NONCE)
  if (saved != null && (difficulty === 0 || puzzleWork(identity, saved) >= difficulty)) {
    return difficulty === 0 ? new Uint8Array(0) : new Uint8Array(saved)
  }
  const nonce = await mintNonce(identity, difficulty, options)
  if (nonce.byteLength > 0) {
    await meta.put(POSITION_NONCE, nonce, DURABLE as AbstractPutOptions<string, Uint8Array>)
  }
  return nonce
}
