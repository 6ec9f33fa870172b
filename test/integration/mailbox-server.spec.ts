import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { randomBytes } from '@noble/hashes/utils.js'
import { RateLimitedError, RemoteError } from '../../src/errors.js'
import { createIdentity } from '../../src/index.js'
import { MAX_ENVELOPE_SIZE } from '../../src/mailbox/constants.js'
import { answerChallenge } from '../../src/mailbox/proofs.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { seal } from '../../src/mailbox/seal.js'
import { MailboxEvent, MailboxRequest } from '../../src/protocol/generated/mailbox.js'
import {
  MAILBOX_PROTOCOL,
  MAX_INBOUND_MAILBOX_STREAMS,
  MAX_MAILBOX_EVENT_SIZE,
  MAX_PENDING_PUSH_BYTES,
  MAX_SUBSCRIBERS_PER_MAILBOX,
  MAX_SUBSCRIPTIONS,
  MAX_SUBSCRIPTIONS_PER_PEER,
  MAX_SUBSCRIPTIONS_PER_SUBNET,
  MAX_TOTAL_PENDING_PUSH_BYTES,
  MailboxErrorCode,
  PUSH_WRITE_TIMEOUT,
  SUBSCRIBE_HANDSHAKE_TIMEOUT
} from '../../src/mailbox/protocol-constants.js'
import { frameStream } from '../../src/protocol/framing.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import { createRecord } from '../../src/chord/record.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { MailboxServer } from '../../src/mailbox/server.js'
import { openMailboxSession } from '../../src/mailbox/session.js'
import { ringIdOf, wireBytes } from '../../src/transport/ring-id.js'
import { silentLogger } from '../helpers/logger.js'
import { withShortDeadlines } from '../helpers/short-deadlines.js'
import { waitFor } from '../helpers/wait-for.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { ChordRecord, RecordStore } from '../../src/chord/record.js'
import type { Identity } from '../../src/index.js'
import type { LevelRecordStore } from '../../src/storage/level-store.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { MailboxServerInit } from '../../src/mailbox/server.js'
import type { FramedStream } from '../../src/protocol/framing.js'
import type { Connection, Stream, StreamHandler } from '@libp2p/interface'

/** ms from opening a stream to a proven subscription in these tests, in place of SUBSCRIBE_HANDSHAKE_TIMEOUT */
const HANDSHAKE_TIMEOUT = 300

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
    server = new MailboxServer(node, { store, handshakeTimeout: HANDSHAKE_TIMEOUT, maxSubscribersPerMailbox: 2 })
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

  it('expires an unanswered challenge after the handshake deadline, not sooner: a late answer finds the stream gone', async () => {
    const started = Date.now()
    const stream = await client.dialProtocol(node.peerId, MAILBOX_PROTOCOL)
    const framed = frameStream(stream, MAX_MAILBOX_EVENT_SIZE)
    await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.SUBSCRIBE, owner: wireBytes(bob.publicKey.bytes) }))
    const challenge = MailboxEvent.decode(await framed.read())
    assert.equal(challenge.type, MailboxEvent.Type.CHALLENGE)
    await waitFor(() => stream.status !== 'open', 'the node to drop the stream after its handshake deadline', HANDSHAKE_TIMEOUT + 2000)
    assert.ok(Date.now() - started >= HANDSHAKE_TIMEOUT, `dropped after ${Date.now() - started} ms`)
    await assert.rejects(framed.read())
  })

  it('resets a stream whose message is not protobuf or names an unknown type, before and after SUBSCRIBE, as /chord/1.0.0 does', async () => {
    // a truncated field, and a type field (1) holding the enum value 9
    for (const frame of [Uint8Array.from([0xff, 0xff]), Uint8Array.from([0x08, 0x09])]) {
      for (const afterSubscribe of [false, true]) {
        const stream = await client.dialProtocol(node.peerId, MAILBOX_PROTOCOL)
        const framed = frameStream(stream, MAX_MAILBOX_EVENT_SIZE)
        if (afterSubscribe) {
          await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.SUBSCRIBE, owner: wireBytes(bob.publicKey.bytes) }))
          assert.equal(MailboxEvent.decode(await framed.read()).type, MailboxEvent.Type.CHALLENGE)
        }
        await framed.write(frame)
        await assert.rejects(framed.read(), 'no ERROR event: the stream is reset')
        await waitFor(() => stream.status !== 'open', 'the stream to be reset')
      }
    }
    assert.equal(server.subscriptionCount, 0)
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

  it('lets go of a subscription stream the owner closed: a client can subscribe and close again and again', async () => {
    const noop = { onEnvelopes: async () => {}, onClose: () => {} }
    const mailboxStreams = (from: ChordLibp2p, to: ChordLibp2p): Stream[] =>
      from.getConnections(to.peerId).flatMap(c => c.streams).filter(s => s.protocol === MAILBOX_PROTOCOL)
    // more rounds than one connection may hold mailbox streams
    for (let i = 0; i < 2 * MAX_INBOUND_MAILBOX_STREAMS; i++) {
      const session = await openMailboxSession(client, nodeRef, bob, noop)
      await session.close()
    }
    await waitFor(() => mailboxStreams(node, client).length === 0 && mailboxStreams(client, node).length === 0, 'both sides to close every stream')
  })

  it('refuses subscribers beyond the per-mailbox limit, telling them why', async () => {
    const noop = { onEnvelopes: async () => {}, onClose: () => {} }
    const open = await Promise.all([0, 1].map(async () => openMailboxSession(client, nodeRef, bob, noop)))
    // the ERROR event arrives before the stream ends, rather than a reset
    await assert.rejects(openMailboxSession(client, nodeRef, bob, noop),
      (err: Error) => err instanceof RemoteError && err.message.includes(MailboxErrorCode.TOO_MANY_SUBSCRIBERS))
    await Promise.all(open.map(async s => s.close()))
  })

  describe('per-peer and push limits', () => {
    const noop = { onEnvelopes: async () => {}, onClose: () => {} }
    let other: ChordLibp2p

    beforeEach(async () => {
      other = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
      await other.dial(node.getMultiaddrs()[0])
    })

    afterEach(async () => {
      await other.stop()
    })

    /** Replace the server with one built with `init` */
    async function restartServer (init: Partial<MailboxServerInit>): Promise<void> {
      await server.stop()
      server = new MailboxServer(node, { store, ...init })
      await server.start()
    }

    /** Push one envelope of `bytes` random bytes to `owner`'s subscribers, as a store would */
    function push (owner: Identity, bytes = MAX_ENVELOPE_SIZE): void {
      server.deliver([createRecord(mailboxKey(owner.publicKey), randomBytes(bytes), Date.now() + 60_000)])
    }

    interface RawSubscriber {
      stream: Stream
      framed: FramedStream
    }

    /** A subscription made by hand, proven and caught up; the caller decides whether it reads on */
    async function subscribeRaw (owner: Identity, from: ChordLibp2p = client): Promise<RawSubscriber> {
      const stream = await from.dialProtocol(node.peerId, MAILBOX_PROTOCOL)
      const framed = frameStream(stream, MAX_MAILBOX_EVENT_SIZE)
      await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.SUBSCRIBE, owner: wireBytes(owner.publicKey.bytes) }))
      const challenge = MailboxEvent.decode(await framed.read())
      assert.ok(challenge.nonce != null)
      const signature = await answerChallenge(owner, node.peerId.toMultihash().bytes, challenge.nonce)
      await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.PROVE, signature: wireBytes(signature) }))
      const backlog = MailboxEvent.decode(await framed.read())
      assert.equal(backlog.caughtUp, true)
      return { stream, framed }
    }

    /** The node's side of `client`'s mailbox streams */
    function serverStreams (from: ChordLibp2p = client): Stream[] {
      return node.getConnections(from.peerId).flatMap(c => c.streams).filter(s => s.protocol === MAILBOX_PROTOCOL)
    }

    /** A session that counts the bytes it receives and whether it was dropped */
    async function countingSession (owner: Identity, from: ChordLibp2p): Promise<{ bytes: () => number, closed: () => boolean }> {
      let bytes = 0
      let closed = false
      await openMailboxSession(from, nodeRef, owner, {
        onEnvelopes: async envelopes => { bytes += envelopes.reduce((sum, e) => sum + e.byteLength, 0) },
        onClose: () => { closed = true }
      })
      return { bytes: () => bytes, closed: () => closed }
    }

    it('refuses a peer past maxSubscriptionsPerPeer with RateLimitedError, and no other peer', async () => {
      await restartServer({ maxSubscriptionsPerPeer: 2 })
      const [carol, dave] = await Promise.all([createIdentity(), createIdentity()])
      const sessions = [await openMailboxSession(client, nodeRef, bob, noop), await openMailboxSession(client, nodeRef, carol, noop)]

      await assert.rejects(openMailboxSession(client, nodeRef, dave, noop), RateLimitedError)
      const others = await openMailboxSession(other, nodeRef, dave, noop)

      // a subscription that ends frees its place
      await sessions[1].close()
      await waitFor(async () => openMailboxSession(client, nodeRef, dave, noop).then(() => true, (err: Error) => {
        if (err instanceof RateLimitedError) {
          return false
        }
        throw err
      }), 'the client to get its place back')
      await others.close()
    })

    it('refuses a subscription past maxSubscriptions with TOO_MANY_SUBSCRIBERS, from any peer, until one closes', async () => {
      await restartServer({ maxSubscriptions: 2 })
      const [carol, dave] = await Promise.all([createIdentity(), createIdentity()])
      const first = await openMailboxSession(client, nodeRef, bob, noop)
      await openMailboxSession(other, nodeRef, carol, noop)

      await assert.rejects(openMailboxSession(other, nodeRef, dave, noop), (err: Error) => err instanceof RemoteError && !(err instanceof RateLimitedError))
      await first.close()
      await waitFor(async () => openMailboxSession(other, nodeRef, dave, noop).then(() => true, () => false), 'a place to free up')
    })

    /** The ERROR a node sends a subscriber past the per-mailbox or total limit: not a RateLimitedError, nothing to wait out */
    const tooManySubscribers = (err: Error): boolean =>
      err instanceof RemoteError && !(err instanceof RateLimitedError) && err.message.includes(MailboxErrorCode.TOO_MANY_SUBSCRIBERS)

    it('refuses the (MAX_SUBSCRIBERS_PER_MAILBOX + 1)th subscriber of one mailbox with TOO_MANY_SUBSCRIBERS, from any peer or locally, and no other mailbox', async () => {
      // one peer may fill a mailbox, so only the per-mailbox limit can refuse it
      assert.ok(MAX_SUBSCRIBERS_PER_MAILBOX < MAX_SUBSCRIPTIONS_PER_PEER)
      await restartServer({})
      const carol = await createIdentity()
      const sessions = []
      for (let i = 0; i < MAX_SUBSCRIBERS_PER_MAILBOX; i++) {
        sessions.push(await openMailboxSession(client, nodeRef, bob, noop))
      }

      await assert.rejects(openMailboxSession(client, nodeRef, bob, noop), tooManySubscribers)
      await assert.rejects(openMailboxSession(other, nodeRef, bob, noop), tooManySubscribers)
      await assert.rejects(server.subscribeLocally(bob.publicKey, noop), RateLimitedError)
      assert.equal(server.subscriptionCount, MAX_SUBSCRIBERS_PER_MAILBOX, 'a refused subscriber takes no place')
      await openMailboxSession(client, nodeRef, carol, noop)

      // a subscriber that leaves frees its place
      await sessions[0].close()
      await waitFor(async () => openMailboxSession(other, nodeRef, bob, noop).then(() => true, (err: Error) => {
        if (tooManySubscribers(err)) {
          return false
        }
        throw err
      }), 'the mailbox to take a subscriber again')
    })

    it('refuses the (MAX_SUBSCRIPTIONS + 1)th subscription on a node with TOO_MANY_SUBSCRIBERS, or locally RateLimitedError, until one closes', async () => {
      await restartServer({})
      // local owners, each filling its mailbox: neither the per-peer nor the per-mailbox limit refuses them
      const owners = await Promise.all(Array.from({ length: Math.ceil(MAX_SUBSCRIPTIONS / MAX_SUBSCRIBERS_PER_MAILBOX) }, async () => createIdentity()))
      const local = []
      for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) {
        local.push(await server.subscribeLocally(owners[Math.floor(i / MAX_SUBSCRIBERS_PER_MAILBOX)].publicKey, noop))
      }
      assert.equal(server.subscriptionCount, MAX_SUBSCRIPTIONS)

      await assert.rejects(openMailboxSession(client, nodeRef, bob, noop), tooManySubscribers)
      await assert.rejects(server.subscribeLocally(bob.publicKey, noop), (err: Error) => err instanceof RateLimitedError && err.message.includes('too many subscriptions'))
      assert.equal(server.subscriptionCount, MAX_SUBSCRIPTIONS, 'a refused subscription takes no place')

      await local[0].close()
      await openMailboxSession(client, nodeRef, bob, noop)
      assert.equal(server.subscriptionCount, MAX_SUBSCRIPTIONS)
    })

    it('lets a peer hold a raised maxSubscriptionsPerPeer over one connection, and refuses the next with RateLimitedError, not a reset', async () => {
      const perPeer = MAX_INBOUND_MAILBOX_STREAMS + 4
      await restartServer({ maxSubscriptionsPerPeer: perPeer })
      const owners = await Promise.all(Array.from({ length: perPeer + 1 }, async () => createIdentity()))
      const overOne = overOneConnection(client, perPeer + 1)
      for (const owner of owners.slice(0, perPeer)) {
        await openMailboxSession(overOne, nodeRef, owner, noop)
      }
      assert.equal(client.getConnections(node.peerId).length, 1)

      await assert.rejects(openMailboxSession(overOne, nodeRef, owners[perPeer], noop), RateLimitedError)
      await openMailboxSession(other, nodeRef, owners[perPeer], noop)
    })

    it('charges each proof to the peer\'s signature checks, and refuses a peer whose checks are spent, before verifying', async () => {
      const charged: string[] = []
      await restartServer({
        admitSignatureCheck: peer => {
          if (peer === client.peerId.toString() && charged.filter(p => p === peer).length === 2) {
            throw new RateLimitedError('spent')
          }
          charged.push(peer)
        }
      })
      const [carol, dave] = await Promise.all([createIdentity(), createIdentity()])
      await openMailboxSession(client, nodeRef, bob, noop)
      await openMailboxSession(client, nodeRef, carol, noop)

      await assert.rejects(openMailboxSession(client, nodeRef, dave, noop), RateLimitedError)
      await openMailboxSession(other, nodeRef, dave, noop)
      assert.deepEqual(charged, [client.peerId.toString(), client.peerId.toString(), other.peerId.toString()])
    })

    it('charges a proof and a backlog to the subscriber\'s subnet too, as the node counts subnets', async () => {
      const subnets: Array<[string, string | undefined]> = []
      await restartServer({
        subnetOf: () => '192.0.2.0/24',
        admitSignatureCheck: (_peer, subnet) => { subnets.push(['proof', subnet]) },
        admitScan: (_peer, subnet) => { subnets.push(['backlog', subnet]) },
        chargeScan: (_peer, _records, subnet) => { subnets.push(['read', subnet]) }
      })
      await openMailboxSession(client, nodeRef, bob, noop)
      await waitFor(() => subnets.some(([what]) => what === 'read'), 'the backlog read')
      assert.deepEqual(new Set(subnets.map(([what, subnet]) => `${what} ${subnet}`)), new Set(['backlog 192.0.2.0/24', 'proof 192.0.2.0/24', 'read 192.0.2.0/24']))
    })

    /** `from`'s subscriptions over its one connection, however many it opens */
    function overOneConnection (from: ChordLibp2p, streams: number): Pick<ChordLibp2p, 'dialProtocol'> {
      const connection = from.getConnections(node.peerId)[0]
      return { dialProtocol: async (_peer: unknown, protocol: string) => connection.newStream(protocol, { maxOutboundStreams: streams }) } as unknown as Pick<ChordLibp2p, 'dialProtocol'>
    }

    it(`refuses the peers of one subnet past MAX_SUBSCRIPTIONS_PER_SUBNET (${MAX_SUBSCRIPTIONS_PER_SUBNET}) together with RateLimitedError, and no other subnet`, async () => {
      // loopback is not counted: here the test says which subnet each client's connections come from
      const subnets = new Map([[client.peerId.toString(), '192.0.2.0/24'], [other.peerId.toString(), '192.0.2.0/24']])
      const perPeer = MAX_SUBSCRIPTIONS_PER_SUBNET - 16
      await restartServer({ maxSubscriptionsPerPeer: perPeer, subnetOf: connection => subnets.get(connection.remotePeer.toString()) })
      const [first, second] = [overOneConnection(client, perPeer + 1), overOneConnection(other, perPeer + 1)]
      const owners = await Promise.all(Array.from({ length: MAX_SUBSCRIPTIONS_PER_SUBNET + 1 }, async () => createIdentity()))
      const sessions = []
      for (const [i, owner] of owners.slice(0, MAX_SUBSCRIPTIONS_PER_SUBNET).entries()) {
        sessions.push(await openMailboxSession(i < perPeer ? first : second, nodeRef, owner, noop))
      }
      // the second peer holds 16, far under its own limit: the subnet is full
      await assert.rejects(openMailboxSession(second, nodeRef, owners[MAX_SUBSCRIPTIONS_PER_SUBNET], noop), RateLimitedError)
      subnets.set(other.peerId.toString(), '198.51.100.0/24')
      sessions.push(await openMailboxSession(second, nodeRef, owners[MAX_SUBSCRIPTIONS_PER_SUBNET], noop))
      await sessions[0].close()
      await waitFor(async () => openMailboxSession(first, nodeRef, owners[0], noop).then(session => { sessions.push(session); return true }, () => false), 'a place once one of the subnet\'s subscriptions closes')
      await Promise.all(sessions.map(async session => session.close()))
    })

    it('lets a peer whose own limit is raised past the subnet\'s (a gateway) hold that many from its subnet', async () => {
      const gateway = MAX_SUBSCRIPTIONS_PER_SUBNET + 4
      await restartServer({ maxSubscriptionsPerPeer: gateway, subnetOf: () => '192.0.2.0/24' })
      const through = overOneConnection(client, gateway + 1)
      const owners = await Promise.all(Array.from({ length: gateway + 1 }, async () => createIdentity()))
      const sessions = []
      for (const owner of owners.slice(0, gateway)) {
        sessions.push(await openMailboxSession(through, nodeRef, owner, noop))
      }
      await assert.rejects(openMailboxSession(through, nodeRef, owners[gateway], noop), RateLimitedError)
      await Promise.all(sessions.map(async session => session.close()))
    })

    it('refuses a peer past MAX_SUBSCRIPTIONS_PER_PEER even over a second connection', async () => {
      // each connection carries MAX_INBOUND_MAILBOX_STREAMS, so only a second one can try for more
      assert.equal(MAX_SUBSCRIPTIONS_PER_PEER, MAX_INBOUND_MAILBOX_STREAMS)
      await restartServer({})
      const owners = await Promise.all(Array.from({ length: MAX_SUBSCRIPTIONS_PER_PEER + 1 }, async () => createIdentity()))
      for (const owner of owners.slice(0, MAX_SUBSCRIPTIONS_PER_PEER)) {
        await openMailboxSession(client, nodeRef, owner, noop)
      }
      const second = await client.dial(node.getMultiaddrs()[0], { force: true })
      assert.equal(client.getConnections(node.peerId).length, 2)
      const overSecond = { dialProtocol: async (_peer: unknown, protocol: string) => second.newStream(protocol) }

      await assert.rejects(openMailboxSession(overSecond, nodeRef, owners[MAX_SUBSCRIPTIONS_PER_PEER], noop), RateLimitedError)
      await openMailboxSession(other, nodeRef, owners[MAX_SUBSCRIPTIONS_PER_PEER], noop)
    })

    it('drops a subscriber that stops reading once its pushes pass maxPendingPushBytes, while another keeps receiving', async () => {
      await restartServer({ maxPendingPushBytes: 4 * MAX_ENVELOPE_SIZE })
      const stalled = await subscribeRaw(bob)
      // stop taking data: the muxer stops granting the node room to send
      stalled.stream.pause()
      const reader = await countingSession(bob, other)

      let pushed = 0
      // pushes pile up once the stalled stream's window is full; well before 100 of them (6.4 MiB)
      await waitFor(async () => {
        if (stalled.stream.status === 'open' && pushed < 100) {
          push(bob)
          pushed++
          await waitFor(() => reader.bytes() === pushed * MAX_ENVELOPE_SIZE, 'the reading subscriber to keep up')
        }
        return stalled.stream.status !== 'open'
      }, 'the stalled subscriber to be dropped', 10_000)

      assert.ok(pushed < 100, `dropped after ${pushed} pushes`)
      await waitFor(() => serverStreams(client).length === 0, 'the node to let go of the stream')
      push(bob)
      await waitFor(() => reader.bytes() === (pushed + 1) * MAX_ENVELOPE_SIZE, 'the reading subscriber to get the next push')
      assert.equal(reader.closed(), false)
    })

    it('drops the subscriber with the most waiting once all together pass maxTotalPendingPushBytes (MAX_TOTAL_PENDING_PUSH_BYTES by default), not the reader being pushed to', async () => {
      assert.ok(MAX_TOTAL_PENDING_PUSH_BYTES < MAX_SUBSCRIPTIONS * MAX_PENDING_PUSH_BYTES, 'the node-wide budget is what bounds the node')
      const perSubscriber = 200
      await restartServer({ maxPendingPushBytes: perSubscriber * MAX_ENVELOPE_SIZE, maxTotalPendingPushBytes: 6 * MAX_ENVELOPE_SIZE })
      const stalled = await subscribeRaw(bob)
      stalled.stream.pause()
      const reader = await countingSession(bob, other)

      // every push goes to both, and the reader's share is the one that finds the node over its
      // budget; the stalled subscriber's window takes a few MiB before anything waits at the node,
      // and its own limit would take perSubscriber envelopes more: the loop stops before that
      let pushed = 0
      await waitFor(async () => {
        if (stalled.stream.status === 'open' && pushed < perSubscriber) {
          push(bob)
          pushed++
          await waitFor(() => reader.bytes() === pushed * MAX_ENVELOPE_SIZE, 'the reading subscriber to keep up')
        }
        return stalled.stream.status !== 'open'
      }, 'the stalled subscriber to be dropped', 10_000)

      assert.ok(pushed < perSubscriber, `dropped after ${pushed} pushes, by the node's budget rather than its own`)
      push(bob)
      await waitFor(() => reader.bytes() === (pushed + 1) * MAX_ENVELOPE_SIZE, 'the reader to get the next push')
      assert.equal(reader.closed(), false)
    })

    it('counts nothing against the node-wide budget for a subscriber that leaves while its backlog page is read', async () => {
      const key = mailboxKey(bob.publicKey)
      await store.put([createRecord(key, randomBytes(MAX_ENVELOPE_SIZE), Date.now() + 60_000)])
      // the first page read waits until the test lets it go
      let letRead = (): void => {}
      let reading = false
      const gated = Object.assign(Object.create(store) as LevelRecordStore, {
        page: async (...args: Parameters<LevelRecordStore['page']>) => {
          if (!reading) {
            reading = true
            await new Promise<void>(resolve => { letRead = resolve })
          }
          return store.page(...args)
        }
      })
      // room for one page: a page counted for nobody would leave none for the next subscriber
      await restartServer({ store: gated, maxTotalPendingPushBytes: MAX_ENVELOPE_SIZE })
      const stream = await client.dialProtocol(node.peerId, MAILBOX_PROTOCOL)
      const framed = frameStream(stream, MAX_MAILBOX_EVENT_SIZE)
      await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.SUBSCRIBE, owner: wireBytes(bob.publicKey.bytes) }))
      const challenge = MailboxEvent.decode(await framed.read())
      assert.ok(challenge.nonce != null)
      await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.PROVE, signature: wireBytes(await answerChallenge(bob, node.peerId.toMultihash().bytes, challenge.nonce)) }))
      await waitFor(() => reading, 'the node to read the backlog')
      stream.abort(new Error('gone'))
      await waitFor(() => serverStreams(client).length === 0, 'the node to let go of the subscription')
      letRead()

      const reader = await countingSession(bob, other)
      await waitFor(() => reader.bytes() === MAX_ENVELOPE_SIZE, 'the next subscriber to get the backlog')
      assert.equal(reader.closed(), false)
    })

    it('takes a burst of MAX_PENDING_PUSH_BYTES at once, and drops the subscriber past it', async () => {
      await restartServer({})
      const reader = await countingSession(bob, client)
      const burst = MAX_PENDING_PUSH_BYTES / MAX_ENVELOPE_SIZE

      // all queued before anything is written
      for (let i = 0; i < burst; i++) {
        push(bob)
      }
      await waitFor(() => reader.bytes() === MAX_PENDING_PUSH_BYTES, 'the whole burst to arrive')
      assert.equal(reader.closed(), false)

      for (let i = 0; i <= burst; i++) {
        push(bob)
      }
      await waitFor(() => reader.closed(), 'the subscriber to be dropped')
      await waitFor(() => serverStreams(client).length === 0, 'the node to let go of the stream')
    })

    it('holds at most maxPendingPushBytes of a backlog for a subscriber that does not read it, and drops it; the backlog stays stored', async () => {
      const backlog = 100
      const key = mailboxKey(bob.publicKey)
      await store.put(Array.from({ length: backlog }, () => createRecord(key, randomBytes(MAX_ENVELOPE_SIZE), Date.now() + 60_000)))
      let readBytes = 0
      const reads: LevelRecordStore = new Proxy(store, {
        get: (target, name) => {
          const value = Reflect.get(target, name)
          if (typeof value !== 'function') {
            return value
          }
          return (...args: unknown[]) => {
            const result = value.apply(target, args)
            if (name === 'get' || name === 'page') {
              void result.then((found: ChordRecord[] | { records: ChordRecord[] }) => {
                readBytes += (Array.isArray(found) ? found : found.records).reduce((sum, record) => sum + record.value.byteLength, 0)
              })
            }
            return result
          }
        }
      })
      let written = 0
      await restartServer({ store: reads, pushWriteTimeout: 300, onPushed: count => { written += count * MAX_ENVELOPE_SIZE } })

      // prove ownership, then take nothing more
      const stream = await client.dialProtocol(node.peerId, MAILBOX_PROTOCOL)
      const framed = frameStream(stream, MAX_MAILBOX_EVENT_SIZE)
      await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.SUBSCRIBE, owner: wireBytes(bob.publicKey.bytes) }))
      const challenge = MailboxEvent.decode(await framed.read())
      assert.ok(challenge.nonce != null)
      stream.pause()
      await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.PROVE, signature: wireBytes(await answerChallenge(bob, node.peerId.toMultihash().bytes, challenge.nonce)) }))
      // what the stream took sits in the transport's buffers; what the node holds itself is the rest
      await waitFor(() => serverStreams(client).length === 0, 'the node to drop the subscriber')
      assert.ok(readBytes - written <= MAX_PENDING_PUSH_BYTES, `${readBytes - written} bytes of the backlog read and not written when it was dropped`)
      assert.equal((await store.get(key)).length, backlog)
      const reader = await countingSession(bob, other)
      await waitFor(() => reader.bytes() === backlog * MAX_ENVELOPE_SIZE, 'a subscriber that reads to get the whole backlog')
    })

    it('drops a subscriber whose write takes longer than pushWriteTimeout', async () => {
      await restartServer({ pushWriteTimeout: 300, maxPendingPushBytes: 64 * MAX_ENVELOPE_SIZE })
      const stalled = await subscribeRaw(bob)
      stalled.stream.pause()
      const reader = await countingSession(bob, other)

      const blocked = await pushUntilBlocked(bob, reader, stalled)
      const started = Date.now()
      await waitFor(() => stalled.stream.status !== 'open', 'the stalled subscriber to be dropped')

      assert.ok(Date.now() - started < 300 + 2000, `dropped after ${Date.now() - started} ms`)
      await waitFor(() => serverStreams(client).length === 0, 'the node to let go of the stream')
      assert.equal(reader.bytes(), blocked * MAX_ENVELOPE_SIZE)
    })

    it('drops a subscriber whose write takes longer than PUSH_WRITE_TIMEOUT, not sooner', async function () {
      this.timeout(PUSH_WRITE_TIMEOUT + 30_000)
      await restartServer({})
      const stalled = await subscribeRaw(bob)
      stalled.stream.pause()
      const reader = await countingSession(bob, other)

      await pushUntilBlocked(bob, reader, stalled)
      const blockedAt = Date.now()
      await waitFor(() => stalled.stream.status !== 'open', 'the stalled subscriber to be dropped', PUSH_WRITE_TIMEOUT + 10_000)

      const waited = Date.now() - blockedAt
      assert.ok(waited >= PUSH_WRITE_TIMEOUT - 1000 && waited < PUSH_WRITE_TIMEOUT + 5000, `dropped after ${waited} ms`)
    })

    /**
     * Push envelopes to `owner`, each once `reader` has it, until the node's write to the paused
     * subscriber waits for room; resolves to how many were pushed. Only that one write is
     * pending then, far below any push limit, so only a timeout can drop the subscriber.
     */
    async function pushUntilBlocked (owner: Identity, reader: { bytes: () => number }, stalled: RawSubscriber): Promise<number> {
      // the muxer's window grows to at most 16 MiB
      const limit = 16 * MAX_PENDING_PUSH_BYTES / MAX_ENVELOPE_SIZE + 1
      let pushed = 0
      await waitFor(async () => {
        // a short write deadline may already have dropped it
        if (serverStreams(client).some(s => s.writeBufferLength > 0) || stalled.stream.status !== 'open') {
          return true
        }
        assert.ok(pushed < limit, 'the stalled stream took every push')
        push(owner)
        pushed++
        await waitFor(() => reader.bytes() === pushed * MAX_ENVELOPE_SIZE, 'the reading subscriber to keep up')
        return false
      }, 'a write to the stalled subscriber to wait for room')
      return pushed
    }
  })
})

describe('/chord/mailbox/1.0.0 handshake deadline a node is given by default', () => {
  it('resets the stream of a subscriber that stays silent past SUBSCRIBE_HANDSHAKE_TIMEOUT', async () => {
    const [self, subscriber] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]).then(keys => keys.map(peerIdFromPrivateKey))
    let serve: StreamHandler | undefined
    const server = new MailboxServer({
      peerId: self,
      logger: silentLogger(),
      handle: async (_protocol, handler) => { serve = handler },
      unhandle: async () => {}
    }, { store: {} as unknown as RecordStore })
    await server.start()
    assert.ok(serve != null)
    const [subscriberSide, nodeSide] = await streamPair()
    const connection = { remotePeer: subscriber, remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/4001') } as unknown as Connection

    // the deadline armed at its real length would keep this test waiting; it passes sooner
    const { result: served, asked } = withShortDeadlines(HANDSHAKE_TIMEOUT, () => serve!(nodeSide, connection))
    assert.deepEqual(asked, [SUBSCRIBE_HANDSHAKE_TIMEOUT])
    await waitFor(() => subscriberSide.status !== 'open', 'the node to give up on the silent subscriber', 2000)
    assert.equal(subscriberSide.status, 'reset')
    await served
    assert.equal(server.subscriptionCount, 0)
    await server.stop()
  })
})
