/**
 * The mailbox stays consistent across downtime and splits: an acknowledged message never comes
 * back from a replica that missed the acknowledgement, and messages sent on both sides of a split
 * are delivered once each and end up on their replica set after the merge.
 */
import assert from 'node:assert/strict'
import { ringIdFromBytes } from '../../src/chord/id.js'
import { createIdentity } from '../../src/index.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { internalsOf } from '../../src/testing.js'
import { Partition, startGatedRing } from '../helpers/partition.js'
import { deliverUnderChurn } from '../helpers/churn.js'
import { expectedOwner, expectedReplicas, ringIsConsistent, sortedByRingId, startRing, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode, Identity } from '../../src/index.js'
import type { MailboxMessage } from '../../src/mailbox/subscription.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** The ids (hex) of the envelopes of `identity`'s mailbox that `node` holds */
async function heldIds (node: ChordNode, identity: Identity): Promise<string[]> {
  const held = await internalsOf(node).mailboxStore.get(mailboxKey(identity.publicKey))
  return held.map(record => Buffer.from(record.id).toString('hex'))
}

describe('a mailbox consistent across downtime and splits', function () {
  this.timeout(180_000)
  let nodes: ChordNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('never shows an acknowledged message again once a replica that missed the acknowledgement is back', async () => {
    const partition = new Partition()
    const ring = await startGatedRing(partition, 6, nodes)
    const [alice, bob] = await Promise.all([createIdentity(), createIdentity()])
    const position = ringIdFromBytes(mailboxKey(bob.publicKey))
    const sent = await ring[0].mailbox.send(alice, bob.address, text('read once, then acknowledged'))
    assert.equal(sent.replicas, 3)

    // the node that holds Bob's mailbox is cut off while Bob acknowledges the message elsewhere
    const away = expectedOwner(ring, position)
    const rest = ring.filter(node => node !== away)
    await partition.split([[away], rest])
    await waitFor(() => ringIsConsistent(rest), 'the others to form a ring of their own', 60_000)
    const { replicas } = await rest[0].mailbox.ack(bob, [sent.id])
    assert.ok(replicas >= 2)
    for (const replica of expectedReplicas(rest, position, 2)) {
      assert.deepEqual(await heldIds(replica, bob), [], 'the replicas that heard the acknowledgement dropped it')
    }
    assert.deepEqual(await heldIds(away, bob), [sent.id], 'the node away kept its copy')

    // it comes back, and holds the mailbox again
    partition.heal()
    await waitForConsistentRing(ring, 60_000)
    assert.equal(expectedOwner(ring, position), away)
    await waitFor(async () => (await heldIds(away, bob)).length === 0, 'the node that was away to drop the acknowledged message', 60_000)

    // a new session of Bob's, with the node that was away: the message does not come back
    const received: MailboxMessage[] = []
    const subscription = await rest[1].mailbox.subscribe(bob, message => { received.push(message) })
    try {
      assert.equal(subscription.node?.peer, away.peerId.toString())
      const later = await rest[2].mailbox.send(alice, bob.address, text('after the acknowledgement'))
      await waitFor(() => received.some(message => message.id === later.id), 'the message sent after the acknowledgement')
      assert.deepEqual(received.map(message => message.id), [later.id])
    } finally {
      await subscription.close()
    }
    for (const node of ring) {
      assert.ok(!(await heldIds(node, bob)).includes(sent.id), `${node.peerId.toString()} holds the acknowledged message`)
    }
  })

  it('forgets the acknowledgement of a message once the message would have expired, while running', async () => {
    nodes = await startRing(4)
    const [alice, bob] = await Promise.all([createIdentity(), createIdentity()])
    const ttlMs = 2_000
    const sent = await nodes[0].mailbox.send(alice, bob.address, text('short-lived'), { ttlMs })
    const { replicas } = await nodes[1].mailbox.ack(bob, [sent.id])
    assert.ok(replicas >= 2)
    const kept = (): number => nodes.reduce((sum, node) => sum + internalsOf(node).acknowledgementsKept, 0)
    assert.ok(kept() > 0, 'the replicas keep the acknowledgement')
    // swept on the sweep timer (500 ms in tests), not only when a node stops
    const took = await waitFor(() => kept() === 0, 'every acknowledgement to be forgotten', ttlMs + 20_000)
    console.log(`      acknowledgements forgotten ${took} ms after the ack (TTL ${ttlMs} ms)`)
  })

  it('delivers once each the messages sent on both sides of a split, and keeps them on their replica set after the merge', async () => {
    const partition = new Partition()
    const ring = await startGatedRing(partition, 12, nodes)
    const [alice, bob] = await Promise.all([createIdentity(), createIdentity()])
    const position = ringIdFromBytes(mailboxKey(bob.publicKey))
    const sorted = sortedByRingId(ring)
    const sides = [sorted.slice(0, 6), sorted.slice(6)]
    const received: MailboxMessage[] = []
    const subscription = await sides[0][2].mailbox.subscribe(bob, message => { received.push(message) })
    try {
      await partition.split(sides)
      await waitFor(() => sides.every(side => ringIsConsistent(side)), 'each half to be a ring of its own', 60_000)
      const sent: string[] = []
      for (const [s, side] of sides.entries()) {
        for (let i = 0; i < 5; i++) {
          const result = await side[i].mailbox.send(alice, bob.address, text(`side ${s} message ${i}`))
          assert.ok(result.replicas >= 1, 'acknowledged')
          sent.push(result.id)
        }
      }

      partition.heal()
      await waitForConsistentRing(ring, 60_000)
      await waitFor(() => sent.every(id => received.some(message => message.id === id)), 'every message sent on either side', 60_000)
      const replicas = expectedReplicas(ring, position, 3)
      const others = ring.filter(node => !replicas.includes(node))
      await waitFor(async () => {
        const onReplicas = await Promise.all(replicas.map(async node => heldIds(node, bob)))
        const elsewhere = await Promise.all(others.map(async node => heldIds(node, bob)))
        return onReplicas.every(ids => sent.every(id => ids.includes(id))) && elsewhere.every(ids => ids.length === 0)
      }, 'every message on its replica set, and nowhere else', 60_000)
      assert.deepEqual(received.map(message => message.id).sort(), [...sent].sort(), 'each message delivered once')
    } finally {
      await subscription.close()
    }
  })

  it('delivers every acknowledged message exactly once while nodes keep leaving and joining', async () => {
    const ring = await startRing(8)
    nodes = ring
    const run = await deliverUnderChurn(ring, {
      messages: 60,
      sendIntervalMs: 100,
      churnIntervalMs: 800,
      leave: 'stop',
      stable: 2,
      deliveryDeadlineMs: 60_000
    })
    console.log(`      ${JSON.stringify(run)}`)
    assert.ok(run.left >= 2 && run.joined >= 2, 'the ring churned while the messages went')
    assert.ok(run.acknowledged >= run.sent - 2, 'almost every send was acknowledged')
    assert.equal(run.delivered, run.acknowledged, 'every acknowledged message delivered')
    assert.equal(run.duplicates, 0, 'none twice')
  })
})
