/**
 * libp2p-chord: a Chord distributed hash table on libp2p, with an end-to-end encrypted mailbox.
 * Everything public is exported here; nothing else is part of the API.
 */
export { createChordNode, ChordNode } from './node.js'
export type { ChordNodeOptions, ChordNodeTimers, NodeStatus, PutOptions, PutResult, LookupAnswer } from './node.js'
export type { JoinProgressEvent } from './transport/bootstrap.js'

export { browserConnectionGater } from './transport/browser-connection-gater.js'
export type { BrowserConnectionGaterInit } from './transport/browser-connection-gater.js'

export type { CheckResult, HealthChecks, HealthReport, HealthStatus } from './observability/health.js'

export { createIdentity, importIdentity, parseAddress, PublicKey } from './mailbox/crypto.js'
export type { Identity } from './mailbox/crypto.js'
export type { Mailbox, SendOptions, SendResult, SubscribeOptions } from './mailbox/mailbox.js'
export type { MailboxMessage, Subscription } from './mailbox/subscription.js'

export {
  ChordError,
  InvalidMessageError,
  InvalidOptionsError,
  InvalidRecordError,
  LookupFailedError,
  QuotaExceededError,
  RateLimitedError,
  RequestTimeoutError,
  RemoteError,
  NotStartedError,
  NotJoinedError,
  BootstrapFailedError,
  VerificationError,
  ForbiddenError,
  TooLargeError
} from './errors.js'
