/**
 * Writes the test vectors in this folder (docs/protocol.md, "Test vectors") from the library's own
 * code, from fixed inputs: every secret is sha256 of a fixed label, so the output is the same on
 * every run. Run it with `npx tsx test/vectors/generate.ts` after a deliberate format change, and
 * commit the JSON: the tests check the code against the committed files, not against this script.
 */
import { writeFile } from 'node:fs/promises'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import * as varint from 'uint8-varint'
import {
  ADDRESS_CHECKSUM_LABEL, DELETE_CONTEXT, ENVELOPE_KEY_LABEL, ENVELOPE_SIZES, Envelope, IDENTITY_EXPORT_LABEL,
  MAILBOX_KEY_LABEL, MESSAGE_SIGNATURE_LABEL, MailboxEvent, MailboxRequest, Neighbours, Peer, PxRequest, PxResponse, Request, Response,
  carriedSignedBytes, ownerStatementBytes,
  OWNED_KEY_LABEL, OWNED_RECORD_CONTEXT, OwnedRecord, POSITION_PUZZLE_LABEL, SUBSCRIBE_CONTEXT, Sealed, USER_SIGNATURE_LABEL, answerChallenge,
  createRecord, envelopeId, importIdentity, keyPosition, labelledHash, mailboxKey, mintNonce, openLevelStore, ownedKey, ownedTranscript,
  paddedSizeFor, positionId, puzzleWork, ringIdFromBytes, ringIdOf, ringIdToHex, sealWith, signDeletion, signOwnedRecord, transcript, uint64, unpad, utf8,
  DEVICE_LIST_NAME, FRAME_SIGNATURE_LABEL, GROUP_STATE_LABEL, LINK_CHECKSUM_LABEL, deviceInfo, encodeDeviceList, encodeFrame, encodeLink, makeGroupState
} from './library.js'
import { fromJson } from './json.js'
import type { Identity } from './library.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

const DIR = new URL('.', import.meta.url)

/** Every secret and nonce: sha256 of a fixed label, so that nothing here is random */
function fixed (what: string): Uint8Array {
  return sha256(utf8(`libp2p-chord test vectors: ${what}`))
}

const hex = bytesToHex

/** 2026-01-01T00:00:00Z */
const SENT_AT = 1_767_225_600_000
/** a minute later */
const SIGNED_AT = SENT_AT + 60_000
/** a week after sending */
const EXPIRES_AT = SENT_AT + 7 * 24 * 3600_000

async function write (name: string, data: unknown): Promise<void> {
  await writeFile(new URL(name, DIR), JSON.stringify(data, null, 2) + '\n')
}

/* ---- identities ---- */

interface NamedIdentity { name: string, identity: Identity, ed25519Seed: Uint8Array, x25519Secret: Uint8Array, exported: Uint8Array }

async function makeIdentity (name: string): Promise<NamedIdentity> {
  const ed25519Seed = fixed(`${name} ed25519 seed`)
  const x25519Secret = fixed(`${name} x25519 secret`)
  const body = new Uint8Array([1, ...ed25519Seed, ...x25519Secret])
  const exported = new Uint8Array([...body, ...labelledHash(IDENTITY_EXPORT_LABEL, body).subarray(0, 4)])
  const identity = await importIdentity(exported)
  return { name, identity, ed25519Seed, x25519Secret, exported }
}

function describeIdentity ({ name, identity, ed25519Seed, x25519Secret, exported }: NamedIdentity): Record<string, unknown> {
  const key = identity.publicKey.bytes
  return {
    name,
    ed25519Seed: hex(ed25519Seed),
    x25519Secret: hex(x25519Secret),
    export: hex(exported),
    ed25519PublicKey: hex(identity.publicKey.signingKey),
    x25519PublicKey: hex(identity.publicKey.agreementKey),
    publicKey: hex(key),
    addressChecksum: hex(labelledHash(ADDRESS_CHECKSUM_LABEL, key).subarray(0, 4)),
    address: identity.address,
    fingerprint: identity.fingerprint,
    mailboxKey: hex(mailboxKey(identity.publicKey))
  }
}

/* ---- ring nodes ---- */

interface Node { name: string, seed: Uint8Array, peerId: PeerId, privateKey: PrivateKey, addr: string }

async function makeNode (name: string, port: number): Promise<Node> {
  const seed = fixed(`${name} libp2p ed25519 seed`)
  const privateKey = await generateKeyPairFromSeed('Ed25519', seed)
  return { name, seed, privateKey, peerId: peerIdFromPrivateKey(privateKey), addr: `/ip4/127.0.0.1/tcp/${port}` }
}

function peerBytes (node: Node): Uint8Array {
  return node.peerId.toMultihash().bytes
}

function ringIdBytes (node: Node): Uint8Array {
  return sha256(peerBytes(node))
}

/** A Peer entry as /chord/1.0.0 carries it */
function wirePeer (node: Node): Record<string, unknown> {
  return { peerId: hex(peerBytes(node)), ringId: hex(ringIdBytes(node)), addrs: [hex(multiaddr(node.addr).bytes)] }
}

/* ---- messages ---- */

interface MessageVector {
  name: string
  /** who writes it */
  from: 'dialer' | 'listener'
  /** the protobuf message type */
  message: string
  /** the fields set, as in the .proto: bytes as hex, enums by name */
  fields: Record<string, unknown>
  notes?: string
  protobuf: string
  framed: string
}

function framed (bytes: Uint8Array): string {
  return hex(new Uint8Array([...varint.encode(bytes.byteLength), ...bytes]))
}

function vector (name: string, from: MessageVector['from'], message: string, encode: (m: any) => Uint8Array, fields: Record<string, unknown>, notes?: string): MessageVector {
  const protobuf = encode(fromJson(fields))
  return { name, from, message, fields, ...(notes == null ? {} : { notes }), protobuf: hex(protobuf), framed: framed(protobuf) }
}

async function main (): Promise<void> {
  const alice = await makeIdentity('alice')
  const bob = await makeIdentity('bob')
  const [n1, n2, n3] = await Promise.all([makeNode('node 1', 4001), makeNode('node 2', 4002), makeNode('node 3', 4003)])
  const bobMailbox = mailboxKey(bob.identity.publicKey)

  /* identities.json */
  await write('identities.json', {
    description: 'User identities: secret keys, the exported form, the canonical public key and what is derived from it (docs/protocol.md, "User keys").',
    identities: [alice, bob].map(describeIdentity)
  })

  /* transcript.json */
  const parts = [bob.identity.publicKey.bytes]
  const withNumber = [utf8('a'), new Uint8Array(0), uint64(SENT_AT)]
  await write('transcript.json', {
    description: 'transcript(label, parts…) = for the label (UTF-8) and then each part: uint32 big-endian length ‖ bytes (docs/protocol.md, "Transcripts").',
    transcripts: [
      {
        name: 'the mailbox key of bob: sha256 of this transcript',
        label: MAILBOX_KEY_LABEL,
        parts: parts.map(hex),
        transcript: hex(transcript(MAILBOX_KEY_LABEL, ...parts)),
        sha256: hex(labelledHash(MAILBOX_KEY_LABEL, ...parts))
      },
      {
        name: 'parts may be empty; a number is a part of 8 bytes, big-endian',
        label: 'example',
        parts: withNumber.map(hex),
        transcript: hex(transcript('example', ...withNumber)),
        sha256: hex(labelledHash('example', ...withNumber))
      }
    ]
  })

  /* envelopes.json */
  const envelopes = []
  const bodies = [
    { name: 'a short text from alice to bob (512-byte bucket)', plaintext: utf8('Hello Bob! This is Alice.') },
    { name: 'a 400-byte body from alice to bob (2 KiB bucket)', plaintext: Uint8Array.from({ length: 400 }, (_, i) => i % 256) }
  ]
  for (const [i, { name, plaintext }] of bodies.entries()) {
    const ephemeralSecret = fixed(`ephemeral x25519 secret ${i + 1}`)
    const ephemeralPublicKey = Uint8Array.from(x25519.getPublicKey(ephemeralSecret))
    const sentAt = SENT_AT + i
    const signatureTranscript = transcript(MESSAGE_SIGNATURE_LABEL, alice.identity.publicKey.bytes, bob.identity.publicKey.bytes,
      ephemeralPublicKey, uint64(sentAt), plaintext)
    const signature = ed25519.sign(signatureTranscript, alice.ed25519Seed)
    const sealed = Sealed.encode({ sender: alice.identity.publicKey.bytes, sentAt, body: Uint8Array.from(plaintext), signature })
    const envelope = sealWith(alice.identity, bob.identity.publicKey, plaintext, sentAt, { secretKey: ephemeralSecret, publicKey: ephemeralPublicKey })
    const sharedSecret = x25519.getSharedSecret(ephemeralSecret, bob.identity.publicKey.agreementKey)
    const hkdfInfo = transcript(ENVELOPE_KEY_LABEL, ephemeralPublicKey, bob.identity.publicKey.bytes)
    const okm = hkdf(sha256, sharedSecret, undefined, hkdfInfo, 44)
    const { ciphertext } = Envelope.decode(envelope)
    const padded = chacha20poly1305(okm.subarray(0, 32), okm.subarray(32)).decrypt(ciphertext)
    if (hex(unpad(padded)) !== hex(sealed)) {
      throw new Error('the sealed message inside the envelope is not the one rebuilt here')
    }
    envelopes.push({
      name,
      sender: 'alice',
      recipient: 'bob',
      plaintext: hex(plaintext),
      sentAt,
      ephemeralSecret: hex(ephemeralSecret),
      ephemeralPublicKey: hex(ephemeralPublicKey),
      signatureTranscript: hex(signatureTranscript),
      signature: hex(signature),
      sealed: hex(sealed),
      paddedSize: padded.byteLength,
      padded: hex(padded),
      sharedSecret: hex(sharedSecret),
      hkdfInfo: hex(hkdfInfo),
      hkdfOutput: hex(okm),
      aeadKey: hex(okm.subarray(0, 32)),
      aeadNonce: hex(okm.subarray(32)),
      ciphertext: hex(ciphertext),
      envelopeSize: envelope.byteLength,
      envelope: hex(envelope),
      id: hex(envelopeId(envelope))
    })
  }
  await write('envelopes.json', {
    description: 'Sealed envelopes with every input and intermediate value (docs/protocol.md, "Sealed envelope"). Identities are in identities.json.',
    buckets: ENVELOPE_SIZES.map(envelopeSize => ({ envelopeSize, paddedSize: paddedSizeFor(envelopeSize), maxSealedLength: paddedSizeFor(envelopeSize) - 1 })),
    envelopes
  })
  const envelope = Uint8Array.from(Buffer.from(envelopes[0].envelope, 'hex'))
  const id1 = envelopeId(envelope)
  const id2 = Uint8Array.from(Buffer.from(envelopes[1].id, 'hex'))

  /* signatures.json */
  const nonce = fixed('challenge nonce')
  const challengeTranscript = transcript(SUBSCRIBE_CONTEXT, peerBytes(n1), bobMailbox, nonce)
  const proveSignature = await answerChallenge(bob.identity, peerBytes(n1), nonce)
  const deletion = await signDeletion(bob.identity, [id1, id2], SIGNED_AT)
  const deletionTranscript = transcript(DELETE_CONTEXT, bobMailbox, uint64(SIGNED_AT), id1, id2)
  await write('signatures.json', {
    description: 'Owner signatures: the answer to a subscription challenge (PROVE) and an acknowledgement (DELETE), with the exact bytes signed (docs/protocol.md, "Owner signatures").',
    prove: {
      owner: 'bob',
      node: n1.peerId.toString(),
      nodePeerIdBytes: hex(peerBytes(n1)),
      mailboxKey: hex(bobMailbox),
      nonce: hex(nonce),
      context: SUBSCRIBE_CONTEXT,
      challengeTranscript: hex(challengeTranscript),
      signedBytes: hex(transcript(USER_SIGNATURE_LABEL, utf8(SUBSCRIBE_CONTEXT), challengeTranscript)),
      signature: hex(proveSignature)
    },
    delete: {
      owner: 'bob',
      mailboxKey: hex(bobMailbox),
      signedAt: SIGNED_AT,
      ids: [id1, id2].map(hex),
      context: DELETE_CONTEXT,
      deletionTranscript: hex(deletionTranscript),
      signedBytes: hex(transcript(USER_SIGNATURE_LABEL, utf8(DELETE_CONTEXT), deletionTranscript)),
      signature: hex(deletion.signature)
    }
  })

  /* owned.json */
  const ownedName = utf8('profile')
  const ownedFields = { name: ownedName, seq: SENT_AT, publishedAt: SENT_AT, expiresAt: EXPIRES_AT, value: utf8('Alice, at home, chord:…') }
  const ownedKeyBytes = ownedKey(alice.identity.publicKey, ownedName)
  const ownedSigned = ownedTranscript(alice.identity.publicKey, ownedFields)
  const ownedValue = await signOwnedRecord(alice.identity, ownedFields)
  const ownedRecord = OwnedRecord.decode(ownedValue)
  await write('owned.json', {
    description: 'An owned record: alice\'s record "profile", its key, the bytes she signs and the record as a replica stores it (docs/protocol.md, "Owned records").',
    records: [{
      owner: 'alice',
      name: hex(ownedName),
      nameText: 'profile',
      keyLabel: OWNED_KEY_LABEL,
      keyTranscript: hex(transcript(OWNED_KEY_LABEL, alice.identity.publicKey.bytes, ownedName)),
      key: hex(ownedKeyBytes),
      seq: ownedFields.seq,
      publishedAt: ownedFields.publishedAt,
      expiresAt: ownedFields.expiresAt,
      value: hex(ownedFields.value),
      context: OWNED_RECORD_CONTEXT,
      recordTranscript: hex(ownedSigned),
      signedBytes: hex(transcript(USER_SIGNATURE_LABEL, utf8(OWNED_RECORD_CONTEXT), ownedSigned)),
      signature: hex(ownedRecord.signature),
      record: hex(ownedValue),
      id: hex(sha256(ownedValue))
    }]
  })

  /* chat.json */
  const devices = [deviceInfo(alice.identity.publicKey, '', 0), deviceInfo(bob.identity.publicKey, 'laptop', SENT_AT)]
  const groupState = makeGroupState({
    id: fixed('group id').subarray(0, 16),
    version: 1,
    previous: new Uint8Array(0),
    name: 'climbing',
    members: [alice.identity.publicKey, bob.identity.publicKey],
    admins: [alice.identity.publicKey],
    changedBy: alice.identity.publicKey,
    changedAt: SENT_AT
  })
  const frame = encodeFrame({ content: { type: 'group-message', groupId: groupState.id, version: 1, body: utf8('Saturday?') } })
  const frameEphemeral = fixed('ephemeral x25519 secret for a frame')
  const frameEnvelope = sealWith(alice.identity, bob.identity.publicKey, frame, SENT_AT, { secretKey: frameEphemeral, publicKey: Uint8Array.from(x25519.getPublicKey(frameEphemeral)) }, 'frame')
  await write('chat.json', {
    description: 'Devices and groups (docs/protocol.md, "Devices and groups"): alice\'s device list naming bob\'s key as her laptop, a link offer for alice with bob\'s key as the link key, a group state, a group message frame sealed from alice to bob, and the frame with which a member leaves that group.',
    deviceList: {
      person: 'alice',
      recordName: DEVICE_LIST_NAME,
      devices: devices.map(d => ({ key: hex(d.publicKey.bytes), name: d.name, addedAt: d.addedAt })),
      value: hex(encodeDeviceList(alice.identity.publicKey, devices))
    },
    linkOffer: { person: 'alice', linkKey: 'bob', checksumLabel: LINK_CHECKSUM_LABEL, text: encodeLink({ person: alice.identity.publicKey, linkKey: bob.identity.publicKey }) },
    groupState: { hashLabel: GROUP_STATE_LABEL, bytes: hex(groupState.bytes), hash: hex(groupState.hash) },
    frame: {
      sender: 'alice',
      recipient: 'bob',
      sentAt: SENT_AT,
      signatureLabel: FRAME_SIGNATURE_LABEL,
      ephemeralSecret: hex(frameEphemeral),
      frame: hex(frame),
      envelope: hex(frameEnvelope)
    },
    groupLeave: { groupId: hex(groupState.id), frame: hex(encodeFrame({ content: { type: 'group-leave', groupId: groupState.id } })) }
  })

  /* ring.json */
  // a difficulty high enough that the first nonces fail it, low enough to mint at once
  const PAID_POSITION_DIFFICULTY = 10
  const keys = [
    { name: 'the text key "hello" (UTF-8)', key: utf8('hello') },
    { name: 'the empty key', key: new Uint8Array(0) },
    { name: 'a binary key', key: Uint8Array.from([0, 1, 2, 3, 0xff]) }
  ]
  await write('ring.json', {
    description: 'Ring positions: a node\'s ring id is sha256 of its PeerId multihash bytes; a record key\'s position is sha256 of the key bytes; a mailbox key is its own position; in a network with idDifficulty, a node\'s paid position is sha256(transcript(POSITION_LABEL, peerIdBytes, nonce, uint64(choice))), valid when sha256(transcript(POSITION_PUZZLE_LABEL, peerIdBytes, nonce)) has idDifficulty leading zero bits (docs/protocol.md, "Ring positions").',
    nodes: [n1, n2, n3].map(node => ({
      name: node.name,
      ed25519Seed: hex(node.seed),
      peerId: node.peerId.toString(),
      peerIdBytes: hex(peerBytes(node)),
      ringId: hex(ringIdBytes(node))
    })),
    keys: keys.map(({ name, key }) => ({ name, key: hex(key), position: hex(keyPosition(key)) })),
    mailboxes: [alice, bob].map(({ name, identity }) => ({ owner: name, mailboxKey: hex(mailboxKey(identity.publicKey)), position: hex(mailboxKey(identity.publicKey)) })),
    paidPositions: await Promise.all([n1, n2].map(async node => {
      const identity = peerBytes(node)
      const nonce = await mintNonce(identity, PAID_POSITION_DIFFICULTY)
      return {
        node: node.name,
        difficulty: PAID_POSITION_DIFFICULTY,
        nonce: hex(nonce),
        puzzle: hex(labelledHash(POSITION_PUZZLE_LABEL, identity, nonce)),
        puzzleWork: puzzleWork(identity, nonce),
        positions: [0, 1].map(choice => ({ choice, ringId: ringIdToHex(positionId(identity, { nonce, choice })) }))
      }
    }))
  })
  // the ring ids above come from the code too
  for (const node of [n1, n2, n3]) {
    if (ringIdOf(node.peerId) !== ringIdFromBytes(ringIdBytes(node))) {
      throw new Error('ring id mismatch')
    }
  }

  /* messages.json */
  const helloPosition = keyPosition(utf8('hello'))
  const helloValue = utf8('world')
  // (0, bob's mailbox key]: an interval that holds bob's mailbox key at its end
  const rangeStart = new Uint8Array(32)
  const rangeEnd = bobMailbox
  const store = await openLevelStore()
  await store.put([createRecord(bobMailbox, envelope, EXPIRES_AT)], { now: SENT_AT })
  const digest = await store.digest(ringIdFromBytes(rangeStart), ringIdFromBytes(rangeEnd), { now: SENT_AT })
  await store.close()
  if (digest.count !== 1) {
    throw new Error('the digest example should cover one record')
  }

  // node 1 owns bob's mailbox for a FIND_OWNER: its entry and neighbours, signed over the asker's nonce
  const ownerNonce = fixed('FIND_OWNER nonce').subarray(0, 16)
  const statedOwner = Peer.encode(fromJson(wirePeer(n1)) as Peer)
  const statedNeighbours = Neighbours.encode(fromJson({ predecessor: wirePeer(n3), successors: [wirePeer(n2)] }) as Neighbours)
  const ownerSignature = await n1.privateKey.sign(ownerStatementBytes(ownerNonce, bobMailbox, statedOwner, statedNeighbours))
  // node 2 carries the envelope of envelopes.json[0] to the owner of bob's mailbox on its FIND_OWNER;
  // node 1 stores it and says so
  const carriedNonce = fixed('carrying FIND_OWNER nonce').subarray(0, 16)
  const carried = createRecord(bobMailbox, envelope, EXPIRES_AT)
  const originSignature = await n2.privateKey.sign(carriedSignedBytes(carriedNonce, 'mailbox', carried))
  const storedSignature = await n1.privateKey.sign(ownerStatementBytes(carriedNonce, bobMailbox, statedOwner, statedNeighbours, carried.id))

  const req = (name: string, fields: Record<string, unknown>, notes?: string): MessageVector => vector(name, 'dialer', 'Request', m => Request.encode(m), fields, notes)
  const res = (name: string, fields: Record<string, unknown>, notes?: string): MessageVector => vector(name, 'listener', 'Response', m => Response.encode(m), fields, notes)
  const chord = [
    req('PING request', { type: 'PING' }),
    res('PING answer', { type: 'PING' }, 'status OK is the default, so an OK answer without fields is just its type'),
    req('PING request from a successor whose neighbours changed', { type: 'PING', neighboursDigest: 3735928559 }, 'its new neighbours digest, field 14'),
    res('PING answer with the neighbours digest', { type: 'PING', neighboursDigest: 305419896 }, 'field 12; a node that computes no digest leaves it out'),
    req('NOTIFY request', { type: 'NOTIFY' }),
    req('GET_NEIGHBOURS request', { type: 'GET_NEIGHBOURS' }),
    res('GET_NEIGHBOURS answer', { type: 'GET_NEIGHBOURS', neighbours: { predecessor: wirePeer(n3), successors: [wirePeer(n2)] } },
      `addrs are binary multiaddrs: ${n3.addr}, ${n2.addr}`),
    req('LEAVING request', { type: 'LEAVING', neighbours: { predecessor: wirePeer(n3), successors: [wirePeer(n2)] } }),
    req('FIND_SUCCESSOR request for bob\'s mailbox', { type: 'FIND_SUCCESSOR', target: hex(bobMailbox) }),
    req('FIND_SUCCESSOR request for the owner of bob\'s mailbox alone', { type: 'FIND_SUCCESSOR', target: hex(bobMailbox), successorCount: 1 },
      'a done answer carries at most successorCount successors; without the field, the whole list'),
    res('FIND_SUCCESSOR answer: done, the successors', { type: 'FIND_SUCCESSOR', done: true, peers: [wirePeer(n1), wirePeer(n2), wirePeer(n3)] },
      'peers[0] is the node responsible for the target; the replica set is the first r entries'),
    res('FIND_SUCCESSOR answer: not done, closer nodes', { type: 'FIND_SUCCESSOR', peers: [wirePeer(n3)] }, 'done = false is the default and not written'),
    req('FIND_OWNER request for bob\'s mailbox', { type: 'FIND_OWNER', target: hex(bobMailbox), nonce: hex(ownerNonce), hopsLeft: 24 },
      'the nonce is the asker\'s (16 random bytes); a node passing the request on sends it unchanged, with hopsLeft one less'),
    res('FIND_OWNER answer: node 1 owns the target', {
      type: 'FIND_OWNER',
      ownerStatement: { owner: hex(statedOwner), neighbours: hex(statedNeighbours), signature: hex(ownerSignature) },
      hops: 2
    }, 'owner: node 1\'s Peer entry, encoded; neighbours: the Neighbours message {predecessor: node 3, successors: [node 2]}, encoded; signature: node 1\'s ' +
      'Ed25519 key over "libp2p-chord/owner-statement/1" ‖ the request\'s nonce ‖ target ‖ sha256(owner) ‖ neighbours; hops (not signed): the request went through ' +
      'one node before the owner'),
    req('FIND_OWNER request carrying an envelope for bob\'s mailbox', {
      type: 'FIND_OWNER',
      target: hex(bobMailbox),
      nonce: hex(carriedNonce),
      hopsLeft: 24,
      namespace: 'MAILBOX',
      records: [{ key: hex(bobMailbox), value: hex(envelope), expiresAt: EXPIRES_AT }],
      origin: hex(n2.peerId.toMultihash().bytes),
      originSignature: hex(originSignature)
    }, 'origin: node 2\'s peer id (multihash bytes); originSignature: node 2\'s Ed25519 key over "libp2p-chord/carried-store/1" ‖ nonce ‖ namespace (1 byte, MAILBOX = 1) ‖ ' +
      'key ‖ id (sha256 of the value) ‖ expiresAt (8 bytes, big-endian) ‖ stamp length (1 byte, 0) ‖ stamp (none)'),
    res('FIND_OWNER answer: node 1 owns the target and stored the carried envelope', {
      type: 'FIND_OWNER',
      ownerStatement: { owner: hex(statedOwner), neighbours: hex(statedNeighbours), signature: hex(storedSignature), stored: hex(carried.id) },
      hops: 2
    }, 'stored: the carried record\'s id; signature: node 1\'s Ed25519 key over "libp2p-chord/owner-statement-stored/1" ‖ nonce ‖ target ‖ sha256(owner) ‖ stored ‖ neighbours'),
    req('STORE of an envelope in bob\'s mailbox', { type: 'STORE', namespace: 'MAILBOX', records: [{ key: hex(bobMailbox), value: hex(envelope), expiresAt: EXPIRES_AT }] },
      'the record id, sha256(value), is never sent'),
    req('STORE of a plain record under the key "hello"', { type: 'STORE', records: [{ key: hex(helloPosition), value: hex(helloValue), expiresAt: EXPIRES_AT }] },
      'namespace RECORDS is the default and not written'),
    req('FETCH of the key "hello"', { type: 'FETCH', key: hex(helloPosition) }),
    res('FETCH answer', { type: 'FETCH', records: [{ key: hex(helloPosition), value: hex(helloValue), expiresAt: EXPIRES_AT }] }, 'more = false: the last page'),
    req('RANGE_DIGEST request in the mailbox namespace', { type: 'RANGE_DIGEST', rangeStart: hex(rangeStart), rangeEnd: hex(rangeEnd), namespace: 'MAILBOX' },
      'the interval (0, mailbox key of bob]: it ends at bob\'s mailbox key, so it holds that key\'s records'),
    res('RANGE_DIGEST answer: the interval holds the envelope of envelopes.json[0] alone', { type: 'RANGE_DIGEST', count: 1, digest: hex(digest.hash) },
      'digest = sha256(key ‖ id) over the one record: sha256(mailbox key of bob ‖ id of the envelope)'),
    req('RANGE_SUMMARIES request', { type: 'RANGE_SUMMARIES', rangeStart: hex(rangeStart), rangeEnd: hex(rangeEnd) }),
    res('RANGE_SUMMARIES answer', { type: 'RANGE_SUMMARIES', summaries: [{ key: hex(bobMailbox), id: hex(id1), expiresAt: EXPIRES_AT }] }),
    req('DELETE: bob acknowledges two envelopes (signatures.json, delete)', {
      type: 'DELETE',
      key: hex(bobMailbox),
      namespace: 'MAILBOX',
      owner: hex(bob.identity.publicKey.bytes),
      ids: [id1, id2].map(hex),
      signedAt: SIGNED_AT,
      signature: hex(deletion.signature)
    }),
    res('DELETE answer', { type: 'DELETE' }),
    req('STORE in MAILBOX handing on bob\'s acknowledgement, with no record (a repair of the range)', {
      type: 'STORE',
      namespace: 'MAILBOX',
      deletions: [{ key: hex(bobMailbox), ids: [id1, id2].map(hex), owner: hex(bob.identity.publicKey.bytes), signedAt: SIGNED_AT, signature: hex(deletion.signature) }]
    }, 'each Deletion is checked as the DELETE above; field 40 of Request'),
    res('STORE answer: the second record turned away, the first dropped as deleted by bob', {
      type: 'STORE',
      stored: {
        declined: [1],
        deletions: [{ key: hex(bobMailbox), ids: [id1, id2].map(hex), owner: hex(bob.identity.publicKey.bytes), signedAt: SIGNED_AT, signature: hex(deletion.signature) }]
      }
    }, 'field 40 of Response; an earlier node leaves it out'),
    res('STORE answer from a node whose predecessor is node 3: it owns the keys after node 3\'s ring id, up to its own', {
      type: 'STORE',
      stored: { declined: [], deletions: [], predecessor: hex(ringIdBytes(n3)) }
    }, 'StoreOutcome field 3, 32 bytes; absent from nodes that know no predecessor and from earlier nodes, which a writer then does not take as the owner'),
    res('ERROR answer to a DELETE whose signature does not verify', { type: 'DELETE', status: 'ERROR', errorCode: 'BAD_SIGNATURE' }),
    req('STORE of alice\'s owned record "profile" (owned.json)', { type: 'STORE', namespace: 'OWNED', records: [{ key: hex(ownedKeyBytes), value: hex(ownedValue), expiresAt: EXPIRES_AT }] },
      'a replica takes the lifetime the owner signed (owned.json, expiresAt), whatever the Record says'),
    res('ERROR answer to a STORE of an owned record older than the one held', { type: 'STORE', status: 'ERROR', errorCode: 'STALE' }),
    res('ERROR answer RATE_LIMITED, with when to ask again', { type: 'STORE', status: 'ERROR', errorCode: 'RATE_LIMITED', retryAfterMs: 4200 })
  ]

  const record = await RecordEnvelope.seal(new PeerRecord({ peerId: n2.peerId, multiaddrs: [multiaddr(n2.addr)], seqNumber: BigInt(SENT_AT) }), n2.privateKey)
  const px = [
    vector('request for 16 peers', 'dialer', 'PxRequest', m => PxRequest.encode(m), { numPeers: 16 }),
    vector('answer with one signed peer record and one peer with plain addresses', 'listener', 'PxResponse', m => PxResponse.encode(m), {
      status: 'OK',
      peers: [
        { peerId: hex(peerBytes(n2)), signedPeerRecord: hex(record.marshal()) },
        { peerId: hex(peerBytes(n3)), addrs: [hex(multiaddr(n3.addr).bytes)] }
      ]
    }, `the signed peer record (libp2p RFC 0002/0003) is signed by node 2 about node 2, seq ${SENT_AT}, address ${n2.addr}`),
    vector('RATE_LIMITED answer', 'listener', 'PxResponse', m => PxResponse.encode(m), { status: 'RATE_LIMITED' })
  ]

  const mreq = (name: string, fields: Record<string, unknown>, notes?: string): MessageVector => vector(name, 'dialer', 'MailboxRequest', m => MailboxRequest.encode(m), fields, notes)
  const mev = (name: string, fields: Record<string, unknown>, notes?: string): MessageVector => vector(name, 'listener', 'MailboxEvent', m => MailboxEvent.encode(m), fields, notes)
  const mailbox = [
    mreq('SUBSCRIBE by bob', { type: 'SUBSCRIBE', owner: hex(bob.identity.publicKey.bytes) }),
    mev('CHALLENGE from node 1', { type: 'CHALLENGE', nonce: hex(nonce) }),
    mreq('PROVE: bob\'s answer to node 1 (signatures.json, prove)', { type: 'PROVE', signature: hex(proveSignature) }),
    mev('ENVELOPES: the backlog, one envelope, caught up', { type: 'ENVELOPES', envelopes: [hex(envelope)], caughtUp: true }),
    mev('ENVELOPES: an empty backlog', { type: 'ENVELOPES', caughtUp: true }),
    mev('ENVELOPES: a push of a new envelope', { type: 'ENVELOPES', envelopes: [hex(envelope)] }),
    mev('ERROR: the challenge answer did not verify', { type: 'ERROR', errorCode: 'BAD_SIGNATURE' })
  ]

  await write('messages.json', {
    description: 'Example messages of each protocol: the fields set (bytes as hex, enums by name), the protobuf encoding and the frame (unsigned varint length ‖ protobuf) as it goes on the stream (docs/protocol.md). Node keys are in ring.json, identities in identities.json.',
    '/chord/1.0.0': chord,
    '/chord/px/1.0.0': px,
    '/chord/mailbox/1.0.0': mailbox
  })
}

await main()
