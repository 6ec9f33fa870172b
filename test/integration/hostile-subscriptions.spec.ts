/**
 * A stranger takes a node's subscription slots with mailbox keys made for the purpose. A key costs
 * nothing to make, so a node takes a subscription only for a mailbox it keeps (one of its
 * replicas, by its own view of the ring): anything else is refused FORBIDDEN before any proof is
 * asked for, while an owner subscribing where the ring sends it still gets its messages.
 *
 * A stranger subscribes again and again to make the node read a full mailbox each time: the
 * backlog a subscription reads is charged to the peer's scanned records, as a FETCH is.
 */
import { strict as assert } from 'node:assert'
import { ringIdFromBytes } from '../../src/chord/id.js'
import { DEFAULT_REPLICAS, REPLICA_RANGE_GRACE_NODES } from '../../src/chord/constants.js'
import { ForbiddenError, RateLimitedError, createIdentity } from '../../src/index.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { openMailboxSession } from '../../src/mailbox/session.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { mailboxInternals } from '../../src/services/mailbox.js'
import { internalsOf } from '../../src/testing.js'
import { addressOf, expectedReplicas, ringOf, startNode, startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode, Identity, MailboxMessage } from '../../src/index.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'

/** Enough nodes that each keeps only part of the ring: r replicas and the grace margin, and two more */
const RING = DEFAULT_REPLICAS + REPLICA_RANGE_GRACE_NODES + 2

describe('mailbox subscriptions from strangers', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []
  let mallory: ChordLibp2p | undefined

  afterEach(async () => {
    await mallory?.stop()
    mallory = undefined
    await stopAll(nodes)
    nodes = []
  })

  /** An identity whose mailbox `node` does not keep, even counting the grace margin */
  async function identityNotKeptBy (node: ChordNode): Promise<Identity> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const identity = await createIdentity()
      const keepers = expectedReplicas(nodes, ringIdFromBytes(mailboxKey(identity.publicKey)), DEFAULT_REPLICAS + REPLICA_RANGE_GRACE_NODES)
      if (!keepers.includes(node)) {
        return identity
      }
    }
    throw new Error('no identity found outside the node\'s range')
  }

  it('refuses a subscription to a mailbox the node does not keep with ForbiddenError, before asking for a proof; the owner still subscribes where the ring sends it', async () => {
    nodes = await startRing(RING)
    const target = nodes[0]
    const throwaway = await identityNotKeptBy(target)
    // until it has walked its predecessors since the last change of neighbours, a node takes every key
    await waitFor(() => !internalsOf(target).core.replicaRange.admits(mailboxKey(throwaway.publicKey)), 'the node to see the key outside its range')
    mallory = await createChordLibp2p({ listen: [] })
    await mallory.dial(target.getMultiaddrs()[0])
    let signed = 0
    const counting: Identity = { ...throwaway, sign: async (bytes, context) => { signed++; return throwaway.sign(bytes, context) } }
    const noop = { onEnvelopes: async () => {}, onClose: () => {} }
    const targetRef = { id: ringOf(target).self.id, peer: target.peerId.toString() }

    await assert.rejects(openMailboxSession(mallory, targetRef, counting, noop), ForbiddenError)
    assert.equal(signed, 0, 'no challenge was sent')
    assert.equal(target.mailbox[mailboxInternals].subscriptionCount, 0)

    // the owner of that mailbox, on a device outside the ring, subscribes at the node that keeps it
    const device = await startNode(undefined, { clientMode: true, bootstrap: [addressOf(target)] })
    nodes.push(device)
    const received: MailboxMessage[] = []
    const subscription = await device.mailbox.subscribe(throwaway, message => { received.push(message) })
    const sent = await nodes[1].mailbox.send(await createIdentity(), throwaway.address, new TextEncoder().encode('still reaches its owner'))
    await waitFor(() => received.some(message => message.id === sent.id), 'the owner to get the message')
    await subscription.close()
  })

  it('charges the backlog a subscription reads to the peer\'s scanned records, and refuses a peer whose reads are spent', async () => {
    const waiting = 6
    // a ring of one keeps every mailbox; the budget pays for one backlog and part of another
    nodes = [await startNode(undefined, { requestLimits: { scannedRecords: waiting + 1 } })]
    const [node] = nodes
    mallory = await createChordLibp2p({ listen: [] })
    await mallory.dial(node.getMultiaddrs()[0])
    const full = await createIdentity()
    const sender = await createIdentity()
    for (let i = 0; i < waiting; i++) {
      await node.mailbox.send(sender, full.address, new TextEncoder().encode(`waiting ${i}`))
    }
    const nodeRef = { id: ringOf(node).self.id, peer: node.peerId.toString() }
    let backlog = 0
    const counting = { onEnvelopes: async (envelopes: Uint8Array[]) => { backlog += envelopes.length }, onClose: () => {} }

    // each subscription reads the whole backlog again: the first is paid, the second overdraws
    for (let round = 1; round <= 2; round++) {
      const session = await openMailboxSession(mallory, nodeRef, full, counting)
      await waitFor(() => backlog === round * waiting, 'the backlog to arrive')
      await session.close()
    }
    await assert.rejects(openMailboxSession(mallory, nodeRef, full, counting), RateLimitedError)
    await waitFor(() => node.mailbox[mailboxInternals].subscriptionCount === 0, 'the node to hold no subscription')
  })
})
