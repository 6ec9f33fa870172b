/**
 * LEAVING: a neighbour stops gracefully and hands us its neighbours, so the ring closes at once.
 */
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { LeavingRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class LeavingHandler implements RequestHandler<LeavingRequest> {
  constructor (private readonly init: RequestHandlersInit) {}

  async handle (from: Asker, request: LeavingRequest): Promise<Partial<Response>> {
    const neighbours = await this.init.wirePeers.decodeNeighbours(request.neighbours, from.peerId)
    this.init.node.ringHandler.onLeaving(from.node, neighbours)
    return {}
  }
}
