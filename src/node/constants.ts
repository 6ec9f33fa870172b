/**
 * Connection limits of the libp2p node a ring member runs on, with the reason for each value.
 * Every connection costs a node memory (~0.2–0.4 MiB) and a Noise handshake; these keep strangers
 * from taking the connections the ring needs.
 */
import { second } from '../units.js'

/** Connections open at once, inbound and outbound (libp2p's own default) */
export const MAX_CONNECTIONS = 300

/**
 * Connections that peers which are not ring neighbours of the node (its successors, predecessor
 * and fingers, tagged in the peer store) cannot take: strangers hold at most MAX_CONNECTIONS less
 * these. A node's routing table names ~8 successors, a predecessor and ~log2(N) fingers (30 at a
 * million nodes), so 64 leaves room for all of them and for the ring's churn.
 */
export const RESERVED_RING_SLOTS = 64

/**
 * Inbound connections open at once from one IP address. A ring node needs one connection to
 * another; a host behind a NAT with a few clients, a few more. More is one host taking many
 * identities' worth of connections.
 */
export const MAX_INBOUND_CONNECTIONS_PER_IP = 16

/** Inbound connections open at once from one IPv4 /24: a hosting provider's or an office's block */
export const MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET = 64

/** Inbound connections open at once from one IPv6 /48: what one site is usually given */
export const MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET = 64

/**
 * Inbound connections from one IP address still in their Noise and Yamux upgrade at once. The
 * node takes MAX_INCOMING_PENDING_CONNECTIONS (32) of those in all and turns every newcomer away
 * past that, and a connection that never speaks is dropped only by libp2p's 10-second upgrade
 * timeout: without a share per address, two silent hosts could keep every new peer out for as
 * long as they liked. An upgrade takes a few round trips, so an honest host seldom has two.
 */
export const MAX_PENDING_INBOUND_PER_IP = 4

/**
 * Inbound connections still upgrading at once from one subnet (IPv4 /24, IPv6 /48): filling the
 * node's 32 takes four subnets
 */
export const MAX_PENDING_INBOUND_PER_SUBNET = 8

/**
 * Addresses the per-address and per-subnet caps do not count by default: the node's own host.
 * Connections from loopback come from its operator's tools, and from every other node of a ring
 * run on one machine (tests, benchmarks), which would all share one address.
 */
export const DEFAULT_UNCAPPED_NETWORKS = ['127.0.0.0/8', '::1/128']

/**
 * How long a new connection from a stranger is spared when an older one must make room: long
 * enough for a joining node to find its place through us (a join attempt takes a few seconds).
 */
export const NEWCOMER_GRACE = 30 * second

/** How long closing a stranger's connection to make room may take before it is reset */
export const EVICTION_CLOSE_TIMEOUT = 1 * second

/**
 * Streams a peer may open on a new connection before the node has finished setting it up (its
 * connection gater's last check is still running), above which libp2p resets the whole
 * connection; libp2p's default is 10. A gateway that subscribes its owners again on reconnecting,
 * or a client that opens its requests in parallel the moment it connects, opens more than 10 at
 * once. Such a stream has no reader yet, so what its peer sends on it waits in memory: a window's
 * worth (256 KiB) at once, up to the stream's read buffer (4 MiB) if setting up took long. The
 * node's own last check is quick; an application's gater with a slow
 * `denyInboundUpgradedConnection` lets each connection hold that much for longer.
 */
export const MAX_EARLY_STREAMS = 64

/**
 * Bytes a ping stream may hold unread while its echo waits for the peer to take it: a ping is 32
 * bytes and waits for its echo, so an honest peer never comes near this; past it the stream is
 * reset (src/node/paced-ping.ts)
 */
export const MAX_PING_READ_BUFFER_BYTES = 64 * 1024

/** How long a ping stream may stay open, libp2p's own ping timeout */
export const PING_TIMEOUT = 10_000

/**
 * Answers a stream's protocol negotiation may take before the node resets the stream. An honest
 * dialer takes one for the header and one for each protocol it offers until one is spoken (libp2p
 * offers them one at a time); multistream-select itself answers every repeat of the header, `ls`
 * and unknown name for as long as the negotiation's 10 s last, a write for each, before any
 * protocol's limits apply (src/node/bounded-negotiation.ts).
 */
export const MAX_NEGOTIATION_ANSWERS = 16

/**
 * Writes an inbound connection's upgrade may take before the node resets it: two negotiations
 * (the encrypter in the clear, then the muxer under Noise) of MAX_NEGOTIATION_ANSWERS each, and
 * the one message Noise's handshake has the answering side send, with one to spare
 */
export const MAX_UPGRADE_WRITES = 2 * MAX_NEGOTIATION_ANSWERS + 2
