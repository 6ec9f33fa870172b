/**
 * The mailbox's cryptographic primitives, native (Node's crypto) and pure JavaScript (the browser
 * build's @noble), reproduce the committed test vectors and give the same bytes as each other.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as native from '../../src/crypto/primitives.js'
import * as portable from '../../src/crypto/primitives.browser.js'
import { fromHex } from '../vectors/json.js'

const vectors = (name: string): any => JSON.parse(readFileSync(new URL(`../vectors/${name}.json`, import.meta.url), 'utf8'))
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** A seeded stream of bytes (xorshift32), so every run checks the same inputs */
function seededBytes (seed: number): (length: number) => Uint8Array {
  let state = seed >>> 0
  return length => Uint8Array.from({ length }, () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) & 0xff
  })
}

/** Inputs checked on both implementations beyond the vectors */
const RANDOM_CASES = 100

for (const [name, primitives] of [['native (Node crypto)', native], ['pure JavaScript (browser build)', portable]] as const) {
  describe(`mailbox primitives, ${name}`, () => {
    it('derives the identities\' public keys of the vectors', () => {
      for (const identity of vectors('identities').identities) {
        assert.equal(hex(primitives.ed25519.getPublicKey(fromHex(identity.ed25519Seed))), identity.ed25519PublicKey, identity.name)
        assert.equal(hex(primitives.x25519.getPublicKey(fromHex(identity.x25519Secret))), identity.x25519PublicKey, identity.name)
      }
    })

    it('reproduces every step of the sealed envelopes of the vectors', () => {
      const identities = new Map(vectors('identities').identities.map((identity: any) => [identity.name, identity]))
      for (const envelope of vectors('envelopes').envelopes) {
        const sender: any = identities.get(envelope.sender)
        const recipient: any = identities.get(envelope.recipient)
        assert.equal(hex(primitives.x25519.getPublicKey(fromHex(envelope.ephemeralSecret))), envelope.ephemeralPublicKey)
        assert.equal(hex(primitives.ed25519.sign(fromHex(envelope.signatureTranscript), fromHex(sender.ed25519Seed))), envelope.signature)
        assert.ok(primitives.ed25519.verify(fromHex(envelope.signature), fromHex(envelope.signatureTranscript), fromHex(sender.ed25519PublicKey)))
        const shared = primitives.x25519.getSharedSecret(fromHex(envelope.ephemeralSecret), fromHex(recipient.x25519PublicKey))
        assert.equal(hex(shared), envelope.sharedSecret)
        assert.equal(hex(primitives.x25519.getSharedSecret(fromHex(recipient.x25519Secret), fromHex(envelope.ephemeralPublicKey))), envelope.sharedSecret)
        assert.equal(hex(primitives.hkdfSha256(shared, fromHex(envelope.hkdfInfo), 44)), envelope.hkdfOutput)
        const sealed = primitives.chachaEncrypt(fromHex(envelope.aeadKey), fromHex(envelope.aeadNonce), fromHex(envelope.padded))
        assert.equal(hex(sealed), envelope.ciphertext)
        assert.equal(hex(primitives.chachaDecrypt(fromHex(envelope.aeadKey), fromHex(envelope.aeadNonce), sealed)), envelope.padded)
      }
    })

    it('hashes with SHA-256 as FIPS 180-2 says (its examples: "abc", the 448-bit message, a million "a"s)', () => {
      const ascii = (text: string): Uint8Array => new TextEncoder().encode(text)
      assert.equal(hex(primitives.sha256(ascii('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
      assert.equal(hex(primitives.sha256(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1')
      assert.equal(hex(primitives.sha256(ascii('a'.repeat(1_000_000)))), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0')
      assert.equal(hex(primitives.sha256(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    })

    it('refuses a tampered ciphertext, a wrong signature and a low-order key', () => {
      const key = new Uint8Array(32).fill(1)
      const nonce = new Uint8Array(12).fill(2)
      const sealed = primitives.chachaEncrypt(key, nonce, new Uint8Array([1, 2, 3]))
      sealed[0] ^= 1
      assert.throws(() => primitives.chachaDecrypt(key, nonce, sealed))
      assert.throws(() => primitives.chachaDecrypt(key, nonce, new Uint8Array(3)))

      const seed = new Uint8Array(32).fill(7)
      const signature = primitives.ed25519.sign(new Uint8Array([9]), seed)
      signature[5] ^= 1
      assert.equal(primitives.ed25519.verify(signature, new Uint8Array([9]), primitives.ed25519.getPublicKey(seed)), false)
      assert.equal(primitives.ed25519.verify(new Uint8Array(64), new Uint8Array([9]), new Uint8Array(32).fill(0xff)), false)

      // the identity element: every shared secret with it is zero
      assert.throws(() => primitives.x25519.getSharedSecret(seed, new Uint8Array(32)))
    })
  })
}

describe('mailbox primitives, native against pure JavaScript', () => {
  it(`give the same bytes for ${RANDOM_CASES} random keys and messages`, () => {
    const bytes = seededBytes(20261130)
    for (let i = 0; i < RANDOM_CASES; i++) {
      const [seed, secret, other, key, nonce, message] = [bytes(32), bytes(32), bytes(32), bytes(32), bytes(12), bytes(i * 7)]
      assert.equal(hex(native.ed25519.getPublicKey(seed)), hex(portable.ed25519.getPublicKey(seed)))
      const signature = native.ed25519.sign(message, seed)
      assert.equal(hex(signature), hex(portable.ed25519.sign(message, seed)))
      assert.equal(portable.ed25519.verify(signature, message, native.ed25519.getPublicKey(seed)), true)
      const theirs = native.x25519.getPublicKey(other)
      assert.equal(hex(theirs), hex(portable.x25519.getPublicKey(other)))
      assert.equal(hex(native.x25519.getSharedSecret(secret, theirs)), hex(portable.x25519.getSharedSecret(secret, theirs)))
      assert.equal(hex(native.hkdfSha256(secret, message, 44)), hex(portable.hkdfSha256(secret, message, 44)))
      assert.equal(hex(native.sha256(message)), hex(portable.sha256(message)))
      const sealed = native.chachaEncrypt(key, nonce, message)
      assert.equal(hex(sealed), hex(portable.chachaEncrypt(key, nonce, message)))
      assert.equal(hex(portable.chachaDecrypt(key, nonce, sealed)), hex(message))
    }
  })
})
