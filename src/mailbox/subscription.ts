/**
 * A mailbox owner's live subscription: it keeps one session open with the node responsible for
 * the mailbox, moves to the new one when responsibility moves (opening the new session before
 * closing the old, so nothing is missed in between), opens each envelope, drops duplicates by id
 * and hands messages to the callback one at a time.
 *
 * A session's backlog is held until its node says it is complete, then delivered in send order.
 * A session that ends first hands over what it held (its ids are already seen, so the next
 * session would drop them); one whose node sends more than MAX_UNDELIVERED_BYTES without saying
 * so is ended, as a node that fails is. Once caught up, a session reads on only while less than
 * that waits for the application.
 */
import pRetry from 'p-retry'
import { toString as toHex } from 'uint8arrays/to-string'
import { Periodic } from '../chord/periodic.js'
import { TIMER_JITTER } from '../chord/constants.js'
import { InvalidMessageError, NotStartedError, RateLimitedError, VerificationError, asError } from '../errors.js'
import { MAX_SEEN_IDS, MAX_UNDELIVERED_BYTES, SUBSCRIBE_RETRIES, SUBSCRIBE_RETRY_MIN_DELAY } from './constants.js'
import { decodeReceipt } from './receipts.js'
import { envelopeId, open } from './seal.js'
import type { Identity } from './identity.js'
import type { PublicKey } from './public-key.js'
import type { DeliveryReceipt } from './receipts.js'
import type { NodeRef } from '../chord/rpc.js'

/** A message as the recipient sees it */
export interface MailboxMessage {
  /** hex id of the envelope: what `ack` takes */
  id: string
  /** the sender's verified address */
  from: string
  /** the sender's verified public key */
  sender: PublicKey
  plaintext: Uint8Array
  /** ms since the epoch, as the sender's clock said */
  sentAt: number
}

export interface MailboxSessionHandlers {
  /** a page of envelopes; `caughtUp` marks the end of those that were waiting */
  onEnvelopes(envelopes: Uint8Array[], caughtUp: boolean): Promise<void>
  /** the session ended (the node went away, or refused) */
  onClose(err?: Error): void
}

export interface MailboxSession {
  readonly node: NodeRef
  close(): Promise<void>
}

export type OpenSession = (node: NodeRef, identity: Identity, handlers: MailboxSessionHandlers) => Promise<MailboxSession>

export interface SubscriptionInit {
  identity: Identity
  onMessage(message: MailboxMessage): void | Promise<void>
  openSession: OpenSession
  /** the node now responsible for the mailbox */
  findOwner(): Promise<NodeRef>
  /** how often to check that the subscription is still with the responsible node */
  checkIntervalMs: number
  /** seal a delivery receipt for a message the application has taken; absent: none are sent */
  sendReceipt?(message: MailboxMessage): Promise<unknown>
  /** told of the receipts for messages this identity sent (they never reach onMessage) */
  onReceipt?(receipt: DeliveryReceipt): void | Promise<void>
  /**
   * told of each frame of the devices and groups layer (its body in `plaintext`); resolves to
   * whether it was a message the application took, which is answered with a receipt. Absent:
   * frames are not understood, and reported to onError
   */
  onFrame?(frame: MailboxMessage): Promise<boolean>
  /** delete envelopes from the mailbox: receipts, once handed over */
  acknowledge(ids: string[]): Promise<unknown>
  /** told about envelopes that would not open and callbacks that threw */
  onError?(err: unknown): void
  /** told once the subscription is closed */
  onClosed?(): void
}

/** What an opened envelope turned out to be */
type Opened = (
  | { kind: 'message', message: MailboxMessage }
  | { kind: 'frame', message: MailboxMessage }
  | { kind: 'receipt', id: string, receipt: DeliveryReceipt }
) & {
  /** of the envelope: what holding it counts */
  bytes: number
}

export class Subscription {
  private readonly init: SubscriptionInit
  private readonly seen = new Set<string>()
  private readonly check: Periodic
  private session?: MailboxSession
  /** hands over what the current session holds of its backlog, once it ends */
  private handOver?: () => void
  private delivering: Promise<void> = Promise.resolve()
  /** bytes of envelopes opened and not yet taken by the application, backlogs held included */
  private undelivered = 0
  private moving?: Promise<void>
  private closed = false

  constructor (init: SubscriptionInit) {
    this.init = init
    this.check = new Periodic(async () => this.follow(), {
      intervalMs: init.checkIntervalMs,
      jitter: TIMER_JITTER,
      onError: init.onError
    })
  }

  /** The node the subscription is with now */
  get node (): NodeRef | undefined {
    return this.session?.node
  }

  /**
   * Subscribe at the responsible node, retrying with backoff for a moment: right after that node
   * fails the ring may still name it until stabilize notices, and the next answer is the right one.
   * A refusal (a bad proof, too many subscribers) is final.
   */
  async start (): Promise<void> {
    await pRetry(async () => this.follow().catch(err => { throw asError(err) }), {
      retries: SUBSCRIBE_RETRIES,
      minTimeout: SUBSCRIBE_RETRY_MIN_DELAY,
      randomize: true,
      shouldRetry: ({ error }) => !(error instanceof VerificationError || error instanceof RateLimitedError || this.closed)
    })
    if (this.closed) {
      // closed while it started: the session it opened was closed with it, and nothing may run on
      throw new NotStartedError('the subscription was closed while it started')
    }
    this.check.start()
  }

  async close (): Promise<void> {
    this.closed = true
    this.init.onClosed?.()
    this.check.stop()
    await this.moving?.catch(() => {})
    await this.session?.close()
    this.session = undefined
    this.handOver = undefined
    await this.delivering
  }

  /** Move to the responsible node if the session is elsewhere or gone; one move at a time */
  private async follow (): Promise<void> {
    this.moving ??= this.move().finally(() => { this.moving = undefined })
    await this.moving
  }

  private async move (): Promise<void> {
    const owner = await this.init.findOwner()
    if (this.closed || this.session?.node.peer === owner.peer) {
      return
    }
    const { handlers, handOver } = this.handlersFor(owner)
    const next = await this.init.openSession(owner, this.init.identity, handlers)
    if (this.closed) {
      await next.close()
      return
    }
    const previous = this.session
    const handOverPrevious = this.handOver
    this.session = next
    this.handOver = handOver
    await previous?.close()
    handOverPrevious?.()
  }

  /** The handlers of a session with `node`, and what hands over its backlog if it ends first (once) */
  private handlersFor (node: NodeRef): { handlers: MailboxSessionHandlers, handOver: () => void } {
    // until the node says caughtUp, envelopes are the backlog: collected, then delivered in send order
    let backlog: Opened[] | undefined = []
    let backlogBytes = 0
    const handOver = (): void => {
      if (backlog != null) {
        this.deliver(backlog.sort((a, b) => sentAtOf(a) - sentAtOf(b)))
        backlog = undefined
      }
    }
    const handlers: MailboxSessionHandlers = {
      onEnvelopes: async (envelopes, caughtUp) => {
        const opened = await this.openAll(envelopes)
        const bytes = opened.reduce((sum, item) => sum + item.bytes, 0)
        this.undelivered += bytes
        if (backlog == null) {
          this.deliver(opened)
          // a node may send faster than the application takes messages: read on once it has caught up
          while (this.undelivered > MAX_UNDELIVERED_BYTES && !this.closed) {
            await this.delivering
          }
          return
        }
        backlog.push(...opened)
        backlogBytes += bytes
        if (caughtUp) {
          handOver()
        } else if (backlogBytes > MAX_UNDELIVERED_BYTES) {
          handOver()
          const err = new InvalidMessageError(`${node.peer} sent more than ${MAX_UNDELIVERED_BYTES} bytes of envelopes without saying the backlog was complete`)
          this.init.onError?.(err)
          // the session ends, and the subscription moves on as after any failure
          throw err
        }
      },
      onClose: () => {
        handOver()
        if (this.session?.node.peer === node.peer) {
          this.session = undefined
          this.handOver = undefined
          // reconnect at once rather than at the next check
          if (!this.closed) {
            this.follow().catch(err => this.init.onError?.(err))
          }
        }
      }
    }
    return { handlers, handOver }
  }

  /** Open new envelopes; ones seen before (another session, a retried send) are dropped */
  private async openAll (envelopes: Uint8Array[]): Promise<Opened[]> {
    const opened: Opened[] = []
    for (const envelope of envelopes) {
      const id = toHex(envelopeId(envelope), 'base16')
      if (this.seen.has(id)) {
        continue
      }
      this.remember(id)
      try {
        const { from, plaintext, sentAt, kind } = await open(this.init.identity, envelope)
        if (kind === 'frame' && this.init.onFrame == null) {
          throw new InvalidMessageError('a frame of the devices and groups layer, which this subscription does not take')
        }
        const bytes = envelope.byteLength
        opened.push(kind === 'receipt'
          ? { kind, id, receipt: decodeReceipt(plaintext, from.address), bytes }
          : { kind, message: { id, from: from.address, sender: from, plaintext, sentAt }, bytes })
      } catch (err) {
        // not for us, or tampered with: never shown to the user
        this.init.onError?.(err)
      }
    }
    return opened
  }

  /**
   * Hand messages and receipts to the application, one at a time. A message it took (its
   * callback resolved) is answered with a receipt; a receipt, once handed over, is deleted.
   */
  private deliver (opened: Opened[]): void {
    this.delivering = this.delivering.then(async () => {
      for (const item of opened) {
        try {
          if (item.kind === 'message') {
            await this.init.onMessage(item.message)
            this.init.sendReceipt?.(item.message).catch(err => this.init.onError?.(err))
          } else if (item.kind === 'frame') {
            if (await this.init.onFrame?.(item.message) === true) {
              this.init.sendReceipt?.(item.message).catch(err => this.init.onError?.(err))
            }
          } else {
            await this.init.onReceipt?.(item.receipt)
            this.init.acknowledge([item.id]).catch(err => this.init.onError?.(err))
          }
        } catch (err) {
          this.init.onError?.(err)
        } finally {
          this.undelivered -= item.bytes
        }
      }
    })
  }

  /** Remember an id, forgetting the oldest beyond MAX_SEEN_IDS (a Set iterates in insertion order) */
  private remember (id: string): void {
    this.seen.add(id)
    if (this.seen.size > MAX_SEEN_IDS) {
      const oldest = this.seen.values().next().value
      if (oldest != null) {
        this.seen.delete(oldest)
      }
    }
  }
}

/** Backlog order: messages and frames by when they were sent; receipts, which carry no send time here, first */
function sentAtOf (opened: Opened): number {
  return opened.kind === 'receipt' ? 0 : opened.message.sentAt
}
