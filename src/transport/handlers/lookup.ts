/**
 * LOOKUP: a whole lookup run for the asker (a client that should not dial every node on the way),
 * answered with the target's successors. Only ring members run them.
 */
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { LookupRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class LookupHandler implements RequestHandler<LookupRequest> {
  constructor (private readonly init: RequestHandlersInit) {}

  async handle (from: Asker, request: LookupRequest): Promise<Partial<Response>> {
    const successors = await this.init.node.ringHandler.onDelegatedLookup(from.node, request.target)
    return { done: true, peers: await this.init.wirePeers.encode(successors) }
  }
}
