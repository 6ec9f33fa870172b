/**
 * The node's libp2p private key, kept in the node's database so that a restarted node has the
 * same PeerId, and therefore the same ring position: its arc, its records and its neighbours'
 * routing entries stay valid across restarts.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { DURABLE, SUBLEVELS } from './database.js'
import type { NodeDatabase } from './database.js'
import type { PrivateKey } from '@libp2p/interface'
import type { AbstractPutOptions } from 'abstract-level'

const PRIVATE_KEY = 'private-key'

/**
 * The key saved in `database`, or a new Ed25519 key, saved durably before it is returned (a node
 * must never announce a PeerId it would lose in a crash). Stored as libp2p's protobuf encoding,
 * unencrypted: protect the data directory as you would an SSH host key.
 */
export async function loadOrCreatePrivateKey (database: NodeDatabase): Promise<PrivateKey> {
  const meta = database.sublevel<string, Uint8Array>(SUBLEVELS.meta, { valueEncoding: 'view' })
  const saved = await meta.get(PRIVATE_KEY)
  if (saved != null) {
    return privateKeyFromProtobuf(saved)
  }
  const key = await generateKeyPair('Ed25519')
  await meta.put(PRIVATE_KEY, privateKeyToProtobuf(key), DURABLE as AbstractPutOptions<string, Uint8Array>)
  return key
}
