/**
 * Names, sizes and deadlines of the /chord/1.0.0 protocol. Every limit a peer can run into is here,
 * with its unit and the reason for its value; docs/protocol.md lists them for implementers.
 */
import { second, minute, KiB, MiB } from '../units.js'
import { MAX_DELETIONS_PER_STORE, MAX_DELETION_IDS_PER_STORE } from '../chord/constants.js'
import { ID_BYTES } from '../chord/id.js'

export const PROTOCOL = '/chord/1.0.0'

/** Ring ids on the wire are big-endian, exactly this many bytes */
export const RING_ID_BYTES = ID_BYTES

/**
 * Bytes of a peer id multihash. Inlined public keys are at most 42 bytes (libp2p peer-id spec) and
 * sha256 multihashes of larger keys are 34; the rest is headroom for varint prefixes.
 */
export const MAX_PEER_ID_BYTES = 64

/**
 * Bytes of one binary multiaddr: an IPv6 address with port, transport and /p2p takes about 60; a
 * DNS name takes up to 253 more. Longer entries are dropped.
 */
export const MAX_ADDR_BYTES = 320

/**
 * Bytes of a ring position's nonce (chord/ring-position.ts). This implementation mints 8-byte
 * counters; the rest is room for other implementations' nonces.
 */
export const MAX_POSITION_NONCE_BYTES = 32

/** Multiaddrs per peer entry: a node listening on TCP and WebSockets over IPv4 and IPv6 has 4 */
export const MAX_ADDRS_PER_PEER = 8

/**
 * Peer entries in one list (a successor list, a list of closer nodes). Successor lists hold the
 * replication factor plus a margin (well under 32 at any ring size this library targets).
 */
export const MAX_PEERS_PER_MESSAGE = 32

/** Characters of the error code in an ERROR response: codes are short words, not messages */
export const MAX_ERROR_CODE_LENGTH = 64

/**
 * Bytes of one framed message, length prefix excluded: what a peer can make us buffer per stream.
 * The largest ring message the limits above allow (a predecessor and 32 successors, each with 8
 * addresses of 320 bytes) is about 87 KiB; the rest is room for batches of records (up to 512 KiB
 * of values), which share this protocol.
 */
export const MAX_MESSAGE_SIZE = MiB

/**
 * Deadline of one outbound request, dialling included: long enough for a new connection and a
 * round trip across continents, short enough that a dead node is routed around within one
 * stabilization round.
 */
export const REQUEST_TIMEOUT = 5 * second

/**
 * An inbound stream on which no request begins for this long is reset. It is twice the dialer's
 * POOLED_STREAM_IDLE_TIMEOUT, so the dialer normally closes idle streams first and never picks a
 * stream the listener is about to reset. Long, because every ring node keeps one idle stream
 * ready to each connected /chord peer (stream-pool.ts) and renewing it costs a stream's set-up
 * and teardown, about eight Yamux frames: renewed every 30 s, that was half the frames a quiet
 * ring sent. A silent stream costs its listener a few KB and holds nothing a peer sent: how long
 * a request's bytes may sit in its buffer is bounded by REQUEST_READ_TIMEOUT (and ANSWER_TIMEOUT),
 * and its answer by ANSWER_TIMEOUT, not by this.
 */
export const STREAM_IDLE_TIMEOUT = 10 * minute

/**
 * ms an inbound request has to arrive whole once the listener has read its first byte (at once,
 * while it waits for a request; bytes a peer sends ahead of its previous answer wait with that
 * answer, within ANSWER_TIMEOUT). Until then, its bytes sit in the stream's buffer, up to
 * MAX_MESSAGE_SIZE: under the idle timeout, a peer that began maximal requests and never finished
 * them held a MiB per stream, MAX_INBOUND_STREAMS per connection, for 10 minutes. Our dialer gives
 * a whole exchange REQUEST_TIMEOUT by default (a FIND_OWNER a few percent more), so twice that
 * never cuts off a request its asker still waits for, and a maximal request arrives within it
 * over any link faster than ~100 KiB/s. Holding memory now costs a peer its upload: to keep one
 * connection's 32 MiB it must send it again every 10 s.
 */
export const REQUEST_READ_TIMEOUT = 2 * REQUEST_TIMEOUT

/** A pooled outbound stream unused for this long is closed: it frees the slot on the remote */
export const POOLED_STREAM_IDLE_TIMEOUT = 5 * minute

/**
 * ms the listener may take to answer a request and write the answer out: a peer that never reads
 * its answers cannot hold a stream, and the answer buffered on it, for the idle timeout
 */
export const ANSWER_TIMEOUT = minute

/**
 * Inbound /chord streams per connection. Must be at least a peer's MAX_OUTBOUND_STREAMS, or that
 * peer's concurrent requests are refused.
 */
export const MAX_INBOUND_STREAMS = 32

/**
 * Outbound /chord streams per peer, i.e. requests in flight to one peer at once; more wait for a
 * stream to come free (within their deadline).
 */
export const MAX_OUTBOUND_STREAMS = 16

/**
 * Bytes of answers one peer has not taken yet: from the moment an answer is encoded until all of
 * it has left the stream's buffer, which happens only as fast as the peer reads. An answer is at
 * most MAX_MESSAGE_SIZE, a full FETCH page about FETCH_PAGE_BYTES. Honest peers seldom have more
 * than one such answer in flight to us: a repair FETCHes one key after another, a get one page
 * per replica, and one peer's RANGE_* scans run one at a time; so this is eight full FETCH pages
 * at once, half of MAX_OUTBOUND_STREAMS, which a reader that keeps up never reaches. Without it, a
 * peer that asks on MAX_INBOUND_STREAMS streams per connection and never reads held a MiB per
 * stream for ANSWER_TIMEOUT, uploading a hundred bytes per request. An answer that does not fit
 * is replaced by a RATE_LIMITED refusal.
 */
export const MAX_PENDING_ANSWER_BYTES_PER_PEER = 4 * MiB

/**
 * Bytes of answers all peers together have not taken yet. MAX_PENDING_ANSWER_BYTES_PER_PEER each
 * would allow about 1 GiB for the 236 connections strangers may hold (MAX_CONNECTIONS less
 * RESERVED_RING_SLOTS, node/constants.ts), which no node should give peers who never read; 64 MiB
 * takes sixteen peers at their cap to fill, from eight subnets (MAX_PENDING_ANSWER_BYTES_PER_SUBNET).
 * Past it, every stranger's answers that do not fit are refused RATE_LIMITED until others are taken
 * or time out (ANSWER_TIMEOUT), but for small ones within SMALL_ANSWER_RESERVE_BYTES; answers to the
 * node's ring neighbours are counted here but never refused by it, so that strangers cannot stop
 * the ring's maintenance however many they are.
 */
export const MAX_TOTAL_PENDING_ANSWER_BYTES = 64 * MiB

/**
 * Bytes of answers the peers of one subnet (an IPv4 /24, an IPv6 /48, as subnet.ts counts them;
 * loopback is not counted) have not taken yet, together. PeerIds are free, and one host may hold
 * MAX_INBOUND_CONNECTIONS_PER_IP (16) connections, one /24 64 (node/constants.ts), each of an
 * identity of its own: under the per-peer and node-wide caps alone, sixteen of them at their cap
 * filled the node-wide cap, and 32 more connections of streams that never read the small-answer
 * reserve, after which the ring neighbours' maintenance was refused. Counted per subnet rather
 * than per address, because the addresses of one block cost a host little more than one (an IPv6
 * host is given a /64 at least). An eighth of the node-wide cap, two peers at their cap: filling
 * it takes eight subnets, and the reserve two more. Honest peers behind one NAT or in one office
 * hold little of it at once, as readers that keep up take each answer as it comes.
 */
export const MAX_PENDING_ANSWER_BYTES_PER_SUBNET = MAX_TOTAL_PENDING_ANSWER_BYTES / 8

/**
 * Answers this small may use SMALL_ANSWER_RESERVE_BYTES past MAX_TOTAL_PENDING_ANSWER_BYTES (never
 * past a peer's own cap): ring maintenance and lookups, whose answers of successors and addresses
 * are a few KiB, and a FETCH of a chat message's envelopes.
 */
export const MAX_SMALL_ANSWER_BYTES = 16 * KiB

/**
 * Bytes of small answers (MAX_SMALL_ANSWER_BYTES) held past MAX_TOTAL_PENDING_ANSWER_BYTES:
 * strangers who fill the node-wide cap with unread pages do not stop the lookups and joins that
 * other strangers route through the node (its ring neighbours pass the caps anyway). A reserve, not
 * an exemption: one answer held per stream, MAX_INBOUND_STREAMS per connection, would let the
 * connections strangers may hold keep some 120 MiB of small answers. Filling this too takes about
 * 32 connections' worth of streams that never read, from two subnets more.
 */
export const SMALL_ANSWER_RESERVE_BYTES = 16 * MiB

/**
 * Bytes of unread answers any peer may hold whatever its subnet and all peers hold: four small
 * answers. Identities of one subnet at their own caps fill the subnet's (two of them, with pages
 * they never read), and after that every other peer of the subnet, an honest ring member routing
 * through the node or a client behind the same carrier NAT, was refused even a PING. A peer that
 * reads its answers holds nothing between them, so it is always answered; those that never read
 * gain at most this each, which the connection limits bound (MAX_CONNECTIONS × 64 KiB, about
 * 19 MiB).
 */
export const MIN_PENDING_ANSWER_BYTES_PER_PEER = 4 * MAX_SMALL_ANSWER_BYTES

/**
 * Idle outbound streams kept open per peer for reuse. Reusing an open stream makes a round trip
 * 2–4× cheaper than opening one (0.14–0.30 ms against 0.5–1.0 ms on loopback).
 */
export const MAX_POOLED_STREAMS_PER_PEER = 4

/**
 * Records in one STORE request or one FETCH page. With values of at most MAX_VALUE_SIZE, the
 * byte budget below is what usually ends a batch; this bounds the count of tiny records.
 */
export const MAX_RECORDS_PER_MESSAGE = 1024

/**
 * Records one STORE may carry in the OWNED namespace. A replica checks the signature of each one
 * it does not hold yet (~1–1.5 ms each), and a peer's signature checks are budgeted per window
 * (MAX_SIGNATURE_CHECKS_PER_WINDOW): batches this small keep one STORE's checks far inside a
 * peer's budget, so a repair is never refused for its size, and a STORE of forged records costs
 * at most this many checks.
 */
export const MAX_OWNED_RECORDS_PER_STORE = 64

/** Bytes of a record's proof-of-work stamp (a mailbox's is 8) */
export const MAX_STAMP_BYTES = 32

/** Longest `writerSubnet` a record may carry: an IPv6 /48 as the node writes it (every group in full) is 42 characters */
export const MAX_WRITER_SUBNET_CHARS = 48

/** The most leading zero bits a RATE_LIMITED answer may ask a stamp for: a sha256 has 256 */
export const MAX_STAMP_DIFFICULTY_ASKED = 256

/** Summaries in one RANGE_SUMMARIES answer (72 bytes each on the wire, so ~74 KiB) */
export const MAX_SUMMARIES_PER_MESSAGE = 1024

/**
 * Bytes of values a FETCH page carries before the answer says `more`: half of
 * MAX_MESSAGE_SIZE, leaving room for the framing of every record in it.
 */
export const FETCH_PAGE_BYTES = MAX_MESSAGE_SIZE / 2

/** Record ids one DELETE may name: a mailbox acknowledges at most a page of messages at once */
export const MAX_IDS_PER_DELETE = 1024

/** Owner-signed deletions one STORE or its answer may carry (see the core's MAX_DELETIONS_PER_STORE) */
export const MAX_DELETIONS_PER_MESSAGE = MAX_DELETIONS_PER_STORE

/** Ids the deletions of one STORE or its answer may name together: as many as one DELETE */
export const MAX_DELETION_IDS_PER_MESSAGE = MAX_DELETION_IDS_PER_STORE

/** Largest owner public key a DELETE may carry (a mailbox key is 65 bytes) */
export const MAX_OWNER_KEY_BYTES = 128

/** Largest owner signature a DELETE may carry (Ed25519's is 64 bytes) */
export const MAX_SIGNATURE_BYTES = 128

/*
 * Per-peer request limits. Each remote peer has budgets that refill every RATE_LIMIT_WINDOW; a
 * request its budgets cannot pay for is answered RATE_LIMITED without reaching the ring, and the
 * stream stays usable. They sit well above what a busy ring sends (measured in a ring of 8 under
 * load, one peer never spent a tenth of any budget in a window; docs/security.md has the figures)
 * and stop one peer from taking far more than its share of a node's CPU and disk.
 */

/**
 * What one LOOKUP costs the asker's ring-request budget: the node runs a whole lookup for it, about
 * ½·log2 N requests in a ring of N (6 at 10,000 nodes) plus fallbacks around dead nodes, so a client
 * that delegates its lookups pays about what it would pay walking the ring itself.
 */
export const LOOKUP_REQUEST_COST = 8

/**
 * What one FIND_OWNER costs the asker's ring-request budget: a request the node passes on (one it
 * sends), or answers with a signature (an Ed25519 signing, about as dear as a few requests)
 */
export const FIND_OWNER_REQUEST_COST = 2

/**
 * What a FIND_OWNER that carries a record costs on top, at every node: a longer message to pass
 * on. The owner's check of the origin's signature is a signature check
 * (MAX_SIGNATURE_CHECKS_PER_WINDOW), and the record's own costs (a STORE's) are charged, both to
 * the node that hands it to the owner, as a STORE of its own would be.
 */
export const CARRIED_RECORD_REQUEST_COST = 1

/**
 * LOOKUPs one node runs for clients per window, whoever sent them: 100 a second. Each sends about
 * ½·log2 N requests of its own (plus fallbacks), charged to this node's budget at its fingers, so
 * without a cap of its own, strangers delegating lookups to it could spend that budget and have
 * its maintenance refused: at most a few thousand requests a window, far inside one peer's
 * MAX_RING_REQUESTS_PER_WINDOW at any finger, beside what it passes on (MAX_FORWARDED_LOOKUPS_PER_WINDOW).
 * Over the cap it answers RATE_LIMITED, and the client walks the ring itself for a while.
 */
export const MAX_DELEGATED_LOOKUPS_PER_WINDOW = 1_000

/**
 * LOOKUPs one node runs per window for one client: a quarter of all it runs (25 a second), so
 * that one stranger cannot take them all. A person's client looks up a key for a first message
 * or a subscription, a few a minute.
 */
export const MAX_DELEGATED_LOOKUPS_PER_ASKER_PER_WINDOW = MAX_DELEGATED_LOOKUPS_PER_WINDOW / 4

/**
 * FIND_OWNERs one node passes on per window, whoever sent them: 200 a second. Each one it passes
 * on is charged to its own budget at the next node, so without a cap of its own, strangers sending
 * it recursive lookups could spend that budget and have its maintenance refused. Over the cap it
 * answers RATE_LIMITED, and the asker walks the ring itself.
 */
export const MAX_FORWARDED_LOOKUPS_PER_WINDOW = 2_000

/**
 * FIND_OWNERs one node passes on per window for one asker: a quarter of all it passes on (50 a
 * second), so that one stranger cannot spend the whole budget and send everyone else's recursive
 * lookups the long way. The asker is the node that sent the request, which may be a relay passing
 * on others' lookups: a quarter leaves a busy link room
 */
export const MAX_FORWARDED_LOOKUPS_PER_ASKER_PER_WINDOW = MAX_FORWARDED_LOOKUPS_PER_WINDOW / 4

/**
 * FIND_OWNERs one node has passed on to one next node and awaits answers for. Each holds one of
 * its MAX_OUTBOUND_STREAMS streams to that node until the rest of the way answers (up to a request
 * timeout when a node further on is silent): the cap leaves the other half to its own maintenance
 * and writes. More wait for one of these to answer (MAX_PASS_ON_QUEUE_WAIT)
 */
export const MAX_PASSED_ON_IN_FLIGHT_PER_PEER = MAX_OUTBOUND_STREAMS / 2

/**
 * FIND_OWNERs that may wait for one of the MAX_PASSED_ON_IN_FLIGHT_PER_PEER to one next node:
 * lookups spread over many owners (a group message's fan-out) seldom wait, but many at once to one
 * owner all go through its predecessor. Each holds only the stream it came on (which the asker's
 * own limits bound). Past this, the node answers RATE_LIMITED at once, and the asker walks the ring
 */
export const MAX_PASSED_ON_WAITING_PER_PEER = 4 * MAX_PASSED_ON_IN_FLIGHT_PER_PEER

/**
 * ms a FIND_OWNER waits for a place among those in flight to the next node before the node answers
 * RATE_LIMITED and the asker walks the ring: many round trips on loopback or in a data centre, one
 * or two on wide-area links. Long enough for a burst to one owner to pass; short enough that
 * requests which never come back (two nodes passing one request back and forth, a silent node
 * further on) turn the rest away soon
 */
export const MAX_PASS_ON_QUEUE_WAIT = second / 4

/**
 * The least a node waits for the node it passed a FIND_OWNER on to, however few hops the request
 * has left: a few wide-area round trips, so that an asker cannot make it give up on a healthy node
 * (and stop routing through it) by sending requests with almost no hops left
 */
export const MIN_PASS_ON_WAIT = 2 * second

/**
 * The longest an owner holds its answer to a FIND_OWNER for the write of the record it carries:
 * half the least a relay waits for it (MIN_PASS_ON_WAIT), so that a slow disk (a write queued
 * behind a large repair) costs the asker a STORE of its own, not its lookup. The write goes on;
 * the asker's STORE of the same record is one record.
 */
export const CARRIED_STORE_WAIT = MIN_PASS_ON_WAIT / 2

/**
 * Carried records an owner writes at once. A write that outlasts CARRIED_STORE_WAIT goes on after
 * the answer and holds no stream, so without a cap a slow disk could gather them from strangers
 * without end; as many as one peer's streams to us. Past it, the owner answers without the record,
 * and its asker STOREs it, over a stream of its own.
 */
export const MAX_CARRIED_WRITES_IN_FLIGHT = MAX_INBOUND_STREAMS

/** Bytes of a FIND_OWNER's nonce: the owner signs it, so its statement answers this request alone */
export const OWNER_NONCE_BYTES = 16

/**
 * How many times a FIND_OWNER may be passed on. A lookup in a ring of 10,000 takes about 7 steps
 * (½·log2 N + 1), and each step must bring it nearer its target, so this allows for stale tables
 * while bounding what one request can make the ring do.
 */
export const MAX_OWNER_ROUTE_HOPS = 24

/**
 * The window in which each budget below is counted, from a peer's first request in it. Long
 * enough that bursts (a lookup-heavy client's, a handoff's) average out; a peer that spends its
 * whole budget at once waits at most this long.
 */
export const RATE_LIMIT_WINDOW = 10 * second

/**
 * The peers' worth of every budget below that the strangers of one subnet (IPv4 /24, IPv6 /48;
 * peers that are not ring neighbours, loopback not counted) may spend together per window.
 * PeerIds cost nothing and one subnet may hold 64 connections (MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET),
 * so per peer alone a subnet's identities had 64 peers' budgets: 16,384 signature checks a window
 * where one peer has 256. Eight leaves room for many honest users behind one NAT, each far below
 * its own budgets; a node that serves more raises `requestLimits.peersPerSubnet`.
 */
export const SUBNET_BUDGET_PEERS = 8

/**
 * PING, GET_NEIGHBOURS, NOTIFY, FIND_SUCCESSOR and LEAVING one peer may send per window: 2,000 a
 * second. A ring neighbour sends a few a second (stabilize, fix fingers, predecessor checks); the
 * first hop of every lookup a node makes goes to one of its fingers, and a lookup-heavy node or
 * client sends hundreds a second to the busiest one (one node makes at most ~500 lookups a second
 * per core: each costs it 2–4.5 ms of CPU). Answering one costs ~11 µs of ring work plus encoding.
 */
export const MAX_RING_REQUESTS_PER_WINDOW = 20_000

/**
 * FETCH, RANGE_DIGEST and RANGE_SUMMARIES one peer may send per window: 2,000 a second.
 * Anti-entropy sends them back to back, one FETCH per key a replica lacks, so a replica far
 * behind asks at round-trip speed (about 1,000 a second on loopback); gets send one FETCH page per
 * replica. Each may read many records from disk, which is what this bounds.
 */
export const MAX_READ_REQUESTS_PER_WINDOW = 20_000

/**
 * Records one peer may STORE per window: 256 full batches (MAX_RECORDS_PER_MESSAGE each). A node
 * handing over or repairing a range sends batches back to back, as fast as we store them, and one
 * writer was measured getting ~8,500 small records a second into LevelDB, a third of this
 * (26,000 a second); replica writes of puts and mailbox sends are one record each.
 */
export const MAX_STORED_RECORDS_PER_WINDOW = 256 * MAX_RECORDS_PER_MESSAGE

/**
 * Bytes of record values one peer may STORE per window: a whole default store (256 MiB), so that
 * a neighbour handing us everything it holds (a graceful stop allows it 10 s) or anti-entropy
 * refilling an empty replica is never refused. The store's quotas, not this, keep a peer from
 * filling the disk; this bounds what it can make us hash, check and fsync (~26 MiB/s, about what
 * LevelDB takes from one writer of 8 KiB values, and more than most links carry).
 */
export const MAX_STORED_BYTES_PER_WINDOW = 256 * MiB

/**
 * Record ids one peer may DELETE per window. Owners acknowledge messages as they read them, often
 * one id per DELETE, and each DELETE costs a signature check (~1.5 ms); 2,048 let a node's users
 * acknowledge two full mailboxes (MAX_RECORDS_PER_KEY, 1,024 each) one message at a time in one
 * window, while one peer's deletions cost at most ~3 s of CPU per window.
 */
export const MAX_DELETED_IDS_PER_WINDOW = 2048

/**
 * Signature verifications one peer may make us do per window: 25 a second. Each costs up to
 * ~1.5 ms of CPU (a DELETE's owner signature, an owned record's signature, a mailbox subscriber's
 * proof, the origin's signature of a record carried for another node; Ed25519 through the
 * platform's native code costs a tenth of that, a secp256k1 key the most), so one peer's checks
 * take at most ~4% of a core, and a handful of
 * identities cannot take the node's CPU from everyone else. A DELETE costs one check however many
 * ids it names; an owner acknowledging messages one by one sends one per message it reads, about
 * one a second at most.
 */
export const MAX_SIGNATURE_CHECKS_PER_WINDOW = 256

/**
 * Signature checks of records carried by FIND_OWNER that one peer may make us do per window: a
 * budget of their own, since the peer that hands a carried record over is mostly a relay passing
 * on strangers' requests. Drawn from MAX_SIGNATURE_CHECKS_PER_WINDOW, strangers could spend a
 * relay's checks at its successor, and its own deletions, owned records and mailbox proofs there
 * would be refused; as it is, they spend only its carrying, and their askers STORE instead. The
 * same 25 a second, for the same reason.
 */
export const MAX_CARRIED_CHECKS_PER_WINDOW = 256

/**
 * Records one peer may make us read per window to answer FETCH, RANGE_DIGEST and RANGE_SUMMARIES
 * (charged after the answer, by what it went through; a peer whose budget is spent gets no more
 * reads until its window ends). A digest hashes every record header in its range, so one request
 * over the whole ring reads the whole store: at 6–7 µs of CPU a header (LevelDB on disk, measured
 * on a small 2-core machine), this is some 7 s of work per window at most, per peer. A replica's
 * anti-entropy comparison reads its range a few times per round, well within it for stores of a
 * few hundred thousand records. Only ring neighbours may spend it all on range scans (see
 * MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW).
 */
export const MAX_SCANNED_RECORDS_PER_WINDOW = 1_048_576

/**
 * Records the node's range scans (RANGE_DIGEST, RANGE_SUMMARIES) read per window for all strangers
 * together (askers that are not ring neighbours), however many identities they are. A PeerId costs
 * a key pair, so MAX_SCANNED_RECORDS_PER_WINDOW alone let ten identities have a node read ten times
 * as much, some ten million record headers a window: several cores kept busy. At 6–7 µs of CPU a
 * header (see MAX_SCANNED_RECORDS_PER_WINDOW), this is about 0.9 s of reads per 10 s window for all
 * strangers: a tenth of a core. A stranger's scan reads no more than is left of it (and of its
 * share), and one whose range holds more is refused TOO_LARGE, so it is never overdrawn and no
 * scan of a stranger's lasts long. Strangers have little reason to scan ranges: anti-entropy runs
 * between a node and its r - 1 successors, and handoffs between neighbours, within the r + g nodes
 * on each side that count as neighbours (ReplicaRange); they are not charged here, only to each
 * neighbour's own budget, so strangers that spend this starve no repair. A client's FETCH and a
 * subscriber's backlog are not charged here either (see request-limits.ts).
 */
export const MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW = 131_072

/**
 * Records one stranger's range scans may have the node read per window, its share of
 * MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW: a 32nd (4,096 records, some 30 ms of reads), so that
 * spending the whole takes more identities than one address may hold connections (16,
 * MAX_INBOUND_CONNECTIONS_PER_IP). A node not yet counted as a neighbour (one that has just
 * joined) scans up to this much a window: its comparison of a larger range is refused TOO_LARGE
 * and made again once it is counted as one.
 */
export const MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW = MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW / 32

/**
 * Bytes one peer may make us write to disk per window (charged after each STORE, by the stored
 * size of the records it added, plus WRITE_BATCH_COST for the synced batch). Records a STORE
 * repeats, or that we refuse, cost nothing here. A neighbour handing over a whole default store
 * (256 MiB) gets it written within four windows, and no peer takes more than ~6.4 MiB/s of our disk.
 */
export const MAX_WRITTEN_BYTES_PER_WINDOW = 64 * MiB

/**
 * What one synced write batch costs the disk besides its bytes, counted against
 * MAX_WRITTEN_BYTES_PER_WINDOW: at least a page and an fsync, so a flood of one-record STOREs is
 * not free.
 */
export const WRITE_BATCH_COST = 4 * KiB

/**
 * Peers whose budgets are remembered at once (each budget, a few hundred bytes per peer). Budgets
 * are forgotten when their window ends, so only peers active in the last window count: libp2p
 * keeps at most 300 connections, so a node reaches this only when thousands of identities churn
 * through within one window, and then, of the budgets remembered longest, the one that spent least
 * is forgotten (PeerBudget).
 */
export const MAX_RATE_LIMITED_PEERS = 4096

/** Error codes an ERROR response may carry; a receiver must accept unknown codes too */
export const ErrorCode = {
  /** the handler failed while answering */
  INTERNAL: 'INTERNAL',
  /** a storage quota would be exceeded; nothing was written */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /** a record broke the store's rules (id, key length, expiry); nothing was written */
  INVALID_RECORD: 'INVALID_RECORD',
  /** the asker sent more than its share; ask again later */
  RATE_LIMITED: 'RATE_LIMITED',
  /** the answer would be larger than one message may carry; ask for less */
  TOO_LARGE: 'TOO_LARGE',
  /** the asker may not do this (e.g. read a mailbox it does not own or replicate) */
  FORBIDDEN: 'FORBIDDEN',
  /** a signature did not verify; nothing was changed */
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  /**
   * a field decoded but breaks the rules of what it names (an owner key that is not a canonical
   * public key, an owned record that does not parse); nothing was changed
   */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** an owned record older than the one the node holds; nothing was changed */
  STALE: 'STALE',
  /** a FIND_OWNER could go no further: its hops were spent, or a node on the way could not place its target */
  NO_ROUTE: 'NO_ROUTE'
} as const
