/**
 * The shape every /chord/1.0.0 request handler has, and what handlers are built from.
 */
import type { ServedNode } from './served-node.js'
import type { WorkDone } from '../request-limits.js'
import type { FindOwnerRequest, StoreRequest, ValidRequest } from '../validate.js'
import type { WirePeers } from '../wire-peers.js'
import type { NodeRef, RpcOptions } from '../../chord/rpc.js'
import type { OwnerStatement, Response } from '../../protocol/generated/chord.js'
import type { Connection, PeerId, PrivateKey } from '@libp2p/interface'

/** Who asked: the ring node of the connection's Noise-authenticated peer */
export interface Asker {
  node: NodeRef
  peerId: PeerId
  /** the connection it asked over: the peers it names are judged by where it is */
  connection: Connection
  /** the subnet it asked from, as the node's per-subnet limits count it; none for loopback */
  subnet?: string
}

export interface RequestHandler<Request extends ValidRequest = ValidRequest> {
  /**
   * The answer's fields (type and status are the server's); throws to answer with an ERROR.
   * A handler whose work the response does not show (bytes written, records read) tells it in
   * `done`, which the asker's budgets are charged with, whether it answers or throws. A range
   * scan reads at most `scanLimit` records (a stranger's: what is left of what it may have read),
   * and is refused TooLargeError when the range holds that many; without it, no limit.
   */
  handle(from: Asker, request: Request, done: WorkDone, scanLimit?: number): Promise<Partial<Response>>
}

export interface RequestHandlersInit {
  node: ServedNode
  wirePeers: WirePeers
  /** what recursive lookups need; without it, FIND_OWNER is refused (FORBIDDEN) */
  findOwner?: FindOwnerInit
  /** LOOKUPs run per RATE_LIMIT_WINDOW, whoever sent them; default MAX_DELEGATED_LOOKUPS_PER_WINDOW */
  maxDelegatedPerWindow?: number
  /** LOOKUPs run per RATE_LIMIT_WINDOW for one asker; default MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW */
  maxDelegatedPerAskerPerWindow?: number
  /**
   * answers a STORE as if `from` had sent it, charged to its budgets: how a record carried to us
   * by a FIND_OWNER is taken. Without it, carried records are left to their own STORE
   */
  storeFor?(from: Asker, request: StoreRequest): Promise<Partial<Response>>
  /**
   * charges the asker (and its subnet) the check of a carried record's origin signature we are
   * about to make; throws RateLimitedError, and nothing is checked, when its carried checks for
   * this window are spent
   */
  admitCarriedCheck?(asker: Asker): void
}

/** What a node needs to take part in recursive lookups (FIND_OWNER) */
export interface FindOwnerInit {
  /** our libp2p key: what we state as an owner is signed with it */
  privateKey: PrivateKey
  /** passes on the requests we do not own */
  forwarder: {
    passOn(to: NodeRef, request: FindOwnerRequest, options?: RpcOptions): Promise<{ ownerStatement: OwnerStatement, hops: number }>
  }
  /** FIND_OWNERs passed on per RATE_LIMIT_WINDOW, whoever sent them; default MAX_FORWARDED_LOOKUPS_PER_WINDOW */
  maxForwardedPerWindow?: number
  /** FIND_OWNERs passed on per RATE_LIMIT_WINDOW for one asker; default MAX_FORWARDED_LOOKUPS_PER_ASKER_PER_WINDOW */
  maxForwardedPerAskerPerWindow?: number
  /** ms our own requests may take (see `passOnTimeout`); default REQUEST_TIMEOUT */
  requestTimeout?: number
  /** ms we hold an answer for the write of the record it carries; default CARRIED_STORE_WAIT */
  carriedStoreWait?: number
  /** ms a request waits for a place among those in flight to the next node; default MAX_PASS_ON_QUEUE_WAIT */
  passOnQueueWait?: number
}
