import assert from 'node:assert/strict'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { base58btc } from 'multiformats/bases/base58'
import { InvalidMessageError, InvalidOptionsError } from '../../src/errors.js'
import { encodeAddress } from '../../src/mailbox/address.js'
import { IDENTITY_EXPORT_LENGTH, MAX_ADDRESS_LENGTH, PUBLIC_KEY_LENGTH } from '../../src/mailbox/constants.js'
import {
  PublicKey, createIdentity, importIdentity, mailboxKey, open, parseAddress, seal, verifySignature
} from '../../src/mailbox/crypto.js'
import { DECODED_KEY_CACHE_SIZE } from '../../src/mailbox/public-key.js'
import type { Identity } from '../../src/mailbox/crypto.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const CONTEXT = 'libp2p-chord/test/v1'

/** Canonical public key bytes with the given parts, valid or not */
function keyBytes (version: number, signingKey: Uint8Array, agreementKey: Uint8Array): Uint8Array {
  return Uint8Array.of(version, ...signingKey, ...agreementKey)
}

describe('mailbox identity', () => {
  let alice: Identity
  let bob: Identity

  before(async () => {
    alice = await createIdentity()
    bob = await createIdentity()
  })

  it('has an address that parses back to its public key', () => {
    assert.match(alice.address, /^chord:[1-9A-HJ-NP-Za-km-z]+$/)
    assert.ok(alice.address.length <= MAX_ADDRESS_LENGTH)
    assert.equal(alice.address, alice.publicKey.address)
    assert.ok(parseAddress(alice.address).equals(alice.publicKey))
    assert.equal(String(alice.publicKey), alice.address)
  })

  it('encodes its public key canonically: version 1, Ed25519 key, X25519 key', () => {
    const bytes = alice.publicKey.bytes
    assert.equal(bytes.byteLength, PUBLIC_KEY_LENGTH)
    assert.equal(bytes[0], 1)
    assert.deepEqual(bytes.subarray(1, 33), alice.publicKey.signingKey)
    assert.deepEqual(bytes.subarray(33), alice.publicKey.agreementKey)
    assert.ok(PublicKey.fromBytes(bytes).equals(alice.publicKey))
  })

  it('has a fingerprint of eight groups of four hex digits', () => {
    assert.match(alice.fingerprint, /^[0-9a-f]{4}( [0-9a-f]{4}){7}$/)
    assert.equal(alice.fingerprint, parseAddress(alice.address).fingerprint)
    assert.notEqual(alice.fingerprint, bob.fingerprint)
  })

  it('derives one 32-byte mailbox key per user, apart from a plain hash of the key', () => {
    const key = mailboxKey(alice.publicKey)
    assert.equal(key.byteLength, 32)
    assert.deepEqual(mailboxKey(parseAddress(alice.address)), key)
    assert.notDeepEqual(mailboxKey(bob.publicKey), key)
    assert.notDeepEqual(sha256(alice.publicKey.bytes), key)
  })

  describe('export and import', () => {
    it('keeps address, fingerprint and the ability to open and sign', async () => {
      const saved = await alice.export()
      assert.equal(saved.byteLength, IDENTITY_EXPORT_LENGTH)
      const restored = await importIdentity(saved)
      assert.equal(restored.address, alice.address)
      assert.equal(restored.fingerprint, alice.fingerprint)
      assert.ok(restored.publicKey.equals(alice.publicKey))

      const toAlice = await seal(bob, alice.address, text('before the restore'))
      assert.deepEqual((await open(restored, toAlice)).plaintext, text('before the restore'))
      const fromRestored = await seal(restored, bob.publicKey, text('after'))
      assert.ok((await open(bob, fromRestored)).from.equals(alice.publicKey))
      const signature = await restored.sign(text('challenge'), CONTEXT)
      assert.equal(await verifySignature(alice.publicKey, text('challenge'), signature, CONTEXT), true)
    })

    it('refuses bytes that are not an exported identity', async () => {
      const saved = await alice.export()
      const damaged = saved.slice()
      damaged[10] ^= 1
      const otherVersion = saved.slice()
      otherVersion[0] = 2
      for (const bad of [damaged, otherVersion, saved.subarray(1), Uint8Array.of(...saved, 0), new Uint8Array(0)]) {
        await assert.rejects(importIdentity(bad), InvalidOptionsError)
      }
      await assert.rejects(importIdentity('not bytes' as unknown as Uint8Array), InvalidOptionsError)
    })

    it('cannot be confused with an address, which has the same length', async () => {
      const addressBytes = base58btc.baseDecode(alice.address.slice('chord:'.length))
      assert.equal(addressBytes.byteLength, IDENTITY_EXPORT_LENGTH)
      await assert.rejects(importIdentity(addressBytes), InvalidOptionsError)
    })
  })

  describe('address parsing', () => {
    const validEd = (): Uint8Array => alice.publicKey.signingKey
    const validX = (): Uint8Array => alice.publicKey.agreementKey

    it('rejects text that is not an address', () => {
      const body = alice.address.slice('chord:'.length)
      const typo = alice.address.slice(0, 20) + (alice.address[20] === 'a' ? 'b' : 'a') + alice.address.slice(21)
      for (const bad of [
        '', 'chord:', body, 'CHORD:' + body, 'tace:' + body, ' ' + alice.address, alice.address + ' ',
        alice.address.slice(0, -1), alice.address + '1', typo,
        'chord:' + body.replace(/.$/, '0'), // 0, O, I and l are not base58btc
        'chord:' + 'z'.repeat(MAX_ADDRESS_LENGTH) // too long: refused before decoding
      ]) {
        assert.throws(() => parseAddress(bad), InvalidOptionsError, JSON.stringify(bad))
      }
      assert.throws(() => parseAddress(42 as unknown as string), InvalidOptionsError)
    })

    it('rejects well-formed addresses of keys that are not valid', () => {
      const all = (byte: number): Uint8Array => new Uint8Array(32).fill(byte)
      const identityPoint = Uint8Array.of(1, ...new Uint8Array(31)) // Ed25519 neutral element: small order
      for (const bytes of [
        keyBytes(2, validEd(), validX()), // unknown version
        keyBytes(0, validEd(), validX()),
        keyBytes(1, all(0xff), validX()), // y ≥ p: not a canonical Ed25519 encoding
        keyBytes(1, identityPoint, validX()),
        keyBytes(1, validEd(), all(0xff)), // u ≥ p: not a canonical X25519 encoding
        alice.publicKey.bytes.subarray(1) // wrong length
      ]) {
        assert.throws(() => parseAddress(encodeAddress(bytes)), InvalidOptionsError)
        assert.throws(() => PublicKey.fromBytes(bytes), InvalidMessageError)
        // refused again: a key that failed its checks is never kept as decoded
        assert.throws(() => PublicKey.fromBytes(bytes), InvalidMessageError)
      }
    })

    it('decodes correctly past the cache of decoded keys, and after its first keys were dropped', async () => {
      const keys = await Promise.all(Array.from({ length: DECODED_KEY_CACHE_SIZE + 8 }, async () => (await createIdentity()).publicKey))
      for (const key of [...keys, ...keys.slice(0, 8)]) {
        const decoded = PublicKey.fromBytes(key.bytes)
        assert.ok(decoded.equals(key))
        assert.equal(decoded.address, key.address)
      }
    })

    it('keeps a plain copy of key bytes a decoder handed over as a Buffer', () => {
      // keys never decoded before: a decoded key comes from the cache, whatever it is given
      const wire = Buffer.from(keyBytes(1, ed25519.keygen().publicKey, x25519.keygen().publicKey))
      const decoded = PublicKey.fromBytes(wire)
      assert.equal(Object.getPrototypeOf(decoded.bytes), Uint8Array.prototype)
      wire.fill(0)
      assert.equal(decoded.bytes[0], 1, 'the decoder reusing its Buffer does not change the key')
    })
  })

  describe('signatures', () => {
    it('verify for the same key, bytes and context only', async () => {
      const signature = await alice.sign(text('challenge'), CONTEXT)
      assert.equal(await verifySignature(alice.publicKey, text('challenge'), signature, CONTEXT), true)
      assert.equal(await verifySignature(bob.publicKey, text('challenge'), signature, CONTEXT), false)
      assert.equal(await verifySignature(alice.publicKey, text('challengf'), signature, CONTEXT), false)
      assert.equal(await verifySignature(alice.publicKey, text('challenge'), signature, CONTEXT + 'x'), false)
      const tampered = signature.slice()
      tampered[0] ^= 1
      assert.equal(await verifySignature(alice.publicKey, text('challenge'), tampered, CONTEXT), false)
      assert.equal(await verifySignature(alice.publicKey, text('challenge'), signature.subarray(1), CONTEXT), false)
    })

    it('need a context', async () => {
      await assert.rejects(alice.sign(text('x'), ''), InvalidOptionsError)
      await assert.rejects(verifySignature(alice.publicKey, text('x'), new Uint8Array(64), ''), InvalidOptionsError)
    })

    it('are refused for an identity that was not created or imported', async () => {
      const impostor: Identity = { ...alice, sign: alice.sign, export: alice.export }
      await assert.rejects(impostor.sign(text('x'), CONTEXT), InvalidOptionsError)
      await assert.rejects(seal(impostor, bob.publicKey, text('x')), InvalidOptionsError)
      await assert.rejects(open(impostor, await seal(bob, alice.publicKey, text('x'))), InvalidOptionsError)
    })
  })
})
