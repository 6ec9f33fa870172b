/**
 * The end-to-end encrypted mailbox: send, subscribe, acknowledge. Envelopes are records in the
 * mailbox namespace under the recipient's mailbox key, replicated like any record; the nodes
 * holding them see ciphertext only.
 */
import pRetry from 'p-retry'
import { fromString as fromHex } from 'uint8arrays/from-string'
import { toString as toHex } from 'uint8arrays/to-string'
import { ringIdFromBytes } from '../chord/id.js'
import { ForbiddenError, InvalidOptionsError, InvalidRecordError, LookupFailedError, NotStartedError, QuotaExceededError, RateLimitedError, VerificationError, asError } from '../errors.js'
import { createRecord } from '../chord/record.js'
import { expiresAtFor } from '../chord/ttl.js'
import { DEFAULT_MESSAGE_TTL, MAX_STAMP_DIFFICULTY, SEND_RETRIES, SEND_RETRY_MIN_DELAY, SUBSCRIPTION_CHECK_INTERVAL } from './constants.js'
import { makeStamp } from './stamp.js'
import { signDeletion } from './proofs.js'
import { mailboxKey, parseAddress } from './public-key.js'
import { encodeReceipt } from './receipts.js'
import { envelopeId, seal } from './seal.js'
import { Subscription } from './subscription.js'
import type { PublicKey } from './public-key.js'
import type { Identity } from './identity.js'
import type { DeliveryReceipt } from './receipts.js'
import type { SealedKind } from './seal.js'
import type { MailboxMessage, OpenSession } from './subscription.js'
import type { Replication } from '../chord/replication.js'
import type { ChordRing } from '../chord/ring.js'
import type { DeletionRpc } from '../chord/rpc.js'
import type { TtlPolicy } from '../chord/ttl.js'

export interface MailboxInit {
  ring: ChordRing
  /** replication of the mailbox namespace */
  replication: Replication
  deletions: DeletionRpc
  openSession: OpenSession
  ttl: TtlPolicy
  subscriptionCheckIntervalMs?: number
  onError?(err: unknown): void
}

export interface SendOptions {
  /** how long the envelope waits for the recipient, ms (default a week, capped by the nodes' maximum) */
  ttlMs?: number
  signal?: AbortSignal
}

export interface SendResult {
  /**
   * hex id of the envelope, as the recipient will see it; sent to a person with several devices,
   * the envelope of the first device that stored it (`envelopes` has each one's)
   */
  id: string
  /** replicas that stored it durably */
  replicas: number
  /** sent to a person: how each envelope fared, one per device of the recipient and of the sender */
  envelopes?: EnvelopeOutcome[]
}

/** How one envelope of a message sent to people fared: stored (with its id), or not (with why) */
export interface EnvelopeOutcome {
  /** the person's address */
  person: string
  /** the device's address; absent when the person's device list could not be read */
  device?: string
  /** hex id of the envelope, as that device will see it */
  id?: string
  /** replicas that stored it durably */
  replicas: number
  error?: Error
}

export interface SubscribeOptions {
  /**
   * answer each message the callback took (it resolved) with a sealed delivery receipt to its
   * sender; default true
   */
  receipts?: boolean
  /** told when a message this identity sent has arrived: its recipient's receipt */
  onReceipt?(receipt: DeliveryReceipt): void | Promise<void>
  /** told about envelopes that would not open and callbacks that threw */
  onError?(err: unknown): void
}

/** What the devices and groups layer adds to a subscription: it takes the frames */
export interface FrameSubscribeOptions extends SubscribeOptions {
  /** resolves to whether the frame was a message the application took (it is answered with a receipt) */
  onFrame?(frame: MailboxMessage): Promise<boolean>
}

/**
 * Errors that another attempt would only repeat; a RateLimitedError carries when to try again,
 * which is the caller's to decide
 */
const PERMANENT_ERRORS = [QuotaExceededError, InvalidRecordError, InvalidOptionsError, ForbiddenError, VerificationError, RateLimitedError]

export class Mailbox {
  private readonly init: MailboxInit
  /** every subscription not closed yet, those still starting included */
  private readonly subscriptions = new Set<Subscription>()
  private closed = false
  /** aborted when the mailbox closes: sends still retrying then (receipts, above all) give up */
  private shutdown = new AbortController()

  constructor (init: MailboxInit) {
    this.init = init
  }

  /**
   * Seal `plaintext` for `recipient` and store it on the recipient's mailbox replicas. Resolves
   * once it is durably stored; retries transient failures with backoff. A retry stores the same
   * envelope again, which the replicas keep once: the recipient gets one message.
   */
  async send (sender: Identity, recipient: string | PublicKey, plaintext: Uint8Array, options: SendOptions = {}): Promise<SendResult> {
    return this.sendSealed(sender, recipient, plaintext, 'message', options)
  }

  /** Tell the sender of `message` (the device that sealed it) that `identity`'s application took it */
  async sendReceipt (identity: Identity, message: MailboxMessage): Promise<SendResult> {
    return this.sendSealed(identity, message.sender, encodeReceipt(fromHex(message.id, 'base16'), Date.now()), 'receipt', {})
  }

  /** Seal a frame of the devices and groups layer (ChatFrame bytes) for one device, and store it as `send` does */
  async sendFrame (sender: Identity, recipient: PublicKey, frame: Uint8Array, options: SendOptions = {}): Promise<SendResult> {
    return this.sendSealed(sender, recipient, frame, 'frame', options)
  }

  private async sendSealed (sender: Identity, recipient: string | PublicKey, plaintext: Uint8Array, kind: SealedKind, options: SendOptions): Promise<SendResult> {
    const to = typeof recipient === 'string' ? parseAddress(recipient) : recipient
    const envelope = await seal(sender, to, plaintext, { kind })
    const now = Date.now()
    const ttl = { ...this.init.ttl, defaultTtl: Math.min(DEFAULT_MESSAGE_TTL, this.init.ttl.maxTtl) }
    const record = createRecord(mailboxKey(to), envelope, expiresAtFor(options.ttlMs, now, ttl))
    const signal = options.signal == null ? this.shutdown.signal : AbortSignal.any([options.signal, this.shutdown.signal])
    let stamp: Uint8Array | undefined
    const put = async (): Promise<{ replicas: number }> => {
      try {
        return await this.init.replication.put([stamp == null ? record : { ...record, stamp }], { signal })
      } catch (err) {
        // a mailbox under pressure that takes a stamped envelope at once: pay for it, once
        const difficulty = err instanceof RateLimitedError ? err.stampDifficulty : undefined
        if (stamp != null || difficulty == null || difficulty < 1 || difficulty > MAX_STAMP_DIFFICULTY) {
          throw asError(err)
        }
        stamp = await makeStamp(record.key, record.id, difficulty, { signal })
        return await this.init.replication.put([{ ...record, stamp }], { signal }).catch(err => { throw asError(err) })
      }
    }
    const { replicas } = await pRetry(put, {
      retries: SEND_RETRIES,
      minTimeout: SEND_RETRY_MIN_DELAY,
      randomize: true,
      signal,
      shouldRetry: ({ error }) => !PERMANENT_ERRORS.some(E => error instanceof E)
    })
    return { id: toHex(envelopeId(envelope), 'base16'), replicas }
  }

  /**
   * Receive the messages waiting in `identity`'s mailbox, then each new one as it arrives.
   * Resolves once the node responsible for the mailbox accepted the proof of ownership.
   */
  async subscribe (identity: Identity, onMessage: (message: MailboxMessage) => void | Promise<void>, options: FrameSubscribeOptions = {}): Promise<Subscription> {
    if (this.closed) {
      throw new NotStartedError('the mailbox has stopped')
    }
    const key = mailboxKey(identity.publicKey)
    const subscription = new Subscription({
      identity,
      onMessage,
      openSession: this.init.openSession,
      findOwner: async () => (await this.init.ring.lookup(ringIdFromBytes(key), { successorCount: 1 })).successors[0],
      checkIntervalMs: this.init.subscriptionCheckIntervalMs ?? SUBSCRIPTION_CHECK_INTERVAL,
      sendReceipt: options.receipts === false ? undefined : async message => this.sendReceipt(identity, message),
      onReceipt: options.onReceipt,
      onFrame: options.onFrame,
      acknowledge: async ids => this.ack(identity, ids),
      onError: options.onError ?? this.init.onError,
      // a closed subscription is the caller's to forget, not ours to keep
      onClosed: () => { this.subscriptions.delete(subscription) }
    })
    // kept from the start: a node that stops while this one is still starting must close it too
    this.subscriptions.add(subscription)
    try {
      await subscription.start()
    } catch (err) {
      await subscription.close()
      throw err
    }
    return subscription
  }

  /**
   * Delete messages from every replica of `identity`'s mailbox. Only the owner can: each replica
   * checks the owner's signature. Resolves with how many replicas deleted them.
   */
  async ack (identity: Identity, ids: Array<string | Uint8Array>): Promise<{ replicas: number }> {
    if (ids.length === 0) {
      return { replicas: 0 }
    }
    const deletion = await signDeletion(identity, ids.map(toIdBytes), Date.now())
    // looked up, never from the owner cache: a DELETE's answer cannot tell a stale set, and an ack
    // sent the moment a message is pushed would race the sender's STOREs to the other replicas
    const replicas = await this.init.replication.replicaSet(deletion.key)
    const results = await Promise.allSettled(replicas.map(async node => this.init.deletions.deleteRecords(node, deletion)))
    const deleted = results.filter(r => r.status === 'fulfilled').length
    if (deleted === 0) {
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      throw failure?.reason ?? new LookupFailedError('the mailbox has no replica to acknowledge to')
    }
    return { replicas: deleted }
  }

  /** Take subscriptions and sends again after `close` (the node started again) */
  reopen (): void {
    if (this.closed) {
      this.closed = false
      this.shutdown = new AbortController()
    }
  }

  /** Close every subscription, and take no new one (the node is stopping) */
  async close (): Promise<void> {
    this.closed = true
    this.shutdown.abort(new NotStartedError('the mailbox has stopped'))
    await Promise.all([...this.subscriptions].map(async s => s.close()))
    this.subscriptions.clear()
  }
}

function toIdBytes (id: string | Uint8Array): Uint8Array {
  if (typeof id !== 'string') {
    return id
  }
  if (!/^[0-9a-f]{64}$/.test(id)) {
    throw new InvalidOptionsError('a message id is 64 lowercase hexadecimal digits')
  }
  return fromHex(id, 'base16')
}
