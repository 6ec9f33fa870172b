/**
 * Limits of the metrics and the health check, and of the HTTP server that exposes them, with the
 * reason for each.
 */
import { MAX_LOOKUP_HOPS, MAX_SUCCESSORS } from '../chord/constants.js'
import { second } from '../units.js'

/**
 * Whether a node keeps Prometheus metrics unless told otherwise: a library user's node answers
 * `metrics()` as it always has; `chord-node` keeps them only when it serves them (`--http`)
 */
export const DEFAULT_METRICS = true

/**
 * Latency buckets, seconds: a request over an open loopback stream takes 0.14–0.3 ms and a request
 * deadline is 5 s, so the buckets run from half a millisecond to beyond the deadline.
 */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Lookup hop buckets: one per hop where rings of up to ~10^4 nodes land (about ½·log2 N), coarser up to the hop limit */
export const HOP_BUCKETS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 32, MAX_LOOKUP_HOPS]

/** Replica acknowledgement buckets: one per possible count, up to the longest replica set */
export const REPLICA_BUCKETS = Array.from({ length: MAX_SUCCESSORS }, (_, i) => i + 1)

/** How long the health check waits for the successor to answer a ping; a healthy one answers in milliseconds */
export const SUCCESSOR_PING_TIMEOUT = 2 * second

/** How long the health check waits for a no-op write to pass the store's write queue */
export const STORE_CHECK_TIMEOUT = 2 * second

/**
 * A stabilize round older than this many intervals is late (degraded): timers jitter by 20% and a
 * dead successor costs a request deadline, so one slow round is normal, three are not.
 */
export const STABILIZE_LATE_ROUNDS = 3

/** A stabilize round older than this many intervals means the ring's repair loop has stalled (failing) */
export const STABILIZE_STALLED_ROUNDS = 30

/**
 * The whole request head must arrive within this (Node's `headersTimeout`): a client that
 * trickles headers to hold a socket open (slowloris) is cut off. A scraper sends its head at once.
 */
export const HTTP_HEADERS_TIMEOUT = 5 * second

/**
 * A whole request, body included, must arrive within this (Node's `requestTimeout`); GET and HEAD
 * carry no body, so it only needs to exceed the headers timeout.
 */
export const HTTP_REQUEST_TIMEOUT = 10 * second

/**
 * How often Node looks for requests over those timeouts. Its default, 30 s, would let a slow
 * client keep a socket six times longer than the headers timeout allows.
 */
export const HTTP_TIMEOUT_CHECK_INTERVAL = 1 * second

/** An idle keep-alive socket is closed after this; scrapers come back every 15–60 s and reconnect cheaply */
export const HTTP_KEEP_ALIVE_TIMEOUT = 5 * second

/** Most bytes of request headers; a scrape needs a few hundred (Node's default is 16 KiB) */
export const HTTP_MAX_HEADER_SIZE = 8 * 1024

/** Most sockets open at once: a node has a handful of scrapers and probes, not crowds */
export const HTTP_MAX_CONNECTIONS = 64

/**
 * Sockets one IP address may hold open at once: a scraper and a probe need one or two; more is a
 * host holding sockets so that others cannot have them.
 */
export const HTTP_MAX_SOCKETS_PER_IP = 8
