/**
 * FIND_OWNER over libp2p (TCP on 127.0.0.1): a recursive lookup passed from node to node, answered
 * by the owner's statement signed with its key for the asker's nonce. What a relay can do to the
 * statement (change it, replay it, sign one for another node) is caught by the asker, and what a
 * stranger can make a node do with the request (pass it on for ever, or without end) is bounded.
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { toString as toHex } from 'uint8arrays/to-string'
import { MAX_CARRIED_VALUE_BYTES } from '../../src/chord/constants.js'
import { ringIdFromBytes, ringIdToBytes } from '../../src/chord/id.js'
import { createRecord } from '../../src/chord/record.js'
import { Replication } from '../../src/chord/replication.js'
import { utf8 } from '../../src/chord/transcript.js'
import { DEFAULT_TTL_POLICY } from '../../src/chord/ttl.js'
import { createIdentity } from '../../src/index.js'
import { KeptDeletions } from '../../src/mailbox/kept-deletions.js'
import { MailboxRules } from '../../src/mailbox/namespace-rules.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { seal } from '../../src/mailbox/seal.js'
import { makeStamp } from '../../src/mailbox/stamp.js'
import { Tombstones } from '../../src/mailbox/tombstones.js'
import { decodeOwnedRecord, ownedKey, signOwnedRecord } from '../../src/owned/record.js'
import { OwnedAdmission } from '../../src/owned/rules.js'
import { OwnedRecord as WireOwnedRecord } from '../../src/protocol/generated/owned.js'
import { openNodeDatabase } from '../../src/storage/database.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import { ForbiddenError, InvalidMessageError, LookupFailedError, RateLimitedError, RemoteError, VerificationError } from '../../src/errors.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { MessageType, Request, Response } from '../../src/protocol/generated/chord.js'
import { frameStream } from '../../src/protocol/framing.js'
import {
  CARRIED_RECORD_REQUEST_COST, CARRIED_STORE_WAIT, FIND_OWNER_REQUEST_COST, MAX_CARRIED_WRITES_IN_FLIGHT, MAX_MESSAGE_SIZE, MAX_OWNER_ROUTE_HOPS, MAX_PASS_ON_QUEUE_WAIT, MAX_PASSED_ON_IN_FLIGHT_PER_PEER, MAX_PASSED_ON_WAITING_PER_PEER, MIN_PASS_ON_WAIT, OWNER_NONCE_BYTES, PROTOCOL, REQUEST_TIMEOUT
} from '../../src/transport/constants.js'
import { signCarriedStore } from '../../src/transport/carried-store.js'
import { passOnTimeout } from '../../src/transport/handlers/find-owner.js'
import { ringIdOf, ringIdToWire, wireBytes } from '../../src/transport/ring-id.js'
import { toStoredWireRecord } from '../../src/transport/wire-records.js'
import { TransportUnderTest, strangerHandler } from '../helpers/transport.js'
import { waitFor } from '../helpers/wait-for.js'
import type { RingId } from '../../src/chord/id.js'
import type { ChordRecord } from '../../src/chord/record.js'
import type { ReplicationInit } from '../../src/chord/replication.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { CarriedRecord, ChordRpcHandler, FindOwnerStep, NamespaceName, NodeRef, RecordRpc, RecordRpcHandler } from '../../src/chord/rpc.js'
import type { MailboxRulesInit } from '../../src/mailbox/namespace-rules.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { LevelRecordStore } from '../../src/storage/level-store.js'
import type { FindOwnerInit } from '../../src/transport/handlers/handler.js'
import type { FindOwnerRequest } from '../../src/transport/validate.js'
import type { TransportInit } from '../helpers/transport.js'
import type { PrivateKey } from '@libp2p/interface'

/** Bits of work the mailbox below asks of a stamp: a few hundred hashes */
const STAMP_DIFFICULTY = 8

/** The bytes with the first bit of the first one flipped */
const flipped = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => Uint8Array.from(bytes, (byte, i) => i === 0 ? byte ^ 1 : byte)
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const hex = (bytes: Uint8Array): string => toHex(bytes, 'base16')

interface Steps {
  /** what the node does with each recursive lookup; none: it can take it nowhere */
  step?: (from: NodeRef, id: RingId) => FindOwnerStep
  /** recursive lookups that reached it */
  asked: number
  /** the nodes it passed lookups on to that did not answer, as it told its ring */
  unanswered: NodeRef[]
  /** the records it stored, and for whom */
  stored: Array<{ from: string, record: ChordRecord }>
  /** stores wait for this before they are done (a slow disk) */
  storesWaitFor?: Promise<void>
  /** stores begun, done or not */
  storesBegun: number
}

/** A node that answers nothing but recursive lookups, each with the step the test sets */
function handlerTaking (steps: Steps): ChordRpcHandler & RecordRpcHandler {
  return strangerHandler({
    onFindOwner: (from, id) => {
      steps.asked++
      if (steps.step == null) {
        throw new LookupFailedError('no way on')
      }
      return steps.step(from, id)
    },
    onPassedOnUnanswered: node => { steps.unanswered.push(node) },
    onStoreRecords: async (from, records) => {
      steps.storesBegun++
      await steps.storesWaitFor
      steps.stored.push(...records.map(record => ({ from: from.peer, record })))
      return { writtenBytes: records.length, declined: [] }
    }
  })
}

interface TestNode {
  libp2p: ChordLibp2p
  service: TransportUnderTest
  ref: NodeRef
  steps: Steps
}

describe('FIND_OWNER: recursive lookups over libp2p', function () {
  this.timeout(30_000)
  let started: TestNode[] = []

  afterEach(async () => {
    await Promise.all(started.map(async node => { await node.service.stop(); await node.libp2p.stop() }))
    started = []
  })

  /** A node with its own key (or the one given); `signs: false` leaves recursive lookups out of its transport */
  async function startNode (init: Partial<TransportInit> & { signs?: boolean } = {}): Promise<TestNode> {
    const { signs = true, privateKey = await generateKeyPair('Ed25519'), ...transport } = init
    const libp2p = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'], privateKey })
    const steps: Steps = { asked: 0, unanswered: [], stored: [], storesBegun: 0 }
    const service = new TransportUnderTest(libp2p, { handler: handlerTaking(steps), privateKey: signs ? privateKey : undefined, ...transport })
    await service.start()
    const node = { libp2p, service, ref: { id: ringIdOf(libp2p.peerId), peer: libp2p.peerId.toString() }, steps }
    started.push(node)
    return node
  }

  /** A ring of three by hand: `relay` passes every request to `owner`, which owns every id */
  async function relayed (relayInit: Partial<TransportInit> = {}, ownerInit: Partial<TransportInit> = {}): Promise<{ asker: TestNode, relay: TestNode, owner: TestNode }> {
    const [asker, relay, owner] = await Promise.all([startNode(), startNode(relayInit), startNode(ownerInit)])
    await asker.libp2p.dial(relay.libp2p.getMultiaddrs()[0])
    await relay.libp2p.dial(owner.libp2p.getMultiaddrs()[0])
    relay.steps.step = () => ({ next: owner.ref })
    owner.steps.step = () => ({ owner: owner.ref, neighbours: { predecessor: relay.ref, successors: [asker.ref, relay.ref] } })
    return { asker, relay, owner }
  }

  /** A FIND_OWNER written by hand to `to`, and the answer read back (undefined: the stream was reset) */
  async function rawFindOwner (from: TestNode, to: TestNode, fields: Partial<Request>): Promise<Response | undefined> {
    const stream = await from.libp2p.dialProtocol(to.libp2p.peerId, PROTOCOL)
    const framed = frameStream(stream, MAX_MESSAGE_SIZE)
    await framed.write(Request.encode({ type: MessageType.FIND_OWNER, target: ringIdToWire(1n), nonce: new Uint8Array(OWNER_NONCE_BYTES), hopsLeft: 1, ...fields }))
    try {
      return Response.decode(await framed.read())
    } catch {
      return undefined
    } finally {
      stream.abort(new Error('done'))
    }
  }

  it('brings the owner\'s statement back through a relay: the owner, its neighbours, the nodes it went through', async () => {
    const { asker, relay, owner } = await relayed()
    const statement = await asker.service.findOwner(relay.ref, 5n)
    assert.deepEqual(statement, { owner: owner.ref, neighbours: { predecessor: relay.ref, successors: [asker.ref, relay.ref] }, hops: 2 })
    assert.equal(relay.steps.asked, 1)
    assert.equal(owner.steps.asked, 1)
  })

  it('states as many successors as the asker asked for, the owner counted: one more than that asked is left out', async () => {
    const { asker, relay, owner } = await relayed()
    const statement = await asker.service.findOwner(relay.ref, 5n, { successorCount: 2 })
    assert.deepEqual(statement.neighbours, { predecessor: relay.ref, successors: [asker.ref] })
    assert.equal(statement.owner.peer, owner.ref.peer)
    // a request for none is invalid: the stream is reset, nothing asked
    assert.equal(await rawFindOwner(asker, relay, { successorCount: 0 }), undefined)
    assert.equal(relay.steps.asked, 1)
  })

  it('a relay that sends a signature of a length no key signs is caught: VerificationError', async () => {
    const { asker, relay } = await relayed({
      relay: forwarder => ({
        passOn: async (to, request, options) => {
          const passed = await forwarder.passOn(to, request, options)
          return { ...passed, ownerStatement: { ...passed.ownerStatement, signature: new Uint8Array(65) } }
        }
      })
    })
    await assert.rejects(asker.service.findOwner(relay.ref, 5n), VerificationError)
  })

  for (const part of ['neighbours', 'owner'] as const) {
    it(`a relay that changes the statement's ${part} on its way is caught: VerificationError`, async () => {
      const { asker, relay } = await relayed({
        relay: forwarder => ({
          passOn: async (to, request, options) => {
            const passed = await forwarder.passOn(to, request, options)
            // the last byte of either is part of an address
            const changed = Uint8Array.from(passed.ownerStatement[part])
            changed[changed.length - 1] ^= 1
            return { ...passed, ownerStatement: { ...passed.ownerStatement, [part]: changed } }
          }
        })
      })
      await assert.rejects(asker.service.findOwner(relay.ref, 5n), VerificationError)
    })
  }

  it('a relay that answers with an earlier statement of the owner is caught: the nonce is not the asker\'s', async () => {
    let kept: Awaited<ReturnType<FindOwnerInit['forwarder']['passOn']>> | undefined
    const { asker, relay } = await relayed({
      relay: forwarder => ({
        passOn: async (to, request, options) => {
          kept ??= await forwarder.passOn(to, request, options)
          return kept
        }
      })
    })
    await asker.service.findOwner(relay.ref, 5n)
    await assert.rejects(asker.service.findOwner(relay.ref, 5n), VerificationError)
  })

  it('a node that names another node as the owner signs with its own key, which the asker checks against the owner\'s: VerificationError', async () => {
    const { asker, relay, owner } = await relayed()
    relay.steps.step = () => ({ owner: owner.ref, neighbours: { predecessor: asker.ref, successors: [] } })
    await assert.rejects(asker.service.findOwner(relay.ref, 5n), VerificationError)
    assert.equal(owner.steps.asked, 0)
  })

  it('refuses a request that may be passed on more than MAX_OWNER_ROUTE_HOPS times, or carries a nonce of the wrong length: the stream is reset, nothing asked', async () => {
    const [asker, node] = await Promise.all([startNode(), startNode()])
    await asker.libp2p.dial(node.libp2p.getMultiaddrs()[0])
    node.steps.step = () => ({ owner: node.ref, neighbours: { predecessor: asker.ref, successors: [] } })
    assert.equal(await rawFindOwner(asker, node, { hopsLeft: MAX_OWNER_ROUTE_HOPS + 1 }), undefined)
    assert.equal(await rawFindOwner(asker, node, { nonce: new Uint8Array(OWNER_NONCE_BYTES - 1) }), undefined)
    assert.equal(node.steps.asked, 0)
    // the limits themselves are accepted
    assert.equal((await rawFindOwner(asker, node, { hopsLeft: MAX_OWNER_ROUTE_HOPS }))?.status, Response.Status.OK)
  })

  it('a request with no hops left that it does not own is answered NO_ROUTE, and goes no further', async () => {
    const { asker, relay, owner } = await relayed()
    const answer = await rawFindOwner(asker, relay, { hopsLeft: 0 })
    assert.equal(answer?.status, Response.Status.ERROR)
    assert.equal(answer?.errorCode, 'NO_ROUTE')
    assert.equal(owner.steps.asked, 0)
  })

  it('passes a request on with one hop fewer left', async () => {
    const passedOn: number[] = []
    const { asker, relay } = await relayed({
      relay: forwarder => ({
        passOn: async (to, request, options) => {
          passedOn.push(request.hopsLeft)
          return forwarder.passOn(to, request, options)
        }
      })
    })
    await asker.service.findOwner(relay.ref, 5n)
    assert.deepEqual(passedOn, [MAX_OWNER_ROUTE_HOPS - 1])
  })

  it('two nodes that pass a request back and forth are stopped by the cap on requests in flight between them: the asker gets RATE_LIMITED', async () => {
    const { asker, relay, owner } = await relayed()
    await owner.libp2p.dial(relay.libp2p.getMultiaddrs()[0])
    owner.steps.step = () => ({ next: relay.ref })
    await assert.rejects(asker.service.findOwner(relay.ref, 5n), RateLimitedError)
    // the relay passes on MAX_PASSED_ON_IN_FLIGHT_PER_PEER, the other node as many, and the last one
    // asked finds no place come free (each waits on the next) and refuses
    assert.equal(relay.steps.asked + owner.steps.asked, 2 * MAX_PASSED_ON_IN_FLIGHT_PER_PEER + 1)
    // each answered, if with an error: nobody is taken out of anybody's routing
    assert.deepEqual([...relay.steps.unanswered, ...owner.steps.unanswered], [])
  })

  it('a relay whose next node never answers: at most MAX_PASSED_ON_IN_FLIGHT_PER_PEER wait on it, the rest wait MAX_PASS_ON_QUEUE_WAIT for a place and are refused; it answers before its asker gives up, and stops routing through that node', async () => {
    // the relay waits passOnTimeout(REQUEST_TIMEOUT, hops left) for the node after it; the asker
    // waits longer here, so that what it hears is the relay's answer, whatever the machine's load
    const [asker, relay] = await Promise.all([startNode({ requestTimeout: 2 * REQUEST_TIMEOUT }), startNode()])
    const silent = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    await silent.handle(PROTOCOL, () => {})
    try {
      await asker.libp2p.dial(relay.libp2p.getMultiaddrs()[0])
      await relay.libp2p.dial(silent.getMultiaddrs()[0])
      const silentRef = { id: ringIdOf(silent.peerId), peer: silent.peerId.toString() }
      relay.steps.step = () => ({ next: silentRef })
      const started = performance.now()
      const waiting = Array.from({ length: MAX_PASSED_ON_IN_FLIGHT_PER_PEER }, async (_, i) => asker.service.findOwner(relay.ref, BigInt(i + 1)))
      await waitFor(() => relay.steps.asked === MAX_PASSED_ON_IN_FLIGHT_PER_PEER, 'the relay to pass the first ones on')
      const queued = performance.now()
      await assert.rejects(asker.service.findOwner(relay.ref, 99n), RateLimitedError)
      assert.ok(performance.now() - queued >= MAX_PASS_ON_QUEUE_WAIT - 5, 'refused before its wait for a place was up')
      for (const lookup of waiting) {
        await assert.rejects(lookup, RemoteError)
      }
      const waited = performance.now() - started
      assert.ok(waited >= passOnTimeout(REQUEST_TIMEOUT, MAX_OWNER_ROUTE_HOPS) - 5 && waited < 2 * REQUEST_TIMEOUT, `the asker heard back after ${waited.toFixed(0)} ms`)
      assert.deepEqual(relay.steps.unanswered, Array.from({ length: MAX_PASSED_ON_IN_FLIGHT_PER_PEER }, () => silentRef))
    } finally {
      await silent.stop()
    }
  })

  it('a burst past MAX_PASSED_ON_IN_FLIGHT_PER_PEER to one next node waits for places and is answered', async () => {
    // each request the relay passes on takes a while: the second half of the burst waits for the first
    const slow: Partial<TransportInit> = {
      passOnQueueWait: 10_000,
      relay: forwarder => ({ passOn: async (to, request, options) => { await new Promise(resolve => setTimeout(resolve, 50)); return forwarder.passOn(to, request, options) } })
    }
    const { relay, owner } = await relayed(slow)
    // three askers, each within its own streams to the relay
    const askers = await Promise.all([startNode(), startNode(), startNode()])
    await Promise.all(askers.map(async asker => asker.libp2p.dial(relay.libp2p.getMultiaddrs()[0])))
    const burst = 2 * MAX_PASSED_ON_IN_FLIGHT_PER_PEER
    const answered = await Promise.all(Array.from({ length: burst }, async (_, i) => askers[i % askers.length].service.findOwner(relay.ref, BigInt(i + 1))))
    assert.ok(answered.every(statement => statement.owner.peer === owner.ref.peer))
  })

  it('refuses at once past MAX_PASSED_ON_WAITING_PER_PEER waiting for a place to one next node', async () => {
    // waiting long: nothing leaves the queue but by the test's end
    const relay = await startNode({ passOnQueueWait: 60_000 })
    const silent = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    await silent.handle(PROTOCOL, () => {})
    // each asker within its own streams to the relay
    const askers = await Promise.all(Array.from({ length: 4 }, async () => startNode()))
    try {
      await relay.libp2p.dial(silent.getMultiaddrs()[0])
      await Promise.all(askers.map(async asker => asker.libp2p.dial(relay.libp2p.getMultiaddrs()[0])))
      relay.steps.step = () => ({ next: { id: ringIdOf(silent.peerId), peer: silent.peerId.toString() } })
      const held = MAX_PASSED_ON_IN_FLIGHT_PER_PEER + MAX_PASSED_ON_WAITING_PER_PEER
      const pending = Array.from({ length: held }, async (_, i) => askers[i % askers.length].service.findOwner(relay.ref, BigInt(i + 1)).catch(err => err))
      await waitFor(() => relay.steps.asked === held, 'the relay to pass on or queue every one')
      await assert.rejects(askers[0].service.findOwner(relay.ref, 99n), RateLimitedError)
      assert.equal(relay.steps.asked, held + 1)
      void pending
    } finally {
      await silent.stop()
    }
  })

  it('blames nobody for a node that resets the request (an earlier version), or for silence it waited only the floor for (a request with few hops left)', async () => {
    const [asker, relay] = await Promise.all([startNode(), startNode()])
    const resetting = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    await resetting.handle(PROTOCOL, stream => { stream.abort(new Error('unknown message')) })
    const silent = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    await silent.handle(PROTOCOL, () => {})
    try {
      await asker.libp2p.dial(relay.libp2p.getMultiaddrs()[0])
      await relay.libp2p.dial(resetting.getMultiaddrs()[0])
      await relay.libp2p.dial(silent.getMultiaddrs()[0])
      const refOf = (libp2p: ChordLibp2p): NodeRef => ({ id: ringIdOf(libp2p.peerId), peer: libp2p.peerId.toString() })
      relay.steps.step = () => ({ next: refOf(resetting) })
      await assert.rejects(asker.service.findOwner(relay.ref, 5n), RemoteError)
      relay.steps.step = () => ({ next: refOf(silent) })
      const started = performance.now()
      const answer = await rawFindOwner(asker, relay, { hopsLeft: 1 })
      assert.equal(answer?.status, Response.Status.ERROR)
      assert.ok(performance.now() - started >= MIN_PASS_ON_WAIT - 5, 'the relay gave up before MIN_PASS_ON_WAIT')
      assert.deepEqual(relay.steps.unanswered, [])
    } finally {
      await Promise.all([resetting.stop(), silent.stop()])
    }
  })

  it('passes on at most its forwarding budget per window, whoever asks: RATE_LIMITED after that', async () => {
    const { asker, relay, owner } = await relayed({ maxForwardedPerWindow: 2 })
    await asker.service.findOwner(relay.ref, 5n)
    await asker.service.findOwner(relay.ref, 6n)
    await assert.rejects(asker.service.findOwner(relay.ref, 7n), RateLimitedError)
    assert.equal(owner.steps.asked, 2)
  })

  it('passes on at most its share per asker: one asker over it is refused, another is not', async () => {
    const { asker, relay, owner } = await relayed({ maxForwardedPerAskerPerWindow: 1 })
    const other = await startNode()
    await other.libp2p.dial(relay.libp2p.getMultiaddrs()[0])
    await asker.service.findOwner(relay.ref, 5n)
    await assert.rejects(asker.service.findOwner(relay.ref, 6n), RateLimitedError)
    await other.service.findOwner(relay.ref, 7n)
    assert.equal(owner.steps.asked, 2)
  })

  it('passes a request to the node it takes to own the target with no hops left: a node that disagrees cannot send it round again', async () => {
    const { asker, relay, owner } = await relayed()
    relay.steps.step = () => ({ next: owner.ref, lastHop: true })
    // the owner knows better (a newer predecessor, say) and would pass it back
    await owner.libp2p.dial(relay.libp2p.getMultiaddrs()[0])
    owner.steps.step = () => ({ next: relay.ref })
    await assert.rejects(asker.service.findOwner(relay.ref, 5n), LookupFailedError)
    assert.deepEqual([relay.steps.asked, owner.steps.asked], [1, 1])
  })

  it('charges each request FIND_OWNER_REQUEST_COST of the asker\'s ring requests', async () => {
    const [asker, node] = await Promise.all([startNode(), startNode({ requestLimits: { ringRequests: 2 * FIND_OWNER_REQUEST_COST } })])
    await asker.libp2p.dial(node.libp2p.getMultiaddrs()[0])
    node.steps.step = () => ({ owner: node.ref, neighbours: { predecessor: asker.ref, successors: [] } })
    await asker.service.findOwner(node.ref, 5n)
    await asker.service.findOwner(node.ref, 6n)
    await assert.rejects(asker.service.findOwner(node.ref, 7n), RateLimitedError)
  })

  it('a node whose key is not in its peer id (RSA) states no ownership, which nobody could check: FORBIDDEN', async () => {
    const asker = await startNode()
    const privateKey = await generateKeyPair('RSA', 2048)
    const libp2p = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'], privateKey })
    const steps: Steps = { asked: 0, unanswered: [], stored: [], storesBegun: 0 }
    const service = new TransportUnderTest(libp2p, { handler: handlerTaking(steps), privateKey })
    await service.start()
    const node = { libp2p, service, ref: { id: ringIdOf(libp2p.peerId), peer: libp2p.peerId.toString() }, steps }
    started.push(node)
    await asker.libp2p.dial(libp2p.getMultiaddrs()[0])
    steps.step = () => ({ owner: node.ref, neighbours: { predecessor: asker.ref, successors: [] } })
    await assert.rejects(asker.service.findOwner(node.ref, 5n), ForbiddenError)
    assert.equal(steps.asked, 1)
  })

  it('a node without a key to sign with takes no part: FORBIDDEN', async () => {
    const [asker, node] = await Promise.all([startNode(), startNode({ signs: false })])
    await asker.libp2p.dial(node.libp2p.getMultiaddrs()[0])
    node.steps.step = () => ({ owner: node.ref, neighbours: { predecessor: asker.ref, successors: [] } })
    await assert.rejects(asker.service.findOwner(node.ref, 5n), ForbiddenError)
  })

  describe('a record carried to the owner', () => {
    const record = (value = 'hello', id = 5n): ChordRecord => createRecord(ringIdToBytes(id), new TextEncoder().encode(value), Date.now() + 60_000)
    const carry = (r = record(), namespace: NamespaceName = 'records'): { carry: CarriedRecord } => ({ carry: { namespace, record: r } })

    /** Stores and databases of the namespaces the owners below keep, closed after each test */
    let closing: Array<() => Promise<void>> = []

    afterEach(async () => {
      await Promise.all(closing.map(async close => close()))
      closing = []
    })

    /**
     * A key for an owner to come, and its replication of `namespace` as a ring node keeps it, into
     * a store of its own: alone on its ring, it takes every key (nothing here makes it write to
     * another node or look anything up)
     */
    async function replicaOf (namespace: NamespaceName, init: (store: LevelRecordStore) => Partial<ReplicationInit> = () => ({})): Promise<{ privateKey: PrivateKey, self: NodeRef, store: LevelRecordStore, replication: Replication }> {
      const privateKey = await generateKeyPair('Ed25519')
      const peerId = peerIdFromPrivateKey(privateKey)
      const self = { id: ringIdOf(peerId), peer: peerId.toString() }
      const store = await openLevelStore()
      closing.push(async () => store.close())
      const replication = new Replication({ ring: { self } as ChordRing, namespace, rpc: {} as RecordRpc, store, ttl: DEFAULT_TTL_POLICY, ...init(store) })
      return { privateKey, self, store, replication }
    }

    /** A mailbox as a ring node keeps it (its rules, tombstones, kept deletions), and the records its replication let in */
    async function keptMailbox (options: Pick<MailboxRulesInit, 'stampDifficulty' | 'acceptance'>): Promise<{ privateKey: PrivateKey, store: LevelRecordStore, rules: MailboxRules, admitted: ChordRecord[] }> {
      const database = await openNodeDatabase()
      closing.push(async () => database.close())
      const tombstones = new Tombstones(database)
      await tombstones.open()
      const kept = new KeptDeletions(database)
      await kept.open()
      const admitted: ChordRecord[] = []
      const { privateKey, self, store, replication } = await replicaOf('mailbox', () => ({
        admit: async records => {
          const taken = tombstones.admit(records)
          admitted.push(...taken)
          return taken
        }
      }))
      const rules = new MailboxRules({ self, replication, store, tombstones, kept, maxTtl: DEFAULT_TTL_POLICY.maxTtl, ...options })
      return { privateKey, store, rules, admitted }
    }

    /** A relay that changes what it passes on */
    function tampering (change: (request: FindOwnerRequest) => FindOwnerRequest): Partial<TransportInit> {
      return { relay: forwarder => ({ passOn: async (to, request, options) => forwarder.passOn(to, change(request), options) }) }
    }

    it('is stored by the owner before it answers, as a STORE from the node that handed it over, which its statement says', async () => {
      const { asker, relay, owner } = await relayed()
      const statement = await asker.service.findOwner(relay.ref, 5n, carry())
      assert.equal(statement.stored, true)
      assert.deepEqual(owner.steps.stored.map(({ from, record }) => [from, new TextDecoder().decode(record.value)]), [[relay.ref.peer, 'hello']])
      assert.deepEqual(relay.steps.stored, [])
      // handed over by its origin itself: the origin's
      assert.equal((await asker.service.findOwner(owner.ref, 5n, carry(record('direct')))).stored, true)
      assert.deepEqual(owner.steps.stored[1].from, asker.ref.peer)
    })

    it('a relay that changes the record, its expiry or its namespace, or names itself its origin, gets nothing stored: the owner states only ownership', async () => {
      // each change, and the namespace the asker carries the record in (the owner keeps records alone)
      const changes: Array<[(request: FindOwnerRequest, relay: TestNode) => FindOwnerRequest, NamespaceName]> = [
        [request => ({ ...request, carried: request.carried == null ? undefined : { ...request.carried, record: record('changed') } }), 'records'],
        [request => ({ ...request, carried: request.carried == null ? undefined : { ...request.carried, record: { ...request.carried.record, expiresAt: request.carried.record.expiresAt + 1 } } }), 'records'],
        [request => ({ ...request, carried: request.carried == null ? undefined : { ...request.carried, namespace: 'records' } }), 'mailbox'],
        [(request, relay) => ({ ...request, carried: request.carried == null ? undefined : { ...request.carried, origin: relay.libp2p.peerId } }), 'records']
      ]
      for (const [change, namespace] of changes) {
        const named: { relay?: TestNode } = {}
        const { asker, relay, owner } = await relayed(tampering(request => change(request, named.relay as TestNode)))
        named.relay = relay
        const statement = await asker.service.findOwner(relay.ref, 5n, carry(record(), namespace))
        assert.equal(statement.stored, undefined)
        assert.deepEqual(owner.steps.stored, [])
      }
    })

    it('a relay that claims a record was stored, or hides that it was, is caught', async () => {
      const hiding = await relayed({
        relay: forwarder => ({
          passOn: async (to, request, options) => {
            const passed = await forwarder.passOn(to, request, options)
            return { ...passed, ownerStatement: { ...passed.ownerStatement, stored: undefined } }
          }
        })
      })
      await assert.rejects(hiding.asker.service.findOwner(hiding.relay.ref, 5n, carry()), VerificationError)
      assert.equal(hiding.owner.steps.stored.length, 1)
      // a statement that stored a record the request did not carry: one of another request, or none
      const claiming = await relayed({
        relay: forwarder => ({
          passOn: async (to, request, options) => {
            const passed = await forwarder.passOn(to, request, options)
            return { ...passed, ownerStatement: { ...passed.ownerStatement, stored: wireBytes(record().id) } }
          }
        })
      })
      await assert.rejects(claiming.asker.service.findOwner(claiming.relay.ref, 5n), InvalidMessageError)
      await assert.rejects(claiming.asker.service.findOwner(claiming.relay.ref, 5n, carry(record('another'))), InvalidMessageError)
    })

    it('is charged to the node that handed it over: origins, which cost nothing to make, buy no budget of their own', async () => {
      const [relay, owner] = await Promise.all([startNode(), startNode({ requestLimits: { storedRecords: 2 } })])
      await relay.libp2p.dial(owner.libp2p.getMultiaddrs()[0])
      relay.steps.step = () => ({ next: owner.ref })
      owner.steps.step = () => ({ owner: owner.ref, neighbours: { predecessor: relay.ref, successors: [] } })
      // three askers, each a fresh identity, through the one relay
      const askers = await Promise.all([startNode(), startNode(), startNode()])
      const outcomes: Array<true | undefined> = []
      for (const [i, asker] of askers.entries()) {
        await asker.libp2p.dial(relay.libp2p.getMultiaddrs()[0])
        outcomes.push((await asker.service.findOwner(relay.ref, 5n, carry(record(`from asker ${i}`)))).stored)
      }
      // the relay's two records this window: the third is not stored, its lookup still answered
      assert.deepEqual(outcomes, [true, true, undefined])
      assert.deepEqual(owner.steps.stored.map(({ from }) => from), [relay.ref.peer, relay.ref.peer])
      // and the relay's own STORE meets the same spent budget
      await assert.rejects(relay.service.storeRecords(owner.ref, [record('the relay\'s')]), RateLimitedError)
    })

    it('a relay that replays a carried request sends, in effect, a STORE of its own of a record held already; the asker is not fooled', async () => {
      let kept: FindOwnerRequest | undefined
      const { asker, relay, owner } = await relayed(tampering(request => { kept ??= request; return kept }))
      assert.equal((await asker.service.findOwner(relay.ref, 5n, carry(record('once')))).stored, true)
      // the relay sends the first request again in place of the second: the statement names a
      // record the second did not carry (and is signed over another nonce)
      await assert.rejects(asker.service.findOwner(relay.ref, 5n, carry(record('twice'))), InvalidMessageError)
      assert.deepEqual(owner.steps.stored.map(({ from, record }) => [from, new TextDecoder().decode(record.value)]), [[relay.ref.peer, 'once'], [relay.ref.peer, 'once']])
    })

    it('an asker whose key is not in its peer id (RSA) carries nothing: its lookup is answered, its record left to a STORE', async () => {
      const owner = await startNode()
      const privateKey = await generateKeyPair('RSA', 2048)
      const libp2p = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'], privateKey })
      const service = new TransportUnderTest(libp2p, { handler: strangerHandler(), privateKey })
      await service.start()
      started.push({ libp2p, service, ref: { id: ringIdOf(libp2p.peerId), peer: libp2p.peerId.toString() }, steps: { asked: 0, unanswered: [], stored: [], storesBegun: 0 } })
      await libp2p.dial(owner.libp2p.getMultiaddrs()[0])
      owner.steps.step = () => ({ owner: owner.ref, neighbours: { predecessor: owner.ref, successors: [] } })
      const statement = await service.findOwner(owner.ref, 5n, carry())
      assert.equal(statement.owner.peer, owner.ref.peer)
      assert.equal(statement.stored, undefined)
      assert.deepEqual(owner.steps.stored, [])
    })

    it(`refuses a record over MAX_CARRIED_VALUE_BYTES (${MAX_CARRIED_VALUE_BYTES}), two records, one of another key, one with a writer, or one without its origin's signature: the stream is reset, nothing asked`, async () => {
      const [asker, node] = await Promise.all([startNode(), startNode()])
      await asker.libp2p.dial(node.libp2p.getMultiaddrs()[0])
      node.steps.step = () => ({ owner: node.ref, neighbours: { predecessor: asker.ref, successors: [] } })
      const nonce = new Uint8Array(OWNER_NONCE_BYTES)
      const privateKey = await generateKeyPair('Ed25519')
      const fields = async (r: ChordRecord): Promise<Partial<Request>> => ({
        target: wireBytes(r.key),
        records: [toStoredWireRecord(r)],
        origin: wireBytes(peerIdFromPrivateKey(privateKey).toMultihash().bytes),
        originSignature: await signCarriedStore(privateKey, nonce, 'records', r)
      })
      const over = record('x'.repeat(MAX_CARRIED_VALUE_BYTES + 1))
      const signed = await fields(record())
      for (const request of [
        await fields(over),
        { ...signed, records: [toStoredWireRecord(record()), toStoredWireRecord(record('two'))] },
        { ...signed, target: ringIdToWire(6n) },
        { ...signed, records: [{ ...toStoredWireRecord(record()), writer: new Uint8Array(8) }] },
        { ...signed, originSignature: undefined },
        { ...signed, origin: undefined },
        { ...signed, records: [] }
      ]) {
        assert.equal(await rawFindOwner(asker, node, request), undefined)
      }
      assert.equal(node.steps.asked, 0)
      // at the limit, signed: stored
      const atLimit = await rawFindOwner(asker, node, await fields(record('x'.repeat(MAX_CARRIED_VALUE_BYTES))))
      assert.equal(atLimit?.ownerStatement?.stored?.byteLength, 32)
      assert.equal(node.steps.stored.length, 1)
    })

    it(`an owner whose write is slow answers without it once its wait is over (CARRIED_STORE_WAIT, ${CARRIED_STORE_WAIT} ms by default): the lookup stands, not saying stored, and the write goes on`, async () => {
      const { asker, relay, owner } = await relayed()
      const slow = await startNode({ carriedStoreWait: 200 })
      await relay.libp2p.dial(slow.libp2p.getMultiaddrs()[0])
      relay.steps.step = () => ({ next: slow.ref })
      slow.steps.step = () => ({ owner: slow.ref, neighbours: { predecessor: relay.ref, successors: [owner.ref] } })
      const written = Promise.withResolvers<void>()
      // a write held up until the test lets it go
      slow.steps.storesWaitFor = written.promise
      const started = Date.now()
      const statement = await asker.service.findOwner(relay.ref, 5n, carry())
      assert.equal(statement.owner.peer, slow.ref.peer)
      assert.equal(statement.stored, undefined)
      assert.ok(Date.now() - started < MIN_PASS_ON_WAIT, `answered after ${Date.now() - started} ms`)
      written.resolve()
      await waitFor(() => slow.steps.stored.length === 1, 'the held-up write to finish')
    })

    it(`writes at most MAX_CARRIED_WRITES_IN_FLIGHT (${MAX_CARRIED_WRITES_IN_FLIGHT}) carried records at once: past it, the owner answers without starting one`, async () => {
      const [asker, owner] = await Promise.all([startNode(), startNode({ carriedStoreWait: 20 })])
      await asker.libp2p.dial(owner.libp2p.getMultiaddrs()[0])
      owner.steps.step = () => ({ owner: owner.ref, neighbours: { predecessor: asker.ref, successors: [] } })
      const disk = Promise.withResolvers<void>()
      owner.steps.storesWaitFor = disk.promise
      for (let i = 0; i < MAX_CARRIED_WRITES_IN_FLIGHT + 2; i++) {
        assert.equal((await asker.service.findOwner(owner.ref, 5n, carry(record(`slow ${i}`)))).stored, undefined)
      }
      assert.equal(owner.steps.storesBegun, MAX_CARRIED_WRITES_IN_FLIGHT)
      // once the disk catches up, writes are taken again
      disk.resolve()
      await waitFor(() => owner.steps.stored.length === MAX_CARRIED_WRITES_IN_FLIGHT, 'the held-up writes to finish')
      assert.equal((await asker.service.findOwner(owner.ref, 5n, carry(record('after')))).stored, true)
    })

    it('carries a mailbox envelope\'s stamp as its origin signed it: past the mailbox\'s rates the stamp gets the envelope in, and a relay that strips or changes it gets nothing stored', async () => {
      const mailbox = await keptMailbox({ stampDifficulty: STAMP_DIFFICULTY, acceptance: { perSender: 1 } })
      let stampTo: 'keep' | 'strip' | 'change' = 'keep'
      const { asker, relay } = await relayed(tampering(request => {
        const carried = request.carried
        if (carried?.record.stamp == null || stampTo === 'keep') {
          return request
        }
        const stamp = stampTo === 'strip' ? undefined : flipped(carried.record.stamp)
        return { ...request, carried: { ...carried, record: { ...carried.record, stamp } } }
      }), { privateKey: mailbox.privateKey, mailbox: mailbox.rules })
      const [alice, bob] = await Promise.all([createIdentity(), createIdentity()])
      const key = mailboxKey(bob.publicKey)
      const envelope = async (plaintext: string): Promise<ChordRecord> => createRecord(key, await seal(alice, bob.publicKey, new TextEncoder().encode(plaintext)), Date.now() + 60_000)
      const carried = async (r: ChordRecord): Promise<true | undefined> => (await asker.service.findOwner(relay.ref, ringIdFromBytes(key), carry(r, 'mailbox'))).stored
      const [first, second] = [await envelope('first'), await envelope('second')]
      const stamped = { ...second, stamp: await makeStamp(key, second.id, STAMP_DIFFICULTY) }
      // the mailbox would take any envelope yet: only the origin's signature keeps these out
      for (const change of ['strip', 'change'] as const) {
        stampTo = change
        assert.equal(await carried(stamped), undefined, `a relay that could ${change} the stamp got the envelope stored`)
      }
      assert.equal(mailbox.admitted.length, 0)
      stampTo = 'keep'
      // one envelope spends the relay's share (and the asker's, its origin): past it, only the stamp lets one in
      assert.equal(await carried(first), true)
      assert.equal(await carried(second), undefined)
      assert.equal(await carried(stamped), true)
      // the owner's replica took it with the very stamp its sender made
      assert.deepEqual(mailbox.admitted.map(r => [hex(r.id), r.stamp == null ? undefined : hex(r.stamp)]), [[hex(first.id), undefined], [hex(second.id), hex(stamped.stamp)]])
      assert.equal((await mailbox.store.get(key)).length, 2)
    })

    it('carries a record of the owned namespace: the owner\'s replica stores it once its owner\'s signature checks out, as for any STORE, and one whose signature does not is not stored, the lookup answered all the same', async () => {
      const owned = await replicaOf('owned', store => {
        const admission = new OwnedAdmission(store)
        return { admit: async records => admission.admit(records), serializeWrites: true }
      })
      const { asker, relay, owner } = await relayed({}, { privateKey: owned.privateKey, owned: owned.replication })
      const bob = await createIdentity()
      const name = utf8('status')
      const key = ownedKey(bob.publicKey, name)
      const expiresAt = Date.now() + 60_000
      const published = async (seq: number, value: string): Promise<ChordRecord> => createRecord(key, await signOwnedRecord(bob, { name, seq, publishedAt: Date.now(), expiresAt, value: utf8(value) }), expiresAt)
      const first = await published(1, 'here')
      assert.equal((await asker.service.findOwner(relay.ref, ringIdFromBytes(key), carry(first, 'owned'))).stored, true)
      // a newer one with its owner's signature spoilt (its origin's, over the record as it is, holds)
      const wire = WireOwnedRecord.decode((await published(2, 'gone')).value)
      const forged = createRecord(key, WireOwnedRecord.encode({ ...wire, signature: flipped(wire.signature) }), expiresAt)
      const statement = await asker.service.findOwner(relay.ref, ringIdFromBytes(key), carry(forged, 'owned'))
      assert.equal(statement.owner.peer, owner.ref.peer)
      assert.equal(statement.stored, undefined)
      // the owner holds bob's first record alone, in the owned namespace
      assert.deepEqual((await owned.store.get(key)).map(r => text(decodeOwnedRecord(r.value).value)), ['here'])
      assert.deepEqual(owner.steps.stored, [])
    })

    it(`costs the asker CARRIED_RECORD_REQUEST_COST (${CARRIED_RECORD_REQUEST_COST}) more of its ring requests`, async () => {
      const [asker, node] = await Promise.all([startNode(), startNode({ requestLimits: { ringRequests: FIND_OWNER_REQUEST_COST + CARRIED_RECORD_REQUEST_COST } })])
      await asker.libp2p.dial(node.libp2p.getMultiaddrs()[0])
      node.steps.step = () => ({ owner: node.ref, neighbours: { predecessor: asker.ref, successors: [] } })
      assert.equal((await asker.service.findOwner(node.ref, 5n, carry())).stored, true)
      await assert.rejects(asker.service.findOwner(node.ref, 5n), RateLimitedError)
    })
  })
})
