/**
 * Owned records on a ring of real nodes: what Alice publishes only her key can write. Mallory, a
 * peer of her own, cannot overwrite it, shadow it with an older record, or delete it; every node
 * resolves Alice's newest, and still does after a replica restarts.
 */
import { strict as assert } from 'node:assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { ringIdFromBytes } from '../../src/chord/id.js'
import { createIdentity, ForbiddenError, InvalidRecordError, StaleRecordError, VerificationError } from '../../src/index.js'
import { OWNED_RECORD_CONTEXT } from '../../src/owned/constants.js'
import { decodeOwnedRecord, ownedKey, ownedTranscript, signOwnedRecord } from '../../src/owned/record.js'
import { OwnedRecord as WireOwnedRecord } from '../../src/protocol/generated/owned.js'
import { utf8 } from '../../src/chord/transcript.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { internalsOf } from '../../src/testing.js'
import { ringIdOf, wireBytes } from '../../src/transport/ring-id.js'
import { ANSWERS_NOTHING, TransportUnderTest } from '../helpers/transport.js'
import { expectedReplicas, startNode, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode, Identity } from '../../src/index.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { PrivateKey } from '@libp2p/interface'

const REPLICAS = 3

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

describe('owned records', function () {
  this.timeout(120_000)
  const nodes: ChordNode[] = []
  const keys: PrivateKey[] = []
  let dir: string
  let alice: Identity
  let mallory: ChordLibp2p
  let malloryRpc: TransportUnderTest

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chord-owned-'))
    for (let i = 0; i < 6; i++) {
      keys.push(await generateKeyPair('Ed25519'))
      nodes.push(await startNode(nodes[(i * 7) % Math.max(nodes.length, 1)], { replicas: REPLICAS, dataDir: join(dir, `node-${i}`), privateKey: keys[i] }))
    }
    await waitForConsistentRing(nodes)
    alice = await createIdentity()
    // Mallory speaks /chord/1.0.0 from a peer of her own, outside the ring
    mallory = await createChordLibp2p({ listen: [], peerExchange: false })
    malloryRpc = new TransportUnderTest(mallory, { handler: ANSWERS_NOTHING })
    await malloryRpc.start()
  })

  after(async () => {
    await malloryRpc?.stop()
    await mallory?.stop()
    await stopAll(nodes)
    await rm(dir, { recursive: true, force: true })
  })

  const key = (): Uint8Array => ownedKey(alice.publicKey, utf8('profile'))

  function replicaRefs (): NodeRef[] {
    return expectedReplicas(nodes, ringIdFromBytes(key()), REPLICAS).map(node => ({ id: ringIdOf(node.peerId), peer: node.peerId.toString() }))
  }

  async function resolvesEverywhere (value: string, seq: number): Promise<boolean> {
    for (const node of nodes) {
      const found = await node.resolve(alice.address, 'profile').catch(() => undefined)
      if (found == null || text(found.value) !== value || found.seq !== seq) {
        return false
      }
    }
    return true
  }

  /** Mallory sends `records` to every replica of Alice's record; each one's error */
  async function storeOnReplicas (records: ChordRecord[]): Promise<unknown[]> {
    const errors: unknown[] = []
    for (const replica of replicaRefs()) {
      await mallory.dial((nodes.find(n => n.peerId.toString() === replica.peer) as ChordNode).getMultiaddrs()[0])
      errors.push(await ownedRpc().storeRecords(replica, records).then(() => undefined, (err: unknown) => err))
    }
    return errors
  }

  function ownedRpc (): ReturnType<TransportUnderTest['namespaceRpc']> {
    return malloryRpc.namespaceRpc('owned')
  }

  let first: { seq: number, record: ChordRecord } | undefined

  it('publishes a record only its owner\'s key signs, and every node resolves the newest', async () => {
    const v1 = await nodes[0].publish(alice, 'profile', utf8('alice at home'))
    assert.equal(v1.replicas, REPLICAS)
    // the genuine, older record, kept for Mallory to replay
    const [held] = await internalsOf(replicaNodes()[0]).ownedStore.get(key())
    first = { seq: v1.seq, record: held }
    const v2 = await nodes[1].publish(alice, 'profile', utf8('alice at work'))
    assert.ok(v2.seq > v1.seq)
    await waitFor(async () => resolvesEverywhere('alice at work', v2.seq), 'every node to resolve alice\'s newest')
    // the older one is gone from every replica: only the newest is kept
    for (const node of replicaNodes()) {
      assert.equal((await internalsOf(node).ownedStore.get(key())).length, 1)
    }
    assert.equal(await nodes[2].resolve(alice.address, 'nothing here'), undefined)
  })

  function replicaNodes (): ChordNode[] {
    return expectedReplicas(nodes, ringIdFromBytes(key()), REPLICAS)
  }

  it('cannot be overwritten, shadowed by an older record, or deleted by another peer', async () => {
    const newest = await nodes[3].resolve(alice.address, 'profile')
    assert.ok(newest != null && first != null)
    const mallorysIdentity = await createIdentity()
    const expiresAt = Date.now() + 3_600_000
    const fields = { name: utf8('profile'), seq: newest.seq + 1_000_000, publishedAt: Date.now(), expiresAt, value: utf8('mallory was here') }

    // signed by Mallory's key, claiming to be Alice's
    const forgedSignature = await mallorysIdentity.sign(ownedTranscript(alice.publicKey, fields), OWNED_RECORD_CONTEXT)
    const forged = WireOwnedRecord.encode({ ...fields, owner: wireBytes(alice.publicKey.bytes), name: wireBytes(fields.name), value: wireBytes(fields.value), signature: wireBytes(forgedSignature) })
    const forgedErrors = await storeOnReplicas([{ key: key(), value: forged, id: new Uint8Array(32), expiresAt }])
    assert.ok(forgedErrors.every(err => err instanceof VerificationError), `forged: ${forgedErrors.join(', ')}`)

    // Mallory's own record, put under Alice's key
    const hers = await signOwnedRecord(mallorysIdentity, fields)
    const misplaced = await storeOnReplicas([{ key: key(), value: hers, id: new Uint8Array(32), expiresAt }])
    assert.ok(misplaced.every(err => err instanceof InvalidRecordError), `misplaced: ${misplaced.join(', ')}`)

    // Alice's own older record, replayed
    const replayed = await storeOnReplicas([first.record])
    assert.ok(replayed.every(err => err instanceof StaleRecordError), `replayed: ${replayed.join(', ')}`)

    // no deletion in the owned namespace, whoever signs it
    for (const replica of replicaRefs()) {
      await assert.rejects(ownedRpc().deleteRecords(replica, { key: key(), ids: [first.record.id], owner: alice.publicKey.bytes, signedAt: Date.now(), signature: new Uint8Array(64) }), ForbiddenError)
    }

    // Mallory's own record of that name lives under her own key: it shadows nothing
    await nodes[4].publish(mallorysIdentity, 'profile', utf8('mallory at home'))
    assert.ok(await resolvesEverywhere('alice at work', newest.seq))
    assert.equal(text((await nodes[0].resolve(mallorysIdentity.address, 'profile'))?.value ?? new Uint8Array()), 'mallory at home')
  })

  it('is still resolved, newest, from every node after a replica restarts', async () => {
    const newest = await nodes[0].resolve(alice.address, 'profile')
    assert.ok(newest != null)
    const replica = replicaNodes()[1]
    const at = nodes.indexOf(replica)
    await replica.stop()
    nodes.splice(at, 1)
    const again = await startNode(nodes[0], { replicas: REPLICAS, dataDir: join(dir, `node-${at}`), privateKey: keys[at] })
    nodes.splice(at, 0, again)
    await waitForConsistentRing(nodes)
    // it kept Alice's newest on disk, and only that
    const held = await internalsOf(again).ownedStore.get(key())
    assert.deepEqual(held.map(record => decodeOwnedRecord(record.value).seq), [newest.seq])
    await waitFor(async () => resolvesEverywhere('alice at work', newest.seq), 'every node to resolve alice\'s newest after the restart')
  })
})
