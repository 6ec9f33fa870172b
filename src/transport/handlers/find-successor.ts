/**
 * FIND_SUCCESSOR: one step of an iterative lookup: the target's successor and the nodes after it
 * when we know them (done; no more than the asker wants), else the nodes we know closest before
 * the target.
 */
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { FindSuccessorRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class FindSuccessorHandler implements RequestHandler<FindSuccessorRequest> {
  constructor (private readonly init: RequestHandlersInit) {}

  async handle (from: Asker, request: FindSuccessorRequest): Promise<Partial<Response>> {
    const reply = this.init.node.ringHandler.onFindSuccessor(from.node, request.target)
    return reply.done
      ? { done: true, peers: await this.init.wirePeers.encode(reply.successors.slice(0, request.successorCount)) }
      : { done: false, peers: await this.init.wirePeers.encode(reply.closer) }
  }
}
