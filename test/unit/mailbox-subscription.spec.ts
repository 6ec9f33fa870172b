import assert from 'node:assert/strict'
import { ForbiddenError, InvalidMessageError, createIdentity } from '../../src/index.js'
import { MAX_UNDELIVERED_BYTES, MAX_PLAINTEXT_SIZE } from '../../src/mailbox/constants.js'
import { seal } from '../../src/mailbox/seal.js'
import { Subscription } from '../../src/mailbox/subscription.js'
import { waitFor } from '../helpers/wait-for.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { Identity } from '../../src/index.js'
import type { MailboxMessage, MailboxSession, MailboxSessionHandlers, SubscriptionInit } from '../../src/mailbox/subscription.js'

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

  it('holds at most MAX_UNDELIVERED_BYTES from a node that never says caughtUp, then hands them over and subscribes again', async () => {
    const alice = await createIdentity()
    const received: MailboxMessage[] = []
    const errors: unknown[] = []
    const opened: FakeSession[] = []
    subscription = subscriptionWith(() => nodeA, async (node, handlers) => {
      const session = fakeSession(node, handlers)
      opened.push(session)
      return session
    }, { onMessage: message => { received.push(message) }, onError: err => { errors.push(err) } })
    await subscription.start()

    // validly sealed envelopes, each the largest there is, all "still the backlog"
    const envelope = async (): Promise<Uint8Array> => seal(alice, bob.publicKey, new Uint8Array(MAX_PLAINTEXT_SIZE))
    let sent = 0
    let bytes = 0
    let refusal: unknown
    while (refusal == null && bytes <= 2 * MAX_UNDELIVERED_BYTES) {
      const page = [await envelope()]
      bytes += page[0].byteLength
      sent++
      refusal = await opened[0].handlers.onEnvelopes(page, false).then(() => undefined, (err: unknown) => err)
    }
    assert.ok(refusal instanceof InvalidMessageError, `took ${bytes} bytes without caughtUp`)
    assert.ok(bytes > MAX_UNDELIVERED_BYTES && bytes <= MAX_UNDELIVERED_BYTES + MAX_PLAINTEXT_SIZE + 1024, `dropped after ${bytes} bytes`)
    assert.ok(errors.includes(refusal), 'the application is told')

    // the session reports its end (its stream was reset); what it held is not lost, and it subscribes again
    opened[0].handlers.onClose(refusal)
    await waitFor(() => received.length === sent, 'every envelope taken to be delivered')
    await waitFor(() => opened.length === 2, 'a new session')
  })

  it('hands over what a session held of its backlog when it ends before catching up, or is left for another node', async () => {
    const alice = await createIdentity()
    const received: string[] = []
    let owner = nodeA
    const opened: FakeSession[] = []
    subscription = subscriptionWith(() => owner, async (node, handlers) => {
      const session = fakeSession(node, handlers)
      opened.push(session)
      return session
    }, { onMessage: message => { received.push(new TextDecoder().decode(message.plaintext)) } })
    await subscription.start()
    const sealed = async (text: string): Promise<Uint8Array> => seal(alice, bob.publicKey, new TextEncoder().encode(text))
    const first = await sealed('first')

    await opened[0].handlers.onEnvelopes([first], false)
    opened[0].handlers.onClose(new Error('stream reset'))
    await waitFor(() => received.length === 1, 'the held envelope to be delivered')
    await waitFor(() => opened.length === 2, 'a new session')

    // the new node sends it again, and another, still catching up, when the mailbox moves on
    await opened[1].handlers.onEnvelopes([first, await sealed('second')], false)
    owner = nodeB
    await waitFor(() => opened.length === 3 && opened[1].closed, 'the move to B')
    await waitFor(() => received.length === 2, 'what A held to be delivered')
    assert.deepEqual(received, ['first', 'second'])
  })

  it('reads no more from a caught-up node while MAX_UNDELIVERED_BYTES waits for a slow application', async () => {
    const alice = await createIdentity()
    let release: () => void = () => {}
    const application = new Promise<void>(resolve => { release = resolve })
    let taken = 0
    const opened: FakeSession[] = []
    const sub = subscriptionWith(() => nodeA, async (node, handlers) => {
      const session = fakeSession(node, handlers)
      opened.push(session)
      return session
    }, { onMessage: async () => { await application; taken++ } })
    subscription = sub
    await sub.start()
    await opened[0].handlers.onEnvelopes([], true)
    const envelope = async (): Promise<Uint8Array> => seal(alice, bob.publicKey, new Uint8Array(MAX_PLAINTEXT_SIZE))

    // the node pushes faster than the application takes them: up to the limit, it reads on
    let sent = 0
    while (sub['undelivered'] + MAX_PLAINTEXT_SIZE + 1024 <= MAX_UNDELIVERED_BYTES) {
      await opened[0].handlers.onEnvelopes([await envelope()], false)
      sent++
    }
    // past it, it reads on only once the application has taken enough
    let takenWhenReading: number | undefined
    const reading = opened[0].handlers.onEnvelopes([await envelope()], false).then(() => { takenWhenReading = taken })
    sent++
    await waitFor(() => sub['undelivered'] > MAX_UNDELIVERED_BYTES, 'the last push to be opened')
    release()
    await reading
    assert.ok(takenWhenReading != null && takenWhenReading >= 1, `read on with ${takenWhenReading} of ${sent} taken`)
    await waitFor(() => taken === sent, 'the application to take them all')
  })
})
