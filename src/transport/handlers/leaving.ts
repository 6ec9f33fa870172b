/**
 * LEAVING: a neighbour stops gracefully and hands us its neighbours, so the ring closes at once.
 * Anyone else who says it leaves is only forgotten: the neighbours it names are not even decoded,
 * since decoding them stores their addresses, and a stranger would fill our peer store with
 * made-up peers by the thousand.
 */
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { LeavingRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class LeavingHandler implements RequestHandler<LeavingRequest> {
  constructor (private readonly init: RequestHandlersInit) {}

  async handle (from: Asker, request: LeavingRequest): Promise<Partial<Response>> {
    const { ringHandler } = this.init.node
    const neighbours = ringHandler.isNeighbour(from.node.peer)
      ? await this.init.wirePeers.decodeNeighbours(request.neighbours, from.peerId, from.connection)
      : { successors: [] }
    ringHandler.onLeaving(from.node, neighbours)
    return {}
  }
}
