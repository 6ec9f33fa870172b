/**
 * libp2p-chord: a Chord distributed hash table on libp2p, with an end-to-end encrypted mailbox.
 * Everything public is exported here; nothing else is part of the API.
 */
import './runtime-check.js'
export type { JoinProgressEvent } from './membership/join.js'

// the ring and the mailbox as libp2p services, for an application's own libp2p node
export { chord, ChordService } from './services/chord.js'
export type { PutOptions, PutResult, LookupAnswer, LookupOptions } from './services/chord.js'
export type { PublishOptions, PublishResult, ResolvedRecord } from './owned/owned-records.js'
export type { ChordInit, ChordTimers } from './services/chord-init.js'
export { chordMailbox, ChordMailbox } from './services/mailbox.js'
export type { ChordMailboxInit } from './services/mailbox.js'
export { peerExchange, PeerExchange } from './peer-exchange/peer-exchange.js'
export type { PeerExchangeInit, ExchangedPeer } from './peer-exchange/peer-exchange.js'
export type { NodeStatus } from './membership/join.js'

// the convenience form: a libp2p node built with those services
export { createChordNode, ChordNode } from './node/chord-node.js'
export type { ChordNodeOptions, ChordNodeTimers, ChordNodeServices } from './node/chord-node.js'
export { browserConnectionGater } from './node/browser-connection-gater.js'
// what createChordNode's libp2p node runs to keep strangers from taking its connections, for an
// application's own node: the guard as a service, the caps in its connection gater
export { connectionGuard, ConnectionGuard } from './node/connection-guard.js'
export type { ConnectionGuardInit } from './node/connection-guard.js'
export { InboundConnectionLimits, withConnectionLimits } from './node/connection-limits.js'
export { wholeMessageWrites } from './node/whole-message-writes.js'
export { quietLengthDecoding } from './node/quiet-length-decoding.js'
export { fewerWindowUpdates } from './node/fewer-window-updates.js'
export { boundedNegotiation, boundedUpgrades } from './node/bounded-negotiation.js'
export { closingWebSocketResets } from './node/closing-websocket-resets.js'
export { pacedPing } from './node/paced-ping.js'
export type { ConnectionLimits } from './node/connection-limits.js'
export type { BrowserConnectionGaterInit } from './node/browser-connection-gater.js'

export type { CheckResult, HealthChecks, HealthReport, HealthStatus } from './observability/health.js'
export type { RefusedRequests } from './observability/refused-requests.js'

export { createIdentity, importIdentity, parseAddress, PublicKey } from './mailbox/crypto.js'
export type { Identity } from './mailbox/crypto.js'
export type { EnvelopeOutcome, SendOptions, SendResult, SubscribeOptions } from './mailbox/mailbox.js'
export type { DeliveryReceipt } from './mailbox/receipts.js'
/** The largest plaintext one message may carry, bytes */
export { MAX_PLAINTEXT_SIZE } from './mailbox/constants.js'
export type { MailboxMessage, Subscription } from './mailbox/subscription.js'
/** The mailbox's calls (send, subscribe, ack): what `node.mailbox` and `services.mailbox` are */
export type { ChordMailbox as Mailbox } from './services/mailbox.js'

// a person's chat across their devices, and groups (`mailbox.chat`, `mailbox.requestLink`)
export { accountOf, linkedAccount } from './devices/account.js'
export type { Account } from './devices/account.js'
export type { DeviceInfo } from './devices/device-list.js'
export type { LinkOffer, LinkOfferOptions, LinkRequestOptions, PendingLink } from './devices/linking.js'
export { MAX_DEVICES } from './devices/constants.js'
export type { ChatClient, ChatDevices, ChatGroups, ChatMessage, ChatOptions, ChatSendResult } from './chat/chat-client.js'
export type { ChatStore } from './chat/chat-store.js'
export { MemoryChatStore } from './chat/chat-store.js'
export type { DeliveryState, RecipientDelivery } from './chat/delivery.js'
export type { GroupChangeResult, GroupInfo } from './groups/groups.js'
export { MAX_GROUP_MEMBERS } from './groups/constants.js'

export {
  ChordError,
  InvalidMessageError,
  InvalidOptionsError,
  InvalidRecordError,
  LookupFailedError,
  LookupVerificationError,
  QuotaExceededError,
  RateLimitedError,
  RequestTimeoutError,
  RemoteError,
  NotStartedError,
  NotJoinedError,
  BootstrapFailedError,
  VerificationError,
  ForbiddenError,
  LinkRefusedError,
  TooLargeError,
  StaleRecordError,
  UnsupportedRuntimeError
} from './errors.js'
