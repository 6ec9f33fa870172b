import assert from 'node:assert/strict'
import { ForbiddenError, createIdentity } from '../../src/index.js'
import { Subscription } from '../../src/mailbox/subscription.js'
import { waitFor } from '../helpers/wait-for.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { Identity } from '../../src/index.js'
import type { MailboxSession, MailboxSessionHandlers, SubscriptionInit } from '../../src/mailbox/subscription.js'

const nodeA: NodeRef = { id: 1n, peer: 'node-a' }
const nodeB: NodeRef = { id: 2n, peer: 'node-b' }

/** A session at `node` that the test drives through the handlers it was opened with */
interface FakeSession extends MailboxSession {
  handlers: MailboxSessionHandlers
  closed: boolean
}

describe('a mailbox subscription', () => {
  let bob: Identity
  let subscription: Subscription | undefined

  beforeEach(async () => {
    bob = await createIdentity()
  })

  afterEach(async () => {
    await subscription?.close()
    subscription = undefined
  })

  /** A subscription whose mailbox node is `owner()`, opening sessions with `open` */
  function subscriptionWith (owner: () => NodeRef, open: (node: NodeRef, handlers: MailboxSessionHandlers) => Promise<FakeSession>, init: Partial<SubscriptionInit> = {}): Subscription {
    return new Subscription({
      identity: bob,
      onMessage: () => {},
      openSession: async (node, _identity, handlers) => open(node, handlers),
      findOwner: async () => owner(),
      checkIntervalMs: 20,
      acknowledge: async () => {},
      ...init
    })
  }

  function fakeSession (node: NodeRef, handlers: MailboxSessionHandlers): FakeSession {
    const session: FakeSession = { node, handlers, closed: false, close: async () => { session.closed = true } }
    return session
  }

  it('moves on from a node that no longer keeps the mailbox (ForbiddenError), starting and while running', async () => {
    let owner = nodeA
    let forbidding = true
    const opened: FakeSession[] = []
    subscription = subscriptionWith(() => owner, async (node, handlers) => {
      if (forbidding && node.peer === nodeA.peer) {
        // the ring still names A for a moment, and A has just stopped being a replica
        forbidding = false
        owner = nodeB
        throw new ForbiddenError('this node does not keep the mailbox')
      }
      const session = fakeSession(node, handlers)
      opened.push(session)
      return session
    })
    await subscription.start()
    assert.equal(subscription.node?.peer, nodeB.peer)

    // B drops the session, the ring names A again, and A refuses once more: the next check finds B
    owner = nodeA
    forbidding = true
    opened[0].handlers.onClose(new Error('gone'))
    await waitFor(() => subscription?.node?.peer === nodeB.peer && opened.length === 2, 'the subscription to be back with B')
  })
})
