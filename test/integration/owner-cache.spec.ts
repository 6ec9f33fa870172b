import assert from 'node:assert/strict'
import { keyPosition, ringIdFromBytes } from '../../src/chord/id.js'
import { createIdentity } from '../../src/index.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { internalsOf } from '../../src/testing.js'
import { crash, expectedOwner, keyOwning, ringOf, sortedByRingId, startNode, startRing, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode, Identity } from '../../src/index.js'
import type { RingId } from '../../src/chord/id.js'
import type { MailboxMessage } from '../../src/mailbox/subscription.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const read = (m: MailboxMessage): string => new TextDecoder().decode(m.plaintext)

/** How long a pushed message may take on a busy loopback machine, ms: far less than a repair round would */
const PROMPT_DELIVERY = 5_000

/** Keys tried for one whose owner only the ring can name (about one in ten, in a ring of ten) */
const MAX_KEYS_TRIED = 500

describe('a conversation: the sender remembers the mailbox\'s owner (real nodes)', function () {
  this.timeout(180_000)
  let nodes: ChordNode[] = []
  let alice: Identity
  let bob: Identity

  beforeEach(async () => {
    alice = await createIdentity()
    bob = await createIdentity()
  })

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  const positionOf = (identity: Identity): RingId => ringIdFromBytes(mailboxKey(identity.publicKey))

  /** The node `distance` places after the mailbox's owner: far enough that its own table does not answer for the mailbox */
  function nodeAfterOwner (identity: Identity, distance: number): ChordNode {
    const sorted = sortedByRingId(nodes)
    const owner = sorted.indexOf(expectedOwner(nodes, positionOf(identity)))
    return sorted[(owner + distance) % sorted.length]
  }

  it('a second send to the same mailbox makes no lookup request, and both messages arrive', async () => {
    nodes = await startRing(10)
    const position = positionOf(bob)
    const owner = expectedOwner(nodes, position)
    const sender = nodeAfterOwner(bob, 6)
    // the sender's lookup requests for the mailbox: each FIND_OWNER or FIND_SUCCESSOR of it (the
    // subscriber's node looks it up too, to follow the mailbox), and each GET_NEIGHBOURS asked of
    // the owner (a lookup's check; the sender's own maintenance asks its neighbours, six nodes away)
    const fromSender = (peer: string): boolean => peer === sender.peerId.toString()
    let lookupRequests = 0
    for (const node of nodes) {
      const ring = ringOf(node)
      const findSuccessor = ring.onFindSuccessor.bind(ring)
      ring.onFindSuccessor = (from, id) => {
        lookupRequests += id === position && fromSender(from.peer) ? 1 : 0
        return findSuccessor(from, id)
      }
      const findOwner = ring.onFindOwner.bind(ring)
      ring.onFindOwner = (from, id) => {
        lookupRequests += id === position && fromSender(from.peer) ? 1 : 0
        return findOwner(from, id)
      }
    }
    const ownerRing = ringOf(owner)
    const getNeighbours = ownerRing.onGetNeighbours.bind(ownerRing)
    ownerRing.onGetNeighbours = from => {
      lookupRequests += fromSender(from.peer) ? 1 : 0
      return getNeighbours(from)
    }
    const received: MailboxMessage[] = []
    const sub = await nodeAfterOwner(bob, 3).mailbox.subscribe(bob, message => { received.push(message) })

    await sender.mailbox.send(alice, bob.address, text('first'))
    assert.ok(lookupRequests > 0, 'the first send looked the mailbox up')
    lookupRequests = 0
    await sender.mailbox.send(alice, bob.address, text('second'))
    assert.equal(lookupRequests, 0, 'the second send asked nobody who owns the mailbox')
    await waitFor(() => received.length === 2, 'both messages', PROMPT_DELIVERY)
    assert.deepEqual(received.map(read).sort(), ['first', 'second'])
    await sub.close()

    // the public lookup uses the cache only when asked, and says so
    // a key whose owner only the ring can name: one past the sender's successor list (few, in a
    // ring of ten, and which ones changes as the list fills, so the answer found is the one checked)
    let key = 0
    let plain = await sender.lookup(`key ${key}`)
    while (plain.recursive !== true && key < MAX_KEYS_TRIED) {
      key++
      plain = await sender.lookup(`key ${key}`)
    }
    // the owner answered through the ring, for this node
    assert.equal(plain.recursive, true, `none of ${MAX_KEYS_TRIED} keys went through the ring`)
    assert.ok(plain.hops > 0)
    assert.equal(plain.cached, undefined)
    assert.equal(plain.checks, 0)
    const cached = await sender.lookup(`key ${key}`, { useOwnerCache: true })
    assert.equal(cached.cached, true)
    assert.equal(cached.hops, 0)
    assert.equal(cached.checks, 0)
    assert.ok(cached.peerId.equals(plain.peerId))
  })

  it('a node that joins inside the remembered range gets the next envelope from the send itself, and pushes it to the recipient', async () => {
    nodes = await startRing(8)
    const position = positionOf(bob)
    const key = mailboxKey(bob.publicKey)
    const oldOwner = expectedOwner(nodes, position)
    const sender = nodeAfterOwner(bob, 4)
    const received: MailboxMessage[] = []
    const sub = await nodeAfterOwner(bob, 2).mailbox.subscribe(bob, message => { received.push(message) })
    await sender.mailbox.send(alice, bob.address, text('before the join'))
    await waitFor(() => received.length === 1, 'the first message', PROMPT_DELIVERY)
    const cache = ringOf(sender).owners
    const remembered = cache.find(position)
    assert.equal(remembered?.[0].peer, oldOwner.peerId.toString(), 'the sender remembers the owner')
    const oldPredecessor = ringOf(oldOwner).table.predecessor
    assert.ok(oldPredecessor != null)

    const newcomer = await startNode(nodes[0], { privateKey: await keyOwning(nodes, position) })
    nodes.push(newcomer)
    await waitForConsistentRing(nodes)
    assert.equal(expectedOwner(nodes, position), newcomer)
    await waitFor(() => sub.node?.peer === newcomer.peerId.toString(), 'the subscription to move to the newcomer')
    // the entry the sender uses is the stale one, however long the ring took to settle on this machine
    if (cache.find(position)?.[0].peer !== oldOwner.peerId.toString()) {
      cache.remember(position, oldPredecessor, remembered ?? [])
    }

    const { id } = await sender.mailbox.send(alice, bob.address, text('after the join'))
    const stored = await internalsOf(newcomer).mailboxStore.get(key)
    assert.ok(stored.some(record => Buffer.from(record.id).toString('hex') === id), 'the newcomer took the envelope from the send, not from a repair')
    await waitFor(() => received.length === 2, 'the message sent after the join', PROMPT_DELIVERY)
    assert.equal(read(received[1]), 'after the join')
    assert.equal(cache.find(position)?.[0].peer, newcomer.peerId.toString(), 'the sender now remembers the newcomer')
    await sub.close()
  })

  it('a replica set remembered from a ring still forming is not kept once the ring gives more: the next send and put reach every replica', async () => {
    nodes = await startRing(3)
    const replicas = ringOf(nodes[0]).replicas
    const sender = nodeAfterOwner(bob, 1)
    const cache = ringOf(sender).owners
    /** What a write right after the nodes came up remembers: an owner that knew no successor yet */
    const rememberOwnerAlone = (position: RingId): void => {
      const owner = ringOf(expectedOwner(nodes, position))
      assert.ok(owner.table.predecessor != null)
      cache.remember(position, owner.table.predecessor, [owner.self])
      assert.equal(cache.find(position)?.length, 1)
    }

    rememberOwnerAlone(positionOf(bob))
    const { id, replicas: sent } = await sender.mailbox.send(alice, bob.address, text('after the ring formed'))
    assert.equal(sent, replicas, 'the send reached every replica, not only the remembered owner')
    for (const node of nodes) {
      const held = await internalsOf(node).mailboxStore.get(mailboxKey(bob.publicKey))
      assert.ok(held.some(record => Buffer.from(record.id).toString('hex') === id), 'each node of the ring holds the envelope')
    }
    assert.equal(cache.find(positionOf(bob))?.length, replicas, 'the sender now remembers the whole replica set')
    assert.equal((await sender.mailbox.send(alice, bob.address, text('again'))).replicas, replicas)

    const key = 'a record'
    rememberOwnerAlone(ringIdFromBytes(keyPosition(key)))
    assert.equal((await sender.put(key, text('value'))).replicas, replicas, 'a put reached every replica too')
  })

  it('a remembered owner that crashed: the send succeeds through a fresh lookup, and the message is delivered', async () => {
    nodes = await startRing(8)
    const position = positionOf(bob)
    const owner = expectedOwner(nodes, position)
    const sender = nodeAfterOwner(bob, 4)
    const received: MailboxMessage[] = []
    const sub = await nodeAfterOwner(bob, 2).mailbox.subscribe(bob, message => { received.push(message) })
    await sender.mailbox.send(alice, bob.address, text('before the crash'))
    await waitFor(() => received.length === 1, 'the first message', PROMPT_DELIVERY)
    assert.equal(ringOf(sender).owners.find(position)?.[0].peer, owner.peerId.toString())

    nodes.splice(nodes.indexOf(owner), 1)
    await crash(owner)
    const { replicas } = await sender.mailbox.send(alice, bob.address, text('after the crash'))
    assert.ok(replicas >= 1)
    await waitFor(() => received.length === 2, 'the message sent after the crash')
    assert.equal(read(received[1]), 'after the crash')
    await waitForConsistentRing(nodes)
    assert.notEqual(ringOf(sender).owners.find(position)?.[0].peer, owner.peerId.toString(), 'the crashed owner is forgotten')
    await sub.close()
    await owner.stop()
  })
})
