/**
 * The ring's outbound RPC over libp2p: it implements the core's `RingRpc` with `/chord/1.0.0`
 * requests, each one exchange on a pooled stream under a deadline. The listening side is
 * `request-server.ts`.
 *
 * Calls never short-cut to this node: the core answers itself where it has to (replication
 * writes its own copy, the mailbox deletes its own), so this client needs nothing of the node it
 * serves and is built before it.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { randomBytes } from '@noble/hashes/utils.js'
import { equals } from 'uint8arrays/equals'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { InvalidMessageError, NotStartedError, RequestTimeoutError } from '../errors.js'
import { MessageType, Request, Response } from '../protocol/generated/chord.js'
import { MAX_RECORDS_PER_KEY } from '../storage/constants.js'
import {
  MAX_MESSAGE_SIZE,
  MAX_OWNER_ROUTE_HOPS,
  OWNER_NONCE_BYTES,
  MAX_OUTBOUND_STREAMS,
  MAX_POOLED_STREAMS_PER_PEER,
  POOLED_STREAM_IDLE_TIMEOUT,
  PROTOCOL,
  REQUEST_TIMEOUT
} from './constants.js'
import { carriedStoreFields, signCarriedStore } from './carried-store.js'
import { errorFromCode } from './error-codes.js'
import { namespaceToWire } from './namespaces.js'
import { canStateOwnership, checkOwnerStatement } from './owner-statement.js'
import { proofToWire, ringIdToWire, wireBytes } from './ring-id.js'
import { StreamPool } from './stream-pool.js'
import { decodeRecord, decodeResponse, decodeStoreOutcome, decodeSummary } from './validate.js'
import { toStoredWireRecord, toWireDeletion } from './wire-records.js'
import type { Namespace, OwnerStatement as WireOwnerStatement } from '../protocol/generated/chord.js'
import type { FindOwnerRequest } from './validate.js'
import type { ObservedRequest, RequestOutcome } from './observed-request.js'
import type { StreamPoolComponents } from './stream-pool.js'
import type { WirePeers } from './wire-peers.js'
import type { RingId } from '../chord/id.js'
import type { ChordRecord, RangeDigest, RecordSummary } from '../chord/record.js'
import type {
  CarriedRecord, DeletionRpc, FindOwnerOptions, FindSuccessorOptions, FindSuccessorReply, NamespaceName, Neighbours, NeighboursReply, NodeRef, OwnerStatement, PingOptions, PingReply, RecordRpc, RingRpc, RpcOptions, SignedDeletion,
  StoreAck, StoreOptions
} from '../chord/rpc.js'
import type { Connection, Logger, PeerId, PrivateKey, Startable, Stream, Topology } from '@libp2p/interface'

/** What the client needs of libp2p: dialling, and being told which peers speaking /chord are connected */
export interface RpcClientComponents extends StreamPoolComponents {
  register(protocol: string, topology: Topology): Promise<string>
  unregister(id: string): void
}

export interface RpcClientInit {
  /** checks and stores the peers named in answers; shared with the request server */
  wirePeers: WirePeers
  /** ms, default REQUEST_TIMEOUT */
  requestTimeout?: number
  /** ms, default POOLED_STREAM_IDLE_TIMEOUT */
  pooledStreamIdleTimeout?: number
  /** default MAX_OUTBOUND_STREAMS */
  maxOutboundStreams?: number
  /** default MAX_POOLED_STREAMS_PER_PEER */
  maxPooledStreamsPerPeer?: number
  /** told how each request we sent went */
  onRequestSent?(request: ObservedRequest): void
  /**
   * told how long a ring request (one answered from memory, not a store) took from its sending to
   * its answer, without dialling or opening a stream: a round-trip sample for that peer
   */
  onRoundTrip?(peer: string, ms: number): void
  /**
   * our libp2p key, to sign a record a recursive lookup carries to its owner
   * (FindOwnerOptions.carry); without it, none is carried
   */
  privateKey?: PrivateKey
}

type RequestMessage = Partial<Request> & Pick<Request, 'type'>

/** Requests the asked node answers by asking others: their time says nothing of the round trip to it */
const RELAYED = new Set([MessageType.LOOKUP, MessageType.FIND_OWNER])

export class RpcClient implements RingRpc, Startable {
  private readonly log: Logger
  private readonly wirePeers: WirePeers
  private readonly pool: StreamPool
  private readonly requestTimeout: number
  private readonly privateKey?: PrivateKey
  private readonly onRequestSent: (request: ObservedRequest) => void
  private readonly onRoundTrip: (peer: string, ms: number) => void
  private readonly namespaces: Record<NamespaceName, NamespaceRpc>
  private readonly components: RpcClientComponents
  /** the registration that keeps streams to connected /chord peers warm */
  private topologyId?: string
  private running = false

  constructor (components: RpcClientComponents, init: RpcClientInit) {
    this.components = components
    this.log = components.logger.forComponent('libp2p-chord:transport:rpc-client')
    this.wirePeers = init.wirePeers
    this.pool = new StreamPool(components, {
      protocol: PROTOCOL,
      maxStreamsPerPeer: init.maxOutboundStreams ?? MAX_OUTBOUND_STREAMS,
      maxIdleStreamsPerPeer: init.maxPooledStreamsPerPeer ?? MAX_POOLED_STREAMS_PER_PEER,
      idleTimeout: init.pooledStreamIdleTimeout ?? POOLED_STREAM_IDLE_TIMEOUT,
      maxMessageSize: MAX_MESSAGE_SIZE,
      openTimeout: init.requestTimeout ?? REQUEST_TIMEOUT
    })
    this.requestTimeout = init.requestTimeout ?? REQUEST_TIMEOUT
    this.privateKey = init.privateKey
    this.onRequestSent = init.onRequestSent ?? (() => {})
    this.onRoundTrip = init.onRoundTrip ?? (() => {})
    const exchange = this.exchange.bind(this)
    this.namespaces = {
      records: new NamespaceRpc(namespaceToWire('records'), exchange),
      mailbox: new NamespaceRpc(namespaceToWire('mailbox'), exchange),
      owned: new NamespaceRpc(namespaceToWire('owned'), exchange)
    }
  }

  /**
   * Start, and keep a stream ready to every connected peer that speaks /chord: a request to a
   * node we are connected to then costs one round trip, not two (see stream-pool.ts). The peers
   * of a lookup's later steps are often connected already (they hold us in their tables, or we
   * them), but rarely have an idle stream left from an earlier request.
   */
  async start (): Promise<void> {
    this.pool.start()
    this.running = true
    this.topologyId = await this.components.register(PROTOCOL, {
      onConnect: peer => { this.pool.keepWarm(peer) },
      onDisconnect: peer => { this.pool.stopWarming(peer) }
    })
  }

  async stop (): Promise<void> {
    this.running = false
    if (this.topologyId != null) {
      this.components.unregister(this.topologyId)
      this.topologyId = undefined
    }
    await this.pool.stop()
  }

  namespace (name: NamespaceName): RecordRpc & DeletionRpc {
    return this.namespaces[name]
  }

  async getNeighbours (to: NodeRef, options?: RpcOptions): Promise<NeighboursReply> {
    const { response, peerId, connection } = await this.exchange(to, { type: MessageType.GET_NEIGHBOURS }, options)
    // decodeResponse made sure an OK answer carries neighbours
    const neighbours = await this.wirePeers.decodeNeighbours(response.neighbours ?? { successors: [] }, peerId, connection)
    return response.neighboursDigest == null ? neighbours : { ...neighbours, digest: response.neighboursDigest }
  }

  async notify (to: NodeRef, self: NodeRef, options?: RpcOptions): Promise<void> {
    // who we are is the connection's; where we sit, the proof of our position (none: the plain one)
    await this.exchange(to, { type: MessageType.NOTIFY, ...proofToWire(self.proof) }, options)
  }

  async findSuccessor (to: NodeRef, id: RingId, options?: FindSuccessorOptions): Promise<FindSuccessorReply> {
    const request = { type: MessageType.FIND_SUCCESSOR, target: ringIdToWire(id), successorCount: options?.successorCount }
    const { response, peerId, connection } = await this.exchange(to, request, options)
    const peers = await this.wirePeers.decode(response.peers, peerId, connection)
    if (!response.done) {
      return { done: false, closer: peers }
    }
    if (peers.length === 0) {
      throw new InvalidMessageError(`${to.peer} named only invalid successors`)
    }
    return { done: true, successors: peers }
  }

  async leaving (to: NodeRef, neighbours: Neighbours, options?: RpcOptions): Promise<void> {
    await this.exchange(to, { type: MessageType.LEAVING, neighbours: await this.wirePeers.encodeNeighbours(neighbours) }, options)
  }

  async ping (to: NodeRef, options?: PingOptions): Promise<PingReply> {
    const { response } = await this.exchange(to, { type: MessageType.PING, neighboursDigest: options?.neighboursDigest }, options)
    return response.neighboursDigest == null ? {} : { neighboursDigest: response.neighboursDigest }
  }

  async findOwner (to: NodeRef, id: RingId, options?: FindOwnerOptions): Promise<OwnerStatement> {
    const nonce = randomBytes(OWNER_NONCE_BYTES)
    const target = ringIdToWire(id)
    // without a key our peer id carries, nobody could check that the record is as we wrote it: it
    // goes by STORE, as it would anyway
    const signer = this.privateKey != null && canStateOwnership(this.privateKey) ? this.privateKey : undefined
    const carry = signer == null ? undefined : options?.carry
    const request = {
      type: MessageType.FIND_OWNER,
      target,
      nonce,
      hopsLeft: MAX_OWNER_ROUTE_HOPS,
      successorCount: options?.successorCount,
      ...(carry == null || signer == null ? {} : await this.carriedFields(signer, nonce, carry))
    }
    // the first node waits a hop's share of a request's time less than a request for the node after
    // it (handlers/find-owner.ts); we wait a share more, which leaves room for our dial too
    const timeout = this.requestTimeout * (MAX_OWNER_ROUTE_HOPS + 2) / (MAX_OWNER_ROUTE_HOPS + 1)
    const { response, peerId, connection } = await this.exchange(to, request, options, timeout)
    // decodeResponse made sure an OK answer carries a statement and its hops
    return checkOwnerStatement(this.wirePeers, response.ownerStatement as WireOwnerStatement, nonce, target, response.hops ?? 1, { peerId, connection }, carry?.record.id)
  }

  /** A FIND_OWNER's fields for a record it carries: the record, its namespace, and who signs for it */
  private async carriedFields (privateKey: PrivateKey, nonce: Uint8Array, { namespace, record }: CarriedRecord): Promise<Partial<Request>> {
    const signature = await signCarriedStore(privateKey, nonce, namespace, record)
    return carriedStoreFields({ namespace, record, origin: peerIdFromPrivateKey(privateKey), signature })
  }

  /**
   * Pass a FIND_OWNER we do not own on to `to`, as given (the caller counts its hops down): the
   * answer is the owner's statement as it came, for the asker to check (we cannot: the nonce is
   * the asker's)
   */
  async passOn (to: NodeRef, request: FindOwnerRequest, options?: RpcOptions): Promise<{ ownerStatement: WireOwnerStatement, hops: number }> {
    const { carried } = request
    const { response } = await this.exchange(to, {
      type: MessageType.FIND_OWNER,
      target: ringIdToWire(request.target),
      nonce: wireBytes(request.nonce),
      hopsLeft: request.hopsLeft,
      successorCount: request.successorCount,
      ...(carried == null ? {} : carriedStoreFields(carried))
    }, options)
    return { ownerStatement: response.ownerStatement as WireOwnerStatement, hops: response.hops ?? 1 }
  }

  async delegateLookup (to: NodeRef, id: RingId, options?: RpcOptions): Promise<NodeRef[]> {
    const { response, peerId, connection } = await this.exchange(to, { type: MessageType.LOOKUP, target: ringIdToWire(id) }, options)
    const successors = await this.wirePeers.decode(response.peers, peerId, connection)
    if (successors.length === 0) {
      throw new InvalidMessageError(`${to.peer} answered a LOOKUP with no valid successor`)
    }
    return successors
  }

  /**
   * One request and its response on a pooled stream, within `timeout` (the request deadline). An
   * ERROR answer is thrown as the typed error its code names; the stream stays usable. Any other
   * failure resets the stream.
   */
  private async exchange (to: NodeRef, request: RequestMessage, options: RpcOptions = {}, timeout = this.requestTimeout): Promise<Exchanged> {
    if (!this.running) {
      throw new NotStartedError('the chord service is not started')
    }
    const peerId = this.wirePeers.peerIdOf(to.peer)
    const deadline = new AbortController()
    const timer = setTimeout(() => {
      deadline.abort(new RequestTimeoutError(`${request.type} to ${to.peer} got no answer within ${Math.round(timeout)} ms`))
    }, timeout)
    const signal = options.signal == null ? deadline.signal : AbortSignal.any([deadline.signal, options.signal])
    const started = performance.now()
    const observe = (outcome: RequestOutcome): void => {
      this.onRequestSent({ type: request.type, outcome, durationMs: performance.now() - started })
    }

    let response: Response
    let connection: Connection
    try {
      const pooled = await this.pool.acquire(peerId, { signal })
      connection = pooled.connection
      try {
        const sentAt = performance.now()
        await pooled.framed.write(Request.encode(request), { signal })
        response = decodeResponse(await pooled.framed.read({ signal }), request.type)
        if (request.namespace == null && !RELAYED.has(request.type)) {
          this.onRoundTrip(to.peer, performance.now() - sentAt)
        }
      } catch (err: any) {
        this.pool.discard(pooled, err)
        if (deadline.signal.aborted) {
          this.closeIfIdle(pooled.connection, peerId)
        }
        throw err
      }
      this.pool.release(pooled)
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
      throw errorFromCode(response.errorCode ?? '', `${request.type} failed on ${to.peer}`, { retryAfterMs: response.retryAfterMs, stampDifficulty: response.stampDifficulty })
    }
    observe('ok')
    return { response, peerId, connection }
  }

  /**
   * A request timed out and nothing else runs on its connection: close the connection, so that
   * the next request to the peer dials afresh. A peer that went away without closing it (its
   * machine died, its link went down) leaves a connection that libp2p would go on handing out
   * until TCP gives up on it, a quarter of an hour later; if the peer came back in the meantime,
   * it stays unreachable until then. A connection that carries other streams is kept: something
   * on it still works, or waits, and closing it would cut that off. The /chord streams kept ready
   * carry nothing: our idle ones, and the peer's inbound ones (which a peer keeps to us as we keep
   * ours to it).
   */
  private closeIfIdle (connection: Connection, peerId: PeerId): void {
    const carriesNothing = (stream: Stream): boolean => stream.status !== 'open' || this.pool.isIdle(stream) ||
      (stream.direction === 'inbound' && stream.protocol === PROTOCOL)
    if (connection.status === 'open' && connection.streams.every(carriesNothing)) {
      this.log('closing the connection to %p on which a request timed out: nothing else runs on it', peerId)
      connection.abort(new RequestTimeoutError('a request timed out on this connection and nothing else runs on it'))
    }
  }
}

interface Exchanged {
  response: Response
  peerId: PeerId
  /** the connection the answer came over: where the peers it names are judged to come from */
  connection: Connection
}

type Exchange = (to: NodeRef, request: RequestMessage, options?: RpcOptions) => Promise<Exchanged>

/** The record messages, addressed to one namespace of other nodes' stores */
class NamespaceRpc implements RecordRpc, DeletionRpc {
  constructor (private readonly namespace: Namespace, private readonly exchange: Exchange) {}

  async storeRecords (to: NodeRef, records: ChordRecord[], options: StoreOptions = {}): Promise<StoreAck> {
    const { response } = await this.exchange(to, {
      type: MessageType.STORE,
      namespace: this.namespace,
      records: records.map(toStoredWireRecord),
      deletions: (options.deletions ?? []).map(toWireDeletion)
    }, options)
    return decodeStoreOutcome(response.stored, records.length)
  }

  /** Every live record of a key, fetched page by page */
  async fetchRecords (to: NodeRef, key: Uint8Array, options?: RpcOptions): Promise<ChordRecord[]> {
    const records: ChordRecord[] = []
    let after: Uint8Array | undefined
    while (true) {
      const { response } = await this.exchange(to, {
        type: MessageType.FETCH,
        namespace: this.namespace,
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

  async rangeDigest (to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RangeDigest> {
    const { response } = await this.exchange(to, this.rangeRequest(MessageType.RANGE_DIGEST, from, until), options)
    // decodeResponse made sure an OK answer carries both
    return { count: response.count ?? 0, hash: response.digest ?? new Uint8Array() }
  }

  async rangeSummaries (to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RecordSummary[]> {
    const { response } = await this.exchange(to, this.rangeRequest(MessageType.RANGE_SUMMARIES, from, until), options)
    return response.summaries.map(decodeSummary)
  }

  async deleteRecords (to: NodeRef, deletion: SignedDeletion, options?: RpcOptions): Promise<void> {
    await this.exchange(to, { type: MessageType.DELETE, namespace: this.namespace, ...toWireDeletion(deletion) }, options)
  }

  private rangeRequest (type: MessageType.RANGE_DIGEST | MessageType.RANGE_SUMMARIES, from: RingId, until: RingId): RequestMessage {
    return { type, namespace: this.namespace, rangeStart: ringIdToWire(from), rangeEnd: ringIdToWire(until) }
  }
}
