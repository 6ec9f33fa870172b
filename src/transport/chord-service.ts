/**
 * The ring's RPC over libp2p: `/chord/1.0.0` streams in both directions.
 *
 * Outbound, it implements the core's `ChordRpc`: each call is one request/response exchange on a
 * pooled stream, under a deadline. Inbound, it registers the protocol handler and serves each
 * stream with a `RequestServer` that answers through the core's `ChordRpcHandler`.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { equals } from 'uint8arrays/equals'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { MAX_RECORDS_PER_KEY } from '../storage/constants.js'
import { InvalidMessageError, NotStartedError, RequestTimeoutError } from '../errors.js'
import { MessageType, Namespace, Request, Response } from '../protocol/chord.js'
import {
  MAX_INBOUND_STREAMS,
  MAX_OUTBOUND_STREAMS,
  MAX_POOLED_STREAMS_PER_PEER,
  POOLED_STREAM_IDLE_TIMEOUT,
  PROTOCOL,
  REQUEST_TIMEOUT,
  STREAM_IDLE_TIMEOUT
} from '../protocol/constants.js'
import { errorFromCode } from '../protocol/error-codes.js'
import { decodeRecord, decodeResponse, decodeSummary } from '../protocol/validate.js'
import { RequestServer } from './request-server.js'
import { ringIdOf, ringIdToWire, wireBytes } from './ring-id.js'
import { StreamPool } from './stream-pool.js'
import { WirePeers } from './wire-peers.js'
import { toWireRecord } from './wire-records.js'
import type { StreamPoolComponents } from './stream-pool.js'
import type { WirePeersComponents } from './wire-peers.js'
import type { ObservedRequest, RequestOutcome } from './observed-request.js'
import type { RequestLimits } from '../limits/request-limiter.js'
import type { RingId } from '../chord/id.js'
import type {
  ChordRpc, ChordRpcHandler, DeletionRpc, DeletionRpcHandler, FindSuccessorReply, Neighbours, NodeRef, RecordRpc,
  RecordRpcHandler, RpcOptions, SignedDeletion
} from '../chord/rpc.js'
import type { ChordRecord, RangeDigest, RecordSummary } from '../storage/store.js'
import type { AbortOptions, Logger, PeerId, Startable, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'

/** What the service needs from libp2p; a libp2p node satisfies it as it is */
export interface ChordServiceComponents extends StreamPoolComponents, WirePeersComponents {
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string, options?: AbortOptions): Promise<void>
}

export interface ChordServiceInit {
  /** answers other nodes' requests: the ring core and its replication */
  handler: ChordRpcHandler & RecordRpcHandler
  /** answers record requests in the mailbox namespace; without it they are refused */
  mailbox?: RecordRpcHandler & DeletionRpcHandler
  /** ms, default REQUEST_TIMEOUT */
  requestTimeout?: number
  /** ms, default STREAM_IDLE_TIMEOUT */
  streamIdleTimeout?: number
  /** ms, default POOLED_STREAM_IDLE_TIMEOUT */
  pooledStreamIdleTimeout?: number
  /** default MAX_INBOUND_STREAMS */
  maxInboundStreams?: number
  /** default MAX_OUTBOUND_STREAMS */
  maxOutboundStreams?: number
  /** default MAX_POOLED_STREAMS_PER_PEER */
  maxPooledStreamsPerPeer?: number
  /** per-peer limits on the requests we answer; each one left out is its default (DEFAULT_REQUEST_LIMITS) */
  requestLimits?: Partial<RequestLimits>
  /** told how each request we sent went (requests to ourselves never reach the wire, nor this) */
  onRequestSent?(request: ObservedRequest): void
  /** told how each request we answered went */
  onRequestServed?(request: ObservedRequest): void
}

type RequestMessage = Partial<Request> & Pick<Request, 'type'>

export class ChordService implements ChordRpc, RecordRpc, Startable {
  private readonly components: ChordServiceComponents
  private readonly handler: ChordRpcHandler & RecordRpcHandler
  private readonly mailboxHandler?: RecordRpcHandler & DeletionRpcHandler
  private readonly log: Logger
  private readonly self: NodeRef
  private readonly wirePeers: WirePeers
  private readonly server: RequestServer
  private readonly requestTimeout: number
  private readonly onRequestSent: (request: ObservedRequest) => void
  private readonly maxInboundStreams: number
  private readonly maxOutboundStreams: number
  private readonly maxPooledStreamsPerPeer: number
  private readonly pooledStreamIdleTimeout: number
  private pool?: StreamPool

  constructor (components: ChordServiceComponents, init: ChordServiceInit) {
    this.components = components
    this.handler = init.handler
    this.log = components.logger.forComponent('libp2p-chord:transport:chord-service')
    this.self = { id: ringIdOf(components.peerId), peer: components.peerId.toString() }
    this.wirePeers = new WirePeers(components)
    this.mailboxHandler = init.mailbox
    this.server = new RequestServer(components, {
      handler: init.handler,
      mailbox: init.mailbox,
      wirePeers: this.wirePeers,
      idleTimeout: init.streamIdleTimeout ?? STREAM_IDLE_TIMEOUT,
      limits: init.requestLimits,
      onServed: init.onRequestServed
    })
    this.requestTimeout = init.requestTimeout ?? REQUEST_TIMEOUT
    this.onRequestSent = init.onRequestSent ?? (() => {})
    this.maxInboundStreams = init.maxInboundStreams ?? MAX_INBOUND_STREAMS
    this.maxOutboundStreams = init.maxOutboundStreams ?? MAX_OUTBOUND_STREAMS
    this.maxPooledStreamsPerPeer = init.maxPooledStreamsPerPeer ?? MAX_POOLED_STREAMS_PER_PEER
    this.pooledStreamIdleTimeout = init.pooledStreamIdleTimeout ?? POOLED_STREAM_IDLE_TIMEOUT
  }

  async start (): Promise<void> {
    this.pool = new StreamPool(this.components, {
      protocol: PROTOCOL,
      maxStreamsPerPeer: this.maxOutboundStreams,
      maxIdleStreamsPerPeer: this.maxPooledStreamsPerPeer,
      idleTimeout: this.pooledStreamIdleTimeout
    })
    await this.components.handle(PROTOCOL, async (stream, connection) => this.server.serve(stream, connection), {
      maxInboundStreams: this.maxInboundStreams,
      // libp2p applies the registered handler's outbound limit to the streams we open
      maxOutboundStreams: this.maxOutboundStreams
    })
  }

  async stop (): Promise<void> {
    await this.components.unhandle(PROTOCOL)
    this.server.stop()
    await this.pool?.stop()
    this.pool = undefined
  }

  async getNeighbours (to: NodeRef, options?: RpcOptions): Promise<Neighbours> {
    if (this.isSelf(to)) {
      return structuredClone(this.handler.onGetNeighbours(this.self))
    }
    const { response, peerId } = await this.exchange(to, { type: MessageType.GET_NEIGHBOURS }, options)
    // decodeResponse made sure an OK answer carries neighbours
    return this.wirePeers.decodeNeighbours(response.neighbours ?? { successors: [] }, peerId)
  }

  async notify (to: NodeRef, options?: RpcOptions): Promise<void> {
    if (this.isSelf(to)) {
      this.handler.onNotify(this.self)
      return
    }
    await this.exchange(to, { type: MessageType.NOTIFY }, options)
  }

  async findSuccessor (to: NodeRef, id: RingId, options?: RpcOptions): Promise<FindSuccessorReply> {
    if (this.isSelf(to)) {
      return structuredClone(this.handler.onFindSuccessor(this.self, id))
    }
    const { response, peerId } = await this.exchange(to, {
      type: MessageType.FIND_SUCCESSOR,
      target: ringIdToWire(id)
    }, options)
    const peers = await this.wirePeers.decode(response.peers, peerId)

    if (!response.done) {
      return { done: false, closer: peers }
    }
    if (peers.length === 0) {
      throw new InvalidMessageError(`${to.peer} named only invalid successors`)
    }
    return { done: true, successors: peers }
  }

  async leaving (to: NodeRef, neighbours: Neighbours, options?: RpcOptions): Promise<void> {
    if (this.isSelf(to)) {
      this.handler.onLeaving(this.self, structuredClone(neighbours))
      return
    }
    await this.exchange(to, {
      type: MessageType.LEAVING,
      neighbours: await this.wirePeers.encodeNeighbours(neighbours)
    }, options)
  }

  async ping (to: NodeRef, options?: RpcOptions): Promise<void> {
    if (this.isSelf(to)) {
      return
    }
    await this.exchange(to, { type: MessageType.PING }, options)
  }

  async storeRecords (to: NodeRef, records: ChordRecord[], options?: RpcOptions): Promise<void> {
    await this.storeIn(Namespace.RECORDS, to, records, options)
  }

  async fetchRecords (to: NodeRef, key: Uint8Array, options?: RpcOptions): Promise<ChordRecord[]> {
    return this.fetchFrom(Namespace.RECORDS, to, key, options)
  }

  async rangeDigest (to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RangeDigest> {
    return this.digestIn(Namespace.RECORDS, to, from, until, options)
  }

  async rangeSummaries (to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RecordSummary[]> {
    return this.summariesIn(Namespace.RECORDS, to, from, until, options)
  }

  /** The same record messages, addressed to other nodes' mailbox stores, plus owner-signed deletes */
  mailboxRpc (): RecordRpc & DeletionRpc {
    const ns = Namespace.MAILBOX
    return {
      storeRecords: async (to, records, options) => this.storeIn(ns, to, records, options),
      fetchRecords: async (to, key, options) => this.fetchFrom(ns, to, key, options),
      rangeDigest: async (to, from, until, options) => this.digestIn(ns, to, from, until, options),
      rangeSummaries: async (to, from, until, options) => this.summariesIn(ns, to, from, until, options),
      deleteRecords: async (to, deletion, options) => this.deleteIn(ns, to, deletion, options)
    }
  }

  private recordHandler (namespace: Namespace): RecordRpcHandler {
    const handler = namespace === Namespace.RECORDS ? this.handler : this.mailboxHandler
    if (handler == null) {
      throw new NotStartedError('this node keeps no mailboxes')
    }
    return handler
  }

  private async storeIn (namespace: Namespace, to: NodeRef, records: ChordRecord[], options?: RpcOptions): Promise<void> {
    if (this.isSelf(to)) {
      await this.recordHandler(namespace).onStoreRecords(this.self, structuredClone(records))
      return
    }
    await this.exchange(to, { type: MessageType.STORE, namespace, records: records.map(toWireRecord) }, options)
  }

  /** Every live record of a key, fetched page by page */
  private async fetchFrom (namespace: Namespace, to: NodeRef, key: Uint8Array, options?: RpcOptions): Promise<ChordRecord[]> {
    if (this.isSelf(to)) {
      return structuredClone(await this.recordHandler(namespace).onFetchRecords(this.self, key))
    }
    const records: ChordRecord[] = []
    let after: Uint8Array | undefined
    while (true) {
      const { response } = await this.exchange(to, {
        type: MessageType.FETCH,
        namespace,
        key: wireBytes(key),
        after: after == null ? undefined : wireBytes(after)
      }, options)
      const page = response.records.map(decodeRecord)
      if (page.some(record => !equals(record.key, key))) {
        throw new InvalidMessageError(`${to.peer} answered FETCH with records of another key`)
      }
      // pages come in id order after `after`: one that does not move forward would have us ask for ever
      const ids = page.map(record => uint8ArrayToString(record.id, 'base16'))
      const start = after == null ? '' : uint8ArrayToString(after, 'base16')
      if (ids.some((id, i) => id <= (i === 0 ? start : ids[i - 1]))) {
        throw new InvalidMessageError(`${to.peer} answered FETCH with a page out of order`)
      }
      records.push(...page)
      if (records.length > MAX_RECORDS_PER_KEY) {
        throw new InvalidMessageError(`${to.peer} answered FETCH with more than ${MAX_RECORDS_PER_KEY} records for one key`)
      }
      if (!response.more || page.length === 0) {
        return records
      }
      after = page[page.length - 1].id
    }
  }

  private async digestIn (namespace: Namespace, to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RangeDigest> {
    if (this.isSelf(to)) {
      return this.recordHandler(namespace).onRangeDigest(this.self, from, until)
    }
    const { response } = await this.exchange(to, {
      type: MessageType.RANGE_DIGEST,
      namespace,
      rangeStart: ringIdToWire(from),
      rangeEnd: ringIdToWire(until)
    }, options)
    // decodeResponse made sure an OK answer carries both
    return { count: response.count ?? 0, hash: response.digest ?? new Uint8Array() }
  }

  private async summariesIn (namespace: Namespace, to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RecordSummary[]> {
    if (this.isSelf(to)) {
      return this.recordHandler(namespace).onRangeSummaries(this.self, from, until)
    }
    const { response } = await this.exchange(to, {
      type: MessageType.RANGE_SUMMARIES,
      namespace,
      rangeStart: ringIdToWire(from),
      rangeEnd: ringIdToWire(until)
    }, options)
    return response.summaries.map(decodeSummary)
  }

  private async deleteIn (namespace: Namespace, to: NodeRef, deletion: SignedDeletion, options?: RpcOptions): Promise<void> {
    if (this.isSelf(to)) {
      if (this.mailboxHandler == null) {
        throw new NotStartedError('this node keeps no mailboxes')
      }
      await this.mailboxHandler.onDeleteRecords(this.self, structuredClone(deletion))
      return
    }
    await this.exchange(to, {
      type: MessageType.DELETE,
      namespace,
      key: wireBytes(deletion.key),
      ids: deletion.ids.map(wireBytes),
      owner: wireBytes(deletion.owner),
      signedAt: deletion.signedAt,
      signature: wireBytes(deletion.signature)
    }, options)
  }

  /**
   * One request and its response on a pooled stream, within the request deadline. An ERROR answer
   * is a `RemoteError`; the stream stays usable. Any other failure resets the stream.
   */
  private async exchange (to: NodeRef, request: RequestMessage, options: RpcOptions = {}): Promise<{ response: Response, peerId: PeerId }> {
    const pool = this.pool
    if (pool == null) {
      throw new NotStartedError('the chord service is not started')
    }
    const peerId = peerIdFromString(to.peer)
    const deadline = new AbortController()
    const timer = setTimeout(() => {
      deadline.abort(new RequestTimeoutError(`${request.type} to ${to.peer} got no answer within ${this.requestTimeout} ms`))
    }, this.requestTimeout)
    const signal = options.signal == null ? deadline.signal : AbortSignal.any([deadline.signal, options.signal])
    const started = performance.now()
    const observe = (outcome: RequestOutcome): void => {
      this.onRequestSent({ type: request.type, outcome, durationMs: performance.now() - started })
    }

    let response: Response
    try {
      const pooled = await pool.acquire(peerId, { signal })
      try {
        await pooled.framed.write(Request.encode(request), { signal })
        response = decodeResponse(await pooled.framed.read({ signal }), request.type)
      } catch (err: any) {
        pool.discard(pooled, err)
        throw err
      }
      pool.release(pooled)
    } catch (err) {
      const timedOut = deadline.signal.aborted
      observe(timedOut ? 'timeout' : 'failed')
      // whatever form the abort took on its way up, a missed deadline is a RequestTimeoutError
      throw timedOut ? deadline.signal.reason : err
    } finally {
      clearTimeout(timer)
    }

    if (response.status === Response.Status.ERROR) {
      observe('error')
      this.log('%s to %p failed remotely: %s', request.type, peerId, response.errorCode)
      throw errorFromCode(response.errorCode ?? '', `${request.type} failed on ${to.peer}`)
    }
    observe('ok')
    return { response, peerId }
  }

  private isSelf (node: NodeRef): boolean {
    return node.peer === this.self.peer
  }
}
