/**
 * Node-key signatures made and checked through the native primitives (Ed25519 on Node) are the
 * very bytes libp2p's keys make, and checks agree with libp2p's, whatever is tampered with.
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { nodeSignatureVerifies, signAsNode } from '../../src/transport/node-signatures.js'

describe('node-key signatures', () => {
  it('an Ed25519 key signs the bytes libp2p signs, and each check agrees with libp2p\'s', async () => {
    for (let i = 0; i < 8; i++) {
      const key = await generateKeyPair('Ed25519')
      const message = new TextEncoder().encode(`statement ${i}`)
      const signature = await signAsNode(key, message)
      assert.deepEqual(signature, Uint8Array.from(await key.sign(message)))
      // twice: the second signature comes from the key object kept for this key
      assert.deepEqual(await signAsNode(key, message), signature)

      const other = await generateKeyPair('Ed25519')
      const flipped = Uint8Array.from(signature, (byte, j) => j === i ? byte ^ 1 : byte)
      const cases: Array<[Uint8Array, Uint8Array, typeof key.publicKey]> = [
        [message, signature, key.publicKey],
        [new TextEncoder().encode(`statement ${i + 1}`), signature, key.publicKey],
        [message, flipped, key.publicKey],
        [message, signature.subarray(1), key.publicKey],
        [message, signature, other.publicKey]
      ]
      const expected = [true, false, false, false, false]
      for (const [j, [bytes, sig, publicKey]] of cases.entries()) {
        assert.equal(await nodeSignatureVerifies(publicKey, bytes, sig), expected[j], `case ${j}`)
        assert.equal(await Promise.resolve().then(async () => publicKey.verify(bytes, sig)).catch(() => false), expected[j], `libp2p, case ${j}`)
      }
    }
  })

  it('a secp256k1 key goes through libp2p', async () => {
    const key = await generateKeyPair('secp256k1')
    const message = new TextEncoder().encode('statement')
    const signature = await signAsNode(key, message)
    assert.equal(await nodeSignatureVerifies(key.publicKey, message, signature), true)
    assert.equal(await nodeSignatureVerifies(key.publicKey, message, signature.subarray(1)), false)
  })
})
