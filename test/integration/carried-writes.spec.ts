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
})
