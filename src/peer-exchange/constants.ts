/**
 * Names, sizes, rates and deadlines of the /chord/px/1.0.0 peer exchange. Limits that peer
 * entries share with /chord/1.0.0 (peer id, address size and count) come from constants.ts;
 * docs/protocol.md lists them all for implementers.
 */
import { KiB, minute, second } from '../units.js'

export const PX_PROTOCOL = '/chord/px/1.0.0'

/**
 * Peers in one response, and the most a request may ask for (more is answered with this many).
 * Enough to reach well beyond one's own neighbours in a single exchange; a larger sample only
 * costs the responder more, and asking again later (or another peer) yields different peers.
 */
export const MAX_PX_PEERS = 16

/**
 * Peers an answer looks up in the peer store, at most, to find MAX_PX_PEERS with addresses. Ring
 * nodes nearly always have addresses, so four times as many fill an answer; a candidate list of
 * peers without any costs no more than this.
 */
export const MAX_PX_PEER_READS = 4 * MAX_PX_PEERS

/**
 * Peers named in answers that a node remembers, most recently named first: the partition healer
 * tries them. Sixteen answers' worth spans several rounds with different peers; anyone asked can
 * name made-up peers, so the list is bounded and the oldest make room.
 */
export const MAX_LEARNED_PEERS = 256

/**
 * The largest `numPeers` a request may carry: the field is a uint32 on the wire. A larger number
 * (which a uint32 reader would silently cut to its low 32 bits) makes the request invalid.
 */
export const MAX_PX_NUM_PEERS = 2 ** 32 - 1

/**
 * Bytes of one signed peer record envelope. An Ed25519 record with a few addresses takes about
 * 200; RSA keys and signatures add up to about 1 KiB, and MAX_ADDRS_PER_PEER addresses of
 * MAX_ADDR_BYTES take 2.5 KiB. A peer whose record is larger is sent with plain addresses.
 */
export const MAX_SIGNED_PEER_RECORD_BYTES = 4 * KiB

/**
 * Bytes of one framed response, length prefix excluded: MAX_PX_PEERS of the largest entries (a
 * MAX_PEER_ID_BYTES id with a maximal signed record, about 65 KiB in all), rounded up. What a
 * responder can make a requester buffer.
 */
export const MAX_PX_RESPONSE_SIZE = 80 * KiB

/** Bytes of one framed request: it holds a single small number */
export const MAX_PX_REQUEST_SIZE = 16

/**
 * Deadline of one exchange as the requester sees it, stream opening and signature checks
 * included. Nothing waits on peer exchange, so it can afford a slow peer.
 */
export const PX_REQUEST_TIMEOUT = 10 * second

/**
 * An inbound stream that has not delivered its request and taken its answer within this long is
 * reset, so a silent peer cannot hold the stream open.
 */
export const PX_SERVE_TIMEOUT = 10 * second

/**
 * Requests a responder answers per remote peer per minute; more are refused with RATE_LIMITED. A
 * well-behaved peer asks once per PX_INTERVAL (plus once when it connects, or when it starts
 * while connected), so this leaves room for reconnects while a refusal stays cheaper than an
 * answer, which reads up to MAX_PX_PEER_READS peers from the peer store.
 */
export const PX_REQUESTS_PER_MINUTE = 4

/**
 * Time between two rounds of asking a connected peer for peers. The ring's own maintenance finds
 * neighbours; exchange rounds only widen what a node knows (for its peer cache and for healing
 * partitions), which need not be fresh by the second.
 */
export const PX_INTERVAL = 5 * minute

/**
 * Each interval is drawn from PX_INTERVAL ± this fraction of it, so that nodes started together
 * do not ask in lockstep.
 */
export const PX_INTERVAL_JITTER = 0.2

/**
 * PX streams per connection, each way. One exchange at a time is the protocol's use; the second
 * stream lets a round overlap the end of the previous one.
 */
export const PX_MAX_STREAMS_PER_CONNECTION = 2
