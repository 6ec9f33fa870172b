/**
 * GET_NEIGHBOURS: our predecessor and successor list, what a stabilize round asks its successor,
 * with their digest (see PING).
 */
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { GetNeighboursRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class GetNeighboursHandler implements RequestHandler<GetNeighboursRequest> {
  constructor (private readonly init: RequestHandlersInit) {}

  async handle (from: Asker, _request: GetNeighboursRequest): Promise<Partial<Response>> {
    const { digest, ...neighbours } = this.init.node.ringHandler.onGetNeighbours(from.node)
    return { neighbours: await this.init.wirePeers.encodeNeighbours(neighbours), neighboursDigest: digest }
  }
}
