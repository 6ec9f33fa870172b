/**
 * Signatures by nodes' libp2p keys that every recursive lookup makes and checks: the owner's
 * statement, a carried record's origin. @libp2p/crypto imports an Ed25519 key afresh, through JWK,
 * for each signature and each check, which in a profile of a FIND_OWNER round trip cost about as
 * much as signing and checking themselves; on Node an Ed25519 key here goes through the mailbox's
 * native primitives instead, which keep each key's object. Ed25519 signatures are deterministic:
 * the bytes are the same either way (test/unit/node-signatures.spec.ts). Other key types, and a
 * browser (where libp2p uses WebCrypto's asynchronous Ed25519), go through libp2p.
 */
import { ed25519, NATIVE } from '../crypto/primitives.js'
import type { PrivateKey, PublicKey } from '@libp2p/interface'

/** An Ed25519 private key's 32-byte seed, one array per key, so that its key object is kept with it */
const seeds = new WeakMap<PrivateKey, Uint8Array>()

/** `privateKey`'s signature over `bytes` */
export async function signAsNode (privateKey: PrivateKey, bytes: Uint8Array): Promise<Uint8Array> {
  if (!NATIVE || privateKey.type !== 'Ed25519') {
    return privateKey.sign(bytes)
  }
  let seed = seeds.get(privateKey)
  if (seed == null) {
    seed = privateKey.raw.slice(0, 32)
    seeds.set(privateKey, seed)
  }
  return ed25519.sign(bytes, seed)
}

/** Whether `signature` is `publicKey`'s over `bytes`; one of a form the key cannot make (a wrong length) is not */
export async function nodeSignatureVerifies (publicKey: PublicKey, bytes: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (NATIVE && publicKey.type === 'Ed25519') {
    return ed25519.verify(signature, bytes, publicKey.raw)
  }
  try {
    return await publicKey.verify(bytes, signature)
  } catch {
    return false
  }
}
