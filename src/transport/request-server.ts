/**
 * The listening side of /chord/1.0.0: reads requests from one stream, one at a time, hands each to
 * the ring and writes its answer.
 *
 * Who asked is the connection's remote peer, authenticated by Noise; nothing in a message can
 * change that. A frame that is oversized, truncated, undecodable or invalid resets the stream
 * before anything reaches the ring. A handler that throws is answered with an ERROR status, so the
 * caller gets a typed error rather than a silence.
 */
import { TimeoutError } from '@libp2p/interface'
import { UnexpectedEOFError } from '@libp2p/utils'
import { NotStartedError } from '../errors.js'
import { MessageType, Response } from '../protocol/chord.js'
import { ErrorCode } from '../protocol/constants.js'
import { frameStream } from '../protocol/framing.js'
import { decodeRequest } from '../protocol/validate.js'
import { ringIdOf } from './ring-id.js'
import type { WirePeers } from './wire-peers.js'
import type { ChordRpcHandler, NodeRef } from '../chord/rpc.js'
import type { ValidRequest } from '../protocol/validate.js'
import type { ComponentLogger, Connection, Logger, PeerId, Stream } from '@libp2p/interface'

export interface RequestServerComponents {
  logger: ComponentLogger
}

export interface RequestServerInit {
  handler: ChordRpcHandler
  wirePeers: WirePeers
  /** ms a stream may go without a complete request before it is reset */
  idleTimeout: number
}

export class RequestServer {
  private readonly init: RequestServerInit
  private readonly log: Logger
  private readonly serving = new Set<Stream>()

  constructor (components: RequestServerComponents, init: RequestServerInit) {
    this.init = init
    this.log = components.logger.forComponent('libp2p-chord:transport:request-server')
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
    try {
      return { type, ...await this.dispatch(request, from, remotePeer) }
    } catch (err) {
      this.log.error('failed to answer %s from %p - %e', type, remotePeer, err)
      return { type, status: Response.Status.ERROR, errorCode: ErrorCode.INTERNAL }
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
    }
  }
}
