/**
 * PING: a liveness check, answered with an OK that carries the digest of our neighbours, so that
 * our predecessor learns from its successor checks whether the neighbours it copied changed. A
 * ping from our successor may carry its own digest: its neighbours changed, and we may need to
 * copy them again.
 */
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { PingRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class PingHandler implements RequestHandler<PingRequest> {
  constructor (private readonly init: Pick<RequestHandlersInit, 'node'>) {}

  async handle (from: Asker, request: PingRequest): Promise<Partial<Response>> {
    const { neighboursDigest } = this.init.node.ringHandler.onPing(from.node, request.neighboursDigest)
    return { neighboursDigest }
  }
}
