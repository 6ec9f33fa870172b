/**
 * Sizes, versions and domain-separation labels of the mailbox's cryptography, with the reason
 * for each. docs/security.md describes the formats they shape.
 */
import { KiB } from '../units.js'
import { NONCE_BYTES } from '../chord/proof-of-work.js'
import { MAX_BYTES_PER_KEY } from '../storage/constants.js'

/* ---- keys ---- */

/** Ed25519 public keys and X25519 public keys are both 32 bytes */
export const CURVE_KEY_LENGTH = 32

/** An envelope's id is the sha256 of its bytes */
export const ID_LENGTH = 32

/** Both secret keys (Ed25519 seed, X25519 scalar) are 32 random bytes */
export const SECRET_KEY_LENGTH = 32

export const SIGNATURE_LENGTH = 64

/**
 * First byte of a public key's canonical bytes. It names the key types that follow (v1: Ed25519
 * signing key, then X25519 key agreement key), so a future key type gets a new version and a
 * new mailbox instead of an ambiguous encoding.
 */
export const PUBLIC_KEY_VERSION = 1

/** version byte + Ed25519 public key + X25519 public key */
export const PUBLIC_KEY_LENGTH = 1 + CURVE_KEY_LENGTH + CURVE_KEY_LENGTH

/* ---- text forms ---- */

/** Starts every address, so that it is recognisable as ours and cannot be mistaken for another format */
export const ADDRESS_PREFIX = 'chord:'

/**
 * Checksum bytes appended to the key in an address. Without one, most typos in an address still
 * decode to a valid-looking key that nobody owns, and a message sent to it is silently lost;
 * four bytes catch all but one typo in four billion.
 */
export const ADDRESS_CHECKSUM_LENGTH = 4

/**
 * Longest address text: the prefix and the base58 digits of key and checksum (each base58 digit
 * carries log2(58) ≈ 5.86 bits). Longer text is refused before decoding, whose cost grows with
 * the square of its length.
 */
export const MAX_ADDRESS_LENGTH = ADDRESS_PREFIX.length +
  Math.ceil((PUBLIC_KEY_LENGTH + ADDRESS_CHECKSUM_LENGTH) * 8 / Math.log2(58))

/**
 * Bytes of hash shown in a fingerprint: 128 bits, so that making a key whose fingerprint matches
 * someone else's takes about 2^128 work, while people can still read it aloud.
 */
export const FINGERPRINT_BYTES = 16

/** Hexadecimal digits per group in a fingerprint: groups of four are easy to compare by eye */
export const FINGERPRINT_GROUP_LENGTH = 4

/* ---- saved identity ---- */

/** First byte of `Identity.export()`, so that a later format can be told apart and migrated */
export const IDENTITY_EXPORT_VERSION = 1

/**
 * Checksum bytes at the end of an exported identity. A corrupted secret key still makes a valid
 * (but different) identity; without a checksum its owner would silently lose their mailbox.
 */
export const IDENTITY_EXPORT_CHECKSUM_LENGTH = 4

/** version + Ed25519 seed + X25519 secret + checksum */
export const IDENTITY_EXPORT_LENGTH = 1 + SECRET_KEY_LENGTH + SECRET_KEY_LENGTH + IDENTITY_EXPORT_CHECKSUM_LENGTH

/* ---- envelopes ---- */

/** The only envelope version this code reads and writes; it selects the labels and algorithms below */
export const ENVELOPE_VERSION = 1

/** ChaCha20-Poly1305 (RFC 8439): 32-byte key, 12-byte nonce, 16-byte tag */
export const AEAD_KEY_LENGTH = 32
export const AEAD_NONCE_LENGTH = 12
export const AEAD_TAG_LENGTH = 16

/**
 * The only sizes an envelope can have, in bytes. Every message is padded up to the smallest of
 * these that holds it, so a node (or anyone watching) learns which bucket a message fell into,
 * not its length. 512 bytes holds about 300 bytes of text, which covers most chat messages, so
 * most messages look alike; each step is 4× (the last 2×), which bounds the padding wasted to
 * less than 4× while leaking at most one of five sizes. The largest equals the store's largest
 * record value (64 KiB), so every envelope fits in one record.
 */
export const ENVELOPE_SIZES = [512, 2 * KiB, 8 * KiB, 32 * KiB, 64 * KiB] as const

/** Largest envelope anyone may store or send */
export const MAX_ENVELOPE_SIZE = ENVELOPE_SIZES[ENVELOPE_SIZES.length - 1]

/**
 * Largest message body. What the largest envelope holds after the sealed message's own fields
 * (sender key, time, signature: under 150 bytes) and the envelope's (ephemeral key, tag,
 * framing: 56 bytes), rounded down to a whole KiB.
 */
export const MAX_PLAINTEXT_SIZE = 63 * KiB

/**
 * Latest `sentAt` accepted, in milliseconds since the epoch: the largest integer a JavaScript
 * number holds exactly (the year 287,396), so a time read from the wire is never rounded.
 */
export const MAX_SENT_AT = Number.MAX_SAFE_INTEGER

/* ---- domain separation ---- */
// Every hash, key derivation and signature starts with its own label, so that a value made for
// one purpose can never be taken for another (a signature over a challenge is never a valid
// message signature). The version in each label changes whenever what follows it does.

export const MAILBOX_KEY_LABEL = 'libp2p-chord/mailbox-key/v1'
export const FINGERPRINT_LABEL = 'libp2p-chord/fingerprint/v1'
export const ADDRESS_CHECKSUM_LABEL = 'libp2p-chord/address-checksum/v1'
export const IDENTITY_EXPORT_LABEL = 'libp2p-chord/identity-export/v1'
/** Signatures made by `Identity.sign()` for other protocols (mailbox challenge, ack) */
export const USER_SIGNATURE_LABEL = 'libp2p-chord/user-signature/v1'
/** The sender's signature inside a sealed message */
export const MESSAGE_SIGNATURE_LABEL = 'libp2p-chord/envelope-signature/v1'
/** Signs a delivery receipt: a different label, so no message signature can pass for a receipt's */
export const RECEIPT_SIGNATURE_LABEL = 'libp2p-chord/receipt-signature/v1'
/** Signs a frame of the devices and groups layer: no message or receipt signature passes for one */
export const FRAME_SIGNATURE_LABEL = 'libp2p-chord/frame-signature/v1'
/** HKDF info for an envelope's AEAD key and nonce */
export const ENVELOPE_KEY_LABEL = 'libp2p-chord/envelope-key/v1'
/** The hash a proof-of-work stamp is checked with, bound to one envelope in one mailbox */
export const STAMP_LABEL = 'libp2p-chord/envelope-stamp/v1'

/* ---- frames ---- */

/** A group's id: 16 random bytes, so that two groups never share one (2^64 groups before a collision is likely) */
export const GROUP_ID_LENGTH = 16

/* ---- accepting envelopes ---- */

/**
 * The window in which a mailbox's acceptance rates are counted (on each node that keeps it, for
 * envelopes sent to it directly; a replica's repairs are not counted). A minute: long enough for
 * a burst of chat to average out.
 */
export const MAILBOX_ACCEPT_WINDOW = 60_000

/**
 * New envelopes one mailbox takes per window from all senders together: about 17 a second, far
 * more than a person reads, and as many as the mailbox holds at once (MAX_RECORDS_PER_KEY). Beyond
 * it the mailbox is under pressure, and a node that asks for stamps (a non-zero stamp difficulty)
 * takes only stamped envelopes until the window ends.
 */
export const MAX_ENVELOPES_PER_MAILBOX_PER_WINDOW = 1024

/**
 * New envelopes one sending peer may put in one mailbox per window: an eighth of the mailbox's
 * rate (the share one writer has of everything, WRITER_SHARE), so that one sender, or one node
 * relaying for many, cannot use up a mailbox's rate and shut the others out; still a burst of a
 * hundred-odd messages from one chat partner a minute.
 */
export const MAX_ENVELOPES_PER_SENDER_PER_WINDOW = MAX_ENVELOPES_PER_MAILBOX_PER_WINDOW / 8

/** Mailboxes (and mailbox–sender pairs) whose rates are remembered at once: past it, of those remembered longest, the one that took least is forgotten (PeerBudget) */
export const MAX_RATED_MAILBOXES = 4096

/** Bytes of a stamp's nonce: the counter proof-of-work searches make */
export const STAMP_BYTES = NONCE_BYTES

/**
 * The most work a node may ask of a stamp, and a sender agrees to do: 2^24 sha256 is a few
 * seconds in JavaScript. A node's setting is from 0 (never asks) to this.
 */
export const MAX_STAMP_DIFFICULTY = 24

/** A node's default stamp difficulty: 0, it never asks for one (an operator turns it on) */
export const DEFAULT_STAMP_DIFFICULTY = 0

/**
 * Envelope ids a subscription remembers to drop duplicates (a session move, a retried send, a
 * replica that missed an acknowledgement). Far more than a mailbox holds at once (the store
 * caps a key at 1,024 records); 64 bytes each.
 */
export const MAX_SEEN_IDS = 10_000

/**
 * Bytes of envelopes a subscription holds that the application has not taken yet: a session's
 * backlog, held until its node says it is complete (caughtUp) to be delivered in send order, and
 * messages waiting for the callback. A full mailbox (the store's quota of a key, MAX_BYTES_PER_KEY)
 * and as much again for envelopes pushed while it arrives. A node that sends more while catching
 * up is not sending a backlog: the subscription hands over what it holds and subscribes again, as
 * after any failure. Once caught up, the subscription reads no more from its node while this much
 * waits for the application (a node that drops it for not reading is subscribed to again).
 */
export const MAX_UNDELIVERED_BYTES = 2 * MAX_BYTES_PER_KEY

/** How long an envelope waits for its recipient when the sender asks for nothing else: a week */
export const DEFAULT_MESSAGE_TTL = 7 * 24 * 60 * 60 * 1000

/** How often a subscription checks that it is still with the node responsible for the mailbox */
export const SUBSCRIPTION_CHECK_INTERVAL = 2000

/** Attempts a send makes after the first fails for a transient reason (no route, a timeout) */
export const SEND_RETRIES = 4

/** Delay before the first retry of a send, ms; it doubles (with jitter) each time */
export const SEND_RETRY_MIN_DELAY = 100

/** Attempts `subscribe` makes after the first fails for a transient reason (the node just died) */
export const SUBSCRIBE_RETRIES = 4

/** Delay before the first retry of a subscribe, ms; it doubles (with jitter) each time */
export const SUBSCRIBE_RETRY_MIN_DELAY = 200
