/**
 * Settings of the ring core, with the reason for each default.
 */
import { KiB, day, second, minute } from '../units.js'

/** Successor-list length when none is given: r = 3 replicas need at least 3 successors */
export const DEFAULT_REPLICAS = 3

/**
 * Longest successor list we keep or accept. A list of r entries survives r - 1 simultaneous
 * failures; more than this only costs bytes on every stabilize round.
 */
export const MAX_SUCCESSORS = 16

/**
 * Successor-list length, whatever r is. The ring stays connected while one of a node's successors
 * survives, so the list is longer than the replica set: with 8, a node loses its whole list when
 * half the ring dies at once with probability 0.5^8 (0.4%), and recovers even then through its fingers.
 */
export const MIN_SUCCESSOR_LIST_LENGTH = 8

/*
 * Maintenance is adaptive: each loop runs at its short interval while the ring around the node
 * changes (a join, a failure, a notify, a failed request, a changed successor list) and backs off,
 * doubling after each round that changed nothing, to its long interval while nothing does. A
 * change brings it back to the short interval at once. A quiet ring of 32 nodes spent 9–11 ms of
 * CPU per node per second on fixed one-second rounds; docs/benchmarks.md has the figures.
 */

/** How often a node checks its successor's predecessor (the ring's repair loop) while its neighbourhood changes */
export const DEFAULT_STABILIZE_INTERVAL = 1 * second

/**
 * How often it does so once nothing changes. Failures do not wait for it: the successor check
 * below finds a dead or changed successor within SUCCESSOR_CHECK_ROUNDS short intervals, and
 * notifies, leaves and failed requests wake the loop at once; this only bounds how long a change
 * nobody told us about (e.g. by a node that does not send neighbour digests) can go unseen.
 */
export const DEFAULT_STABILIZE_MAX_INTERVAL = 30 * second

/** How often one finger is refreshed while fingers or neighbours change; a full table needs about log2(N) rounds */
export const DEFAULT_FIX_FINGERS_INTERVAL = 1 * second

/**
 * How often once refreshes find nothing new. A stale finger never makes a lookup wrong (the
 * successor lists do that), only a hop longer, and a finger that fails a lookup wakes the loop.
 */
export const DEFAULT_FIX_FINGERS_MAX_INTERVAL = 30 * second

/** How often the predecessor is checked while the neighbourhood changes; a dead one blocks nothing but handoff, so this is slower */
export const DEFAULT_CHECK_PREDECESSOR_INTERVAL = 2 * second

/**
 * How often once it does not. A predecessor that sent us anything since the last check (its
 * successor checks reach us every few seconds) is not pinged at all, and a dead one is replaced
 * as soon as the next node notifies us (Zave's notify rule), so this check rarely matters.
 */
export const DEFAULT_CHECK_PREDECESSOR_MAX_INTERVAL = 60 * second

/**
 * Nodes one stabilize round may step back through: while the successor's predecessor lies
 * between us and it (and answers), it becomes our successor and is asked in turn. Original Chord
 * takes one step a round, so nodes that join together through few seeds line up one round per
 * node in front of them (34 rounds for 60 nodes through 4 seeds in the simulator); in a settled
 * ring the first step finds nothing. The bound keeps a round short when a ring is far from settled.
 */
export const STABILIZE_STEPS_PER_ROUND = 8

/**
 * The same bound for a node that lost every successor at once, until it is back in its place. It
 * walks back from the nearest live node it still knew, a finger, and the fingers beyond the
 * successor list lie about 16, 32, 64 … nodes ahead: in a ring of 400 that lost half its nodes,
 * one such walk was 53 nodes, seven rounds at 8. 64 steps bring it home in one round in most
 * cases; a node stranded farther out jumps closer by lookups (Maintenance.nearerThanWalking).
 * Each step is one GET_NEIGHBOURS, and only such a node takes them.
 */
export const STRANDED_STEPS_PER_ROUND = 64

/**
 * Rounds a woken loop runs at its short interval, finding nothing, before it starts to back off.
 * Changes come in bursts (nodes joining together, a ring closing round a failure), and one quiet
 * round in the middle of one is often just the next part on its way: in a burst of joins, backing
 * off at the first quiet round left rings of 16 settling in 8–11 s instead of 3–4.
 */
export const QUIET_ROUNDS_BEFORE_BACKOFF = 3

/**
 * The successor is pinged at least every this many short stabilize intervals (3 s by default; the
 * check's own interval is shorter by the timer jitter, 2.5 s), unless a stabilize round heard
 * from it since the last check. The answer carries the digest of its
 * neighbours: a different one than stabilize last copied, or no answer, starts a stabilize round
 * at once. So a dead successor is found within three rounds of the short interval however far
 * stabilize has backed off, and a change travels back along the successor lists one such check
 * per node, for a ping (tens of bytes) instead of the neighbours themselves (about a kilobyte).
 */
export const SUCCESSOR_CHECK_ROUNDS = 3

/**
 * Nodes that sent us a request from between us and our successor, remembered so that each wakes
 * stabilize once: such a node has just joined (its lookup of its own id ends with us), or is a
 * client whose id happens to lie there, which must not keep us stabilizing at full speed.
 */
export const CLOSER_NODES_REMEMBERED = 16

/**
 * Timers are spread by up to this fraction of their interval so that nodes started together do
 * not stabilize in lockstep.
 */
export const TIMER_JITTER = 0.2

/**
 * Upper bound on the nodes one lookup asks. A correct ring needs about log2(N) (32 for four
 * billion nodes); the bound stops a lookup that is led in circles by stale or lying nodes.
 */
export const MAX_LOOKUP_HOPS = 48

/**
 * Whether a lookup confirms the owner it was told before it answers (see `Lookup.verify`): one
 * more round trip, to the owner, and no wrong owner from a node that lies about who owns a key
 */
export const DEFAULT_VERIFY_LOOKUPS = true

/**
 * Whether a verified lookup is first tried recursively (recursive-lookup.ts): one request the
 * ring passes on over connections its nodes hold, answered by the owner's signed statement, where
 * the iterative lookup dials node after node
 */
export const DEFAULT_RECURSIVE_LOOKUPS = true

/**
 * Upper bound on the nodes one verification asks. The named owner is asked first and, while a node
 * nearer the key turns up (in our table or as the asked node's predecessor), the nearer one; an
 * honest neighbourhood settles it in one or two, and a lie that would need more fails the lookup.
 */
export const MAX_VERIFY_STEPS = 8

/**
 * Nodes of our own table asked, nearest before the key first, when the ring names us the owner of
 * a key while we know no predecessor (`ownNeighbours` in lookup.ts): one that answers is enough
 */
export const MAX_SELF_CONFIRMATIONS = 3

/**
 * Key ranges whose verified owner a node remembers (`owner-cache.ts`). A conversation writes to
 * a few mailboxes again and again; a node that serves many users still keeps each entry small (the
 * range and its replica set), so a thousand cost well under a megabyte.
 */
export const OWNER_CACHE_SIZE = 1024

/**
 * How long a remembered owner is used without a new lookup: the pace of a conversation. Every
 * STORE answer tells whether the owner still owns the key, so a join inside the range is caught
 * at the next write; the limit bounds how stale the rest of the replica set (the followers, whose
 * changes no answer reports) may get, and how long an owner that lies in its answers is believed.
 */
export const OWNER_CACHE_TTL = 30 * second

/**
 * Whether a client asks a ring node to run its lookups (one round trip, and only nodes it is
 * connected to anyway) rather than walking the ring itself. A browser pays a WebSocket, TLS and
 * Noise handshake for every new node it dials; see docs/browser.md for the measurement.
 */
export const DEFAULT_DELEGATE_LOOKUPS = true

/**
 * Ring nodes a client asks in turn to run one lookup before it walks the ring itself: its nearest
 * successors, each a node it keeps a connection to
 */
export const MAX_LOOKUP_DELEGATES = 3

/**
 * How long a client walks the ring itself after every delegate failed a lookup, before it asks
 * them again: delegates that refuse (or are overloaded) must not cost each lookup three failed
 * requests first
 */
export const DELEGATION_PAUSE = 1 * minute

/** Alternatives a node returns besides its best next hop, so the asker can route around failures */
export const CLOSER_NODES_PER_REPLY = 4

/**
 * How often a primary compares its range with its replicas after its neighbours changed or a
 * round found something to repair; a round with nothing to repair costs one digest per replica
 */
export const DEFAULT_ANTI_ENTROPY_INTERVAL = 30 * second

/**
 * How often it does so while rounds find nothing and the neighbours stay: replicas drift apart
 * when nodes come, go or fail to take a write, and each of those wakes the loop (a replica that
 * did not answer, a new neighbour), so a quiet ring only needs the occasional check.
 */
export const DEFAULT_ANTI_ENTROPY_MAX_INTERVAL = 5 * minute

/** How often expired records are swept from disk */
export const DEFAULT_SWEEP_INTERVAL = 1 * minute

/**
 * Most record summaries one reply may list (72 bytes each, so ~74 KiB). A range holding more is
 * split in two and compared half by half, so a large store never needs a large message.
 */
export const MAX_SUMMARIES_PER_REPLY = 1024

/** Bytes of record values sent in one store message; keeps every message far below the wire limit */
export const MAX_STORE_BATCH_BYTES = 512 * 1024

/** Records sent in one store message */
export const MAX_RECORDS_PER_STORE = 1024

/**
 * Largest record value a recursive lookup carries to its key's owner (a write of one record that
 * does not wait for a connection to the owner). Every node on the way passes it on, so only
 * small values go: a chat message's envelope (512 B or 2 KiB), not a file's.
 */
export const MAX_CARRIED_VALUE_BYTES = 4 * KiB

/**
 * Owner-signed deletions sent in one STORE (a repair carries those of the range it repairs, a
 * STORE's answer those of the records it dropped as deleted). The receiver checks the signature
 * of each one new to it (~1–1.5 ms), and one peer's checks are budgeted per window: sixteen keep
 * one STORE's checks far inside that budget.
 */
export const MAX_DELETIONS_PER_STORE = 16

/**
 * Ids the deletions of one STORE name together: one full acknowledgement (a DELETE names at most
 * 1,024), so that a STORE of deletions stays far below the message limit (32 KiB of ids).
 */
export const MAX_DELETION_IDS_PER_STORE = 1024

/**
 * How many times a range may be halved while comparing. 2^24 sub-ranges is far beyond any real
 * store; the bound only stops a lying peer from keeping us splitting for ever.
 */
export const MAX_SYNC_DEPTH = 24

/**
 * Requests one range comparison may make (digests, lists, fetches). A store of a million records
 * compares in about 2,000 halvings; a peer whose answers keep us going longer is lying or broken,
 * and the comparison ends with TooLargeError.
 */
export const MAX_SYNC_REQUESTS = 4096

/**
 * Owner ranges one rehoming round moves records into (one lookup and up to r range syncs each).
 * A settled ring has none to move; after two rings merge a node may hold records of many, and
 * the rest wait for the next round, so that a round stays short.
 */
export const MAX_REHOMED_RANGES_PER_ROUND = 32

/**
 * Predecessors beyond the replica set whose keys a node still takes a STORE for (see
 * replica-range.ts). A join in front of us, or a death not noticed yet, shifts a node's view of
 * its predecessor chain by one node until the ring settles, and handoffs and repairs under way
 * then must still land: two such changes at once are covered. A node thus takes keys of
 * r + 2 ranges, (r + 2)/N of the ring, instead of the r/N it keeps.
 */
export const REPLICA_RANGE_GRACE_NODES = 2

/**
 * Least time between two walks of the predecessor chain that STOREs of keys outside the range
 * as last walked ask for (see `ReplicaRange.recheck`). A chain can go stale where none of a node's
 * own neighbours changed (after a split, its r-th predecessor is cut off), and the first STORE it
 * would turn away is worth a walk; a stranger sending such STOREs on purpose gets one walk (r + 2
 * requests to our predecessors) in this time, however many it sends.
 */
export const REPLICA_RANGE_RECHECK_INTERVAL = 5 * second

/**
 * Lifetime of a record whose writer asked for none: two days, as kad-dht keeps records
 * (48 h), so that a value outlives a writer's short absence without lingering for ever.
 */
export const DEFAULT_TTL = 2 * day

/**
 * Longest lifetime anyone may ask for. A message must be able to wait for a recipient who is away
 * for a while (a holiday), but not occupy other people's disks indefinitely.
 */
export const MAX_TTL = 14 * day

/**
 * Leading zero bits a ring position's puzzle must show (ring-position.ts), unless the network sets
 * another: 0, positions cost nothing and every node sits at its plain id, sha256(PeerId), as
 * nodes that predate positions do.
 */
export const DEFAULT_ID_DIFFICULTY = 0

/**
 * The most a network may ask: about 2^32 hashes for every node that joins, over an hour of one
 * core at ~1.5 µs a hash (docs/security.md has the measured table). Beyond it, honest joiners
 * would wait longer than anyone waits for a node to start.
 */
export const MAX_ID_DIFFICULTY = 32

/** Candidate positions one nonce opens (ring-position.ts): 1, the position is choice 0 */
export const DEFAULT_ID_CHOICES = 1

/**
 * The most candidate positions one nonce may open, and so the bound on a choice on the wire. Each
 * is one more place an attacker may choose from for the price of one puzzle.
 */
export const MAX_ID_CHOICES = 32

/**
 * Nodes of one subnet (an IPv4 /24, an IPv6 /48) a node keeps in its successor list, and distinct
 * nodes of one subnet among its fingers, unless set. As many as the replica set needs (a key's r
 * replicas are its r true successors whatever their addresses: the cap never goes below r), and
 * no more: a successor list of 8 then always reaches 5 nodes outside any one block, so a host or
 * hosting block that goes away, or turns hostile, cannot take a node's whole view of the ring.
 */
export const DEFAULT_RING_PEERS_PER_SUBNET = 3

/** Ring positions whose check (two hashes) is remembered, so that a stabilize round costs no hashing */
export const POSITION_CACHE_SIZE = 4096

/**
 * The weight of a new round-trip sample in a peer's estimate: TCP's smoothing of its round-trip
 * time (RFC 6298, alpha = 1/8), which follows a link that changes while one slow answer (a busy
 * peer, a lost packet) moves the estimate little.
 */
export const ROUND_TRIP_SMOOTHING = 1 / 8

/** Peers whose round-trip estimate is kept, the least recently heard from forgotten first: a routing table and the nodes lookups meet */
export const MAX_ROUND_TRIP_PEERS = 1024
