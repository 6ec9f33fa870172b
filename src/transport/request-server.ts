/**
 * The listening side of /chord/1.0.0: it registers the protocol and reads requests from each
 * inbound stream, one at a time, answering each through the handler for its message type
 * (`handlers/`).
 *
 * Who asked is the connection's remote peer, authenticated by Noise; nothing in a message can
 * change that. A frame that is oversized, truncated, undecodable or invalid resets the stream
 * before anything reaches a handler. A stream may wait long for a request to begin
 * (STREAM_IDLE_TIMEOUT), but one that has begun must arrive whole within REQUEST_READ_TIMEOUT: its
 * bytes are buffered until then. A handler that throws is answered with an ERROR status, so the
 * caller gets a typed error rather than a silence. Each request is charged to the asking peer's
 * rate limits first; one over them is answered RATE_LIMITED and never reaches a handler.
 *
 * An answer is held in memory until the peer has taken all of it, which only its reading makes
 * happen: a peer that asks and never reads costs the node its answers' bytes for ANSWER_TIMEOUT,
 * and itself a request each. So the bytes of answers not yet taken are capped per peer, per subnet
 * (identities are free) and for all peers together (MAX_PENDING_ANSWER_BYTES_PER_PEER,
 * MAX_PENDING_ANSWER_BYTES_PER_SUBNET, MAX_TOTAL_PENDING_ANSWER_BYTES, which small answers may pass
 * by a reserve: SMALL_ANSWER_RESERVE_BYTES); an answer that does not fit is replaced by a
 * RATE_LIMITED refusal. Answers to the node's ring neighbours pass the caps they share with
 * strangers, so that no number of strangers gets the ring's maintenance refused; only a
 * neighbour's own cap refuses it, so that a peer that became one cheaply (a ground PeerId) holds no
 * more than any other.
 */
import { TimeoutError } from '@libp2p/interface'
import { UnexpectedEOFError } from '@libp2p/utils'
import { NotStartedError, RateLimitedError } from '../errors.js'
import { MessageType, Response } from '../protocol/generated/chord.js'
import { HeldBytes } from '../limits/held-bytes.js'
import { KeyedQueue } from '../limits/keyed-queue.js'
import { frameStream } from '../protocol/framing.js'
import {
  ANSWER_TIMEOUT, MAX_INBOUND_STREAMS, MAX_MESSAGE_SIZE, MAX_OUTBOUND_STREAMS, MAX_PENDING_ANSWER_BYTES_PER_PEER, MAX_PENDING_ANSWER_BYTES_PER_SUBNET,
  MAX_TOTAL_PENDING_ANSWER_BYTES, MIN_PENDING_ANSWER_BYTES_PER_PEER, PROTOCOL, REQUEST_READ_TIMEOUT, MAX_SMALL_ANSWER_BYTES, SMALL_ANSWER_RESERVE_BYTES,
  STREAM_IDLE_TIMEOUT
} from './constants.js'
import { errorCodeOf } from './error-codes.js'
import { createRequestHandlers } from './handlers/index.js'
import { RequestLimiter } from './request-limits.js'
import { ringIdOf } from './ring-id.js'
import { remoteSubnet } from './subnet.js'
import { decodeRequest } from './validate.js'
import { writtenOut } from './written-out.js'
import type { Asker, FindOwnerInit, RequestHandler, RequestHandlersInit } from './handlers/handler.js'
import type { RequestHandlers } from './handlers/index.js'
import type { Holder } from '../limits/held-bytes.js'
import type { ServedNode } from './handlers/served-node.js'
import type { ObservedRequest, RequestOutcome } from './observed-request.js'
import type { RequestLimits, WorkDone } from './request-limits.js'
import type { ValidRequest } from './validate.js'
import type { WirePeers } from './wire-peers.js'
import type { FramedStream } from '../protocol/framing.js'
import type { AbortOptions, ComponentLogger, Connection, Logger, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'

/** What the server needs from libp2p; a libp2p node satisfies it */
export interface RequestServerComponents {
  logger: ComponentLogger
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string, options?: AbortOptions): Promise<void>
}

export interface RequestServerInit extends Pick<RequestHandlersInit, 'maxDelegatedPerWindow' | 'maxDelegatedPerAskerPerWindow'> {
  /** the node that answers */
  node: ServedNode
  wirePeers: WirePeers
  /** ms a stream may wait for a request to begin before it is reset; default STREAM_IDLE_TIMEOUT */
  idleTimeout?: number
  /** ms from a request's first byte until the whole of it has arrived before the stream is reset; default REQUEST_READ_TIMEOUT */
  readTimeout?: number
  /** ms to answer a request and write the answer before the stream is reset; default ANSWER_TIMEOUT */
  answerTimeout?: number
  /** default MAX_INBOUND_STREAMS */
  maxInboundStreams?: number
  /** streams we open to one peer; libp2p applies the registered handler's limit to them. Default MAX_OUTBOUND_STREAMS */
  maxOutboundStreams?: number
  /** bytes of answers one peer has not taken yet; default MAX_PENDING_ANSWER_BYTES_PER_PEER */
  maxPendingAnswerBytesPerPeer?: number
  /** bytes of answers the peers of one subnet together have not taken yet; default MAX_PENDING_ANSWER_BYTES_PER_SUBNET */
  maxPendingAnswerBytesPerSubnet?: number
  /** bytes of answers all peers together have not taken yet; default MAX_TOTAL_PENDING_ANSWER_BYTES */
  maxTotalPendingAnswerBytes?: number
  /** bytes of small answers held past `maxTotalPendingAnswerBytes`; default SMALL_ANSWER_RESERVE_BYTES */
  smallAnswerReserveBytes?: number
  /**
   * the subnet whose cap an asker's answers count in; default the connection's remote address's
   * /24 or /48, none (not counted) for loopback
   */
  subnetOf?(connection: Connection): string | undefined
  /** whether `peer` is one of the node's ring neighbours, whose answers only its own cap refuses; default nobody is */
  isNeighbour?(peer: string): boolean
  /** per-peer rate limits; each one left out is its default (DEFAULT_REQUEST_LIMITS) */
  limits?: Partial<RequestLimits>
  /**
   * the per-peer budgets to charge, shared with other servers of the node (a mailbox subscriber's
   * proof draws on the same signature checks); default: budgets of its own, by `limits`
   */
  limiter?: RequestLimiter
  /** what recursive lookups need (our key, the client that passes requests on); without it, FIND_OWNER is refused */
  findOwner?: FindOwnerInit
  /** told how each request we answered went */
  onServed?(request: ObservedRequest): void
}

/** The queue of every stranger's scans: no PeerId's string */
const STRANGERS = 'strangers'

/** A response, of the request's type */
type Answer = Partial<Response> & Pick<Response, 'type'>

/** An answer, with how answering went: reported once it is written or refused */
interface Served {
  response: Answer
  outcome: RequestOutcome
  /** spent answering, the writing left out */
  durationMs: number
}

export class RequestServer implements Startable {
  private readonly components: RequestServerComponents
  private readonly init: RequestServerInit
  private readonly log: Logger
  private readonly serving = new Set<Stream>()
  private readonly limiter: RequestLimiter
  private readonly scans = new KeyedQueue()
  private readonly pendingAnswers: HeldBytes
  private readonly handlers: RequestHandlers
  private readonly idleTimeout: number
  private readonly readTimeout: number
  private readonly answerTimeout: number

  constructor (components: RequestServerComponents, init: RequestServerInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('libp2p-chord:transport:request-server')
    this.limiter = init.limiter ?? new RequestLimiter(init.limits, { isNeighbour: init.isNeighbour })
    this.handlers = createRequestHandlers({
      node: init.node,
      wirePeers: init.wirePeers,
      findOwner: init.findOwner,
      maxDelegatedPerWindow: init.maxDelegatedPerWindow,
      maxDelegatedPerAskerPerWindow: init.maxDelegatedPerAskerPerWindow,
      storeFor: async (from, request) => this.reported(await this.answerNow(request, from)),
      admitCarriedCheck: asker => { this.limiter.admitCarriedCheck(asker.node.peer, asker.subnet) }
    })
    this.idleTimeout = init.idleTimeout ?? STREAM_IDLE_TIMEOUT
    this.readTimeout = init.readTimeout ?? REQUEST_READ_TIMEOUT
    this.answerTimeout = init.answerTimeout ?? ANSWER_TIMEOUT
    this.pendingAnswers = new HeldBytes({
      perPeer: init.maxPendingAnswerBytesPerPeer ?? MAX_PENDING_ANSWER_BYTES_PER_PEER,
      perSubnet: init.maxPendingAnswerBytesPerSubnet ?? MAX_PENDING_ANSWER_BYTES_PER_SUBNET,
      total: init.maxTotalPendingAnswerBytes ?? MAX_TOTAL_PENDING_ANSWER_BYTES,
      smallReserve: { upTo: MAX_SMALL_ANSWER_BYTES, extra: init.smallAnswerReserveBytes ?? SMALL_ANSWER_RESERVE_BYTES },
      perPeerFloor: MIN_PENDING_ANSWER_BYTES_PER_PEER
    })
  }

  /** Bytes of answers `peer` (or, without it, every peer) has not taken yet */
  pendingAnswerBytes (peer?: string): number {
    return peer == null ? this.pendingAnswers.total : this.pendingAnswers.of(peer)
  }

  async start (): Promise<void> {
    await this.components.handle(PROTOCOL, async (stream, connection) => this.serve(stream, connection), {
      maxInboundStreams: this.init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
      maxOutboundStreams: this.init.maxOutboundStreams ?? MAX_OUTBOUND_STREAMS
    })
  }

  /** Stop taking streams and reset the ones being served: a stopped node must not keep answering */
  async stop (): Promise<void> {
    await this.components.unhandle(PROTOCOL)
    for (const stream of this.serving) {
      stream.abort(new NotStartedError('the node stopped'))
    }
  }

  /** Serve requests on `stream` until the remote closes it, goes idle or breaks the protocol */
  async serve (stream: Stream, connection: Connection): Promise<void> {
    const peerId = connection.remotePeer
    const subnet = (this.init.subnetOf ?? remoteSubnet)(connection)
    const from: Asker = { node: { id: ringIdOf(peerId), peer: peerId.toString() }, peerId, connection, ...(subnet == null ? {} : { subnet }) }
    const onIdle = (): void => {
      stream.abort(new TimeoutError(`no request within ${this.idleTimeout} ms`))
    }
    const onSlowRequest = (): void => {
      stream.abort(new TimeoutError(`a request did not arrive whole within ${this.readTimeout} ms of its first byte`))
    }
    const onSlowAnswer = (): void => {
      stream.abort(new TimeoutError(`the answer was not written within ${this.answerTimeout} ms`))
    }
    let timer = setTimeout(onIdle, this.idleTimeout)
    const framed = frameStream(stream, MAX_MESSAGE_SIZE, {
      // a begun request is buffered until it is whole: it gets the short deadline, not the idle one
      onFrameStart: () => {
        clearTimeout(timer)
        timer = setTimeout(onSlowRequest, this.readTimeout)
      }
    })
    this.serving.add(stream)

    try {
      while (true) {
        let frame
        try {
          frame = await framed.read()
        } catch (err) {
          if (err instanceof UnexpectedEOFError) {
            // the remote closed its side; between requests that is the normal end
            break
          }
          throw err
        }

        const request = decodeRequest(frame)
        clearTimeout(timer)
        timer = setTimeout(onSlowAnswer, this.answerTimeout)

        const served = await this.answer(request, from)
        let sent
        try {
          sent = await this.write(stream, framed, this.holderOf(from), served.response)
        } catch (err) {
          // the stream broke or its deadline passed before the answer left
          this.reported({ ...served, outcome: 'failed' })
          throw err
        }
        // an answer refused for the bytes waiting unread went out as a refusal
        this.reported(sent === served.response ? served : { ...served, response: sent, outcome: 'error' })
        clearTimeout(timer)
        timer = setTimeout(onIdle, this.idleTimeout)
      }
      await stream.close()
    } catch (err: any) {
      this.log('resetting stream %s from %p - %e', stream.id, peerId, err)
      stream.abort(err)
    } finally {
      clearTimeout(timer)
      this.serving.delete(stream)
    }
  }

  /** Who an answer to `from` is held for: asked at each answer, as the ring's neighbours change */
  private holderOf (from: Asker): Holder {
    return { peer: from.node.peer, subnet: from.subnet, passesSharedCaps: this.init.isNeighbour?.(from.node.peer) === true }
  }

  /**
   * Write `response`, its bytes held for the asker until they have left the stream (taken, or
   * thrown away when the stream ends), so that the next request on it waits for that too. One
   * that does not fit what the asker, its subnet, or all peers may hold is refused instead: a
   * refusal is a few dozen bytes, at most one per stream, so it is not held. Resolves to the
   * answer that went out: `response` itself, or the refusal in its place.
   */
  private async write (stream: Stream, framed: FramedStream, holder: Holder, response: Answer): Promise<Answer> {
    const answer = Response.encode(response)
    const release = this.pendingAnswers.hold(holder, answer.byteLength)
    if (release == null) {
      this.log('refusing an answer of %d bytes to %s: %d bytes of its answers, %d of its subnet %s, %d of all, wait unread', answer.byteLength, holder.peer,
        this.pendingAnswers.of(holder.peer), holder.subnet == null ? 0 : this.pendingAnswers.ofSubnet(holder.subnet), holder.subnet, this.pendingAnswers.total)
      const refused = refusal(response.type, new RateLimitedError('too many bytes of answers wait for the asker to read them'))
      await framed.write(Response.encode(refused))
      return refused
    }
    try {
      await framed.write(answer)
      await writtenOut(stream)
      return response
    } finally {
      release()
    }
  }

  private async answer (request: ValidRequest, from: Asker): Promise<Served> {
    if (request.type === MessageType.RANGE_DIGEST || request.type === MessageType.RANGE_SUMMARIES) {
      // a scan's cost is known only once it is done: one peer's scans run one at a time, so that
      // each is admitted knowing what the one before cost, and a peer overdraws its budget by one
      // scan at most, not by as many as it keeps in flight. Strangers' scans all draw on what
      // strangers may read together: theirs run one at a time together, so that each reads no
      // more than the ones before left (and is short: it is refused past that)
      // whether the asker is a stranger is asked once: a peer's standing may change meanwhile
      const stranger = this.limiter.isStranger(from.node.peer)
      return this.scans.run(stranger ? STRANGERS : from.node.peer, async () => this.answerNow(request, from, stranger))
    }
    return this.answerNow(request, from)
  }

  /** Tell whoever watches how answering a request went; the answer */
  private reported ({ response, outcome, durationMs }: Served): Answer {
    this.init.onServed?.({ type: response.type, outcome, durationMs, ...(outcome === 'error' ? { errorCode: response.errorCode } : {}) })
    return response
  }

  /** Answer `request`: the answer and how it went, not yet reported (it may yet be refused unwritten) */
  private async answerNow (request: ValidRequest, from: Asker, strangerAsked?: boolean): Promise<Served> {
    const { type } = request
    // asked once: admitted and charged alike, whatever the peer's standing becomes meanwhile
    const stranger = strangerAsked ?? this.limiter.isStranger(from.node.peer)
    const started = performance.now()
    const served = (response: Answer, outcome: RequestOutcome): Served => ({ response, outcome, durationMs: performance.now() - started })
    let admitted = false
    const done: WorkDone = {}
    try {
      // throws RateLimitedError, answered like any handler error, before the handler runs
      this.limiter.admit(from.node.peer, request, [], stranger, from.subnet)
      admitted = true
      // a stranger's scan reads no more than it may: a range holding more is refused TOO_LARGE
      const scanLimit = this.limiter.scanLimit(from.node.peer, request, stranger)
      const handler = this.handlers[type] as RequestHandler
      const response = { type, ...await handler.handle(from, request, done, scanLimit) }
      this.limiter.charge(from.node.peer, request, response, done, stranger, from.subnet)
      return served(response, 'ok')
    } catch (err) {
      if (admitted) {
        // the work done before the handler failed is paid for too
        this.limiter.charge(from.node.peer, request, undefined, done, stranger, from.subnet)
      }
      this.log('failed to answer %s from %p - %e', type, from.peerId, err)
      return served(refusal(type, err), 'error')
    }
  }
}

/** The ERROR answer to a request of `type` that failed with `err` */
function refusal (type: MessageType, err: unknown): Answer {
  return {
    type,
    status: Response.Status.ERROR,
    errorCode: errorCodeOf(err),
    retryAfterMs: err instanceof RateLimitedError ? err.retryAfterMs : undefined,
    stampDifficulty: err instanceof RateLimitedError ? err.stampDifficulty : undefined
  }
}
