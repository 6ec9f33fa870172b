/**
 * The only way the ring core reaches other nodes.
 *
 * `RingRpc` is what the core calls (outbound): the ring's own messages, and the record messages of
 * each namespace; `ChordRpcHandler` and `RecordRpcHandler` are what the core answers (inbound).
 * The libp2p implementation lives in `src/transport/`; the simulator in `test/helpers` implements
 * both in-process. Any rejection from a `ChordRpc` method means "that node did not
 * answer correctly in time": the core treats it as a failure of that node, never as a reason to
 * change its own state beyond routing around it.
 */
import type { RingId } from './id.js'
import type { ChordRecord, RangeDigest, RecordSummary, ScanOptions } from './record.js'
import type { PositionProof } from './ring-position.js'

/** A node on the ring: its position and an opaque transport address (a PeerId string on libp2p) */
export interface NodeRef {
  readonly id: RingId
  readonly peer: string
  /** how the node's position was minted (ring-position.ts); none for the plain position sha256(identity) */
  readonly proof?: PositionProof
}

export interface Neighbours {
  predecessor?: NodeRef
  /** nearest first */
  successors: NodeRef[]
}

/**
 * A node's neighbours as it answers for them, with their digest: a number that changes whenever
 * its predecessor or successor list does, so that a node that copied them can later ask, with a
 * ping, whether they are still the same. Absent from nodes that do not compute it.
 */
export interface NeighboursReply extends Neighbours {
  digest?: number
}

/** What a node answers a ping with: the digest of its neighbours (see `NeighboursReply`), when it has one */
export interface PingReply {
  neighboursDigest?: number
}

/**
 * One step of an iterative lookup, answered by the node asked:
 * - `done`: `successors[0]` is responsible for the id; the rest are the nodes that follow it
 *   (the id's replica set);
 * - otherwise `closer` lists nodes that precede the id more closely than the one asked, best
 *   first, so the caller can fall back when the best one is dead.
 */
export type FindSuccessorReply =
  | { done: true, successors: NodeRef[] }
  | { done: false, closer: NodeRef[] }

/**
 * What the owner of an id says of itself, answering a recursive lookup (`findOwner`): its
 * neighbours, which the transport vouches the owner itself stated for this request (on libp2p,
 * signed with its key for the asker's nonce), however many nodes relayed them.
 */
export interface OwnerStatement {
  owner: NodeRef
  neighbours: Neighbours
  /** how many nodes the request went through, the owner included: a measure, vouched for by no one */
  hops: number
  /** the owner stored the record the request carried (FindOwnerOptions.carry), as it vouches with the rest */
  stored?: true
}

/** An owner's neighbours as it states them to a recursive lookup that asked for `successorCount` of its successors (itself included) */
export function statedNeighbours (neighbours: Neighbours, successorCount?: number): Neighbours {
  return { ...neighbours, successors: neighbours.successors.slice(0, successorCount == null ? undefined : Math.max(successorCount - 1, 0)) }
}

/** What a node does with a recursive lookup: it owns the id and answers with its neighbours, or passes it on to `next` */
export type FindOwnerStep =
  | { owner: NodeRef, neighbours: Neighbours }
  /** `lastHop`: `next` is the node we take to own the id (our successor): it must answer as the owner, not pass the request on */
  | { next: NodeRef, lastHop?: true }

export interface RpcOptions {
  signal?: AbortSignal
}

export interface PingOptions extends RpcOptions {
  /**
   * Our own neighbours digest, when we ping our predecessor because our neighbours changed: it
   * compares it with the one it copied from us, and stabilizes at once if they differ
   */
  neighboursDigest?: number
}

export interface FindSuccessorOptions extends RpcOptions {
  /**
   * how many of the id's successors a done answer needs to carry (at least 1); default: all the
   * answering node keeps. Each one is a peer entry with its addresses to encode, send and check
   */
  successorCount?: number
}

/** A record a recursive lookup carries to the owner of its key (FindOwnerOptions.carry) */
export interface CarriedRecord {
  namespace: NamespaceName
  record: ChordRecord
}

export interface FindOwnerOptions extends FindSuccessorOptions {
  /**
   * a record of the id's key for the owner to store as it answers, as if we had sent it a STORE:
   * a write that does not wait for a connection to the owner (at most MAX_CARRIED_VALUE_BYTES)
   */
  carry?: CarriedRecord
}

export interface ChordRpc {
  /** the remote's predecessor and successor list (stabilize) */
  getNeighbours(to: NodeRef, options?: RpcOptions): Promise<NeighboursReply>
  /**
   * tell `to` that `self` (we) believes it is its predecessor. Who "we" are comes from the
   * authenticated connection; `self` adds the proof of our position, which `to` checks against it
   */
  notify(to: NodeRef, self: NodeRef, options?: RpcOptions): Promise<void>
  findSuccessor(to: NodeRef, id: RingId, options?: FindSuccessorOptions): Promise<FindSuccessorReply>
  /** we are leaving gracefully: here are our neighbours so `to` can close the ring at once */
  leaving(to: NodeRef, neighbours: Neighbours, options?: RpcOptions): Promise<void>
  /** liveness check; the answer says whether the remote's neighbours changed since we copied them */
  ping(to: NodeRef, options?: PingOptions): Promise<PingReply>
  /**
   * ask `to`, a ring member, to run a whole lookup of `id` and answer the id's successors (the
   * owner first): what a client does that should not dial every node on the way
   */
  delegateLookup(to: NodeRef, id: RingId, options?: RpcOptions): Promise<NodeRef[]>
  /**
   * a recursive lookup: `to`, and each node after it, passes the request to the node of its own
   * table nearest before `id` until the owner answers for itself. Rejects when the owner's
   * statement does not check out (or no node could take the request further)
   */
  findOwner(to: NodeRef, id: RingId, options?: FindOwnerOptions): Promise<OwnerStatement>
}

/** What a node answers; `from` is the sender as authenticated by the transport */
export interface ChordRpcHandler {
  /** `neighboursDigest`: the sender's, when it tells us that its neighbours changed (see PingOptions) */
  onPing(from: NodeRef, neighboursDigest?: number): PingReply
  onGetNeighbours(from: NodeRef): NeighboursReply
  onNotify(from: NodeRef): void
  onFindSuccessor(from: NodeRef, id: RingId): FindSuccessorReply
  onLeaving(from: NodeRef, neighbours: Neighbours): void
  /** whether `peer` is our predecessor or one of our successors: the only nodes whose LEAVING's neighbours we take in */
  isNeighbour(peer: string): boolean
  /** run a lookup for `from`; a client holds no position and refuses */
  onDelegatedLookup(from: NodeRef, id: RingId): Promise<NodeRef[]>
  /**
   * a recursive lookup reached us: we own `id` (our neighbours answer) or name the node to pass it
   * to; throws when we can do neither (a client, a node that knows no predecessor and no way on)
   */
  onFindOwner(from: NodeRef, id: RingId): FindOwnerStep
  /** the node we passed a recursive lookup on to gave no answer in time: stop routing through it, as a lookup that asked it would */
  onPassedOnUnanswered(node: NodeRef): void
}

/**
 * Record messages (replication, handoff, anti-entropy). Separate from `ChordRpc` so that the ring
 * can be tested alone; the libp2p service implements both over one protocol.
 */
export interface RecordRpc {
  /**
   * store records on `to` (and hand it owner-signed deletions, in namespaces that have them);
   * rejects if it refused the whole STORE (quota, invalid record), else resolves to what it did
   * not take
   */
  storeRecords(to: NodeRef, records: ChordRecord[], options?: StoreOptions): Promise<StoreAck>
  /** the live records `to` holds under one key */
  fetchRecords(to: NodeRef, key: Uint8Array, options?: RpcOptions): Promise<ChordRecord[]>
  /** a digest of what `to` holds in the ring interval (from, until] */
  rangeDigest(to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RangeDigest>
  /** what `to` holds in (from, until], without values; rejects when there are more than a reply may carry */
  rangeSummaries(to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RecordSummary[]>
}

export interface StoreOptions extends RpcOptions {
  /**
   * Owner-signed deletions sent with the records (a namespace whose owners delete records: the
   * mailbox's acknowledgements), so that a replica that was away when they went round drops what
   * they name. The receiver checks each signature itself.
   */
  deletions?: SignedDeletion[]
}

/**
 * What a node answered to a STORE it took. A record leaves a node only once every node of its new
 * replica set said it holds it: the ack says which records it did not take.
 */
export interface StoreAck {
  /**
   * Indexes (into the records sent) of the records the node turned away and would have to be
   * sent again: keys outside the range it keeps, records over their writer's share. Records it
   * drops because nobody needs them (expired, deleted by their owner, superseded) are not
   * declined. Undefined when the node did not say (a node of an earlier version): then none of the
   * records is known to be held.
   */
  declined?: number[]
  /** owner-signed deletions that name records of the STORE: their owner deleted them, the sender may too */
  deletions: SignedDeletion[]
  /**
   * The answering node's predecessor as it knows it: the node owns the ids of (predecessor, itself].
   * A writer that skipped the lookup (owner cache) learns from it whether the node still owns the
   * key. Undefined when the node knows none or did not say (a node of an earlier version).
   */
  predecessor?: RingId
}

/** What a STORE did on the node that took it: its answer, and what it cost (the sender's budgets are charged with it) */
export interface StoreReceipt {
  /** bytes the store wrote (0 when every record was there already, or refused) */
  writtenBytes: number
  /** indexes of the records declined (see StoreAck) */
  declined: number[]
  /** owner-signed deletions of records of the STORE, for the sender (see StoreAck) */
  deletions?: SignedDeletion[]
  /** owner signatures the STORE's deletions made the node check */
  signatureChecks?: number
  /** the node's predecessor (see StoreAck) */
  predecessor?: RingId
}

/** What the sender of a STORE hears of its receipt; a handler that answers none tells nothing of the records */
export function storeAckOf (receipt: StoreReceipt | void): StoreAck {
  if (receipt == null) {
    return { deletions: [] }
  }
  const predecessor = receipt.predecessor == null ? {} : { predecessor: receipt.predecessor }
  return { declined: receipt.declined, deletions: receipt.deletions ?? [], ...predecessor }
}

/** How records reached us, where it changes whose writes they count as */
export interface StoreFromOptions {
  /**
   * the records came carried by a recursive lookup that `from` passed on to us, written and signed
   * by this peer: they count as `from`'s own writes (never as a ring neighbour's repair), and
   * where a namespace counts senders, as this peer's too
   */
  carriedFor?: string
  /**
   * the subnet (CIDR) of the connection the records came over, whose peer is their writer (a
   * relay of carried records too): the writers of one subnet hold at most a share of the store
   * together (`maxBytesPerSubnet`); none for loopback and the node's own writes
   */
  subnet?: string
}

export interface RecordRpcHandler {
  /** `deletions`: owner-signed deletions that came with the records (namespaces that take them) */
  onStoreRecords(from: NodeRef, records: ChordRecord[], deletions?: SignedDeletion[], options?: StoreFromOptions): Promise<StoreReceipt | void>
  onFetchRecords(from: NodeRef, key: Uint8Array): Promise<ChordRecord[]>
  /** `options.tally` counts the records read, and caps them (see ScanTally) */
  onRangeDigest(from: NodeRef, start: RingId, until: RingId, options?: RangeScanOptions): Promise<RangeDigest>
  onRangeSummaries(from: NodeRef, start: RingId, until: RingId, options?: RangeScanOptions): Promise<RecordSummary[]>
}

/** How a range scan answered for another node is counted: its tally counts what it reads for the asker, and caps it (a stranger's) */
export type RangeScanOptions = Pick<ScanOptions, 'tally'>

/**
 * A deletion of records under a key, authorised by the key's owner (a mailbox acknowledgement).
 * Every replica checks the signature itself; nobody relays a deletion on trust.
 */
export interface SignedDeletion {
  key: Uint8Array
  ids: Uint8Array[]
  /** the owner's canonical public key */
  owner: Uint8Array
  /** ms since the epoch, when the owner signed */
  signedAt: number
  signature: Uint8Array
}

export interface DeletionRpc {
  deleteRecords(to: NodeRef, deletion: SignedDeletion, options?: RpcOptions): Promise<void>
}

export interface DeletionRpcHandler {
  onDeleteRecords(from: NodeRef, deletion: SignedDeletion): Promise<void>
}

/**
 * The record namespaces a ring keeps apart, each with its own store and rules: plain records
 * (`put`/`get`), mailbox envelopes, and owned records (`publish`/`resolve`)
 */
export type NamespaceName = 'records' | 'mailbox' | 'owned'

/** What a transport gives the core: the ring's messages, and the record messages of each namespace */
export interface RingRpc extends ChordRpc {
  namespace(name: NamespaceName): RecordRpc & DeletionRpc
}

/** What a namespace answers to other nodes: its records, and owner-signed deletes where it has them */
export type NamespaceHandler = RecordRpcHandler & Partial<DeletionRpcHandler>
