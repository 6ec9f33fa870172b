/**
 * FIND_OWNER: a recursive lookup (chord/recursive-lookup.ts). The ring says whether we own the
 * target: then we answer with our neighbours, signed for the asker's nonce; else the request goes
 * on to the node our table names, one hop fewer left (none, when that node is the one we take to
 * own it), and its answer comes back as it came. A request may carry a record of the target's
 * key, signed by its origin: the owner stores it as a STORE from the node that handed it the
 * request before it answers, and says so in its statement.
 *
 * Each request we pass on is charged to our own budget at the next node and holds one of our
 * streams to it until the rest of the way answers, so what we pass on is capped: per asker and in
 * all per window, and in flight per next node (well under our streams to it, which our own
 * maintenance needs too), with a short wait for a place when those are taken.
 */
import { ForbiddenError, LookupFailedError, RateLimitedError, RequestTimeoutError } from '../../errors.js'
import { statedNeighbours } from '../../chord/rpc.js'
import { KeyedSlots } from '../../limits/keyed-slots.js'
import { SharedBudget } from '../../limits/shared-budget.js'
import {
  CARRIED_STORE_WAIT,
  MAX_CARRIED_WRITES_IN_FLIGHT,
  MAX_FORWARDED_LOOKUPS_PER_ASKER_PER_WINDOW,
  MAX_FORWARDED_LOOKUPS_PER_WINDOW,
  MAX_OWNER_ROUTE_HOPS,
  MAX_PASS_ON_QUEUE_WAIT,
  MAX_PASSED_ON_IN_FLIGHT_PER_PEER,
  MAX_PASSED_ON_WAITING_PER_PEER,
  MAX_RATE_LIMITED_PEERS,
  MIN_PASS_ON_WAIT,
  RATE_LIMIT_WINDOW,
  REQUEST_TIMEOUT
} from '../constants.js'
import { canStateOwnership, signOwnerStatement } from '../owner-statement.js'
import { MessageType, Response } from '../../protocol/generated/chord.js'
import { carriedStoreVerifies } from '../carried-store.js'
import { ringIdToWire, wireBytes } from '../ring-id.js'
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { CarriedStore } from '../carried-store.js'
import type { FindOwnerRequest } from '../validate.js'

export class FindOwnerHandler implements RequestHandler<FindOwnerRequest> {
  private readonly forwarded: SharedBudget
  /** requests passed on and not yet answered, and those waiting to be, by the node they go to */
  private readonly passing: KeyedSlots
  /** carried records being written, answered or not */
  private carriedWrites = 0

  constructor (private readonly init: RequestHandlersInit) {
    this.forwarded = new SharedBudget({
      work: 'lookups passed on',
      perWindow: init.findOwner?.maxForwardedPerWindow ?? MAX_FORWARDED_LOOKUPS_PER_WINDOW,
      perAskerPerWindow: init.findOwner?.maxForwardedPerAskerPerWindow ?? MAX_FORWARDED_LOOKUPS_PER_ASKER_PER_WINDOW,
      windowMs: RATE_LIMIT_WINDOW,
      maxAskers: MAX_RATE_LIMITED_PEERS
    })
    const queueWait = init.findOwner?.passOnQueueWait ?? MAX_PASS_ON_QUEUE_WAIT
    this.passing = new KeyedSlots({
      places: MAX_PASSED_ON_IN_FLIGHT_PER_PEER,
      maxWaitMs: queueWait,
      tooLong: next => new RateLimitedError(`this node's lookups passed on to ${next} left no place within ${queueWait} ms`)
    })
  }

  async handle (from: Asker, request: FindOwnerRequest): Promise<Partial<Response>> {
    const findOwner = this.init.findOwner
    if (findOwner == null) {
      throw new ForbiddenError('this node takes no part in recursive lookups')
    }
    const step = this.init.node.ringHandler.onFindOwner(from.node, request.target)
    if ('owner' in step) {
      if (!canStateOwnership(findOwner.privateKey)) {
        throw new ForbiddenError(`this node's ${findOwner.privateKey.type} key is not in its peer id: nobody could check what it states`)
      }
      const neighbours = statedNeighbours(step.neighbours, request.successorCount)
      const stored = request.carried == null ? undefined : await this.storeCarriedInTime(from, request.carried, request.nonce, findOwner.carriedStoreWait ?? CARRIED_STORE_WAIT)
      const statement = await signOwnerStatement(findOwner.privateKey, this.init.wirePeers, step.owner, neighbours, wireBytes(request.nonce), ringIdToWire(request.target), stored)
      return { ownerStatement: statement, hops: 1 }
    }
    if (request.hopsLeft === 0) {
      throw new LookupFailedError('a FIND_OWNER reached a node that does not own its target with no hops left')
    }
    this.admit(from.node.peer, step.next.peer)
    this.forwarded.spend(from.node.peer)
    const requestTimeout = findOwner.requestTimeout ?? REQUEST_TIMEOUT
    const waitMs = passOnTimeout(requestTimeout, request.hopsLeft)
    // the whole of our part, the wait for a place included, ends at this deadline; its timer goes
    // as soon as the answer comes (a relay passes on many lookups a second)
    const deadline = new AbortController()
    const timer = setTimeout(() => {
      deadline.abort(new RequestTimeoutError(`${step.next.peer} did not answer a lookup passed on within ${Math.round(waitMs)} ms`))
    }, waitMs)
    let passedOn = false
    try {
      const passed = await this.passing.run(step.next.peer, async () => {
        passedOn = true
        // the node we take to own the target must answer as its owner, not pass it on again
        return findOwner.forwarder.passOn(step.next, { ...request, hopsLeft: step.lastHop === true ? 0 : request.hopsLeft - 1 }, { signal: deadline.signal })
      }, { signal: deadline.signal })
      // a relay after us that overstates its count cannot push ours past what the asker accepts
      return { ownerStatement: passed.ownerStatement, hops: Math.min(passed.hops + 1, MAX_OWNER_ROUTE_HOPS + 1) }
    } catch (err) {
      // only silence blames the next node (an error, a reset stream, a failed dial come from or
      // about a node that is there, or is gone for the ring's maintenance to see), and only when
      // the wait was its share of a request's time, not a floor an asker's few hops raised it to
      if (passedOn && (deadline.signal.aborted || err instanceof RequestTimeoutError) && silenceBlames(requestTimeout, request.hopsLeft)) {
        this.init.node.ringHandler.onPassedOnUnanswered(step.next)
      }
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * What `storeCarried` resolves to within `waitMs`; undefined (not stored, as far as the asker is
   * told) after that, or at once when MAX_CARRIED_WRITES_IN_FLIGHT are being written already
   */
  private async storeCarriedInTime (from: Asker, carried: CarriedStore, nonce: Uint8Array, waitMs: number): Promise<Uint8Array | undefined> {
    if (this.carriedWrites >= MAX_CARRIED_WRITES_IN_FLIGHT) {
      return undefined
    }
    this.carriedWrites++
    const write = this.storeCarried(from, carried, nonce).catch(() => undefined).finally(() => { this.carriedWrites-- })
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<undefined>(resolve => { timer = setTimeout(resolve, waitMs, undefined) })
    try {
      return await Promise.race([write, late])
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Store the record a request carried, once its origin's signature shows it unchanged, as a STORE
   * from `from`, the node that handed us the request (its budgets, its writer's share, the
   * namespace's rules; never a neighbour's repair), and where the namespace counts senders (a
   * mailbox), as the origin's too: a carried record can do nothing its relay could not do with a
   * STORE of its own, nor its origin by a STORE of its own, and an origin's name, which costs
   * nothing to make, buys no budget or share of its own. Resolves to the record's id once stored;
   * undefined when it was not, whyever (a signature that does not check out, a refusal), or when
   * the STORE's answer would have said more than that it was taken (deletions that name it: its
   * recipient deleted it already): the asker then sends that STORE itself, and learns it from the
   * answer
   */
  private async storeCarried (from: Asker, carried: CarriedStore, nonce: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.init.storeFor == null) {
      return undefined
    }
    // a check a stranger could ask of us by the thousand: paid for from a budget of its own (the
    // sender is mostly a relay), and once it is spent, the asker is told nothing was stored and
    // STOREs the record itself
    this.init.admitCarriedCheck?.(from)
    if (!await carriedStoreVerifies(carried, nonce)) {
      return undefined
    }
    const answer = await this.init.storeFor(from, { type: MessageType.STORE, namespace: carried.namespace, records: [carried.record], deletions: [], carriedFor: carried.origin.toString() })
    const taken = answer.status !== Response.Status.ERROR && answer.stored?.declined.length === 0 && answer.stored.deletions.length === 0
    return taken ? carried.record.id : undefined
  }

  /** @throws RateLimitedError when the asker's share, the node's budget or the places in flight to `next` and waiting for it are spent */
  private admit (asker: string, next: string): void {
    this.forwarded.check(asker)
    if (this.passing.size(next) >= MAX_PASSED_ON_IN_FLIGHT_PER_PEER + MAX_PASSED_ON_WAITING_PER_PEER) {
      throw new RateLimitedError(`this node has ${MAX_PASSED_ON_IN_FLIGHT_PER_PEER} lookups passed on to ${next} awaiting an answer already, and ${MAX_PASSED_ON_WAITING_PER_PEER} waiting`)
    }
  }
}

/**
 * How long we wait for the node we pass a request on to: less the deeper the request is (the fewer
 * hops it has left), by a step of a hop's share of the request timeout, so that when a node on the
 * way does not answer, the node before it gives up first, says so to its own asker in time, and
 * only it takes the silent node out of its routing. Never less than MIN_PASS_ON_WAIT: an asker
 * that sends few hops cannot make us give up on a healthy node at once
 */
export function passOnTimeout (requestTimeout: number, hopsLeft: number): number {
  return Math.max(MIN_PASS_ON_WAIT, requestTimeout * hopsLeft / (MAX_OWNER_ROUTE_HOPS + 1))
}

/**
 * Whether a node that did not answer within `passOnTimeout` is taken to have failed: only when the
 * wait was the request's own share of time. A wait raised to MIN_PASS_ON_WAIT (few hops left) ends
 * at the same moment at every node on the way, and the node before the silent one would not be
 * the only one to give up: the others would blame nodes that are there
 */
export function silenceBlames (requestTimeout: number, hopsLeft: number): boolean {
  return requestTimeout * hopsLeft / (MAX_OWNER_ROUTE_HOPS + 1) >= MIN_PASS_ON_WAIT
}
