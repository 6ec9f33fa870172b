import assert from 'node:assert/strict'
import { createIdentity } from '../../src/index.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { seal } from '../../src/mailbox/seal.js'
import { MailboxEvent, MailboxRequest } from '../../src/protocol/mailbox.js'
import { MAILBOX_PROTOCOL, MAX_MAILBOX_EVENT_SIZE } from '../../src/protocol/mailbox-constants.js'
import { frameStream } from '../../src/protocol/framing.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import { createRecord } from '../../src/storage/store.js'
import { createChordLibp2p } from '../../src/transport/libp2p.js'
import { MailboxServer } from '../../src/transport/mailbox-server.js'
import { openMailboxSession } from '../../src/transport/mailbox-session.js'
import { ringIdOf, wireBytes } from '../../src/transport/ring-id.js'
import { waitFor } from '../helpers/wait-for.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { Identity } from '../../src/index.js'
import type { LevelRecordStore } from '../../src/storage/level-store.js'
import type { ChordLibp2p } from '../../src/transport/libp2p.js'

describe('/chord/mailbox/1.0.0 subscriptions', function () {
  this.timeout(30_000)
  let node: ChordLibp2p
  let client: ChordLibp2p
  let store: LevelRecordStore
  let server: MailboxServer
  let bob: Identity
  let nodeRef: NodeRef

  beforeEach(async () => {
    node = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    client = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    store = await openLevelStore()
    server = new MailboxServer(node, { store, handshakeTimeout: 300, maxSubscribersPerMailbox: 2 })
    await server.start()
    await client.dial(node.getMultiaddrs()[0])
    bob = await createIdentity()
    nodeRef = { id: ringIdOf(node.peerId), peer: node.peerId.toString() }
  })

  afterEach(async () => {
    await server.stop()
    await Promise.all([node.stop(), client.stop()])
    await store.close()
  })

  async function storeFor (owner: Identity, text: string): Promise<void> {
    const alice = await createIdentity()
    const envelope = await seal(alice, owner.publicKey, new TextEncoder().encode(text))
    const record = createRecord(mailboxKey(owner.publicKey), envelope, Date.now() + 60_000)
    const { added } = await store.put([record])
    server.deliver(added)
  }

  it('expires an unanswered challenge: a late answer finds the stream gone', async () => {
    const stream = await client.dialProtocol(node.peerId, MAILBOX_PROTOCOL)
    const framed = frameStream(stream, MAX_MAILBOX_EVENT_SIZE)
    await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.SUBSCRIBE, owner: wireBytes(bob.publicKey.bytes) }))
    const challenge = MailboxEvent.decode(await framed.read())
    assert.equal(challenge.type, MailboxEvent.Type.CHALLENGE)
    await waitFor(() => stream.status !== 'open', 'the node to drop the stream after its handshake deadline', 5000)
    await assert.rejects(framed.read())
  })

  it('keeps each subscriber independent: closing one leaves the other receiving', async () => {
    const seen = [[], []] as string[][]
    const sessions = await Promise.all([0, 1].map(async i => openMailboxSession(client, nodeRef, bob, {
      onEnvelopes: async envelopes => { seen[i].push(...envelopes.map(e => String(e.byteLength))) },
      onClose: () => {}
    })))
    await storeFor(bob, 'first')
    await waitFor(() => seen[0].length === 1 && seen[1].length === 1, 'both subscribers to get the first envelope')
    await sessions[0].close()
    await storeFor(bob, 'second')
    await waitFor(() => seen[1].length === 2, 'the remaining subscriber to get the second')
    assert.equal(seen[0].length, 1)
    await sessions[1].close()
  })

  it('refuses subscribers beyond the per-mailbox limit', async () => {
    const noop = { onEnvelopes: async () => {}, onClose: () => {} }
    const open = await Promise.all([0, 1].map(async () => openMailboxSession(client, nodeRef, bob, noop)))
    await assert.rejects(openMailboxSession(client, nodeRef, bob, noop))
    await Promise.all(open.map(async s => s.close()))
  })
})
