import assert from 'node:assert/strict'
import { x25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { containsBytes } from '../helpers/bytes.js'
import { InvalidMessageError, InvalidOptionsError, VerificationError } from '../../src/errors.js'
import {
  ENVELOPE_SIZES, MAX_ENVELOPE_SIZE, MAX_PLAINTEXT_SIZE, MAX_SENT_AT, MESSAGE_SIGNATURE_LABEL
} from '../../src/mailbox/constants.js'
import {
  PublicKey, createIdentity, decodeEnvelope, envelopeId, open, seal
} from '../../src/mailbox/crypto.js'
import { Envelope, Receipt, Sealed } from '../../src/protocol/generated/envelope.js'
import { decodeReceipt, encodeReceipt } from '../../src/mailbox/receipts.js'
import { pad, unpad } from '../../src/mailbox/padding.js'
import { decryptSealed, encryptSealed, sealWith } from '../../src/mailbox/seal.js'
import { transcript, uint64 } from '../../src/chord/transcript.js'
import type { Identity } from '../../src/mailbox/crypto.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('mailbox envelopes', () => {
  let alice: Identity
  let bob: Identity
  let carol: Identity

  before(async () => {
    [alice, bob, carol] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
  })

  describe('seal and open', () => {
    it('round-trips, with the sender verified and the id the hash of the envelope', async () => {
      const envelope = await seal(alice, bob.address, text('hi bob'), { sentAt: 1_700_000_000_000 })
      const message = await open(bob, envelope)
      assert.deepEqual(message.plaintext, text('hi bob'))
      assert.ok(message.from.equals(alice.publicKey))
      assert.equal(message.from.address, alice.address)
      assert.equal(message.sentAt, 1_700_000_000_000)
      assert.deepEqual(message.id, sha256(envelope))
      assert.deepEqual(envelopeId(envelope), message.id)
    })

    it('stamps the current time when no sentAt is given', async () => {
      const before = Date.now()
      const { sentAt } = await open(bob, await seal(alice, bob.publicKey, text('now')))
      assert.ok(sentAt >= before && sentAt <= Date.now())
    })

    it('carries an empty message and one of MAX_PLAINTEXT_SIZE', async () => {
      assert.deepEqual((await open(bob, await seal(alice, bob.publicKey, new Uint8Array(0)))).plaintext, new Uint8Array(0))
      const largest = new Uint8Array(MAX_PLAINTEXT_SIZE).fill(7)
      const envelope = await seal(alice, bob.publicKey, largest)
      assert.equal(envelope.byteLength, MAX_ENVELOPE_SIZE)
      assert.deepEqual((await open(bob, envelope)).plaintext, largest)
    })

    it('cannot be opened by anyone but the recipient', async () => {
      const envelope = await seal(alice, bob.publicKey, text('for bob only'))
      await assert.rejects(open(carol, envelope), VerificationError)
      await assert.rejects(open(alice, envelope), VerificationError)
    })

    it('gives a different envelope for the same plaintext each time (fresh ephemeral key)', async () => {
      const first = await seal(alice, bob.publicKey, text('same'), { sentAt: 1 })
      const second = await seal(alice, bob.publicKey, text('same'), { sentAt: 1 })
      assert.notDeepEqual(first, second)
      assert.notDeepEqual(Envelope.decode(first).ephemeralKey, Envelope.decode(second).ephemeralKey)
      assert.notDeepEqual(envelopeId(first), envelopeId(second))
    })

    it('can be sealed to oneself', async () => {
      assert.ok((await open(alice, await seal(alice, alice.publicKey, text('note')))).from.equals(alice.publicKey))
    })
  })

  describe('tampering', () => {
    it('rejects a change to any byte of the envelope with VerificationError', async () => {
      const envelope = await seal(alice, bob.publicKey, text('do not touch'))
      for (let i = 0; i < envelope.byteLength; i++) {
        const tampered = envelope.slice()
        tampered[i] ^= 0x01
        await assert.rejects(open(bob, tampered), VerificationError, `byte ${i}`)
      }
    })

    it('rejects a truncated or extended envelope with VerificationError', async () => {
      const envelope = await seal(alice, bob.publicKey, text('whole'))
      await assert.rejects(open(bob, envelope.subarray(0, -1)), VerificationError)
      await assert.rejects(open(bob, Uint8Array.of(...envelope, 0)), VerificationError)
      await assert.rejects(open(bob, new Uint8Array(0)), VerificationError)
    })

    it('rejects a message whose sender field names someone who did not sign it (forged sender)', async () => {
      // Mallory (carol) seals to bob, then rewrites the sender field to alice under the same
      // ephemeral key, so that the sender field is the only thing that differs
      const ephemeral = x25519.keygen()
      const genuine = sealWith(carol, bob.publicKey, text('from alice, honest'), 1, ephemeral)
      const { sealed } = decryptSealed(bob, genuine)
      assert.ok((await open(bob, encryptSealed(bob.publicKey, ephemeral, sealed))).from.equals(carol.publicKey))

      const forged = encryptSealed(bob.publicKey, ephemeral, { ...sealed, sender: alice.publicKey.bytes })
      await assert.rejects(open(bob, forged), VerificationError)
    })

    it('rejects a message whose signature was altered', async () => {
      const ephemeral = x25519.keygen()
      const { sealed } = decryptSealed(bob, sealWith(alice, bob.publicKey, text('signed'), 1, ephemeral))
      const signature = sealed.signature.slice()
      signature[5] ^= 0x01
      await assert.rejects(open(bob, encryptSealed(bob.publicKey, ephemeral, { ...sealed, signature })), VerificationError)
    })

    it('does not accept a signature made with Identity.sign() as a message signature', async () => {
      const ephemeral = x25519.keygen()
      const { sealed } = decryptSealed(bob, sealWith(alice, bob.publicKey, text('x'), 1, ephemeral))
      // A challenger asks alice to sign exactly the bytes a message signature covers: Identity.sign()
      // signs them under its own label, so the result is no message signature
      const messageTranscript = transcript(MESSAGE_SIGNATURE_LABEL, alice.publicKey.bytes, bob.publicKey.bytes,
        ephemeral.publicKey, uint64(sealed.sentAt), sealed.body)
      for (const context of ['libp2p-chord/mailbox/subscribe/v1', MESSAGE_SIGNATURE_LABEL]) {
        const signature = Uint8Array.from(await alice.sign(messageTranscript, context))
        await assert.rejects(open(bob, encryptSealed(bob.publicKey, ephemeral, { ...sealed, signature })), VerificationError)
      }
    })
  })

  describe('re-wrapping', () => {
    it('a recipient cannot pass a signed message on to someone else as if it had been sent to them', async () => {
      const ephemeral = x25519.keygen()
      const { sealed } = decryptSealed(bob, sealWith(alice, bob.publicKey, text('I owe you 10'), 1, ephemeral))
      // bob wraps alice's signed message for carol, with a fresh ephemeral key as any sender would …
      await assert.rejects(open(carol, encryptSealed(carol.publicKey, x25519.keygen(), sealed)), VerificationError)
      // … or even under alice's own ephemeral key: the recipient is bound by the signature
      await assert.rejects(open(carol, encryptSealed(carol.publicKey, ephemeral, sealed)), VerificationError)
    })

    it('nor re-send it to the same recipient under another ephemeral key', async () => {
      const { sealed } = decryptSealed(bob, sealWith(alice, bob.publicKey, text('once'), 1, x25519.keygen()))
      await assert.rejects(open(bob, encryptSealed(bob.publicKey, x25519.keygen(), sealed)), VerificationError)
    })
  })

  describe('what a node sees', () => {
    it('seals a receipt as a kind of its own, which opens as a receipt and never as a message', async () => {
      const body = encodeReceipt(new Uint8Array(32).fill(9), 1_700_000_000_123)
      const envelope = await seal(bob, alice.address, body, { kind: 'receipt' })
      const opened = await open(alice, envelope)
      assert.equal(opened.kind, 'receipt')
      assert.deepEqual(decodeReceipt(opened.plaintext, opened.from.address), { id: '09'.repeat(32), from: bob.address, receivedAt: 1_700_000_000_123 })
      assert.equal((await open(alice, await seal(bob, alice.address, body))).kind, 'message')
    })

    it('rejects a message re-labelled as a receipt (or the reverse): each kind is signed under its own label', async () => {
      const ephemeral = { secretKey: x25519.utils.randomSecretKey(), publicKey: new Uint8Array(32) as Uint8Array<ArrayBuffer> }
      ephemeral.publicKey = x25519.getPublicKey(ephemeral.secretKey) as Uint8Array<ArrayBuffer>
      const message = sealWith(alice, bob.publicKey, text('hi'), 1_700_000_000_000, ephemeral)
      const { sealed } = decryptSealed(bob, message)
      const relabelled = encryptSealed(bob.publicKey, ephemeral, { ...sealed, kind: Sealed.Kind.RECEIPT })
      await assert.rejects(open(bob, relabelled), VerificationError)
    })

    it('refuses a receipt body that does not name a message id', () => {
      assert.throws(() => decodeReceipt(text('not a receipt'), alice.address), InvalidMessageError)
      assert.throws(() => decodeReceipt(Receipt.encode({ messageId: new Uint8Array(31), receivedAt: 1 }), alice.address), InvalidMessageError)
    })

    it('pads plaintexts of different lengths in one bucket to the same envelope size', async () => {
      const sizes = await Promise.all([0, 1, 100, 313].map(async length =>
        (await seal(alice, bob.publicKey, new Uint8Array(length))).byteLength))
      assert.deepEqual(sizes, [512, 512, 512, 512])
    })

    it('makes every envelope exactly one of ENVELOPE_SIZES bytes', async () => {
      const lengths = [0, 314, 1849, 1850, 7993, 7994, 32567, 32568, MAX_PLAINTEXT_SIZE]
      const sizes = await Promise.all(lengths.map(async length =>
        (await seal(alice, bob.publicKey, new Uint8Array(length))).byteLength))
      assert.deepEqual(sizes, [512, 2048, 2048, 8192, 8192, 32768, 32768, 65536, 65536])
      assert.deepEqual([...new Set(sizes)], [...ENVELOPE_SIZES])
    })

    it('stores neither the plaintext nor any key of the sender or recipient in clear', async () => {
      const plaintext = text('the meeting is at noon by the old bridge')
      const envelope = await seal(alice, bob.publicKey, plaintext)
      assert.equal(containsBytes(envelope, plaintext), false)
      for (const key of [alice.publicKey, bob.publicKey]) {
        for (const bytes of [key.bytes, key.signingKey, key.agreementKey]) {
          assert.equal(containsBytes(envelope, bytes), false)
        }
      }
      assert.equal(containsBytes(envelope, text(alice.address)), false)
    })

    it('lets a node check an envelope without keys', async () => {
      const envelope = await seal(alice, bob.publicKey, text('checked'))
      const decoded = decodeEnvelope(envelope)
      assert.equal(decoded.version, 1)
      assert.equal(decoded.ephemeralKey.byteLength, 32)

      const otherVersion = Envelope.encode({ ...decoded, version: 2 })
      assert.throws(() => decodeEnvelope(otherVersion), InvalidMessageError)
      const offBucket = Envelope.encode({ ...decoded, ciphertext: decoded.ciphertext.subarray(0, 100) })
      assert.throws(() => decodeEnvelope(offBucket), InvalidMessageError)
      const shortKey = Envelope.encode({ ...decoded, ephemeralKey: decoded.ephemeralKey.subarray(1), ciphertext: Uint8Array.of(...decoded.ciphertext, 0) })
      assert.equal(shortKey.byteLength, envelope.byteLength)
      assert.throws(() => decodeEnvelope(shortKey), InvalidMessageError)
      // the same fields in another order: a second encoding (and id) of one message
      const fields = [envelope.subarray(0, 2), envelope.subarray(2, 36), envelope.subarray(36)]
      const reordered = Uint8Array.of(...fields[1], ...fields[0], ...fields[2])
      assert.equal(reordered.byteLength, envelope.byteLength)
      assert.throws(() => decodeEnvelope(reordered), InvalidMessageError)
    })
  })

  describe('malformed content', () => {
    it('rejects a decrypted message whose fields break the format with InvalidMessageError', async () => {
      const ephemeral = x25519.keygen()
      const { sealed } = decryptSealed(bob, sealWith(alice, bob.publicKey, text('x'), 1, ephemeral))
      for (const broken of [
        { ...sealed, sender: sealed.sender.subarray(1) },
        { ...sealed, signature: sealed.signature.subarray(1) },
        { ...sealed, sender: Uint8Array.of(2, ...sealed.sender.subarray(1)) }
      ]) {
        await assert.rejects(open(bob, encryptSealed(bob.publicKey, ephemeral, broken)), InvalidMessageError)
      }
    })

    it('rejects an envelope with a low-order ephemeral key', async () => {
      const decoded = decodeEnvelope(await seal(alice, bob.publicKey, text('x')))
      await assert.rejects(open(bob, Envelope.encode({ ...decoded, ephemeralKey: new Uint8Array(32) })), VerificationError)
    })

    it('refuses to seal to a low-order key agreement key', async () => {
      const lowOrder = PublicKey.fromKeys(bob.publicKey.signingKey, new Uint8Array(32))
      await assert.rejects(seal(alice, lowOrder, text('x')), InvalidOptionsError)
    })

    it('removes padding whatever the content ends with, and rejects broken padding', () => {
      for (const content of [new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(0x80), Uint8Array.of(1, 0x80, 0)]) {
        assert.deepEqual(unpad(pad(content, 8)), content)
      }
      assert.throws(() => unpad(new Uint8Array(8)), InvalidMessageError)
      assert.throws(() => unpad(Uint8Array.of(1, 2, 0, 0)), InvalidMessageError)
    })
  })

  describe('limits', () => {
    it('MAX_PLAINTEXT_SIZE: refuses a larger plaintext', async () => {
      await assert.rejects(seal(alice, bob.publicKey, new Uint8Array(MAX_PLAINTEXT_SIZE + 1)), InvalidOptionsError)
    })

    it('MAX_ENVELOPE_SIZE: refuses a larger envelope', async () => {
      const envelope = await seal(alice, bob.publicKey, new Uint8Array(MAX_PLAINTEXT_SIZE))
      const larger = Uint8Array.of(...envelope, 0)
      assert.equal(larger.byteLength, MAX_ENVELOPE_SIZE + 1)
      assert.throws(() => decodeEnvelope(larger), InvalidMessageError)
      await assert.rejects(open(bob, larger), VerificationError)
    })

    it('MAX_SENT_AT: refuses a sentAt that is later, negative or not an integer', async () => {
      for (const sentAt of [MAX_SENT_AT + 1, -1, 1.5, Number.NaN]) {
        await assert.rejects(seal(alice, bob.publicKey, text('x'), { sentAt }), InvalidOptionsError, String(sentAt))
      }
      assert.equal((await open(bob, await seal(alice, bob.publicKey, text('x'), { sentAt: MAX_SENT_AT }))).sentAt, MAX_SENT_AT)
    })

    it('refuses a recipient that is neither a key nor an address', async () => {
      await assert.rejects(seal(alice, 'chord:nonsense', text('x')), InvalidOptionsError)
      await assert.rejects(seal(alice, 42 as unknown as string, text('x')), InvalidOptionsError)
    })
  })
})
