/**
 * Writes carried to their owner on a ring of real nodes (TCP on 127.0.0.1): a write of one small
 * record whose owner the writer's table does not give rides on the recursive lookup
 * (FIND_OWNER), and the owner stores it, as the writer's STORE, before it answers. A mailbox
 * message so reaches the owner, and the subscriber there, with the lookup.
 */
import assert from 'node:assert/strict'
import { ringIdFromBytes } from '../../src/chord/id.js'
import { answerFindSuccessor } from '../../src/chord/lookup.js'
import { createIdentity } from '../../src/index.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { expectedReplicas, ringOf, startRing, stopAll } from '../helpers/ring.js'
import { metricSum } from '../helpers/prometheus.js'
import { waitFor } from '../helpers/wait-for.js'
import { internalsOf } from '../../src/testing.js'
import type { Replication } from '../../src/chord/replication.js'
import type { ChordNode, Identity } from '../../src/index.js'
import type { MailboxMessage } from '../../src/mailbox/subscription.js'

/** Identities are made until one's mailbox is out of `sender`'s own table: its lookup goes through the ring */
async function recipientFar (sender: ChordNode): Promise<Identity> {
  for (let i = 0; i < 200; i++) {
    const identity = await createIdentity()
    if (!answerFindSuccessor(ringOf(sender).table, ringIdFromBytes(mailboxKey(identity.publicKey))).done) {
      return identity
    }
  }
  throw new Error('no mailbox key beyond the sender\'s table in 200 tries')
}

async function carried (node: ChordNode): Promise<number> {
  return metricSum(await node.metrics(), 'chord_lookups_carried_total')
}

async function recursive (node: ChordNode): Promise<number> {
  return metricSum(await node.metrics(), 'chord_lookups_recursive_total')
}

/**
 * The node's own replication of the mailbox namespace: the write a send makes (RingNode keeps it
 * to itself), here for an envelope of the test's choosing
 */
function mailboxReplicationOf (node: ChordNode): Replication {
  const mailbox = internalsOf(node).core['namespaces'].get('mailbox')
  if (mailbox == null) {
    throw new Error('the node keeps no mailbox')
  }
  return mailbox.replication
}

describe('writes carried to their owner on a ring of real nodes', function () {
  this.timeout(180_000)
  let nodes: ChordNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('a first message to someone reaches the mailbox\'s owner with the lookup: stored there and on the other replicas, and pushed to the subscriber', async () => {
    nodes = await startRing(16)
    const [sender, subscriberNode] = [nodes[2], nodes[9]]
    const alice = await createIdentity()
    const bob = await recipientFar(sender)
    const received: MailboxMessage[] = []
    const subscription = await subscriberNode.mailbox.subscribe(bob, message => { received.push(message) })
    try {
      const { replicas } = await sender.mailbox.send(alice, bob.address, new TextEncoder().encode('carried'))
      assert.equal(replicas, 3)
      assert.equal(await carried(sender), 1, 'the send did not ride on its lookup')
      await waitFor(() => received.length === 1, 'the message pushed to bob')
      assert.equal(new TextDecoder().decode(received[0].plaintext), 'carried')
      // on the three replicas, the owner included
      const key = mailboxKey(bob.publicKey)
      for (const replica of expectedReplicas(nodes, ringIdFromBytes(key), 3)) {
        assert.equal((await internalsOf(replica).mailboxStore.get(key)).length, 1, `${replica.peerId} lacks the envelope`)
      }
      // the next message to bob comes from the owner cache: nothing to carry
      await sender.mailbox.send(alice, bob.address, new TextEncoder().encode('cached'))
      assert.equal(await carried(sender), 1)
      await waitFor(() => received.length === 2, 'the second message pushed to bob')
    } finally {
      await subscription.close()
    }
  })

  it('an envelope its recipient deleted already, carried again, is not claimed stored: the writer STOREs it itself, learns of the deletion, and the envelope stays deleted', async () => {
    nodes = await startRing(16)
    const sender = nodes[2]
    const alice = await createIdentity()
    const bob = await recipientFar(sender)
    const key = mailboxKey(bob.publicKey)
    const id = ringIdFromBytes(key)
    const replicas = expectedReplicas(nodes, id, 3)
    const held = async (): Promise<number[]> => Promise.all(replicas.map(async replica => (await internalsOf(replica).mailboxStore.get(key)).length))
    const sent = await sender.mailbox.send(alice, bob.address, new TextEncoder().encode('read already'))
    const [envelope] = await internalsOf(replicas[0]).mailboxStore.get(key)
    // bob reads it and acknowledges it: every replica deletes it, and keeps his signed deletion
    assert.equal((await nodes[9].mailbox.ack(bob, [sent.id])).replicas, 3)
    assert.deepEqual(await held(), [0, 0, 0])

    // the same envelope written again (a send tried again, say) by a node that has not heard of the
    // deletion and whose own table does not give the mailbox's owner (the sender, unless a repair
    // reached it meanwhile), its owner not cached: it rides on a recursive lookup
    const writer = [sender, ...nodes].find(node => !replicas.includes(node) && internalsOf(node).acknowledgementsKept === 0 && !answerFindSuccessor(ringOf(node).table, id).done)
    assert.ok(writer != null, 'no node to write from')
    ringOf(writer).owners.forget(id)
    const [lookedUp, carriedBefore] = [await recursive(writer), await carried(writer)]
    const { replicas: answered } = await mailboxReplicationOf(writer).put([envelope])
    assert.ok(await recursive(writer) > lookedUp, 'the write did not go by a recursive lookup')
    // the owner's STORE answer named bob's deletion: its statement did not say stored...
    assert.equal(await carried(writer), carriedBefore, 'the owner claimed it stored an envelope its recipient deleted')
    // ...so the writer sent the STORE itself, every replica answered it, and with the deletion,
    // which the writer checked and keeps now too (it need not send that envelope anywhere again)
    assert.equal(answered, 3)
    assert.ok(internalsOf(writer).acknowledgementsKept > 0, 'the writer did not learn of the deletion')
    assert.deepEqual(await held(), [0, 0, 0])
  })
})
