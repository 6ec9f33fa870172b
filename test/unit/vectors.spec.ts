/**
 * The library reproduces every published test vector (test/vectors/*.json, described in
 * docs/protocol.md): identities, transcripts, sealed envelopes, owner signatures, ring positions
 * and example messages of each protocol, framing included. The vectors are committed files: a
 * change to the code that alters any of these bytes fails here, because it breaks compatibility
 * with every other implementation of the spec.
 */
import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { streamPair } from '@libp2p/utils'
import { fromHex, fromJson, loadVectors } from '../vectors/json.js'
import {
  DELETE_CONTEXT, Envelope, OWNED_KEY_LABEL, OWNED_RECORD_CONTEXT, decodeOwnedRecord, ownedKey, ownedTranscript, signOwnedRecord, verifyOwnedRecord, MAX_MAILBOX_EVENT_SIZE, MAX_MAILBOX_REQUEST_SIZE, MAX_MESSAGE_SIZE, MAX_PX_REQUEST_SIZE,
  MAX_PX_RESPONSE_SIZE, MailboxEvent, MailboxRequest, Peer, PxRequest, PxResponse, Request, Response, SUBSCRIBE_CONTEXT,
  answerChallenge, decodeEnvelope, decodePxRequest, decodePxResponse, decodeRequest, decodeResponse, envelopeId,
  POSITION_PUZZLE_LABEL, frameStream, importIdentity, keyPosition, labelledHash, mailboxKey, open, paddedSizeFor, parseAddress,
  positionId, puzzleWork, ringIdFromBytes, ringIdOf, ringIdToHex, sealWith, signDeletion, transcript, unpad, validatePxPeer, verifyChallengeAnswer,
  verifyDeletion, verifySignature,
  decodeDeviceList, decodeFrame, decodeGroupState, decodeLink, encodeDeviceList, DEVICE_LIST_NAME, FRAME_SIGNATURE_LABEL, GROUP_STATE_LABEL, LINK_CHECKSUM_LABEL
} from '../vectors/library.js'
import type { Identity } from '../vectors/library.js'

const hex = bytesToHex

const identities = loadVectors('identities.json').identities as any[]
const transcripts = loadVectors('transcript.json').transcripts as any[]
const envelopeVectors = loadVectors('envelopes.json')
const signatures = loadVectors('signatures.json')
const ring = loadVectors('ring.json')
const messages = loadVectors('messages.json')
const owned = loadVectors('owned.json').records as any[]
const chat = loadVectors('chat.json')

async function identityNamed (name: string): Promise<Identity> {
  const vector = identities.find(v => v.name === name)
  assert.ok(vector != null, `no identity named ${name}`)
  return importIdentity(fromHex(vector.export))
}

describe('test vectors', () => {
  describe('identities.json', () => {
    for (const vector of identities) {
      it(`derives ${vector.name}'s public key, address, fingerprint and mailbox key from the secret keys`, async () => {
        const identity = await importIdentity(fromHex(vector.export))
        assert.equal(hex(fromHex(vector.export).subarray(1, 33)), vector.ed25519Seed)
        assert.equal(hex(fromHex(vector.export).subarray(33, 65)), vector.x25519Secret)
        assert.equal(hex(await identity.export()), vector.export)
        assert.equal(hex(identity.publicKey.signingKey), vector.ed25519PublicKey)
        assert.equal(hex(identity.publicKey.agreementKey), vector.x25519PublicKey)
        assert.equal(hex(identity.publicKey.bytes), vector.publicKey)
        assert.equal(vector.publicKey, '01' + vector.ed25519PublicKey + vector.x25519PublicKey)
        assert.equal(identity.address, vector.address)
        assert.equal(identity.fingerprint, vector.fingerprint)
        assert.equal(hex(mailboxKey(identity.publicKey)), vector.mailboxKey)
        assert.equal(hex(parseAddress(vector.address).bytes), vector.publicKey)
      })
    }

    it('publishes the address checksum the address carries', () => {
      for (const vector of identities) {
        assert.equal(hex(labelledHash('libp2p-chord/address-checksum/v1', fromHex(vector.publicKey)).subarray(0, 4)), vector.addressChecksum)
      }
    })
  })

  describe('transcript.json', () => {
    for (const vector of transcripts) {
      it(`encodes ${vector.name}`, () => {
        const parts = vector.parts.map(fromHex)
        assert.equal(hex(transcript(vector.label, ...parts)), vector.transcript)
        assert.equal(hex(labelledHash(vector.label, ...parts)), vector.sha256)
      })
    }
  })

  describe('envelopes.json', () => {
    it('lists the padded size inside each envelope size', () => {
      for (const bucket of envelopeVectors.buckets) {
        assert.equal(paddedSizeFor(bucket.envelopeSize), bucket.paddedSize)
        assert.equal(bucket.maxSealedLength, bucket.paddedSize - 1)
      }
    })

    for (const vector of envelopeVectors.envelopes) {
      describe(vector.name, () => {
        it('is sealed to exactly these bytes from its inputs', async () => {
          const sender = await identityNamed(vector.sender)
          const recipient = await identityNamed(vector.recipient)
          const envelope = sealWith(sender, recipient.publicKey, fromHex(vector.plaintext), vector.sentAt, {
            secretKey: fromHex(vector.ephemeralSecret),
            publicKey: fromHex(vector.ephemeralPublicKey)
          })
          assert.equal(hex(envelope), vector.envelope)
          assert.equal(envelope.byteLength, vector.envelopeSize)
          assert.equal(hex(envelopeId(envelope)), vector.id)
        })

        it('opens to its plaintext, sender and time, and passes the checks a node makes', async () => {
          const recipient = await identityNamed(vector.recipient)
          const sender = await identityNamed(vector.sender)
          const envelope = fromHex(vector.envelope)
          const opened = await open(recipient, envelope)
          assert.equal(hex(opened.plaintext), vector.plaintext)
          assert.equal(opened.sentAt, vector.sentAt)
          assert.ok(opened.from.equals(sender.publicKey))
          assert.equal(hex(opened.id), vector.id)
          const decoded = decodeEnvelope(envelope)
          assert.equal(decoded.version, 1)
          assert.equal(hex(decoded.ephemeralKey), vector.ephemeralPublicKey)
          assert.equal(hex(decoded.ciphertext), vector.ciphertext)
        })

        it('publishes intermediate values that agree with the envelope', async () => {
          const sender = await identityNamed(vector.sender)
          // the sender's signature is over exactly the published transcript
          assert.ok(ed25519.verify(fromHex(vector.signature), fromHex(vector.signatureTranscript), sender.publicKey.signingKey, { zip215: false }))
          assert.equal(hex(unpad(fromHex(vector.padded))), vector.sealed)
          assert.equal(fromHex(vector.padded).byteLength, vector.paddedSize)
          assert.equal(vector.hkdfOutput, vector.aeadKey + vector.aeadNonce)
          assert.equal(hex(Envelope.encode({ version: 1, ephemeralKey: fromHex(vector.ephemeralPublicKey), ciphertext: fromHex(vector.ciphertext) })), vector.envelope)
          assert.equal(vector.id, hex(sha256(fromHex(vector.envelope))))
        })
      })
    }
  })

  describe('signatures.json', () => {
    const { prove, delete: deletion } = signatures

    it('answers the challenge of prove with its signature, over its signed bytes', async () => {
      const owner = await identityNamed(prove.owner)
      const node = peerIdFromString(prove.node)
      assert.equal(hex(node.toMultihash().bytes), prove.nodePeerIdBytes)
      assert.equal(hex(mailboxKey(owner.publicKey)), prove.mailboxKey)
      assert.equal(prove.context, SUBSCRIBE_CONTEXT)
      const signature = await answerChallenge(owner, fromHex(prove.nodePeerIdBytes), fromHex(prove.nonce))
      assert.equal(hex(signature), prove.signature)
      await verifyChallengeAnswer(owner.publicKey, fromHex(prove.nodePeerIdBytes), fromHex(prove.nonce), signature)
      assert.ok(await verifySignature(owner.publicKey, fromHex(prove.challengeTranscript), signature, SUBSCRIBE_CONTEXT))
      assert.ok(ed25519.verify(signature, fromHex(prove.signedBytes), owner.publicKey.signingKey, { zip215: false }))
    })

    it('signs the acknowledgement of delete with its signature, over its signed bytes', async () => {
      const owner = await identityNamed(deletion.owner)
      assert.equal(deletion.context, DELETE_CONTEXT)
      const ids = deletion.ids.map(fromHex)
      const signed = await signDeletion(owner, ids, deletion.signedAt)
      assert.equal(hex(signed.key), deletion.mailboxKey)
      assert.equal(hex(signed.signature), deletion.signature)
      await verifyDeletion(signed)
      assert.ok(await verifySignature(owner.publicKey, fromHex(deletion.deletionTranscript), signed.signature, DELETE_CONTEXT))
      assert.ok(ed25519.verify(signed.signature, fromHex(deletion.signedBytes), owner.publicKey.signingKey, { zip215: false }))
    })
  })

  describe('owned.json', () => {
    for (const vector of owned) {
      it(`signs ${vector.owner}'s record "${vector.nameText}" to exactly these bytes, under its key, and checks it as a replica does`, async () => {
        const owner = await identityNamed(vector.owner)
        const name = fromHex(vector.name)
        assert.equal(vector.keyLabel, OWNED_KEY_LABEL)
        assert.equal(vector.context, OWNED_RECORD_CONTEXT)
        assert.equal(hex(transcript(OWNED_KEY_LABEL, owner.publicKey.bytes, name)), vector.keyTranscript)
        assert.equal(hex(ownedKey(owner.publicKey, name)), vector.key)
        assert.equal(hex(sha256(fromHex(vector.keyTranscript))), vector.key)
        const fields = { name, seq: vector.seq, publishedAt: vector.publishedAt, expiresAt: vector.expiresAt, value: fromHex(vector.value) }
        assert.equal(hex(ownedTranscript(owner.publicKey, fields)), vector.recordTranscript)
        assert.equal(hex(await signOwnedRecord(owner, fields)), vector.record)
        assert.equal(hex(sha256(fromHex(vector.record))), vector.id)
        const decoded = decodeOwnedRecord(fromHex(vector.record))
        assert.equal(hex(decoded.signature), vector.signature)
        await verifyOwnedRecord(decoded)
        assert.ok(ed25519.verify(decoded.signature, fromHex(vector.signedBytes), owner.publicKey.signingKey, { zip215: false }))
      })
    }
  })

  describe('chat.json', () => {
    it('reads alice\'s device list, and encodes it to the same bytes', async () => {
      const [alice, bob] = await Promise.all([identityNamed('alice'), identityNamed('bob')])
      assert.equal(chat.deviceList.recordName, DEVICE_LIST_NAME)
      const devices = decodeDeviceList(alice.publicKey, fromHex(chat.deviceList.value))
      assert.deepEqual(devices.map(d => [bytesToHex(d.publicKey.bytes), d.name, d.addedAt]), chat.deviceList.devices.map((d: any) => [d.key, d.name, d.addedAt]))
      assert.ok(devices[1].publicKey.equals(bob.publicKey))
      assert.equal(bytesToHex(encodeDeviceList(alice.publicKey, devices)), chat.deviceList.value)
    })

    it('reads the link offer to alice and bob\'s keys', async () => {
      const [alice, bob] = await Promise.all([identityNamed('alice'), identityNamed('bob')])
      assert.equal(chat.linkOffer.checksumLabel, LINK_CHECKSUM_LABEL)
      const link = decodeLink(chat.linkOffer.text)
      assert.ok(link.person.equals(alice.publicKey) && link.linkKey.equals(bob.publicKey))
    })

    it('takes the group state in its canonical bytes, with its labelled hash', async () => {
      const alice = await identityNamed('alice')
      const state = decodeGroupState(fromHex(chat.groupState.bytes))
      assert.equal(chat.groupState.hashLabel, GROUP_STATE_LABEL)
      assert.equal(bytesToHex(labelledHash(GROUP_STATE_LABEL, fromHex(chat.groupState.bytes))), chat.groupState.hash)
      assert.equal(bytesToHex(state.hash), chat.groupState.hash)
      assert.deepEqual([state.name, state.version, state.members.length], ['climbing', 1, 2])
      assert.ok(state.admins[0].equals(alice.publicKey))
    })

    it('opens the frame envelope as bob: kind frame, from alice, a group message', async () => {
      const [alice, bob] = await Promise.all([identityNamed('alice'), identityNamed('bob')])
      assert.equal(chat.frame.signatureLabel, FRAME_SIGNATURE_LABEL)
      const opened = await open(bob, fromHex(chat.frame.envelope))
      assert.equal(opened.kind, 'frame')
      assert.ok(opened.from.equals(alice.publicKey))
      assert.equal(bytesToHex(opened.plaintext), chat.frame.frame)
      const frame = decodeFrame(opened.plaintext)
      assert.equal(frame.content.type, 'group-message')
    })

    it('decodes the leave frame: the group it names, and nothing else', () => {
      const frame = decodeFrame(fromHex(chat.groupLeave.frame))
      assert.deepEqual(frame, { person: undefined, content: { type: 'group-leave', groupId: fromHex(chat.groupLeave.groupId) } })
      assert.equal(chat.groupLeave.groupId, bytesToHex(decodeGroupState(fromHex(chat.groupState.bytes)).id), 'the group of the state above')
    })
  })

  describe('ring.json', () => {
    it('places each node at sha256 of its PeerId bytes', () => {
      for (const node of ring.nodes) {
        const peerId = peerIdFromString(node.peerId)
        assert.equal(hex(peerId.toMultihash().bytes), node.peerIdBytes)
        assert.equal(ringIdToHex(ringIdOf(peerId)), node.ringId)
      }
    })

    it('places each node with a nonce where its paid position is, and checks the puzzle', () => {
      for (const paid of ring.paidPositions) {
        const node = ring.nodes.find((n: { name: string }) => n.name === paid.node)
        const identity = fromHex(node.peerIdBytes)
        const nonce = fromHex(paid.nonce)
        assert.equal(hex(labelledHash(POSITION_PUZZLE_LABEL, identity, nonce)), paid.puzzle)
        assert.equal(puzzleWork(identity, nonce), paid.puzzleWork)
        assert.ok(paid.puzzleWork >= paid.difficulty)
        for (const { choice, ringId } of paid.positions) {
          assert.equal(ringIdToHex(positionId(identity, { nonce, choice })), ringId)
        }
      }
    })

    it('places each record key at sha256 of its bytes', () => {
      for (const key of ring.keys) {
        assert.equal(hex(keyPosition(fromHex(key.key))), key.position)
      }
      assert.equal(hex(keyPosition('hello')), ring.keys[0].position)
    })

    it('places each mailbox at its mailbox key', async () => {
      for (const mailbox of ring.mailboxes) {
        const owner = await identityNamed(mailbox.owner)
        assert.equal(hex(mailboxKey(owner.publicKey)), mailbox.mailboxKey)
        assert.equal(ringIdToHex(ringIdFromBytes(fromHex(mailbox.mailboxKey))), mailbox.position)
      }
    })
  })

  describe('messages.json', () => {
    const codecs: Record<string, { encode(m: any): Uint8Array, decode(b: Uint8Array): any }> = {
      Request, Response, MailboxRequest, MailboxEvent, PxRequest, PxResponse
    }
    const maxFrame: Record<string, number> = {
      Request: MAX_MESSAGE_SIZE,
      Response: MAX_MESSAGE_SIZE,
      MailboxRequest: MAX_MAILBOX_REQUEST_SIZE,
      MailboxEvent: MAX_MAILBOX_EVENT_SIZE,
      PxRequest: MAX_PX_REQUEST_SIZE,
      PxResponse: MAX_PX_RESPONSE_SIZE
    }

    for (const protocol of ['/chord/1.0.0', '/chord/px/1.0.0', '/chord/mailbox/1.0.0']) {
      describe(protocol, () => {
        for (const vector of messages[protocol] as any[]) {
          it(`${vector.name}: encodes, decodes, passes validation and is framed as published`, async () => {
            const codec = codecs[vector.message]
            const bytes = fromHex(vector.protobuf)
            assert.equal(hex(codec.encode(fromJson(vector.fields))), vector.protobuf)
            assert.equal(hex(codec.encode(codec.decode(bytes))), vector.protobuf)
            await validate(vector.message, bytes, vector.fields)
            assert.equal(hex(await frameThrough(bytes, maxFrame[vector.message])), vector.framed)
            assert.equal(hex(await unframeThrough(fromHex(vector.framed), maxFrame[vector.message])), vector.protobuf)
          })
        }
      })
    }

    it('FIND_OWNER: the owner\'s signature covers the documented bytes, and a changed byte breaks it', () => {
      const chord = messages['/chord/1.0.0'] as any[]
      const request = chord.find(v => v.fields.type === 'FIND_OWNER' && v.message === 'Request').fields
      const { ownerStatement } = chord.find(v => v.fields.type === 'FIND_OWNER' && v.message === 'Response').fields
      const owner = fromHex(ownerStatement.owner)
      // an Ed25519 PeerId inlines its key: the multihash ends with the 32 raw public key bytes
      const publicKey = Peer.decode(owner).peerId.subarray(-32)
      const signed = new Uint8Array([
        ...new TextEncoder().encode('libp2p-chord/owner-statement/1'), ...fromHex(request.nonce), ...fromHex(request.target), ...sha256(owner), ...fromHex(ownerStatement.neighbours)
      ])
      assert.equal(ed25519.verify(fromHex(ownerStatement.signature), signed, publicKey), true)
      signed[signed.length - 1] ^= 1
      assert.equal(ed25519.verify(fromHex(ownerStatement.signature), signed, publicKey), false)
    })

    it('FIND_OWNER carrying a record: the origin\'s signature and the owner\'s stored statement cover the documented bytes', () => {
      const chord = messages['/chord/1.0.0'] as any[]
      const request = chord.find(v => v.fields.type === 'FIND_OWNER' && v.message === 'Request' && v.fields.records != null).fields
      const { ownerStatement } = chord.find(v => v.fields.type === 'FIND_OWNER' && v.message === 'Response' && v.fields.ownerStatement.stored != null).fields
      const [record] = request.records
      const value = fromHex(record.value)
      const expiresAt = new Uint8Array(8)
      new DataView(expiresAt.buffer).setBigUint64(0, BigInt(record.expiresAt))
      const carried = new Uint8Array([
        ...new TextEncoder().encode('libp2p-chord/carried-store/1'), ...fromHex(request.nonce), 1, ...fromHex(record.key), ...sha256(value), ...expiresAt, 0
      ])
      const originKey = fromHex(request.origin).subarray(-32)
      assert.equal(ed25519.verify(fromHex(request.originSignature), carried, originKey), true)
      carried[carried.length - 1] ^= 1
      assert.equal(ed25519.verify(fromHex(request.originSignature), carried, originKey), false)

      assert.equal(ownerStatement.stored, hex(sha256(value)))
      const owner = fromHex(ownerStatement.owner)
      const stored = new Uint8Array([
        ...new TextEncoder().encode('libp2p-chord/owner-statement-stored/1'), ...fromHex(request.nonce), ...fromHex(request.target), ...sha256(owner),
        ...fromHex(ownerStatement.stored), ...fromHex(ownerStatement.neighbours)
      ])
      const ownerKey = Peer.decode(owner).peerId.subarray(-32)
      assert.equal(ed25519.verify(fromHex(ownerStatement.signature), stored, ownerKey), true)
    })

    it('carries the envelope, signatures and keys of the other vector files', () => {
      const chord = messages['/chord/1.0.0'] as any[]
      const mailbox = messages['/chord/mailbox/1.0.0'] as any[]
      const del = chord.find(v => v.fields.type === 'DELETE' && v.message === 'Request').fields
      assert.equal(del.signature, signatures.delete.signature)
      assert.deepEqual(del.ids, signatures.delete.ids)
      assert.equal(del.signedAt, signatures.delete.signedAt)
      const prove = mailbox.find(v => v.fields.type === 'PROVE').fields
      assert.equal(prove.signature, signatures.prove.signature)
      const challenge = mailbox.find(v => v.fields.type === 'CHALLENGE').fields
      assert.equal(challenge.nonce, signatures.prove.nonce)
      const pushed = mailbox.find(v => v.fields.type === 'ENVELOPES' && v.fields.envelopes != null).fields
      assert.equal(pushed.envelopes[0], envelopeVectors.envelopes[0].envelope)
      const digest = chord.find(v => v.fields.type === 'RANGE_DIGEST' && v.message === 'Response').fields
      const only = envelopeVectors.envelopes[0]
      assert.equal(digest.digest, hex(sha256(fromHex(signatures.delete.mailboxKey + only.id))))
      const store = chord.find(v => v.fields.type === 'STORE' && v.fields.namespace === 'OWNED').fields
      assert.deepEqual([store.records[0].key, store.records[0].value], [owned[0].key, owned[0].record])
    })
  })
})

/** The library's own decoding and validation of one message, as a node or client applies it */
async function validate (message: string, bytes: Uint8Array, fields: any): Promise<void> {
  switch (message) {
    case 'Request':
      assert.equal(decodeRequest(bytes).type, fields.type)
      return
    case 'Response':
      assert.equal(decodeResponse(bytes, fields.type).type, fields.type)
      return
    case 'PxRequest':
      assert.equal(decodePxRequest(bytes), fields.numPeers)
      return
    case 'PxResponse': {
      const response = decodePxResponse(bytes, 16)
      for (const peer of response.peers) {
        const valid = await validatePxPeer(peer)
        assert.ok(valid.multiaddrs.length > 0)
      }
      return
    }
    case 'MailboxRequest':
      assert.equal(MailboxRequest.decode(bytes).type, fields.type)
      return
    case 'MailboxEvent':
      assert.equal(MailboxEvent.decode(bytes).type, fields.type)
      return
    default:
      assert.fail(`no codec for ${message}`)
  }
}

/** What the library's framing puts on the stream for one message */
async function frameThrough (message: Uint8Array, maxMessageSize: number): Promise<Uint8Array> {
  const [a, b] = await streamPair()
  const received = collect(b)
  await frameStream(a, maxMessageSize).write(message)
  await a.close()
  return received
}

/** The message the library's framing reads from these bytes on the stream */
async function unframeThrough (bytes: Uint8Array, maxMessageSize: number): Promise<Uint8Array> {
  const [a, b] = await streamPair()
  a.send(bytes)
  const read = await frameStream(b, maxMessageSize).read({ signal: AbortSignal.timeout(5000) })
  await a.close()
  return read.subarray()
}

async function collect (stream: AsyncIterable<Uint8Array | { subarray(): Uint8Array }>): Promise<Uint8Array> {
  const chunks: number[] = []
  for await (const chunk of stream) {
    chunks.push(...(chunk instanceof Uint8Array ? chunk : chunk.subarray()))
  }
  return Uint8Array.from(chunks)
}
