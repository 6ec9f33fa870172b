/**
 * Per-peer rate limits of /chord/1.0.0. Every request is charged to the asking peer's budgets
 * before it is answered: ring maintenance and lookups count requests, reads count requests,
 * STORE counts records and bytes of values, DELETE counts ids.
 */
import { PeerBudgets } from '../limits/peer-budgets.js'
import { MessageType } from '../protocol/generated/chord.js'
import {
  MAX_DELETED_IDS_PER_WINDOW,
  MAX_RATE_LIMITED_PEERS,
  MAX_READ_REQUESTS_PER_WINDOW,
  MAX_RING_REQUESTS_PER_WINDOW,
  MAX_STORED_BYTES_PER_WINDOW,
  MAX_STORED_RECORDS_PER_WINDOW,
  LOOKUP_REQUEST_COST,
  RATE_LIMIT_WINDOW
} from './constants.js'
import type { ValidRequest } from './validate.js'

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
  private readonly budgets: PeerBudgets<Budget>

  constructor (limits: Partial<RequestLimits> = {}) {
    this.limits = { ...DEFAULT_REQUEST_LIMITS, ...limits }
    const { windowMs, maxPeers, ...points } = this.limits
    this.budgets = new PeerBudgets<Budget>(points, { windowMs, maxPeers })
  }

  /**
   * Charge `request` to `peer`'s budgets.
   *
   * @throws RateLimitedError when one of them cannot pay for it; then nothing is charged
   */
  admit (peer: string, request: ValidRequest): void {
    this.budgets.admit(peer, costsOf(request))
  }

  /** Peers whose budgets are remembered now (the most over all budgets) */
  get trackedPeers (): number {
    return this.budgets.trackedPeers
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
    case MessageType.LOOKUP:
      // a whole lookup: as many requests as the node itself sends for it, at most
      return [['ringRequests', LOOKUP_REQUEST_COST]]
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
