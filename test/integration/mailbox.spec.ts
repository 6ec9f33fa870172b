import assert from 'node:assert/strict'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { containsBytes } from '../helpers/bytes.js'
import { ringIdFromBytes, ringIdToBytes } from '../../src/chord/id.js'
import { ForbiddenError, InvalidOptionsError, NotStartedError, VerificationError, createIdentity } from '../../src/index.js'
import { MAX_PLAINTEXT_SIZE } from '../../src/mailbox/constants.js'
import { signDeletion } from '../../src/mailbox/proofs.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { createRecord } from '../../src/chord/record.js'
import { TransportUnderTest, strangerHandler } from '../helpers/transport.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { openMailboxSession } from '../../src/mailbox/session.js'
import { crash, expectedOwner, expectedReplicas, keyOwning, sortedByRingId, startNode, startRing, stopAll, waitForConsistentRing, ringOf } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import { internalsOf } from '../../src/testing.js'
import type { ChordNode, Identity, DeliveryReceipt } from '../../src/index.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { MailboxMessage } from '../../src/mailbox/subscription.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { ChordInternals } from '../../src/services/internals.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const read = (m: MailboxMessage): string => new TextDecoder().decode(m.plaintext)
const refOf = (node: ChordNode): NodeRef => ({ id: ringOf(node).self.id, peer: node.peerId.toString() })

/** Every envelope a node holds for others, raw */
async function heldEnvelopes (node: ChordNode): Promise<Uint8Array[]> {
  const values: Uint8Array[] = []
  for await (const record of internalsOf(node).mailboxStore.range(0n, 0n)) {
    values.push(record.value)
  }
  return values
}

const toHex = (bytes: Uint8Array): string => uint8ArrayToString(bytes, 'base16')

describe('the end-to-end encrypted mailbox on a ring of real nodes', function () {
  this.timeout(180_000)
  let nodes: ChordNode[] = []
  let strangers: Array<{ libp2p: ChordLibp2p, service: TransportUnderTest }> = []
  let alice: Identity
  let bob: Identity

  beforeEach(async () => {
    alice = await createIdentity()
    bob = await createIdentity()
  })

  afterEach(async () => {
    await Promise.allSettled(strangers.map(async ({ libp2p, service }) => { await service.stop(); await libp2p.stop() }))
    strangers = []
    await stopAll(nodes)
    nodes = []
  })

  /** A libp2p peer outside the ring that speaks /chord/1.0.0 by itself: what an attacker runs */
  async function stranger (): Promise<TransportUnderTest> {
    const libp2p = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const service = new TransportUnderTest(libp2p, { handler: strangerHandler() })
    await service.start()
    for (const node of nodes) {
      await libp2p.dial(node.getMultiaddrs()[0])
    }
    strangers.push({ libp2p, service })
    return service
  }

  function mailboxOwner (identity: Identity): ChordNode {
    return expectedOwner(nodes, ringIdFromBytes(mailboxKey(identity.publicKey)))
  }

  it('delivers a message from Alice to Bob, subscribed through another node, with Alice as verified sender', async () => {
    nodes = await startRing(8)
    const received: MailboxMessage[] = []
    const sub = await nodes[5].mailbox.subscribe(bob, message => { received.push(message) })
    const sent = await nodes[1].mailbox.send(alice, bob.address, text('hi Bob'))
    assert.ok(sent.replicas >= 1)
    await waitFor(() => received.length === 1, 'the message to arrive')
    assert.equal(read(received[0]), 'hi Bob')
    assert.equal(received[0].from, alice.address)
    assert.equal(received[0].id, sent.id)
    await sub.close()
  })

  it('closes a subscription still starting when its node stops, and takes no new one', async () => {
    nodes = await startRing(3)
    const received: MailboxMessage[] = []
    const starting = nodes[1].mailbox.subscribe(bob, message => { received.push(message) })
    const outcome = starting.then(sub => sub, (err: Error) => err)
    await nodes[1].stop()
    // either it was refused because the node stopped, or it had started and was closed with the node
    const settled = await outcome
    if (settled instanceof Error) {
      assert.ok(settled instanceof NotStartedError, `${settled.name}: ${settled.message}`)
    }
    await assert.rejects(nodes[1].mailbox.subscribe(bob, message => { received.push(message) }), NotStartedError)
  })

  it('tells the sender its message arrived with a sealed receipt, once Bob\'s callback took it, and deletes the receipt once handed over', async () => {
    nodes = await startRing(5)
    const receipts: DeliveryReceipt[] = []
    const toAlice: MailboxMessage[] = []
    const aliceSub = await nodes[0].mailbox.subscribe(alice, message => { toAlice.push(message) }, { onReceipt: receipt => { receipts.push(receipt) } })
    const bobSub = await nodes[3].mailbox.subscribe(bob, async message => { await nodes[3].mailbox.ack(bob, [message.id]) })
    const sent = await nodes[1].mailbox.send(alice, bob.address, text('did you get this?'))

    await waitFor(() => receipts.length === 1, 'Bob\'s receipt to reach Alice')
    assert.equal(receipts[0].id, sent.id)
    assert.equal(receipts[0].from, bob.address)
    assert.ok(Math.abs(receipts[0].receivedAt - Date.now()) < 60_000)
    assert.deepEqual(toAlice, [], 'a receipt is never a message')
    const aliceMailbox = mailboxKey(alice.publicKey)
    await waitFor(async () => (await Promise.all(nodes.map(async node => internalsOf(node).mailboxStore.get(aliceMailbox)))).every(held => held.length === 0),
      'the receipt to be deleted from Alice\'s mailbox once handed over')
    await Promise.all([aliceSub.close(), bobSub.close()])
  })

  it('sends no receipt for a subscription that turned them off, nor for a message whose callback threw', async () => {
    nodes = await startRing(3)
    const receipts: DeliveryReceipt[] = []
    const aliceSub = await nodes[0].mailbox.subscribe(alice, () => {}, { onReceipt: receipt => { receipts.push(receipt) } })
    const quiet: MailboxMessage[] = []
    const bobSub = await nodes[2].mailbox.subscribe(bob, message => { quiet.push(message) }, { receipts: false })
    const carol = await createIdentity()
    const failed: unknown[] = []
    const carolSub = await nodes[1].mailbox.subscribe(carol, () => { throw new Error('the app could not keep it') }, { onError: err => { failed.push(err) } })

    await nodes[1].mailbox.send(alice, bob.address, text('no receipt please'))
    await nodes[1].mailbox.send(alice, carol.address, text('this one fails'))
    await waitFor(() => quiet.length === 1 && failed.length === 1, 'both messages to be handed to the callbacks')
    // a receipt, had one been sent, would be on Alice's replicas by the time a later message is
    const control = await nodes[2].mailbox.send(bob, alice.address, text('a later message'))
    await waitFor(async () => (await Promise.all(nodes.map(async node => internalsOf(node).mailboxStore.get(mailboxKey(alice.publicKey)))))
      .some(held => held.some(record => toHex(record.id) === control.id)), 'the later message to be stored')
    assert.deepEqual(receipts, [])
    await Promise.all([aliceSub.close(), bobSub.close(), carolSub.close()])
  })

  it('delivers what was sent while Bob was away when he subscribes: once each, in send order per sender', async () => {
    nodes = await startRing(6)
    const carol = await createIdentity()
    for (let i = 0; i < 5; i++) {
      await nodes[0].mailbox.send(alice, bob.address, text(`alice ${i}`))
      await nodes[3].mailbox.send(carol, bob.address, text(`carol ${i}`))
    }
    const received: MailboxMessage[] = []
    const sub = await nodes[4].mailbox.subscribe(bob, message => { received.push(message) })
    await waitFor(() => received.length === 10, 'the ten waiting messages')
    for (const sender of [alice, carol]) {
      const name = sender === alice ? 'alice' : 'carol'
      assert.deepEqual(received.filter(m => m.from === sender.address).map(read), [0, 1, 2, 3, 4].map(i => `${name} ${i}`))
    }
    assert.equal(new Set(received.map(m => m.id)).size, 10)
    await sub.close()
  })

  it('delivers every message exactly once while the mailbox node leaves and another joins in its place', async () => {
    nodes = await startRing(8)
    const received: MailboxMessage[] = []
    // Bob subscribes through a node that stays: any but the one holding his mailbox
    const subscriberNode = nodes.find(n => n !== mailboxOwner(bob)) as ChordNode
    const sub = await subscriberNode.mailbox.subscribe(bob, message => { received.push(message) })
    const key = ringIdFromBytes(mailboxKey(bob.publicKey))
    let newOwner: ChordNode | undefined

    for (let i = 0; i < 200; i++) {
      if (i === 60) {
        // the node holding Bob's mailbox leaves
        const owner = mailboxOwner(bob)
        assert.notEqual(owner.peerId.toString(), subscriberNode.peerId.toString(), 'the subscriber\'s node stays')
        nodes.splice(nodes.indexOf(owner), 1)
        await owner.stop()
      }
      if (i === 120) {
        // a node joins at a position that makes it responsible for Bob's mailbox
        newOwner = await startNode(nodes[1], { privateKey: await keyOwning(nodes, key) })
        nodes.push(newOwner)
      }
      await nodes[2].mailbox.send(alice, bob.address, text(`message ${i}`))
    }
    await waitForConsistentRing(nodes)
    await waitFor(() => received.length >= 200, 'all 200 messages', 30_000)
    assert.equal(received.length, 200, 'no message twice')
    assert.deepEqual(new Set(received.map(read)), new Set(Array.from({ length: 200 }, (_, i) => `message ${i}`)))
    assert.equal(mailboxOwner(bob).peerId.toString(), newOwner?.peerId.toString(), 'the newcomer holds the mailbox')
    await waitFor(() => sub.node?.peer === newOwner?.peerId.toString(), 'the subscription to follow the mailbox')
    await sub.close()
  })

  it('hands the envelopes waiting in a mailbox to a node that joins in front of it', async () => {
    nodes = await startRing(6)
    for (let i = 0; i < 5; i++) {
      await nodes[0].mailbox.send(alice, bob.address, text(`waiting ${i}`))
    }
    const newcomer = await startNode(nodes[1], { privateKey: await keyOwning(nodes, ringIdFromBytes(mailboxKey(bob.publicKey))) })
    nodes.push(newcomer)
    await waitForConsistentRing(nodes)
    assert.equal(mailboxOwner(bob).peerId.toString(), newcomer.peerId.toString())
    const key = mailboxKey(bob.publicKey)
    await waitFor(async () => (await internalsOf(newcomer).mailboxStore.get(key)).length === 5, 'the newcomer to hold the five envelopes')
    const received: MailboxMessage[] = []
    const sub = await nodes[3].mailbox.subscribe(bob, message => { received.push(message) })
    assert.equal(sub.node?.peer, newcomer.peerId.toString())
    await waitFor(() => received.length === 5, 'the five messages')
    await sub.close()
  })

  it('subscribes even right after the mailbox node crashed, once the ring names its successor', async () => {
    nodes = await startRing(6)
    await nodes[0].mailbox.send(alice, bob.address, text('still here'))
    const owner = mailboxOwner(bob)
    nodes.splice(nodes.indexOf(owner), 1)
    await crash(owner)
    const received: MailboxMessage[] = []
    const sub = await nodes[0].mailbox.subscribe(bob, message => { received.push(message) })
    await waitFor(() => received.length === 1, 'the waiting message from a replica')
    assert.equal(sub.node?.peer, mailboxOwner(bob).peerId.toString())
    await sub.close()
    await owner.stop()
  })

  it('deletes acknowledged envelopes from every replica', async () => {
    nodes = await startRing(6)
    const received: MailboxMessage[] = []
    const sub = await nodes[1].mailbox.subscribe(bob, async message => {
      received.push(message)
      await nodes[1].mailbox.ack(bob, [message.id])
    })
    for (let i = 0; i < 3; i++) {
      await nodes[2].mailbox.send(alice, bob.address, text(`to be acknowledged ${i}`))
    }
    await waitFor(() => received.length === 3, 'three messages')
    const key = mailboxKey(bob.publicKey)
    const replicas = expectedReplicas(nodes, ringIdFromBytes(key), 3)
    await waitFor(async () => (await Promise.all(replicas.map(async n => internalsOf(n).mailboxStore.get(key)))).every(r => r.length === 0),
      'every replica to drop the envelopes')
    await sub.close()
  })

  it('deletes an envelope whose acknowledgement was applied while the node\'s own write of it was on its way', async () => {
    nodes = [await startNode()]
    const store = internalsOf(nodes[0]).mailboxStore
    const put = store.put.bind(store)
    let acknowledged = false
    // the sender is the mailbox's only replica: its own write passes the tombstones' check, and
    // the owner's acknowledgement is applied before the write lands
    store.put = async (records, options) => {
      if (!acknowledged) {
        acknowledged = true
        await nodes[0].mailbox.ack(bob, records.map(record => record.id))
      }
      return put(records, options)
    }
    await nodes[0].mailbox.send(alice, bob.address, text('acknowledged before it landed'))
    assert.ok(acknowledged)
    assert.deepEqual(await store.get(mailboxKey(bob.publicKey)), [])
  })

  it('gives a primary that lost envelopes the copies its replicas kept, and pushes them to its subscriber', async () => {
    nodes = await startRing(6)
    for (let i = 0; i < 3; i++) {
      await nodes[0].mailbox.send(alice, bob.address, text(`kept elsewhere ${i}`))
    }
    const key = mailboxKey(bob.publicKey)
    const owner = mailboxOwner(bob)
    const store = internalsOf(owner).mailboxStore
    // the primary loses its copies (a disk restored from an old backup, a node new in the place)
    await store.delete(key, (await store.get(key)).map(record => record.id))
    const received: MailboxMessage[] = []
    const sub = await nodes.find(n => n !== owner)?.mailbox.subscribe(bob, message => { received.push(message) })
    assert.equal(sub?.node?.peer, owner.peerId.toString())
    await waitFor(() => received.length === 3, 'the three messages, from the primary once repaired')
    assert.deepEqual(received.map(read).sort(), [0, 1, 2].map(i => `kept elsewhere ${i}`))
    await sub?.close()
  })

  it('lists and hands out a range\'s envelopes only to its primary, and only where this node replicates it', async () => {
    nodes = await startRing(8)
    await nodes[0].mailbox.send(alice, bob.address, text('listed to its primary only'))
    const sorted = sortedByRingId(nodes)
    const at = (i: number): ChordNode => sorted[(i + sorted.length) % sorted.length]
    // the replica asked, its predecessor (a primary it replicates) and that one's, its successor
    const [before, primary, replica, after] = [at(0), at(1), at(2), at(3)]
    const rpcOf = (node: ChordNode): ReturnType<ChordInternals['core']['namespaceRpc']> => internalsOf(node).core.namespaceRpc('mailbox')
    const idOf = (node: ChordNode): bigint => ringOf(node).self.id
    const primaryKey = ringIdToBytes(idOf(primary))
    // once the replica has walked its predecessors, the primary may list and fetch its own range there
    await waitFor(async () => Array.isArray(await rpcOf(primary).rangeSummaries(refOf(replica), idOf(before), idOf(primary)).catch(() => undefined)),
      'the replica to list the primary\'s range to it')
    assert.ok(Array.isArray(await rpcOf(primary).fetchRecords(refOf(replica), primaryKey)))
    // but not the replica's own range, nor may the replica's successor list or fetch anything there
    await assert.rejects(rpcOf(primary).rangeSummaries(refOf(replica), idOf(primary), idOf(replica)), ForbiddenError)
    await assert.rejects(rpcOf(primary).fetchRecords(refOf(replica), ringIdToBytes(idOf(replica))), ForbiddenError)
    await assert.rejects(rpcOf(after).rangeSummaries(refOf(replica), idOf(before), idOf(primary)), ForbiddenError)
    await assert.rejects(rpcOf(after).fetchRecords(refOf(replica), primaryKey), ForbiddenError)
  })

  it('refuses to subscribe with a key that is not the mailbox owner\'s, and a replayed challenge answer', async () => {
    nodes = await startRing(4)
    const eve = await createIdentity()
    const owner = mailboxOwner(bob)
    // the subscriber dials the owner from another node
    const client = nodes.find(n => n !== owner) as ChordNode
    // Eve claims Bob's mailbox but can only sign as herself
    const eveAsBob: Identity = { ...eve, publicKey: bob.publicKey, address: bob.address, fingerprint: bob.fingerprint, sign: eve.sign.bind(eve), export: eve.export.bind(eve) }
    const noop = { onEnvelopes: async () => {}, onClose: () => {} }
    await assert.rejects(openMailboxSession(client.libp2p, refOf(owner), eveAsBob, noop), VerificationError)

    // a real answer replayed against a new challenge: a recording identity keeps Bob's signature
    let recorded: Uint8Array | undefined
    const recorder: Identity = { ...bob, publicKey: bob.publicKey, sign: async (bytes, context) => { recorded = await bob.sign(bytes, context); return recorded }, export: bob.export.bind(bob) }
    const session = await openMailboxSession(client.libp2p, refOf(owner), recorder, noop)
    await session.close()
    assert.ok(recorded != null)
    const replayer: Identity = { ...bob, publicKey: bob.publicKey, sign: async () => recorded as Uint8Array, export: bob.export.bind(bob) }
    await assert.rejects(openMailboxSession(client.libp2p, refOf(owner), replayer, noop), VerificationError)
  })

  it('lets nobody but the owner delete or list a mailbox', async () => {
    nodes = await startRing(4)
    await nodes[0].mailbox.send(alice, bob.address, text('private'))
    const key = mailboxKey(bob.publicKey)
    const [replica] = expectedReplicas(nodes, ringIdFromBytes(key), 1)
    const [held] = await internalsOf(replica).mailboxStore.get(key)
    const eve = await createIdentity()
    const attacker = await stranger()

    // Eve signs a deletion of Bob's envelope with her own key, or names Bob as owner
    const asEve = await signDeletion(eve, [held.id], Date.now())
    await assert.rejects(attacker.mailboxRpc().deleteRecords(refOf(replica), { ...asEve, key }), ForbiddenError)
    await assert.rejects(attacker.mailboxRpc().deleteRecords(refOf(replica), { ...asEve, key, owner: bob.publicKey.bytes }), VerificationError)
    // Mallory deletes "in her own mailbox" naming Bob's envelope: nothing of Bob's is touched
    const mallory = await createIdentity()
    await attacker.mailboxRpc().deleteRecords(refOf(replica), await signDeletion(mallory, [held.id], Date.now()))
    await attacker.mailboxRpc().storeRecords(refOf(replica), [held])
    // and cannot list it
    await assert.rejects(attacker.mailboxRpc().fetchRecords(refOf(replica), key), ForbiddenError)
    await assert.rejects(attacker.mailboxRpc().rangeSummaries(refOf(replica), 0n, 1n), ForbiddenError)
    assert.equal((await internalsOf(replica).mailboxStore.get(key)).length, 1, 'nothing changed')
  })

  it('refuses oversized messages, and never shows Bob a tampered envelope', async () => {
    nodes = await startRing(4)
    await assert.rejects(nodes[0].mailbox.send(alice, bob.address, new Uint8Array(MAX_PLAINTEXT_SIZE + 1)), InvalidOptionsError)

    const attacker = await stranger()
    const key = mailboxKey(bob.publicKey)
    const genuine = await nodes[0].mailbox.send(alice, bob.address, text('genuine'))
    const [replica] = expectedReplicas(nodes, ringIdFromBytes(key), 1)
    const [held] = await internalsOf(replica).mailboxStore.get(key)
    const tampered = held.value.slice()
    tampered[tampered.byteLength - 5] ^= 1
    await attacker.mailboxRpc().storeRecords(refOf(replica), [createRecord(key, tampered, Date.now() + 60_000)])
    const oversized = createRecord(key, new Uint8Array(64 * 1024 + 1), Date.now() + 60_000)
    await assert.rejects(attacker.mailboxRpc().storeRecords(refOf(replica), [oversized]))

    const received: MailboxMessage[] = []
    const errors: unknown[] = []
    const sub = await nodes[2].mailbox.subscribe(bob, message => { received.push(message) }, { onError: err => errors.push(err) })
    await waitFor(() => received.length === 1 && errors.length === 1, 'the genuine message and the tampered one refused')
    assert.equal(received[0].id, genuine.id)
    assert.ok(errors[0] instanceof VerificationError)
    await sub.close()
  })

  it('shows node operators no plaintext and no sender key', async () => {
    nodes = await startRing(4)
    const secret = text('the secret plan')
    await nodes[0].mailbox.send(alice, bob.address, secret)
    let envelopes = 0
    for (const node of nodes) {
      for (const value of await heldEnvelopes(node)) {
        envelopes++
        assert.equal(containsBytes(value, secret), false)
        assert.equal(containsBytes(value, alice.publicKey.bytes), false)
        assert.equal(containsBytes(value, alice.publicKey.signingKey), false)
      }
    }
    assert.equal(envelopes, 3)
  })

  it('lets an unacknowledged envelope expire with its TTL', async () => {
    nodes = await startRing(4)
    await nodes[0].mailbox.send(alice, bob.address, text('ephemeral'), { ttlMs: 300 })
    const key = mailboxKey(bob.publicKey)
    await waitFor(async () => (await Promise.all(nodes.map(async n => internalsOf(n).mailboxStore.get(key)))).every(r => r.length === 0),
      'the envelope to expire everywhere', 5000)
    await waitFor(() => nodes.every(n => internalsOf(n).mailboxStore.stats().records === 0), 'the sweep to remove it from disk', 5000)
    const received: MailboxMessage[] = []
    const sub = await nodes[1].mailbox.subscribe(bob, message => { received.push(message) })
    assert.equal(received.length, 0)
    await sub.close()
  })
})
