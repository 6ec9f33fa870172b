/**
 * The listening side of /chord/1.0.0: reads requests from one stream, one at a time, hands each to
 * the ring and writes its answer.
 *
 * Who asked is the connection's remote peer, authenticated by Noise; nothing in a message can
 * change that. A frame that is oversized, truncated, undecodable or invalid resets the stream
 * before anything reaches the ring. A handler that throws is answered with an ERROR status, so the
 * caller gets a typed error rather than a silence. Each request is charged to the asking peer's
 * rate limits first; one over them is answered RATE_LIMITED and never reaches the ring.
 */
import { TimeoutError } from '@libp2p/interface'
import { UnexpectedEOFError } from '@libp2p/utils'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { ForbiddenError, NotStartedError } from '../errors.js'
import { MessageType, Namespace, Response } from '../protocol/chord.js'
import { FETCH_PAGE_BYTES, MAX_RECORDS_PER_MESSAGE } from '../protocol/constants.js'
import { errorCodeOf } from '../protocol/error-codes.js'
import { frameStream } from '../protocol/framing.js'
import { RequestLimiter } from '../limits/request-limiter.js'
import { toWireRecord, toWireSummary } from './wire-records.js'
import { wireBytes } from './ring-id.js'
import { decodeRequest } from '../protocol/validate.js'
import { ringIdOf } from './ring-id.js'
import type { WirePeers } from './wire-peers.js'
import type { ObservedRequest, RequestOutcome } from './observed-request.js'
import type { ChordRpcHandler, DeletionRpcHandler, NodeRef, RecordRpcHandler } from '../chord/rpc.js'
import type { ChordRecord } from '../storage/store.js'
import type { RequestLimits } from '../limits/request-limiter.js'
import type { ValidRequest } from '../protocol/validate.js'
import type { ComponentLogger, Connection, Logger, PeerId, Stream } from '@libp2p/interface'

export interface RequestServerComponents {
  logger: ComponentLogger
}

export interface RequestServerInit {
  handler: ChordRpcHandler & RecordRpcHandler
  /** the mailbox namespace's record store; without it, mailbox requests are refused */
  mailbox?: RecordRpcHandler & DeletionRpcHandler
  wirePeers: WirePeers
  /** ms a stream may go without a complete request before it is reset */
  idleTimeout: number
  /** per-peer rate limits; each one left out is its default (DEFAULT_REQUEST_LIMITS) */
  limits?: Partial<RequestLimits>
  /** told how each request we answered went */
  onServed?(request: ObservedRequest): void
}

export class RequestServer {
  private readonly init: RequestServerInit
  private readonly log: Logger
  private readonly serving = new Set<Stream>()
  private readonly limiter: RequestLimiter

  constructor (components: RequestServerComponents, init: RequestServerInit) {
    this.init = init
    this.log = components.logger.forComponent('libp2p-chord:transport:request-server')
    this.limiter = new RequestLimiter(init.limits)
  }

  /** Serve requests on `stream` until the remote closes it, goes idle or breaks the protocol */
  async serve (stream: Stream, connection: Connection): Promise<void> {
    const remotePeer = connection.remotePeer
    const from: NodeRef = { id: ringIdOf(remotePeer), peer: remotePeer.toString() }
    const framed = frameStream(stream)
    const onIdle = (): void => {
      stream.abort(new TimeoutError(`no request within ${this.init.idleTimeout} ms`))
    }
    let idleTimer = setTimeout(onIdle, this.init.idleTimeout)
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
        clearTimeout(idleTimer)
        idleTimer = setTimeout(onIdle, this.init.idleTimeout)

        const response = await this.answer(request, from, remotePeer)
        await framed.write(Response.encode(response))
      }
      await stream.close()
    } catch (err: any) {
      this.log('resetting stream %s from %p - %e', stream.id, remotePeer, err)
      stream.abort(err)
    } finally {
      clearTimeout(idleTimer)
      this.serving.delete(stream)
    }
  }

  /** Reset every stream being served: a node that stopped must not keep answering on open streams */
  stop (): void {
    for (const stream of this.serving) {
      stream.abort(new NotStartedError('the node stopped'))
    }
  }

  private async answer (request: ValidRequest, from: NodeRef, remotePeer: PeerId): Promise<Partial<Response>> {
    const { type } = request
    const started = performance.now()
    const observe = (outcome: RequestOutcome): void => {
      this.init.onServed?.({ type, outcome, durationMs: performance.now() - started })
    }
    try {
      // throws RateLimitedError, answered like any handler error, before the handler runs
      this.limiter.admit(from.peer, request)
      const response = { type, ...await this.dispatch(request, from, remotePeer) }
      observe('ok')
      return response
    } catch (err) {
      observe('error')
      this.log('failed to answer %s from %p - %e', type, remotePeer, err)
      return { type, status: Response.Status.ERROR, errorCode: errorCodeOf(err) }
    }
  }

  private async dispatch (request: ValidRequest, from: NodeRef, remotePeer: PeerId): Promise<Partial<Response>> {
    const { handler, wirePeers } = this.init

    switch (request.type) {
      case MessageType.PING:
        return {}
      case MessageType.GET_NEIGHBOURS:
        return { neighbours: await wirePeers.encodeNeighbours(handler.onGetNeighbours(from)) }
      case MessageType.NOTIFY:
        handler.onNotify(from)
        return {}
      case MessageType.FIND_SUCCESSOR: {
        const reply = handler.onFindSuccessor(from, request.target)
        return reply.done
          ? { done: true, peers: await wirePeers.encode(reply.successors) }
          : { done: false, peers: await wirePeers.encode(reply.closer) }
      }
      case MessageType.LEAVING:
        handler.onLeaving(from, await wirePeers.decodeNeighbours(request.neighbours, remotePeer))
        return {}
      case MessageType.STORE:
        await this.recordsOf(request.namespace).onStoreRecords(from, request.records)
        return {}
      case MessageType.FETCH:
        return fetchPage(await this.recordsOf(request.namespace).onFetchRecords(from, request.key), request.after)
      case MessageType.RANGE_DIGEST: {
        const { count, hash } = await this.recordsOf(request.namespace).onRangeDigest(from, request.start, request.end)
        return { count, digest: wireBytes(hash) }
      }
      case MessageType.RANGE_SUMMARIES:
        return { summaries: (await this.recordsOf(request.namespace).onRangeSummaries(from, request.start, request.end)).map(toWireSummary) }
      case MessageType.DELETE:
        if (request.namespace !== Namespace.MAILBOX || this.init.mailbox == null) {
          throw new ForbiddenError('only mailbox records are deleted, by their owner')
        }
        await this.init.mailbox.onDeleteRecords(from, request.deletion)
        return {}
    }
  }

  private recordsOf (namespace: Namespace): RecordRpcHandler {
    if (namespace === Namespace.RECORDS) {
      return this.init.handler
    }
    if (this.init.mailbox == null) {
      throw new ForbiddenError('this node keeps no mailboxes')
    }
    return this.init.mailbox
  }
}

/** One page of a key's records, in id order, after the id `after`, within the page budget */
function fetchPage (records: ChordRecord[], after?: Uint8Array): Partial<Response> {
  const afterHex = after == null ? '' : toHex(after)
  const remaining = records
    .map(record => ({ record, hex: toHex(record.id) }))
    .filter(({ hex }) => hex > afterHex)
    .sort((a, b) => (a.hex < b.hex ? -1 : 1))
  const page: ChordRecord[] = []
  let bytes = 0
  for (const { record } of remaining) {
    if (page.length === MAX_RECORDS_PER_MESSAGE || (page.length > 0 && bytes + record.value.byteLength > FETCH_PAGE_BYTES)) {
      break
    }
    page.push(record)
    bytes += record.value.byteLength
  }
  return {
    records: page.map(toWireRecord),
    more: page.length < remaining.length
  }
}

function toHex (bytes: Uint8Array): string {
  return uint8ArrayToString(bytes, 'base16')
}
