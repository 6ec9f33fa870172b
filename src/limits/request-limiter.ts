/**
 * Per-peer rate limits of /chord/1.0.0. Every request is charged to the asking peer's budgets
 * before it reaches the ring: ring maintenance and lookups count requests, reads count requests,
 * STORE counts records and bytes of values, DELETE counts ids. A request any budget cannot pay
 * for is refused whole with `RateLimitedError` and charges nothing, so a batch too large for what
 * is left does not use up the room for smaller requests.
 */
import { RateLimitedError } from '../errors.js'
import { MessageType } from '../protocol/chord.js'
import {
  MAX_DELETED_IDS_PER_WINDOW,
  MAX_RATE_LIMITED_PEERS,
  MAX_READ_REQUESTS_PER_WINDOW,
  MAX_RING_REQUESTS_PER_WINDOW,
  MAX_STORED_BYTES_PER_WINDOW,
  MAX_STORED_RECORDS_PER_WINDOW,
  RATE_LIMIT_WINDOW
} from '../protocol/constants.js'
import { PeerBudget } from './peer-budget.js'
import type { ValidRequest } from '../protocol/validate.js'

export interface RequestLimits {
  /** ms of one counting window */
  windowMs: number
  /** PING, GET_NEIGHBOURS, NOTIFY, FIND_SUCCESSOR, LEAVING per peer per window */
  ringRequests: number
  /** FETCH, RANGE_DIGEST, RANGE_SUMMARIES per peer per window */
  readRequests: number
  /** records in STOREs per peer per window */
  storedRecords: number
  /** bytes of record values in STOREs per peer per window */
  storedBytes: number
  /** ids in DELETEs per peer per window */
  deletedIds: number
  /** peers remembered at once, per budget */
  maxPeers: number
}

export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = {
  windowMs: RATE_LIMIT_WINDOW,
  ringRequests: MAX_RING_REQUESTS_PER_WINDOW,
  readRequests: MAX_READ_REQUESTS_PER_WINDOW,
  storedRecords: MAX_STORED_RECORDS_PER_WINDOW,
  storedBytes: MAX_STORED_BYTES_PER_WINDOW,
  deletedIds: MAX_DELETED_IDS_PER_WINDOW,
  maxPeers: MAX_RATE_LIMITED_PEERS
}

type Budget = 'ringRequests' | 'readRequests' | 'storedRecords' | 'storedBytes' | 'deletedIds'

export class RequestLimiter {
  readonly limits: Readonly<RequestLimits>
  private readonly budgets: Record<Budget, PeerBudget>

  constructor (limits: Partial<RequestLimits> = {}) {
    this.limits = { ...DEFAULT_REQUEST_LIMITS, ...limits }
    const budget = (points: number): PeerBudget => new PeerBudget({ points, windowMs: this.limits.windowMs, maxPeers: this.limits.maxPeers })
    this.budgets = {
      ringRequests: budget(this.limits.ringRequests),
      readRequests: budget(this.limits.readRequests),
      storedRecords: budget(this.limits.storedRecords),
      storedBytes: budget(this.limits.storedBytes),
      deletedIds: budget(this.limits.deletedIds)
    }
  }

  /**
   * Charge `request` to `peer`'s budgets.
   *
   * @throws RateLimitedError when one of them cannot pay for it; then nothing is charged
   */
  admit (peer: string, request: ValidRequest): void {
    const costs = costsOf(request)
    for (const [name, cost] of costs) {
      const left = this.budgets[name].remaining(peer)
      if (cost > left) {
        throw new RateLimitedError(`${name}: ${cost} asked, ${left} of ${this.limits[name]} left in this ${this.limits.windowMs} ms window`)
      }
    }
    for (const [name, cost] of costs) {
      this.budgets[name].spend(peer, cost)
    }
  }

  /** Peers whose budgets are remembered now (the most over all budgets) */
  get trackedPeers (): number {
    return Math.max(...Object.values(this.budgets).map(budget => budget.trackedPeers))
  }
}

/** What a request costs, budget by budget */
function costsOf (request: ValidRequest): Array<[Budget, number]> {
  switch (request.type) {
    case MessageType.PING:
    case MessageType.GET_NEIGHBOURS:
    case MessageType.NOTIFY:
    case MessageType.FIND_SUCCESSOR:
    case MessageType.LEAVING:
      return [['ringRequests', 1]]
    case MessageType.FETCH:
    case MessageType.RANGE_DIGEST:
    case MessageType.RANGE_SUMMARIES:
      return [['readRequests', 1]]
    case MessageType.STORE:
      return [
        ['storedRecords', request.records.length],
        ['storedBytes', request.records.reduce((bytes, record) => bytes + record.value.byteLength, 0)]
      ]
    case MessageType.DELETE:
      return [['deletedIds', request.deletion.ids.length]]
  }
}
