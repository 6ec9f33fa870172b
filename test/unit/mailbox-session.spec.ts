import { strict as assert } from 'node:assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { InvalidMessageError, createIdentity } from '../../src/index.js'
import { CHALLENGE_NONCE_BYTES, MAX_ENVELOPES_PER_EVENT, MAX_MAILBOX_EVENT_SIZE, SUBSCRIBE_HANDSHAKE_TIMEOUT } from '../../src/mailbox/protocol-constants.js'
import { openMailboxSession } from '../../src/mailbox/session.js'
import { frameStream } from '../../src/protocol/framing.js'
import { MailboxEvent } from '../../src/protocol/generated/mailbox.js'
import { ringIdOf } from '../../src/transport/ring-id.js'
import { withShortDeadlines } from '../helpers/short-deadlines.js'
import { waitFor } from '../helpers/wait-for.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { MailboxSession, MailboxSessionHandlers } from '../../src/mailbox/subscription.js'
import type { FramedStream } from '../../src/protocol/framing.js'
import type { Identity } from '../../src/index.js'
import type { Stream } from '@libp2p/interface'

/** ms the handshake's deadline is armed for in place of its real length */
const SHORT_DEADLINE = 100

/** An ENVELOPES message of `count` one-byte envelopes */
function envelopes (count: number, caughtUp = true): Uint8Array {
  return MailboxEvent.encode({ type: MailboxEvent.Type.ENVELOPES, envelopes: Array.from({ length: count }, (_, i) => Uint8Array.of(i % 256)), caughtUp })
}

/** Refused by the codec's limit, before the oversized list was built, with an error naming the limit */
function isOverTheLimit (err: unknown): boolean {
  return err instanceof InvalidMessageError && (err.cause as Error | undefined)?.name === 'MaxLengthError' &&
    err.message.includes(`at most ${MAX_ENVELOPES_PER_EVENT} envelopes`)
}

describe('/chord/mailbox/1.0.0 owner session', () => {
  let owner: Identity
  let node: NodeRef

  before(async () => {
    owner = await createIdentity()
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    node = { id: ringIdOf(peerId), peer: peerId.toString() }
  })

  /**
   * Opens a session whose node side is played by hand: it takes SUBSCRIBE, sends a CHALLENGE,
   * takes PROVE (unchecked) and sends `first`. Resolves to what the owner got and the node's stream.
   */
  async function open (first: Uint8Array): Promise<{ session: Promise<MailboxSession>, pages: Uint8Array[][], closed: Array<Error | undefined>, nodeSide: FramedStream, ownerSide: Stream }> {
    const [ownerSide, nodeStream] = await streamPair()
    const nodeSide = frameStream(nodeStream, MAX_MAILBOX_EVENT_SIZE)
    const pages: Uint8Array[][] = []
    const closed: Array<Error | undefined> = []
    const handlers: MailboxSessionHandlers = {
      onEnvelopes: async page => { pages.push(page) },
      onClose: err => { closed.push(err) }
    }
    const session = openMailboxSession({ dialProtocol: async () => ownerSide }, node, owner, handlers)
    await nodeSide.read()
    await nodeSide.write(MailboxEvent.encode({ type: MailboxEvent.Type.CHALLENGE, nonce: new Uint8Array(CHALLENGE_NONCE_BYTES).fill(1) }))
    await nodeSide.read()
    await nodeSide.write(first)
    return { session, pages, closed, nodeSide, ownerSide }
  }

  it('takes an ENVELOPES message of MAX_ENVELOPES_PER_EVENT envelopes', async () => {
    const { session, pages } = await open(envelopes(MAX_ENVELOPES_PER_EVENT))
    await (await session).close()
    assert.deepEqual(pages.map(page => page.length), [MAX_ENVELOPES_PER_EVENT])
  })

  it('refuses, while decoding, a first page of more than MAX_ENVELOPES_PER_EVENT envelopes: the session fails, nothing reaches the owner', async () => {
    const { session, pages, closed, ownerSide } = await open(envelopes(MAX_ENVELOPES_PER_EVENT + 1))
    await assert.rejects(session, isOverTheLimit)
    assert.deepEqual(pages, [])
    assert.deepEqual(closed, [])
    assert.equal(ownerSide.status, 'aborted')
  })

  it('refuses, while decoding, a later page of more than MAX_ENVELOPES_PER_EVENT envelopes: the session ends, nothing of it reaches the owner', async () => {
    const { session, pages, closed, nodeSide, ownerSide } = await open(envelopes(1))
    await session
    await nodeSide.write(envelopes(MAX_ENVELOPES_PER_EVENT + 1, false))
    await waitFor(() => closed.length > 0, 'the session to end')
    assert.ok(isOverTheLimit(closed[0]), String(closed[0]))
    assert.deepEqual(pages.map(page => page.length), [1])
    assert.equal(ownerSide.status, 'aborted')
  })

  it('gives up on a node that stays silent past SUBSCRIBE_HANDSHAKE_TIMEOUT, the handshake\'s one deadline', async () => {
    const [ownerSide, nodeStream] = await streamPair()
    const nodeSide = frameStream(nodeStream, MAX_MAILBOX_EVENT_SIZE)
    const handlers: MailboxSessionHandlers = { onEnvelopes: async () => {}, onClose: () => {} }
    // the deadline armed at its real length would keep this test waiting; it passes sooner
    const { result: session, asked } = withShortDeadlines(SHORT_DEADLINE, () => openMailboxSession({ dialProtocol: async () => ownerSide }, node, owner, handlers))
    const outcome = session.then(() => 'subscribed', (err: Error) => err.name)
    assert.deepEqual(asked, [SUBSCRIBE_HANDSHAKE_TIMEOUT])
    // the node takes SUBSCRIBE and never sends the challenge
    await nodeSide.read()
    await waitFor(() => ownerSide.status !== 'open', 'the owner to give up', 2000)
    assert.equal(await outcome, 'TimeoutError')
    assert.equal(ownerSide.status, 'aborted')
  })
})
