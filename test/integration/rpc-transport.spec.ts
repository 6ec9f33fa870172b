import { strict as assert } from 'node:assert'
import { encode as encodeVarint } from 'uint8-varint'
import { equals } from 'uint8arrays/equals'
import { createRecord } from '../../src/chord/record.js'
import { InvalidMessageError, LookupFailedError, NotStartedError, QuotaExceededError, RateLimitedError, RemoteError, RequestTimeoutError, TooLargeError } from '../../src/errors.js'
import { MessageType, Request, Response } from '../../src/protocol/generated/chord.js'
import {
  MAX_ADDRS_PER_PEER, MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW, MAX_DELEGATED_LOOKUPS_PER_WINDOW, MAX_MESSAGE_SIZE, PROTOCOL, RATE_LIMIT_WINDOW
} from '../../src/transport/constants.js'
import { frameStream } from '../../src/protocol/framing.js'
import { LookupHandler } from '../../src/transport/handlers/lookup.js'
import { RequestLimiter } from '../../src/transport/request-limits.js'
import { TransportUnderTest } from '../helpers/transport.js'
import { toWireRecord } from '../../src/transport/wire-records.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { ringIdOf, ringIdToWire } from '../../src/transport/ring-id.js'
import { waitFor } from '../helpers/wait-for.js'
import type { RingId } from '../../src/chord/id.js'
import type { ChordRpcHandler, DeletionRpcHandler, FindOwnerStep, FindSuccessorReply, Neighbours, NeighboursReply, NodeRef, PingReply, RecordRpcHandler, SignedDeletion, StoreFromOptions } from '../../src/chord/rpc.js'
import type { ChordRecord, RangeDigest, RecordSummary } from '../../src/chord/record.js'
import type { Peer } from '../../src/protocol/generated/chord.js'
import type { TransportInit } from '../helpers/transport.js'
import type { Asker, RequestHandlersInit } from '../../src/transport/handlers/handler.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { PeerId, Stream } from '@libp2p/interface'

interface Call {
  method: keyof (ChordRpcHandler & RecordRpcHandler)
  from: NodeRef
  arg?: unknown
  options?: unknown
}

/** Answers with whatever the test put in it, and remembers who asked what */
class FakeHandler implements ChordRpcHandler, RecordRpcHandler {
  calls: Call[] = []
  neighbours: NeighboursReply = { successors: [] }
  reply: FindSuccessorReply = { done: false, closer: [] }
  records: ChordRecord[] = []
  digest: RangeDigest = { count: 0, hash: new Uint8Array(32) }
  failWith?: Error
  /** a FETCH is answered once this settles */
  fetchAnsweredAfter?: Promise<void>
  /** a RANGE_DIGEST is answered once what this returns for its asker settles */
  digestAnsweredAfter?: (from: NodeRef) => Promise<void>

  /** what onPing answers; the digests pings brought, by sender */
  pingReply: PingReply = {}
  readonly digestsHeard: Array<{ from: NodeRef, digest?: number }> = []

  onPing (from: NodeRef, neighboursDigest?: number): PingReply {
    this.digestsHeard.push({ from, digest: neighboursDigest })
    return this.pingReply
  }

  onGetNeighbours (from: NodeRef): NeighboursReply {
    this.record({ method: 'onGetNeighbours', from })
    return this.neighbours
  }

  onNotify (from: NodeRef): void {
    this.record({ method: 'onNotify', from })
  }

  onFindSuccessor (from: NodeRef, id: RingId): FindSuccessorReply {
    this.record({ method: 'onFindSuccessor', from, arg: id })
    return this.reply
  }

  onLeaving (from: NodeRef, neighbours: Neighbours): void {
    this.record({ method: 'onLeaving', from, arg: neighbours })
  }

  /** every sender is a neighbour, so that what a LEAVING carries arrives whole */
  isNeighbour (): boolean {
    return true
  }

  /** what onFindOwner answers; none: it can take the request nowhere */
  ownerStep?: FindOwnerStep

  onFindOwner (from: NodeRef, id: RingId): FindOwnerStep {
    this.record({ method: 'onFindOwner', from, arg: id })
    if (this.ownerStep == null) {
      throw new LookupFailedError('no way on')
    }
    return this.ownerStep
  }

  onPassedOnUnanswered (node: NodeRef): void {
    this.record({ method: 'onPassedOnUnanswered', from: node })
  }

  async onDelegatedLookup (from: NodeRef, id: RingId): Promise<NodeRef[]> {
    this.record({ method: 'onDelegatedLookup', from, arg: id })
    return this.reply.done ? this.reply.successors : []
  }

  async onStoreRecords (from: NodeRef, records: ChordRecord[], _deletions?: SignedDeletion[], options?: StoreFromOptions): Promise<void> {
    this.record({ method: 'onStoreRecords', from, arg: records, options })
    this.records.push(...records)
  }

  async onFetchRecords (from: NodeRef, key: Uint8Array): Promise<ChordRecord[]> {
    this.record({ method: 'onFetchRecords', from, arg: key })
    await this.fetchAnsweredAfter
    return this.records.filter(r => equals(r.key, key))
  }

  async onRangeDigest (from: NodeRef, start: RingId, until: RingId): Promise<RangeDigest> {
    this.record({ method: 'onRangeDigest', from, arg: [start, until] })
    await this.digestAnsweredAfter?.(from)
    return this.digest
  }

  async onRangeSummaries (from: NodeRef, start: RingId, until: RingId): Promise<RecordSummary[]> {
    this.record({ method: 'onRangeSummaries', from, arg: [start, until] })
    return this.records.map(({ key, id, expiresAt }) => ({ key, id, expiresAt }))
  }

  private record (call: Call): void {
    this.calls.push(call)
    if (this.failWith != null) {
      throw this.failWith
    }
  }
}

/** A mailbox namespace that takes every deletion without checking it */
class FakeMailbox extends FakeHandler implements DeletionRpcHandler {
  deletions: Array<{ from: NodeRef, deletion: SignedDeletion }> = []

  async onDeleteRecords (from: NodeRef, deletion: SignedDeletion): Promise<void> {
    this.deletions.push({ from, deletion })
  }
}

interface ChordNode {
  libp2p: ChordLibp2p
  service: TransportUnderTest
  handler: FakeHandler
  ref: NodeRef
}

function refOf (peerId: PeerId): NodeRef {
  return { id: ringIdOf(peerId), peer: peerId.toString() }
}

function wirePeerOf (libp2p: ChordLibp2p, overrides: Partial<Peer> = {}): Peer {
  return {
    peerId: libp2p.peerId.toMultihash().bytes,
    ringId: ringIdToWire(ringIdOf(libp2p.peerId)),
    addrs: libp2p.getMultiaddrs().map(ma => ma.bytes),
    ...overrides
  }
}

/** Streams of /chord/1.0.0 that `libp2p` has open with `peer`, either direction */
/** The /chord streams between `libp2p` and `peer`: those it opened (outbound), or those the peer opened */
function chordStreams (libp2p: ChordLibp2p, peer: PeerId, direction: 'inbound' | 'outbound' = 'outbound'): Stream[] {
  return libp2p.getConnections(peer).flatMap(connection => connection.streams)
    .filter(stream => stream.protocol === PROTOCOL && stream.direction === direction)
}

describe('the /chord/1.0.0 transport over libp2p (TCP on 127.0.0.1)', function () {
  this.timeout(20_000)

  let libp2ps: ChordLibp2p[] = []
  let services: TransportUnderTest[] = []
  /** the libp2p nodes that run a client, and so keep a stream ready to each connected /chord peer */
  const clients = new Set<ChordLibp2p>()

  afterEach(async () => {
    await Promise.all(services.map(async service => service.stop()))
    await Promise.all(libp2ps.map(async libp2p => libp2p.stop()))
    libp2ps = []
    services = []
    clients.clear()
  })

  async function startLibp2p (): Promise<ChordLibp2p> {
    const libp2p = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    libp2ps.push(libp2p)
    return libp2p
  }

  async function startNode (init: Partial<TransportInit> = {}): Promise<ChordNode> {
    const libp2p = await startLibp2p()
    const handler = new FakeHandler()
    const service = new TransportUnderTest(libp2p, { handler, ...init })
    await service.start()
    services.push(service)
    clients.add(libp2p)
    return { libp2p, service, handler, ref: refOf(libp2p.peerId) }
  }

  /** Connect, and wait for the streams each client keeps ready to the other to open */
  async function connect (from: ChordLibp2p, to: ChordLibp2p): Promise<void> {
    await from.dial(to.getMultiaddrs()[0])
    await waitFor(() => [[from, to], [to, from]].every(([a, b]) => !clients.has(a) || chordStreams(a, b.peerId).length > 0), 'the ready streams to open')
  }

  interface RawServer {
    libp2p: ChordLibp2p
    requests: Request[]
    /** the most streams that were open at once */
    mostStreams: number
  }

  /**
   * A peer that speaks /chord/1.0.0 by hand: each request goes to `answer`, which returns the
   * response to send, or undefined to never answer.
   */
  async function startRawServer (answer: (request: Request) => Promise<Partial<Response> | undefined> | Partial<Response> | undefined): Promise<RawServer> {
    const server: RawServer = { libp2p: await startLibp2p(), requests: [], mostStreams: 0 }
    let open = 0
    await server.libp2p.handle(PROTOCOL, async stream => {
      server.mostStreams = Math.max(server.mostStreams, ++open)
      stream.addEventListener('close', () => { open-- })
      const framed = frameStream(stream, MAX_MESSAGE_SIZE)
      try {
        while (true) {
          const request = Request.decode(await framed.read())
          server.requests.push(request)
          const response = await answer(request)
          if (response != null) {
            await framed.write(Response.encode({ type: request.type, ...response }))
          }
        }
      } catch {
        stream.abort(new Error('raw server done'))
      }
    })
    return server
  }

  /** A stream to `to` opened by hand, outside any ChordService */
  async function openRawStream (from: ChordLibp2p, to: ChordLibp2p): Promise<Stream> {
    await from.dial(to.getMultiaddrs()[0])
    return from.dialProtocol(to.peerId, PROTOCOL)
  }

  describe('round trips', () => {
    it('answers every RPC with what the remote handler returned', async () => {
      const [a, b, c] = await Promise.all([startNode(), startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      await connect(b.libp2p, c.libp2p)

      b.handler.neighbours = { predecessor: a.ref, successors: [c.ref, a.ref] }
      assert.deepEqual(await a.service.getNeighbours(b.ref), b.handler.neighbours)

      b.handler.neighbours = { successors: [] }
      assert.deepEqual(await a.service.getNeighbours(b.ref), { predecessor: undefined, successors: [] })

      await a.service.notify(b.ref, a.ref)
      assert.equal(b.handler.calls.at(-1)?.method, 'onNotify')

      const target = ringIdOf(c.libp2p.peerId) - 1n
      b.handler.reply = { done: true, successors: [c.ref, a.ref] }
      assert.deepEqual(await a.service.findSuccessor(b.ref, target), b.handler.reply)
      assert.equal(b.handler.calls.at(-1)?.arg, target)

      assert.deepEqual(await a.service.findSuccessor(b.ref, target, { successorCount: 1 }), { done: true, successors: [c.ref] })

      b.handler.reply = { done: false, closer: [c.ref, a.ref] }
      assert.deepEqual(await a.service.findSuccessor(b.ref, target), b.handler.reply)
      // successorCount trims successors only, never the closer nodes to try next
      assert.deepEqual(await a.service.findSuccessor(b.ref, target, { successorCount: 1 }), b.handler.reply)

      const leavingWith: Neighbours = { predecessor: c.ref, successors: [b.ref, c.ref] }
      await a.service.leaving(b.ref, leavingWith)
      assert.deepEqual(b.handler.calls.at(-1), { method: 'onLeaving', from: a.ref, arg: leavingWith })

      await a.service.ping(b.ref)
    })

    it('carries neighbour digests: in PING and GET_NEIGHBOURS answers, and in a PING from a successor', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)

      assert.deepEqual(await a.service.ping(b.ref), {}, 'a node that sends no digest')
      b.handler.pingReply = { neighboursDigest: 0xfeedf00d }
      assert.deepEqual(await a.service.ping(b.ref), { neighboursDigest: 0xfeedf00d })
      b.handler.neighbours = { successors: [a.ref], digest: 7 }
      assert.deepEqual(await a.service.getNeighbours(b.ref), { predecessor: undefined, successors: [a.ref], digest: 7 })

      await a.service.ping(b.ref, { neighboursDigest: 0 })
      await a.service.ping(b.ref, { neighboursDigest: 2 ** 32 - 1 })
      assert.deepEqual(b.handler.digestsHeard, [
        { from: a.ref, digest: undefined },
        { from: a.ref, digest: undefined },
        { from: a.ref, digest: 0 },
        { from: a.ref, digest: 2 ** 32 - 1 }
      ])
    })

    it('tells the handler who asked as the connection authenticated them', async () => {
      const [a, b, c] = await Promise.all([startNode(), startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      await connect(c.libp2p, b.libp2p)

      await a.service.notify(b.ref, a.ref)
      await c.service.notify(b.ref, c.ref)

      assert.deepEqual(b.handler.calls.map(call => call.from), [a.ref, c.ref])
      assert.equal(a.ref.id, ringIdOf(a.libp2p.peerId))
    })

    it('can dial a node it learned of in a reply, with the addresses the reply carried', async () => {
      const [a, b, c] = await Promise.all([startNode(), startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      await connect(b.libp2p, c.libp2p)
      // b knows c's addresses through identify; a has never heard of c
      await waitFor(async () => (await b.libp2p.peerStore.get(c.libp2p.peerId)).addresses.length > 0, 'b to learn c\'s addresses')
      assert.equal(await a.libp2p.peerStore.has(c.libp2p.peerId), false)

      b.handler.reply = { done: true, successors: [c.ref] }
      const reply = await a.service.findSuccessor(b.ref, c.ref.id)
      assert.ok(reply.done)

      await a.service.ping(reply.successors[0])
      assert.equal(a.libp2p.getConnections(c.libp2p.peerId).length, 1)
    })

    it('serves concurrent requests', async () => {
      const [a, b, c] = await Promise.all([startNode(), startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      b.handler.reply = { done: true, successors: [c.ref] }

      const replies = await Promise.all(Array.from({ length: 50 }, async (_, i) => a.service.findSuccessor(b.ref, BigInt(i))))

      assert.equal(replies.length, 50)
      for (const reply of replies) {
        assert.deepEqual(reply, { done: true, successors: [c.ref] })
      }
      assert.deepEqual(b.handler.calls.map(call => call.arg).sort((x, y) => Number(x) - Number(y)), Array.from({ length: 50 }, (_, i) => BigInt(i)))
    })
  })

  describe('record messages', () => {
    const key = new Uint8Array(32).fill(7)
    const recordOf = (i: number, size = 16): ChordRecord =>
      createRecord(key, new Uint8Array(size).fill(i % 256).map((b, j) => (j === 0 ? i & 0xff : j === 1 ? i >> 8 : b)), 1_000_000_000_000 + i)

    /** Records compared by content: decoded bytes may be Buffers, which deepEqual tells apart */
    const plain = (records: Array<Partial<ChordRecord>>): unknown[] => records.map(r => ({
      key: Buffer.from(r.key ?? []).toString('hex'),
      value: Buffer.from(r.value ?? []).toString('hex'),
      id: Buffer.from(r.id ?? []).toString('hex'),
      expiresAt: r.expiresAt
    }))

    it('stores records on the remote, which computes their ids itself', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      const records = [recordOf(1), recordOf(2)]
      await a.service.storeRecords(b.ref, records)
      assert.deepEqual(plain(b.handler.records), plain(records))
      assert.deepEqual(b.handler.calls.at(-1)?.from, a.ref)
    })

    it('carries the writer a neighbour counts a record for, and that writer\'s subnet', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      const writer = new Uint8Array(8).fill(0x51)
      await a.service.storeRecords(b.ref, [{ ...recordOf(1), writer, writerSubnet: '203.0.113.0/24' }, { ...recordOf(2), writer }])
      assert.deepEqual(b.handler.records.map(r => [Buffer.from(r.writer ?? []).toString('hex'), r.writerSubnet]), [['5151515151515151', '203.0.113.0/24'], ['5151515151515151', undefined]])
    })

    it('tells the handler the subnet a STORE came from, as the node counts subnets (none for loopback)', async () => {
      const [a, b, c] = await Promise.all([startNode(), startNode({ subnetOf: () => '203.0.113.0/24' }), startNode()])
      await connect(a.libp2p, b.libp2p)
      await a.service.storeRecords(b.ref, [recordOf(1)])
      assert.deepEqual(b.handler.calls.at(-1)?.options, { subnet: '203.0.113.0/24' })
      await connect(a.libp2p, c.libp2p)
      await a.service.storeRecords(c.ref, [recordOf(1)])
      assert.deepEqual(c.handler.calls.at(-1)?.options, { subnet: undefined })
    })

    it('fetches a key larger than one message page by page', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      // 40 values of 60 KiB: about 2.4 MiB, several FETCH_PAGE_BYTES pages
      b.handler.records = Array.from({ length: 40 }, (_, i) => recordOf(i, 60 * 1024))
      const fetched = await a.service.fetchRecords(b.ref, key)
      assert.equal(fetched.length, 40)
      assert.ok(b.handler.calls.filter(c => c.method === 'onFetchRecords').length >= 4)
      const byId = (x: ChordRecord, y: ChordRecord): number => Buffer.compare(x.id, y.id)
      assert.deepEqual(plain(fetched.sort(byId)), plain([...b.handler.records].sort(byId)))
    })

    it('carries range digests and summaries', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      b.handler.digest = { count: 2, hash: new Uint8Array(32).fill(9) }
      const digest = await a.service.rangeDigest(b.ref, 5n, 6n)
      assert.equal(digest.count, 2)
      assert.ok(equals(digest.hash, b.handler.digest.hash))
      assert.deepEqual(b.handler.calls.at(-1)?.arg, [5n, 6n])
      b.handler.records = [recordOf(3)]
      assert.deepEqual(plain(await a.service.rangeSummaries(b.ref, 1n, 1n)),
        plain(b.handler.records.map(({ key, id, expiresAt }) => ({ key, id, expiresAt }))))
    })

    it('refuses FETCH pages that do not move forward, so a lying peer cannot keep it asking', async () => {
      const a = await startNode()
      const page = [recordOf(1), recordOf(2)].sort((x, y) => Buffer.compare(x.id, y.id)).map(toWireRecord)
      // always the same page, always "more"
      const server = await startRawServer(() => ({ status: Response.Status.OK, records: page, more: true }))
      await connect(a.libp2p, server.libp2p)
      await assert.rejects(a.service.fetchRecords(refOf(server.libp2p.peerId), key), InvalidMessageError)
      assert.equal(server.requests.length, 2)
    })

    it('gives the caller the remote\'s typed error: a full store is a QuotaExceededError', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      b.handler.failWith = new QuotaExceededError('full')
      await assert.rejects(a.service.storeRecords(b.ref, [recordOf(1)]), QuotaExceededError)
      b.handler.failWith = new TooLargeError('too many')
      await assert.rejects(a.service.rangeSummaries(b.ref, 1n, 2n), TooLargeError)
    })
  })

  describe('stream reuse', () => {
    it('sends many sequential requests on one stream', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)

      const seen = new Set<string>()
      for (let i = 0; i < 100; i++) {
        await a.service.ping(b.ref)
        for (const stream of chordStreams(a.libp2p, b.libp2p.peerId)) {
          seen.add(stream.id)
        }
      }

      assert.equal(seen.size, 1)
      assert.equal(chordStreams(b.libp2p, a.libp2p.peerId, 'inbound').length, 1)
    })

    it('keeps a stream ready to each connected peer that speaks /chord, before any request, on both sides', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      const server = await startRawServer(() => ({}))
      await a.libp2p.dial(b.libp2p.getMultiaddrs()[0])
      await a.libp2p.dial(server.libp2p.getMultiaddrs()[0])

      await waitFor(() => chordStreams(a.libp2p, b.libp2p.peerId).length === 1 && chordStreams(b.libp2p, a.libp2p.peerId).length === 1 &&
        chordStreams(a.libp2p, server.libp2p.peerId).length === 1, 'a ready stream each way')
      const [ready] = chordStreams(a.libp2p, server.libp2p.peerId)
      assert.equal(server.requests.length, 0)

      await a.service.ping(refOf(server.libp2p.peerId))
      assert.deepEqual(chordStreams(a.libp2p, server.libp2p.peerId).map(s => s.id), [ready.id])
      assert.equal(server.mostStreams, 1)
    })

    it('keeps using a stream after the remote answered with an error', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      await a.service.ping(b.ref)
      const [stream] = chordStreams(a.libp2p, b.libp2p.peerId)

      b.handler.failWith = new Error('handler broke')
      await assert.rejects(a.service.notify(b.ref, a.ref), RemoteError)
      b.handler.failWith = undefined
      await a.service.notify(b.ref, a.ref)

      assert.deepEqual(chordStreams(a.libp2p, b.libp2p.peerId).map(s => s.id), [stream.id])
    })

    it('opens at most maxOutboundStreams to one peer; further requests wait their turn', async () => {
      const a = await startNode({ maxOutboundStreams: 3 })
      const held: Array<() => void> = []
      let holding = true
      const server = await startRawServer(async () => {
        if (holding) {
          await new Promise<void>(resolve => held.push(resolve))
        }
        return {}
      })
      await connect(a.libp2p, server.libp2p)

      const pings = Array.from({ length: 10 }, async () => a.service.ping(refOf(server.libp2p.peerId)))
      await waitFor(() => held.length === 3, 'three requests to arrive')
      assert.equal(chordStreams(a.libp2p, server.libp2p.peerId).length, 3)

      holding = false
      held.forEach(release => { release() })
      await Promise.all(pings)

      assert.equal(server.requests.length, 10)
      assert.equal(server.mostStreams, 3)
    })

    it('keeps at most maxPooledStreamsPerPeer idle streams', async () => {
      const [a, b] = await Promise.all([startNode({ maxPooledStreamsPerPeer: 2 }), startNode()])
      await connect(a.libp2p, b.libp2p)

      await Promise.all(Array.from({ length: 8 }, async () => a.service.ping(b.ref)))

      await waitFor(() => chordStreams(a.libp2p, b.libp2p.peerId).length === 2, 'surplus streams to close')
    })

    it('closes pooled streams after pooledStreamIdleTimeout, and opens a fresh one in place of the ready one', async () => {
      const [a, b] = await Promise.all([startNode({ pooledStreamIdleTimeout: 300 }), startNode()])
      await connect(a.libp2p, b.libp2p)
      const before = new Set(chordStreams(a.libp2p, b.libp2p.peerId).map(s => s.id))

      await Promise.all(Array.from({ length: 3 }, async () => a.service.ping(b.ref)))
      chordStreams(a.libp2p, b.libp2p.peerId).forEach(s => before.add(s.id))
      assert.ok(before.size > 1)

      await waitFor(() => {
        const streams = chordStreams(a.libp2p, b.libp2p.peerId)
        return streams.length === 1 && !before.has(streams[0].id) && chordStreams(b.libp2p, a.libp2p.peerId, 'inbound').length === 1
      }, 'the idle streams to close on both sides, and one fresh stream to open')
    })

    it('closes its pooled streams when stopped', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      await a.service.ping(b.ref)

      await a.service.stop()

      await waitFor(() => chordStreams(b.libp2p, a.libp2p.peerId).length === 0, 'the pooled stream to close')
      await assert.rejects(a.service.ping(b.ref), NotStartedError)
    })

    it('stops answering on streams that were open when it stopped', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      await a.service.ping(b.ref)

      await b.service.stop()

      await waitFor(() => chordStreams(a.libp2p, b.libp2p.peerId).length === 0, 'the pooled stream to be reset')
      await assert.rejects(a.service.ping(b.ref), (err: Error) => err.name === 'UnsupportedProtocolError')
      assert.equal(b.handler.calls.length, 0)
    })
  })

  describe('failures', () => {
    it('rejects with RequestTimeoutError when the remote never answers, within the deadline', async () => {
      const a = await startNode({ requestTimeout: 300 })
      const server = await startRawServer(() => undefined)
      await connect(a.libp2p, server.libp2p)

      const started = Date.now()
      await assert.rejects(a.service.ping(refOf(server.libp2p.peerId)), RequestTimeoutError)
      const elapsed = Date.now() - started

      assert.ok(elapsed >= 290 && elapsed < 2_300, `took ${elapsed} ms`)
      // the stream that timed out is reset, not reused
      await waitFor(() => chordStreams(a.libp2p, server.libp2p.peerId).length === 0, 'the timed-out stream to be reset')
    })

    it('closes a connection a request timed out on when nothing else runs on it, so that the next request dials afresh', async () => {
      const a = await startNode({ requestTimeout: 300 })
      const server = await startRawServer(() => undefined)
      const serverRef = refOf(server.libp2p.peerId)

      // something else open on the connection: it stays
      const other = await openRawStream(a.libp2p, server.libp2p)
      const busy = a.libp2p.getConnections(server.libp2p.peerId)[0]
      await assert.rejects(a.service.ping(serverRef), RequestTimeoutError)
      assert.equal(busy.status, 'open')

      other.abort(new Error('done with it'))
      await assert.rejects(a.service.ping(serverRef), RequestTimeoutError)
      await waitFor(() => busy.status !== 'open', 'the idle connection to close')
      // the next request dials a new connection
      await assert.rejects(a.service.ping(serverRef), RequestTimeoutError)
      assert.equal(server.requests.length, 3)
    })

    it('rejects with the caller\'s reason when the caller aborts', async () => {
      const a = await startNode()
      const server = await startRawServer(() => undefined)
      await connect(a.libp2p, server.libp2p)
      const controller = new AbortController()

      const ping = a.service.ping(refOf(server.libp2p.peerId), { signal: controller.signal })
      await waitFor(() => server.requests.length === 1, 'the request to arrive')
      controller.abort(new Error('caller gave up'))

      await assert.rejects(ping, { message: 'caller gave up' })
    })

    it('rejects with RemoteError when the remote handler fails', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      await connect(a.libp2p, b.libp2p)
      b.handler.failWith = new Error('handler broke')

      await assert.rejects(a.service.getNeighbours(b.ref), RemoteError)
    })

    it('rejects with NotStartedError before start', async () => {
      const [libp2p, other] = await Promise.all([startLibp2p(), startLibp2p()])
      const service = new TransportUnderTest(libp2p, { handler: new FakeHandler() })

      await assert.rejects(service.ping(refOf(other.peerId)), NotStartedError)
    })
  })

  describe('hostile input', () => {
    it('runs at most its budget of LOOKUPs per window, whoever asks: RATE_LIMITED after that, the lookup not run', async () => {
      const [a, b] = await Promise.all([startNode(), startNode({ maxDelegatedPerWindow: 2 })])
      b.handler.reply = { done: true, successors: [b.ref] }
      await connect(a.libp2p, b.libp2p)
      await a.service.delegateLookup(b.ref, 5n)
      await a.service.delegateLookup(b.ref, 6n)
      await assert.rejects(a.service.delegateLookup(b.ref, 7n), RateLimitedError)
      assert.equal(b.handler.calls.filter(call => call.method === 'onDelegatedLookup').length, 2)
    })

    it('runs at most its share of LOOKUPs per asker: one asker over it is refused, another is not', async () => {
      const [a, b, c] = await Promise.all([startNode(), startNode({ maxDelegatedPerAskerPerWindow: 1 }), startNode()])
      b.handler.reply = { done: true, successors: [b.ref] }
      await connect(a.libp2p, b.libp2p)
      await connect(c.libp2p, b.libp2p)
      await a.service.delegateLookup(b.ref, 5n)
      await assert.rejects(a.service.delegateLookup(b.ref, 6n), RateLimitedError)
      await c.service.delegateLookup(b.ref, 7n)
      assert.deepEqual(b.handler.calls.filter(call => call.method === 'onDelegatedLookup').map(call => call.from), [a.ref, c.ref])
    })

    it('drops peer entries whose ring id is not the hash of their peer id, and other bad entries', async () => {
      const [a, c] = await Promise.all([startNode(), startNode()])
      const d = await startLibp2p()
      const server = await startRawServer(() => ({
        done: true,
        peers: [
          // claims the ring position of d
          wirePeerOf(c.libp2p, { ringId: ringIdToWire(ringIdOf(d.peerId)) }),
          wirePeerOf(c.libp2p),
          wirePeerOf(d, { peerId: new Uint8Array([1, 2, 3]) })
        ]
      }))
      await connect(a.libp2p, server.libp2p)

      assert.deepEqual(await a.service.findSuccessor(refOf(server.libp2p.peerId), 7n), { done: true, successors: [c.ref] })
      assert.equal(await a.libp2p.peerStore.has(d.peerId), false)
    })

    it('refuses a reply with an entry of more than MAX_ADDRS_PER_PEER addresses while decoding, and takes in none of it', async () => {
      const [a, c] = await Promise.all([startNode(), startNode()])
      const d = await startLibp2p()
      const server = await startRawServer(() => ({
        done: true,
        peers: [
          wirePeerOf(c.libp2p),
          wirePeerOf(d, { addrs: Array.from({ length: MAX_ADDRS_PER_PEER + 1 }, () => d.getMultiaddrs()[0].bytes) })
        ]
      }))
      await connect(a.libp2p, server.libp2p)

      await assert.rejects(a.service.findSuccessor(refOf(server.libp2p.peerId), 7n), InvalidMessageError)
      assert.equal(await a.libp2p.peerStore.has(d.peerId), false)
    })

    it('rejects a reply whose every successor was dropped', async () => {
      const [a, c] = await Promise.all([startNode(), startNode()])
      const server = await startRawServer(() => ({
        done: true,
        peers: [wirePeerOf(c.libp2p, { ringId: new Uint8Array(32) })]
      }))
      await connect(a.libp2p, server.libp2p)

      await assert.rejects(a.service.findSuccessor(refOf(server.libp2p.peerId), 7n), InvalidMessageError)
    })

    it('rejects a reply that breaks the protocol and resets that stream', async () => {
      const a = await startNode()
      const server = await startRawServer(request => request.type === MessageType.PING ? { type: MessageType.NOTIFY } : {})
      await connect(a.libp2p, server.libp2p)

      await assert.rejects(a.service.ping(refOf(server.libp2p.peerId)), InvalidMessageError)
      await waitFor(() => chordStreams(a.libp2p, server.libp2p.peerId).length === 0, 'the stream to be reset')
    })

    it('resets a stream that sends garbage, and keeps serving everybody else', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      const mallory = await startLibp2p()
      await connect(a.libp2p, b.libp2p)
      await a.service.ping(b.ref)

      const stream = await openRawStream(mallory, b.libp2p)
      await frameStream(stream, MAX_MESSAGE_SIZE).write(Uint8Array.from([0x0a, 0x05, 0x01]))

      await waitFor(() => stream.status !== 'open', 'the garbage stream to be reset')
      await a.service.notify(b.ref, a.ref)
      assert.deepEqual(b.handler.calls.map(call => call.from.peer), [a.ref.peer])
    })

    it('resets a stream that announces a frame over MAX_MESSAGE_SIZE, and keeps serving everybody else', async () => {
      const [a, b] = await Promise.all([startNode(), startNode()])
      const mallory = await startLibp2p()
      await connect(a.libp2p, b.libp2p)

      const stream = await openRawStream(mallory, b.libp2p)
      stream.send(encodeVarint(MAX_MESSAGE_SIZE + 1))

      await waitFor(() => stream.status !== 'open', 'the oversized stream to be reset')
      await a.service.notify(b.ref, a.ref)
      assert.deepEqual(b.handler.calls.map(call => call.from.peer), [a.ref.peer])
    })

    it('resets an inbound stream that stays silent for streamIdleTimeout', async () => {
      const b = await startNode({ streamIdleTimeout: 100 })
      const mallory = await startLibp2p()

      const stream = await openRawStream(mallory, b.libp2p)

      await waitFor(() => stream.status !== 'open', 'the silent stream to be reset')
    })

    it('resets a stream whose answer is not written within answerTimeout, however long the idle timeout', async () => {
      const b = await startNode({ streamIdleTimeout: 60_000, answerTimeout: 200 })
      b.handler.fetchAnsweredAfter = new Promise(() => {})
      const mallory = await startLibp2p()

      const stream = await openRawStream(mallory, b.libp2p)
      await frameStream(stream, MAX_MESSAGE_SIZE).write(Request.encode({ type: MessageType.FETCH, key: new Uint8Array(32).fill(1) }))

      await waitFor(() => stream.status !== 'open', 'the stream to be reset once its answer is overdue')
      assert.equal(b.handler.calls.filter(call => call.method === 'onFetchRecords').length, 1, 'the request was being answered')
    })

    it('keeps a stream that answered open past answerTimeout while it waits for the next request', async () => {
      const answerTimeout = 200
      const [a, b] = await Promise.all([startNode(), startNode({ answerTimeout, streamIdleTimeout: 5 * answerTimeout })])
      await connect(a.libp2p, b.libp2p)
      await a.service.ping(b.ref)
      const answered = Date.now()
      const [ready] = chordStreams(a.libp2p, b.libp2p.peerId)

      // the listener ends it for its silence, not for the answer it already wrote
      await waitFor(() => ready.status !== 'open', 'the idle stream to be reset')
      const kept = Date.now() - answered
      assert.ok(kept >= 3 * answerTimeout, `kept ${kept} ms after its answer`)
    })

    it('accepts at most maxInboundStreams streams per connection', async () => {
      const b = await startNode({ maxInboundStreams: 2 })
      const mallory = await startLibp2p()

      const streams = [await openRawStream(mallory, b.libp2p), await openRawStream(mallory, b.libp2p)]
      const third = await openRawStream(mallory, b.libp2p).catch(() => undefined)

      if (third != null) {
        await waitFor(() => third.status !== 'open', 'the third stream to be refused')
      }
      assert.deepEqual(streams.map(stream => stream.status), ['open', 'open'])
      assert.equal(chordStreams(b.libp2p, mallory.peerId, 'inbound').length, 2)
    })
  })

  describe('per-peer rate limits', () => {
    /** long enough that no budget refills while a test runs */
    const windowMs = 60_000

    /** Settles every call and sorts the outcomes: how many succeeded, and that the rest were rate limited */
    async function flood (calls: Array<() => Promise<unknown>>): Promise<{ ok: number, limited: number }> {
      const results = await Promise.allSettled(calls.map(async call => call()))
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      for (const failure of failures) {
        assert.ok(failure.reason instanceof RateLimitedError, `expected RateLimitedError, got ${failure.reason}`)
      }
      return { ok: results.length - failures.length, limited: failures.length }
    }

    const callsFrom = (node: ChordNode, handler: FakeHandler): Call[] => handler.calls.filter(call => call.from.peer === node.ref.peer)

    it('answers a flood of ring requests RATE_LIMITED past the budget, without the handler, and keeps serving other peers', async () => {
      const [a, b, c] = await Promise.all([startNode(), startNode({ requestLimits: { ringRequests: 5, windowMs } }), startNode()])
      await connect(a.libp2p, b.libp2p)
      await connect(c.libp2p, b.libp2p)

      assert.deepEqual(await flood(Array.from({ length: 20 }, (_, i) => async () => a.service.findSuccessor(b.ref, BigInt(i)))), { ok: 5, limited: 15 })
      for (const call of [
        async () => a.service.ping(b.ref),
        async () => a.service.notify(b.ref, a.ref),
        async () => a.service.getNeighbours(b.ref),
        async () => a.service.leaving(b.ref, { successors: [] })
      ]) {
        await assert.rejects(call(), RateLimitedError)
      }
      assert.equal(callsFrom(a, b.handler).length, 5)

      await c.service.notify(b.ref, c.ref)
      await c.service.getNeighbours(b.ref)
      assert.deepEqual(callsFrom(c, b.handler).map(call => call.method), ['onNotify', 'onGetNeighbours'])
    })

    it('answers the peers of one subnet RATE_LIMITED once they spent peersPerSubnet peers\' budgets together, each within its own', async () => {
      const subnet = '203.0.113.0/24'
      const [b, ...sybils] = await Promise.all([
        startNode({ requestLimits: { ringRequests: 3, peersPerSubnet: 2, windowMs }, subnetOf: () => subnet }),
        startNode(), startNode(), startNode()
      ])
      await Promise.all(sybils.map(async sybil => connect(sybil.libp2p, b.libp2p)))
      const pings = (node: ChordNode): Array<() => Promise<unknown>> => Array.from({ length: 3 }, () => async () => node.service.ping(b.ref))
      assert.deepEqual(await flood(pings(sybils[0])), { ok: 3, limited: 0 })
      assert.deepEqual(await flood(pings(sybils[1])), { ok: 3, limited: 0 })
      // its first request: its own budget is whole, its subnet's spent
      await assert.rejects(sybils[2].service.ping(b.ref), RateLimitedError)
      assert.equal(callsFrom(sybils[2], b.handler).length, 0)
    })

    it('tells a refused caller when its budget refills', async () => {
      const [a, b] = await Promise.all([startNode(), startNode({ requestLimits: { ringRequests: 1, windowMs } })])
      await connect(a.libp2p, b.libp2p)
      await a.service.ping(b.ref)

      await assert.rejects(a.service.ping(b.ref), (err: RateLimitedError) =>
        err instanceof RateLimitedError && err.retryAfterMs != null && err.retryAfterMs > 0 && err.retryAfterMs <= windowMs)
    })

    it('keeps the stream of a refused request in use', async () => {
      const [a, b] = await Promise.all([startNode(), startNode({ requestLimits: { ringRequests: 1, windowMs } })])
      await connect(a.libp2p, b.libp2p)
      await a.service.ping(b.ref)
      const [stream] = chordStreams(a.libp2p, b.libp2p.peerId)

      await assert.rejects(a.service.ping(b.ref), RateLimitedError)
      // reads have a budget of their own
      await a.service.rangeDigest(b.ref, 1n, 2n)

      assert.deepEqual(chordStreams(a.libp2p, b.libp2p.peerId).map(s => s.id), [stream.id])
    })

    it('answers a flood of reads RATE_LIMITED past the budget, whatever their kind', async () => {
      const [a, b, c] = await Promise.all([startNode(), startNode({ requestLimits: { readRequests: 6, windowMs } }), startNode()])
      await connect(a.libp2p, b.libp2p)
      await connect(c.libp2p, b.libp2p)
      const key = new Uint8Array(32).fill(1)

      const reads = Array.from({ length: 10 }, () => [
        async () => a.service.fetchRecords(b.ref, key),
        async () => a.service.rangeDigest(b.ref, 1n, 2n),
        async () => a.service.rangeSummaries(b.ref, 1n, 2n)
      ]).flat()
      assert.deepEqual(await flood(reads), { ok: 6, limited: 24 })
      assert.equal(callsFrom(a, b.handler).length, 6)
      // the ring budget is apart
      await a.service.notify(b.ref, a.ref)

      await c.service.fetchRecords(b.ref, key)
      assert.deepEqual(callsFrom(c, b.handler).map(call => call.method), ['onFetchRecords'])
    })

    it('counts STORE in records and in bytes, and refuses a batch whole', async () => {
      const [a, b, c] = await Promise.all([startNode(), startNode({ requestLimits: { storedRecords: 10, storedBytes: 1000, windowMs } }), startNode()])
      await connect(a.libp2p, b.libp2p)
      await connect(c.libp2p, b.libp2p)
      const key = new Uint8Array(32).fill(2)
      const records = (count: number, size: number, from = 0): ChordRecord[] =>
        Array.from({ length: count }, (_, i) => createRecord(key, new Uint8Array(size).fill(from + i + 1), Date.now() + 60_000))

      await a.service.storeRecords(b.ref, records(8, 10))
      // 8 + 3 records is over 10: nothing of the batch is stored
      await assert.rejects(a.service.storeRecords(b.ref, records(3, 10, 8)), RateLimitedError)
      assert.equal(b.handler.records.length, 8)
      // the refused batch charged nothing
      await a.service.storeRecords(b.ref, records(2, 10, 8))
      assert.equal(b.handler.records.length, 10)
      await assert.rejects(a.service.storeRecords(b.ref, records(1, 1, 10)), RateLimitedError)

      // bytes: 1,000 in one record, then one byte more
      await c.service.storeRecords(b.ref, records(1, 1000, 20))
      await assert.rejects(c.service.storeRecords(b.ref, records(1, 1, 21)), RateLimitedError)
      assert.equal(callsFrom(c, b.handler).length, 1)
    })

    it('counts DELETE in ids', async () => {
      const a = await startNode()
      const c = await startNode()
      const mailbox = new FakeMailbox()
      const b = await startNode({ mailbox, requestLimits: { deletedIds: 4, windowMs } })
      await connect(a.libp2p, b.libp2p)
      await connect(c.libp2p, b.libp2p)
      const deletion = (ids: number): SignedDeletion => ({
        key: new Uint8Array(32).fill(3),
        ids: Array.from({ length: ids }, (_, i) => new Uint8Array(32).fill(i)),
        owner: new Uint8Array(65).fill(1),
        signedAt: Date.now(),
        signature: new Uint8Array(64).fill(2)
      })

      await a.service.mailboxRpc().deleteRecords(b.ref, deletion(3))
      await assert.rejects(a.service.mailboxRpc().deleteRecords(b.ref, deletion(2)), RateLimitedError)
      await a.service.mailboxRpc().deleteRecords(b.ref, deletion(1))
      await assert.rejects(a.service.mailboxRpc().deleteRecords(b.ref, deletion(1)), RateLimitedError)
      await c.service.mailboxRpc().deleteRecords(b.ref, deletion(4))

      assert.deepEqual(mailbox.deletions.map(({ from, deletion }) => [from.peer, deletion.ids.length]),
        [[a.ref.peer, 3], [a.ref.peer, 1], [c.ref.peer, 4]])
    })

    it('runs strangers\' scans one at a time, all of them together, and a ring neighbour\'s beside them', async () => {
      const neighbours = new Set<string>()
      const [n, b, ...strangers] = await Promise.all([startNode(), startNode({ limiter: new RequestLimiter({}, { isNeighbour: peer => neighbours.has(peer) }) }), startNode(), startNode(), startNode()])
      neighbours.add(n.ref.peer)
      for (const asker of [n, ...strangers]) {
        await connect(asker.libp2p, b.libp2p)
      }
      // strangers' scans last until `answer`; the most of them running at once
      let answer = (): void => {}
      const answered = new Promise<void>(resolve => { answer = resolve })
      const scanning = { now: 0, most: 0 }
      b.handler.digestAnsweredAfter = async from => {
        if (!neighbours.has(from.peer)) {
          scanning.most = Math.max(scanning.most, ++scanning.now)
          await answered
          scanning.now--
        }
      }

      const scans = strangers.map(async stranger => stranger.service.rangeDigest(b.ref, 1n, 2n))
      await waitFor(() => scanning.now > 0, 'a stranger\'s scan to run')
      // the neighbour's is not queued behind it...
      await n.service.rangeDigest(b.ref, 1n, 2n)
      // ...while the other strangers' wait for it to be charged
      assert.equal(scanning.now, 1)
      answer()
      await Promise.all(scans)
      assert.equal(scanning.most, 1)
      assert.equal(b.handler.calls.filter(call => call.method === 'onRangeDigest').length, strangers.length + 1)
    })

    it('refills a peer\'s budget when its window ends', async () => {
      const [a, b] = await Promise.all([startNode(), startNode({ requestLimits: { ringRequests: 2, windowMs: 300 } })])
      await connect(a.libp2p, b.libp2p)

      const started = Date.now()
      await a.service.notify(b.ref, a.ref)
      await a.service.notify(b.ref, a.ref)
      await assert.rejects(a.service.notify(b.ref, a.ref), RateLimitedError)
      await waitFor(async () => a.service.notify(b.ref, a.ref).then(() => true, (err: Error) => {
        if (err instanceof RateLimitedError) {
          return false
        }
        throw err
      }), 'the budget to refill')

      assert.ok(Date.now() - started >= 290, `refilled after ${Date.now() - started} ms`)
      assert.equal(callsFrom(a, b.handler).length, 3)
    })
  })
})

/**
 * The LOOKUP budgets a node is built with when none is given, gone over at their full size (the
 * tests above go over smaller ones on the wire): in-process, since a window would end before
 * a thousand requests over libp2p on a slow machine
 */
describe('LOOKUPs a node runs for others, at its default budgets', () => {
  /** A LOOKUP handler as a node builds it without budgets, asked by `peer`; and how many lookups it ran */
  function lookupHandler (): { ask: (peer: string) => Promise<unknown>, ran: () => number } {
    let ran = 0
    const handler = new LookupHandler({
      node: { ringHandler: { onDelegatedLookup: async () => { ran++; return [] } } },
      wirePeers: { encode: async () => [] }
    } as unknown as RequestHandlersInit)
    const ask = async (peer: string): Promise<unknown> =>
      handler.handle({ node: { id: 1n, peer } } as unknown as Asker, { type: MessageType.LOOKUP, target: 5n })
    return { ask, ran: () => ran }
  }

  const refusedFor = (what: RegExp) => (err: Error): boolean =>
    err instanceof RateLimitedError && what.test(err.message) && err.retryAfterMs != null && err.retryAfterMs > 0 && err.retryAfterMs <= RATE_LIMIT_WINDOW

  it(`runs MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW (${MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW}) for one asker, refuses the next without running it, and runs another asker's`, async () => {
    const { ask, ran } = lookupHandler()
    for (let i = 0; i < MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW; i++) {
      await ask('a')
    }
    await assert.rejects(ask('a'), refusedFor(new RegExp(`at most ${MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW} .* per asker`)))
    assert.equal(ran(), MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW)
    await ask('b')
    assert.equal(ran(), MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW + 1)
  })

  it(`runs MAX_DELEGATED_LOOKUPS_PER_WINDOW (${MAX_DELEGATED_LOOKUPS_PER_WINDOW}) for all askers together, and refuses the next even from an asker with its share whole`, async () => {
    const { ask, ran } = lookupHandler()
    let askers = 0
    while (ran() < MAX_DELEGATED_LOOKUPS_PER_WINDOW) {
      const share = Math.min(MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW, MAX_DELEGATED_LOOKUPS_PER_WINDOW - ran())
      for (let i = 0; i < share; i++) {
        await ask(`asker-${askers}`)
      }
      askers++
    }
    // the node's budget, not the asker's share
    await assert.rejects(ask('fresh'), refusedFor(new RegExp(`at most ${MAX_DELEGATED_LOOKUPS_PER_WINDOW} [a-z ]+(?<!per asker) per ${RATE_LIMIT_WINDOW} ms$`)))
    assert.equal(ran(), MAX_DELEGATED_LOOKUPS_PER_WINDOW)
  })
})
