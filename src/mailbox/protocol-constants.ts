/**
 * Names, sizes and deadlines of /chord/mailbox/1.0.0 (docs/protocol.md lists them for implementers).
 */
import { KiB, MiB, second } from '../units.js'
import { MAX_ENVELOPE_SIZE } from './constants.js'

export const MAILBOX_PROTOCOL = '/chord/mailbox/1.0.0'

/** Bytes of one client message: a public key or a signature, with framing */
export const MAX_MAILBOX_REQUEST_SIZE = 1 * KiB

/**
 * Bytes of envelopes one ENVELOPES message carries before the rest go in the next; with the
 * largest envelope (64 KiB) that is eight per message.
 */
export const ENVELOPES_PAGE_BYTES = 512 * KiB

/** Bytes of one node message: a page of envelopes, or one envelope larger than a page, with framing */
export const MAX_MAILBOX_EVENT_SIZE = ENVELOPES_PAGE_BYTES + MAX_ENVELOPE_SIZE + 4 * KiB

/** Envelopes in one ENVELOPES message */
export const MAX_ENVELOPES_PER_EVENT = 256

/** Length of a challenge nonce: 256 bits, never repeated in practice */
export const CHALLENGE_NONCE_BYTES = 32

/**
 * Time from opening the stream to a proven subscription (SUBSCRIBE, CHALLENGE, PROVE). A
 * challenge is single-use (one per stream) and expires with this deadline.
 */
export const SUBSCRIBE_HANDSHAKE_TIMEOUT = 10 * second

/** Subscriptions one mailbox may hold on one node at once (an owner's devices) */
export const MAX_SUBSCRIBERS_PER_MAILBOX = 8

/** Subscriptions one node serves at once; more are refused until some close */
export const MAX_SUBSCRIPTIONS = 4096

/**
 * Proven subscriptions one remote peer may hold on one node at once: one per mailbox it owns and
 * device behind it, as many as one connection may open streams (MAX_INBOUND_MAILBOX_STREAMS). A
 * peer past it is refused with RATE_LIMITED, so one peer cannot take MAX_SUBSCRIPTIONS for itself
 * by opening more connections.
 */
export const MAX_SUBSCRIPTIONS_PER_PEER = 16

/**
 * Proven subscriptions the peers of one subnet (an IPv4 /24, an IPv6 /48; loopback not counted)
 * may hold on one node at once. Mailbox keys cost nothing to make, so slots are taken by whoever
 * holds connections: a /24 may hold 64 (MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET), which at
 * MAX_SUBSCRIPTIONS_PER_PEER each is 1,024, a quarter of MAX_SUBSCRIPTIONS. 256 takes sixteen
 * subnets to fill them, and is four times what a /24 of honest owners, one connection and
 * subscription each, can reach under the connection caps.
 */
export const MAX_SUBSCRIPTIONS_PER_SUBNET = 256

/**
 * Bytes of envelopes held for one subscriber and not yet written to its stream: new envelopes
 * queued for it, and the page of its backlog being written (the backlog is read from the store a
 * page at a time, so a full mailbox, MAX_BYTES_PER_KEY, is never held for a subscriber at once).
 * A reader that keeps up has at most a page in flight (ENVELOPES_PAGE_BYTES); one that lets more
 * than two full pages pile up is dropped, so a slow or stalled reader cannot make the node buffer
 * without bound. The envelopes stay stored: a dropped owner gets them with the backlog when it
 * subscribes again.
 */
export const MAX_PENDING_PUSH_BYTES = 1 * MiB

/**
 * Bytes of envelopes held for all remote subscribers together. MAX_PENDING_PUSH_BYTES each would
 * allow MAX_SUBSCRIPTIONS × 1 MiB, 4 GiB, which no node should give strangers who stop reading.
 * Past this the subscriber with the most waiting (the slowest reader, whoever it is) is dropped,
 * so readers that keep up are never the ones dropped, and nobody is refused a backlog for it.
 */
export const MAX_TOTAL_PENDING_PUSH_BYTES = 256 * MiB

/**
 * Time one write to a subscriber may take, from starting to write a page to the stream taking
 * it. A page is at most ~580 KiB (MAX_MAILBOX_EVENT_SIZE), so this passes a link as slow as
 * ~20 KiB/s; a subscriber that takes nothing for this long is not reading and is dropped.
 */
export const PUSH_WRITE_TIMEOUT = 30 * second

/** Inbound mailbox streams per connection: a client needs one per mailbox it owns */
export const MAX_INBOUND_MAILBOX_STREAMS = 16

/** Error codes an ERROR event may carry */
export const MailboxErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  TOO_MANY_SUBSCRIBERS: 'TOO_MANY_SUBSCRIBERS',
  /** the peer holds MAX_SUBSCRIPTIONS_PER_PEER already; the same code as /chord/1.0.0's, so it is a RateLimitedError to the client */
  RATE_LIMITED: 'RATE_LIMITED',
  /**
   * this node does not keep the mailbox, so a subscription here would only take a slot (mailbox
   * keys cost nothing to make); the same code as /chord/1.0.0's, so it is a ForbiddenError to the
   * client, which looks the mailbox's node up again
   */
  FORBIDDEN: 'FORBIDDEN',
  STOPPING: 'STOPPING'
} as const
