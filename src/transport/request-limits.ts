/**
 * Per-peer rate limits of /chord/1.0.0. Every request is charged to the asking peer's budgets
 * before it is answered, by what it costs the node rather than by its count where the two differ:
 *
 * - ring maintenance and lookups count requests, reads count requests;
 * - STORE counts the records and bytes it carries (hashing and checking them), and afterwards the
 *   bytes it made the store write (disk) and the owner signatures of its deletions that were new
 *   to the node and had to be checked;
 * - DELETE counts the ids it names and one signature check; a STORE of owned records one check
 *   per record;
 * - FETCH, RANGE_DIGEST and RANGE_SUMMARIES count, afterwards, the records they read, and so does
 *   the backlog a mailbox subscription reads (/chord/mailbox/1.0.0).
 *
 * Costs known only once the work is done are charged after it, by what was done (a request
 * refused before it read anything costs no records), and may overdraw a budget; a request that
 * draws on a spent budget is refused until the peer's window ends.
 *
 * PeerIds cost nothing, so the strangers of one subnet (not ring neighbours, not over loopback)
 * are also charged together, to budgets `peersPerSubnet` times a peer's: the 64 connections a
 * subnet may hold buy no more than that many peers' work.
 *
 * The records range scans (RANGE_DIGEST, RANGE_SUMMARIES) read for
 * strangers (askers that are not ring neighbours) are also counted for all of them together, each
 * stranger a share of that: more identities do not buy more whole-store scans. A stranger's scan
 * reads no more than is left of its share and of that (`scanLimit`), and one whose range holds
 * more is refused TOO_LARGE, so neither is ever overdrawn, and one scan stays short. Ring neighbours,
 * whose anti-entropy and handoffs are what scans ranges, are counted by their own budgets only, so
 * strangers cannot starve them. A FETCH or a subscription's backlog (one key's records, a page at a
 * time) is not in it: those are the reads clients and mailbox owners make, and a budget strangers
 * share would let a few dozen identities refuse everyone's.
 */
import { PeerBudgets } from '../limits/peer-budgets.js'
import { SharedBudget } from '../limits/shared-budget.js'
import { MessageType } from '../protocol/generated/chord.js'
import {
  MAX_CARRIED_CHECKS_PER_WINDOW,
  MAX_DELETED_IDS_PER_WINDOW,
  MAX_RATE_LIMITED_PEERS,
  MAX_READ_REQUESTS_PER_WINDOW,
  MAX_RING_REQUESTS_PER_WINDOW,
  MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW,
  MAX_SCANNED_RECORDS_PER_WINDOW,
  MAX_SIGNATURE_CHECKS_PER_WINDOW,
  MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW,
  MAX_STORED_BYTES_PER_WINDOW,
  MAX_STORED_RECORDS_PER_WINDOW,
  LOOKUP_REQUEST_COST,
  FIND_OWNER_REQUEST_COST,
  CARRIED_RECORD_REQUEST_COST,
  MAX_WRITTEN_BYTES_PER_WINDOW,
  RATE_LIMIT_WINDOW,
  SUBNET_BUDGET_PEERS,
  WRITE_BATCH_COST
} from './constants.js'
import type { ValidRequest } from './validate.js'
import type { Response } from '../protocol/generated/chord.js'

export interface RequestLimits {
  /** ms of one counting window */
  windowMs: number
  /** PING, GET_NEIGHBOURS, NOTIFY, FIND_SUCCESSOR, LEAVING per peer per window */
  ringRequests: number
  /** FETCH, RANGE_DIGEST, RANGE_SUMMARIES per peer per window */
  readRequests: number
  /** records read to answer FETCH, RANGE_DIGEST, RANGE_SUMMARIES per peer per window */
  scannedRecords: number
  /** records in STOREs per peer per window */
  storedRecords: number
  /** bytes of record values in STOREs per peer per window */
  storedBytes: number
  /** bytes STOREs made the store write per peer per window */
  writtenBytes: number
  /** ids in DELETEs per peer per window */
  deletedIds: number
  /** signature verifications per peer per window (DELETE, owned records, mailbox proofs) */
  signatureChecks: number
  /** signature verifications of records a peer hands over carried by FIND_OWNER, per window */
  carriedChecks: number
  /** records RANGE_DIGEST and RANGE_SUMMARIES read for all peers that are not ring neighbours together per window */
  strangersScannedRecords: number
  /** records they read for one peer that is not a ring neighbour per window, of `strangersScannedRecords` */
  scannedRecordsPerStranger: number
  /** peers remembered at once, per budget */
  maxPeers: number
  /** the peers' worth of each budget above the strangers of one subnet (IPv4 /24, IPv6 /48) may spend together */
  peersPerSubnet: number
}

export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = {
  windowMs: RATE_LIMIT_WINDOW,
  ringRequests: MAX_RING_REQUESTS_PER_WINDOW,
  readRequests: MAX_READ_REQUESTS_PER_WINDOW,
  scannedRecords: MAX_SCANNED_RECORDS_PER_WINDOW,
  storedRecords: MAX_STORED_RECORDS_PER_WINDOW,
  storedBytes: MAX_STORED_BYTES_PER_WINDOW,
  writtenBytes: MAX_WRITTEN_BYTES_PER_WINDOW,
  deletedIds: MAX_DELETED_IDS_PER_WINDOW,
  signatureChecks: MAX_SIGNATURE_CHECKS_PER_WINDOW,
  carriedChecks: MAX_CARRIED_CHECKS_PER_WINDOW,
  strangersScannedRecords: MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW,
  scannedRecordsPerStranger: MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW,
  maxPeers: MAX_RATE_LIMITED_PEERS,
  peersPerSubnet: SUBNET_BUDGET_PEERS
}

export type Budget = 'ringRequests' | 'readRequests' | 'scannedRecords' | 'storedRecords' | 'storedBytes' | 'writtenBytes' | 'deletedIds' | 'signatureChecks' | 'carriedChecks'

/** What a handler reports it did, for the costs charged after it */
export interface WorkDone {
  /** bytes the store wrote */
  writtenBytes?: number
  /** records read to answer (where the response does not tell) */
  scannedRecords?: number
  /** signatures checked (a STORE's deletions new to the node) */
  signatureChecks?: number
}

export interface RequestLimiterInit {
  /** whether `peer` is one of our ring neighbours; without it, every peer is a stranger */
  isNeighbour?(peer: string): boolean
}

export class RequestLimiter {
  readonly limits: Readonly<RequestLimits>
  private readonly budgets: PeerBudgets<Budget>
  /** the budgets of each subnet's strangers together */
  private readonly subnets: PeerBudgets<Budget>
  private readonly strangersScans: SharedBudget
  private readonly isNeighbour?: (peer: string) => boolean

  constructor (limits: Partial<RequestLimits> = {}, init: RequestLimiterInit = {}) {
    this.limits = { ...DEFAULT_REQUEST_LIMITS, ...limits }
    const { windowMs, maxPeers, strangersScannedRecords, scannedRecordsPerStranger, peersPerSubnet, ...points } = this.limits
    this.budgets = new PeerBudgets<Budget>(points, { windowMs, maxPeers })
    const subnetPoints = Object.fromEntries(Object.entries<number>(points).map(([name, perPeer]) => [name, perPeer * peersPerSubnet])) as Record<Budget, number>
    this.subnets = new PeerBudgets<Budget>(subnetPoints, { windowMs, maxPeers, subject: subnet => `the peers of ${subnet} together` })
    this.strangersScans = new SharedBudget({
      work: 'records range scans read for peers that are not ring neighbours',
      perWindow: strangersScannedRecords,
      perAskerPerWindow: scannedRecordsPerStranger,
      windowMs,
      maxAskers: maxPeers
    })
    this.isNeighbour = init.isNeighbour
  }

  /** Whether `peer` is not a ring neighbour: the records its range scans read count with every stranger's */
  isStranger (peer: string): boolean {
    return this.isNeighbour?.(peer) !== true
  }

  /**
   * Charge `request` to `peer`'s budgets, and a `stranger`'s to its `subnet`'s too. A range scan
   * of a stranger (asked once per request and passed to `scanLimit` and `charge` too, as a peer's
   * standing may change meanwhile) also needs some of the strangers' budget.
   *
   * @throws RateLimitedError when one of them cannot pay for it (or one it will be charged to
   *   afterwards is spent); then nothing is charged
   */
  admit (peer: string, request: ValidRequest, extra: Array<[Budget, number]> = [], stranger = this.isStranger(peer), subnet?: string): void {
    const { costs, after } = costsOf(request)
    if (isRangeScan(request) && stranger) {
      this.strangersScans.check(peer)
    }
    this.admitWith(peer, stranger ? subnet : undefined, [...costs, ...extra], after)
  }

  /** Charge what answering `request` turned out to cost, from its response and what the handler did */
  charge (peer: string, request: ValidRequest, response: Partial<Response> | undefined, done: WorkDone = {}, stranger = this.isStranger(peer), subnet?: string): void {
    const costs = costsAfter(request, response, done)
    this.chargeWith(peer, stranger ? subnet : undefined, costs)
    const scanned = costs.find(([name]) => name === 'scannedRecords')?.[1] ?? 0
    if (isRangeScan(request) && stranger && scanned > 0) {
      this.strangersScans.spend(peer, scanned)
    }
  }

  /**
   * Records `request` may read for `peer`: for a stranger's range scan, what is left of its share
   * and of what all strangers' scans may read; for anything else, no limit (undefined).
   */
  scanLimit (peer: string, request: ValidRequest, stranger = this.isStranger(peer)): number | undefined {
    return isRangeScan(request) && stranger ? this.strangersScans.remaining(peer) : undefined
  }

  /**
   * Admit the check of a record `peer` (of `subnet`) handed over carried by a FIND_OWNER
   *
   * @throws RateLimitedError when the peer's or its subnet's carried checks for this window are spent
   */
  admitCarriedCheck (peer: string, subnet?: string): void {
    this.admitWith(peer, this.togetherIn(peer, subnet), [['carriedChecks', 1]])
  }

  /**
   * Admit a signature check made outside /chord/1.0.0 (a mailbox subscriber's proof).
   *
   * @throws RateLimitedError when the peer's or its subnet's checks for this window are spent
   */
  admitSignatureCheck (peer: string, subnet?: string): void {
    this.admitWith(peer, this.togetherIn(peer, subnet), [['signatureChecks', 1]])
  }

  /**
   * Admit a read of records made outside /chord/1.0.0 (a mailbox subscription's backlog), to be
   * charged with `chargeScannedRecords` once done.
   *
   * @throws RateLimitedError when the peer's or its subnet's scanned records for this window are spent
   */
  admitScan (peer: string, subnet?: string): void {
    this.admitWith(peer, this.togetherIn(peer, subnet), [], ['scannedRecords'])
  }

  /** Charge records read outside /chord/1.0.0, whatever is left (the read is done) */
  chargeScannedRecords (peer: string, records: number, subnet?: string): void {
    this.chargeWith(peer, this.togetherIn(peer, subnet), [['scannedRecords', records]])
  }

  /** The subnet `peer` is charged together with: its own, unless it is a ring neighbour */
  private togetherIn (peer: string, subnet: string | undefined): string | undefined {
    return subnet != null && this.isStranger(peer) ? subnet : undefined
  }

  /** Charge `costs` to `peer` and to `subnet` (if any), once both can pay them; neither is charged otherwise */
  private admitWith (peer: string, subnet: string | undefined, costs: Array<[Budget, number]>, needs: Budget[] = []): void {
    this.budgets.check(peer, costs, needs)
    if (subnet != null) {
      this.subnets.check(subnet, costs, needs)
      this.subnets.charge(subnet, costs)
    }
    this.budgets.charge(peer, costs)
  }

  /** Charge `costs` to `peer` and to `subnet` (if any), whatever is left: work already done */
  private chargeWith (peer: string, subnet: string | undefined, costs: Array<[Budget, number]>): void {
    this.budgets.charge(peer, costs)
    if (subnet != null) {
      this.subnets.charge(subnet, costs)
    }
  }

  /** Peers whose budgets are remembered now (the most over all budgets) */
  get trackedPeers (): number {
    return this.budgets.trackedPeers
  }
}

/** Whether `request` reads a whole ring range: the work only ring neighbours have reason to ask for */
function isRangeScan (request: ValidRequest): boolean {
  return request.type === MessageType.RANGE_DIGEST || request.type === MessageType.RANGE_SUMMARIES
}

/** What a request costs before it is answered, and the budgets it is charged to afterwards */
function costsOf (request: ValidRequest): { costs: Array<[Budget, number]>, after: Budget[] } {
  switch (request.type) {
    case MessageType.PING:
    case MessageType.GET_NEIGHBOURS:
    case MessageType.NOTIFY:
    case MessageType.FIND_SUCCESSOR:
    case MessageType.LEAVING:
      return { costs: [['ringRequests', 1]], after: [] }
    case MessageType.FIND_OWNER:
      // a request passed on, or a signature (and a check of the carried record's)
      return { costs: [['ringRequests', FIND_OWNER_REQUEST_COST + (request.carried == null ? 0 : CARRIED_RECORD_REQUEST_COST)]], after: [] }
    case MessageType.LOOKUP:
      // a whole lookup: as many requests as the node itself sends for it, at most
      return { costs: [['ringRequests', LOOKUP_REQUEST_COST]], after: [] }
    case MessageType.FETCH:
    case MessageType.RANGE_DIGEST:
    case MessageType.RANGE_SUMMARIES:
      return { costs: [['readRequests', 1]], after: ['scannedRecords'] }
    case MessageType.STORE:
      return {
        costs: [
          ['storedRecords', request.records.length],
          ['storedBytes', request.records.reduce((bytes, record) => bytes + record.value.byteLength, 0)],
          // each owned record may cost a signature check (at most MAX_OWNED_RECORDS_PER_STORE)
          ...(request.namespace === 'owned' ? [['signatureChecks', request.records.length] as [Budget, number]] : [])
        ],
        // deletions are checked only when new to the node: charged afterwards, refused once spent
        after: request.deletions.length > 0 ? ['writtenBytes', 'signatureChecks'] : ['writtenBytes']
      }
    case MessageType.DELETE:
      return { costs: [['deletedIds', request.deletion.ids.length], ['signatureChecks', 1]], after: [] }
  }
}

/**
 * What answering a request turned out to cost. Reads are what the handler counted (`done`),
 * refused or not: a range scan refused before it read anything (a namespace that lists its
 * records for nobody but their primary) costs nothing, one refused as too large what it read
 */
function costsAfter (request: ValidRequest, response: Partial<Response> | undefined, done: WorkDone): Array<[Budget, number]> {
  switch (request.type) {
    case MessageType.FETCH:
      // every record of the key is read to cut a page from them
      return [['scannedRecords', done.scannedRecords ?? response?.records?.length ?? 0]]
    case MessageType.RANGE_DIGEST:
      return [['scannedRecords', done.scannedRecords ?? response?.count ?? 0]]
    case MessageType.RANGE_SUMMARIES:
      return [['scannedRecords', done.scannedRecords ?? response?.summaries?.length ?? 0]]
    case MessageType.STORE: {
      const written = done.writtenBytes ?? 0
      return [['writtenBytes', written > 0 ? written + WRITE_BATCH_COST : 0], ['signatureChecks', done.signatureChecks ?? 0]]
    }
    default:
      return []
  }
}
