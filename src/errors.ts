/**
 * Typed errors of the public API. Callers match on the class or on `.name`, never on the text.
 */

export class ChordError extends Error {
  static name = 'ChordError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A decoded network message broke the protocol's rules (size, field lengths, counts, ranges) */
export class InvalidMessageError extends ChordError {
  static name = 'InvalidMessageError'
}

/** No node responsible for a key could be found (every route failed or the hop limit was hit) */
export class LookupFailedError extends ChordError {
  static name = 'LookupFailedError'
}

/**
 * A lookup's answer could not be confirmed: the node it named as the key's owner, and every node
 * nearer the key that could have owned it, either did not answer or disagreed. A lookup fails
 * with this rather than return an owner it could not check (a subclass of LookupFailedError, so
 * code that retries failed lookups retries these too).
 */
export class LookupVerificationError extends LookupFailedError {
  static name = 'LookupVerificationError'
}

/** A storage limit (per key, total, per mailbox) would be exceeded: nothing was written */
export class QuotaExceededError extends ChordError {
  static name = 'QuotaExceededError'
}

/** A record is malformed: wrong key or id length, an id that is not the hash of its value, a bad expiry */
export class InvalidRecordError extends ChordError {
  static name = 'InvalidRecordError'
}

export interface RateLimitedErrorOptions extends ErrorOptions {
  /** ms after which the same request may be accepted, when the refusing side said */
  retryAfterMs?: number
  /** a mailbox under pressure takes an envelope at once with a proof-of-work stamp of this many bits */
  stampDifficulty?: number
}

/**
 * A peer sent more than its share; the request was refused without being processed. When the
 * refusing node said how long its budget (or the mailbox's acceptance rate) needs to refill,
 * `retryAfterMs` holds it.
 */
export class RateLimitedError extends ChordError {
  static name = 'RateLimitedError'
  readonly retryAfterMs?: number
  readonly stampDifficulty?: number

  constructor (message: string, options: RateLimitedErrorOptions = {}) {
    super(message, options)
    this.retryAfterMs = options.retryAfterMs
    this.stampDifficulty = options.stampDifficulty
  }
}

/** A remote node did not answer within the request deadline */
export class RequestTimeoutError extends ChordError {
  static name = 'RequestTimeoutError'
}

/** A remote node answered a request with an error status */
export class RemoteError extends ChordError {
  static name = 'RemoteError'
}

/** The node is not (or no longer) running */
export class NotStartedError extends ChordError {
  static name = 'NotStartedError'
}

/** None of the bootstrap peers could be reached before the join deadline */
export class BootstrapFailedError extends ChordError {
  static name = 'BootstrapFailedError'
}

/** The node is still trying to join its ring: it serves no reads or writes until it has */
export class NotJoinedError extends ChordError {
  static name = 'NotJoinedError'
}

/** Options passed to a public function were invalid */
export class InvalidOptionsError extends ChordError {
  static name = 'InvalidOptionsError'
}

/** A signature, challenge or ciphertext failed verification */
export class VerificationError extends ChordError {
  static name = 'VerificationError'
}

/**
 * An owned record older than the one a replica holds (a lower seq, or the same seq with other
 * content): it was refused, nothing changed. Publish again: the new record gets a higher seq.
 */
export class StaleRecordError extends ChordError {
  static name = 'StaleRecordError'
}

/** An answer would exceed what one message may carry; ask for less (e.g. a smaller range) */
export class TooLargeError extends ChordError {
  static name = 'TooLargeError'
}

/** The asker is not allowed to do this (e.g. read a mailbox it neither owns nor replicates) */
export class ForbiddenError extends ChordError {
  static name = 'ForbiddenError'
}

/** A device was not linked: the device holding the identity refused it, or the offer was cancelled */
export class LinkRefusedError extends ChordError {
  static name = 'LinkRefusedError'
}

/**
 * An Error for whatever was thrown. Some transports reject with non-Error values (an `Event`
 * when a socket fails); retry helpers and callers expect an Error.
 */
export function asError (thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new RemoteError(`failed: ${String(thrown)}`, { cause: thrown })
}

/** The JavaScript runtime lacks what libp2p needs (Node.js older than 22, an old browser) */
export class UnsupportedRuntimeError extends ChordError {
  static name = 'UnsupportedRuntimeError'
}
