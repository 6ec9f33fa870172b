import assert from 'node:assert/strict'
import { RateLimitedError } from '../../src/errors.js'
import { createIdentity } from '../../src/index.js'
import { mailboxInternals } from '../../src/services/mailbox.js'
import { startNode } from '../helpers/ring.js'
import { subscribeMany } from '../helpers/many-subscribers.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { ManySubscribers } from '../helpers/many-subscribers.js'

/** 1,000 subscribers over 8 connections: the node lets each peer hold 125 */
const PEERS = 8
const PER_PEER = 125
const SUBSCRIBERS = PEERS * PER_PEER

/** Messages sent at once: the node seals and stores each, so this bounds the burst */
const SENDING_AT_ONCE = 50

describe('a node with 1,000 live mailbox subscribers', function () {
  this.timeout(300_000)
  let node: ChordNode
  let subscribers: ManySubscribers | undefined
  const subscriptionCount = (): number => node.mailbox[mailboxInternals].subscriptionCount

  before(async () => {
    // a ring of one holds every mailbox; the subscribers come through 8 peers, so each may hold 125
    node = await startNode(undefined, { mailbox: { maxSubscriptionsPerPeer: PER_PEER } })
  })

  after(async () => {
    await subscribers?.stop()
    await node.stop()
  })

  it('holds all 1,000 and pushes a message to every one of them', async () => {
    subscribers = await subscribeMany({ node: { peerId: node.libp2p.peerId, address: node.getMultiaddrs()[0] }, peers: PEERS, perPeer: PER_PEER })
    assert.equal(subscribers.identities.length, SUBSCRIBERS)
    await waitFor(() => subscriptionCount() === SUBSCRIBERS, `the node to count ${SUBSCRIBERS} subscriptions`, 30_000)

    const sender = await createIdentity()
    const sent: string[] = []
    for (let start = 0; start < SUBSCRIBERS; start += SENDING_AT_ONCE) {
      const recipients = subscribers.identities.slice(start, start + SENDING_AT_ONCE)
      const results = await Promise.all(recipients.map(async recipient =>
        node.mailbox.send(sender, recipient.publicKey, new TextEncoder().encode(`hello, ${recipient.address}`))))
      sent.push(...results.map(result => result.id))
    }

    const received = subscribers.received
    await waitFor(() => sent.every(id => received.has(id)), `every one of ${SUBSCRIBERS} subscribers to get its message`, 60_000)
    assert.equal(subscribers.closed, 0, 'no subscription was dropped')
  })

  it('still refuses a peer past its per-peer limit', async () => {
    await assert.rejects(subscribeMany({ node: { peerId: node.libp2p.peerId, address: node.getMultiaddrs()[0] }, peers: 1, perPeer: PER_PEER + 1 }), RateLimitedError)
    // the refused peer closed the subscriptions it had: the node lets go of them, and of no other
    await waitFor(() => subscriptionCount() === SUBSCRIBERS, `the node to count ${SUBSCRIBERS} subscriptions again`, 30_000)
    assert.equal(subscribers?.closed, 0)
  })
})
