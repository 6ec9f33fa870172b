/**
 * Names, sizes and deadlines of /chord/mailbox/1.0.0 (docs/protocol.md lists them for implementers).
 */
import { MAX_ENVELOPE_SIZE } from '../mailbox/constants.js'
import { KiB, second } from '../units.js'

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

/** Inbound mailbox streams per connection: a client needs one per mailbox it owns */
export const MAX_INBOUND_MAILBOX_STREAMS = 16

/** Error codes an ERROR event may carry */
export const MailboxErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  TOO_MANY_SUBSCRIBERS: 'TOO_MANY_SUBSCRIBERS',
  STOPPING: 'STOPPING'
} as const
