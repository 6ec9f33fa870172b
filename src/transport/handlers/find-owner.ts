/**
 * FIND_OWNER: a recursive lookup (chord/recursive-lookup.ts). The ring says whether we own the
 * target: then we answer with our neighbours, signed for the asker's nonce; else the request goes
 * on to the node our table names, one hop fewer left, and its answer comes back as it came. How
 * many we pass on is capped whoever asks, since each one is charged to our own budget at the
 * next node.
 */
import { ChordError, ForbiddenError, LookupFailedError, RateLimitedError } from '../../errors.js'
import { statedNeighbours } from '../../chord/rpc.js'
import { PeerBudget } from '../../limits/peer-budget.js'
import { MAX_FORWARDED_LOOKUPS_PER_WINDOW, MAX_OWNER_ROUTE_HOPS, RATE_LIMIT_WINDOW, REQUEST_TIMEOUT } from '../constants.js'
import { signOwnerStatement } from '../owner-statement.js'
import { ringIdToWire, wireBytes } from '../ring-id.js'
import type { Asker, FindOwnerInit, RequestHandler, RequestHandlersInit } from './handler.js'
import type { Response } from '../../protocol/generated/chord.js'
import type { FindOwnerRequest } from '../validate.js'

/** The one key of the forwarding budget: it is the node's, not any asker's */
const ALL = 'all'

export class FindOwnerHandler implements RequestHandler<FindOwnerRequest> {
  private readonly forwarded: PeerBudget

  constructor (private readonly init: RequestHandlersInit) {
    this.forwarded = new PeerBudget({ points: init.findOwner?.maxForwardedPerWindow ?? MAX_FORWARDED_LOOKUPS_PER_WINDOW, windowMs: RATE_LIMIT_WINDOW, maxPeers: 1 })
  }

  async handle (from: Asker, request: FindOwnerRequest): Promise<Partial<Response>> {
    const findOwner = this.init.findOwner
    if (findOwner == null) {
      throw new ForbiddenError('this node takes no part in recursive lookups')
    }
    const step = this.init.node.ringHandler.onFindOwner(from.node, request.target)
    if ('owner' in step) {
      const neighbours = statedNeighbours(step.neighbours, request.successorCount)
      const statement = await signOwnerStatement(findOwner.privateKey, this.init.wirePeers, step.owner, neighbours, wireBytes(request.nonce), ringIdToWire(request.target))
      return { ownerStatement: statement, hops: 1 }
    }
    if (request.hopsLeft === 0) {
      throw new LookupFailedError('a FIND_OWNER ran out of hops before it reached the owner')
    }
    if (this.forwarded.remaining(ALL) < 1) {
      throw new RateLimitedError(`this node passes on at most ${this.forwarded.points} lookups per ${RATE_LIMIT_WINDOW} ms`, { retryAfterMs: this.forwarded.msBeforeRefill(ALL) })
    }
    this.forwarded.spend(ALL, 1)
    const deadline = AbortSignal.timeout(passOnTimeout(findOwner.requestTimeout ?? REQUEST_TIMEOUT, request.hopsLeft))
    let passed: Awaited<ReturnType<FindOwnerInit['forwarder']['passOn']>>
    try {
      passed = await findOwner.forwarder.passOn(step.next, request, { signal: deadline })
    } catch (err) {
      // an answer that is an error came from a node that is there; no answer, or no connection, did not
      if (deadline.aborted || !(err instanceof ChordError)) {
        this.init.node.ringHandler.onPassedOnUnanswered(step.next)
      }
      throw err
    }
    // a relay after us that overstates its count cannot push ours past what the asker accepts
    return { ownerStatement: passed.ownerStatement, hops: Math.min(passed.hops + 1, MAX_OWNER_ROUTE_HOPS + 1) }
  }
}

/**
 * How long we wait for the node we pass a request on to: less the deeper the request is (the fewer
 * hops it has left), by a step of a hop's share of the request timeout, so that when a node on the
 * way does not answer, the node before it gives up first, says so to its own asker in time, and
 * only it takes the silent node out of its routing
 */
export function passOnTimeout (requestTimeout: number, hopsLeft: number): number {
  return requestTimeout * hopsLeft / (MAX_OWNER_ROUTE_HOPS + 1)
}
