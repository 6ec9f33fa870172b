/**
 * LOOKUP: a whole lookup run for the asker (a client that should not dial every node on the way),
 * answered with the target's successors. Only ring members run them. Each sends requests of our
 * own, charged to our budget at the next nodes, so what we run for others is capped: per asker
 * and in all per window.
 */
import { SharedBudget } from '../../limits/shared-budget.js'
import { MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW, MAX_DELEGATED_LOOKUPS_PER_WINDOW, MAX_RATE_LIMITED_PEERS, RATE_LIMIT_WINDOW } from '../constants.js'
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { LookupRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class LookupHandler implements RequestHandler<LookupRequest> {
  private readonly delegated: SharedBudget

  constructor (private readonly init: RequestHandlersInit) {
    this.delegated = new SharedBudget({
      work: 'lookups run for others',
      perWindow: init.maxDelegatedPerWindow ?? MAX_DELEGATED_LOOKUPS_PER_WINDOW,
      perAskerPerWindow: init.maxDelegatedPerAskerPerWindow ?? MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW,
      windowMs: RATE_LIMIT_WINDOW,
      maxAskers: MAX_RATE_LIMITED_PEERS
    })
  }

  async handle (from: Asker, request: LookupRequest): Promise<Partial<Response>> {
    this.delegated.check(from.node.peer)
    this.delegated.spend(from.node.peer)
    const successors = await this.init.node.ringHandler.onDelegatedLookup(from.node, request.target)
    return { done: true, peers: await this.init.wirePeers.encode(successors) }
  }
}
