/**
 * The node side of /chord/mailbox/1.0.0: proves that a subscriber owns the mailbox (a fresh,
 * single-use challenge per stream, signed with the owner's key), sends it every envelope waiting
 * there, then pushes each new one the moment it is stored.
 *
 * Subscribers of one mailbox are independent: each has its own stream and challenge, and one
 * closing (or failing to prove) never affects another.
 */
import { randomBytes } from '@noble/hashes/utils.js'
import { toString as toHex } from 'uint8arrays/to-string'
import { InvalidMessageError, RateLimitedError } from '../errors.js'
import { PublicKey, mailboxKey } from '../mailbox/public-key.js'
import { verifyChallengeAnswer } from '../mailbox/proofs.js'
import { MailboxEvent, MailboxRequest } from '../protocol/mailbox.js'
import {
  CHALLENGE_NONCE_BYTES,
  ENVELOPES_PAGE_BYTES,
  MAILBOX_PROTOCOL,
  MAX_ENVELOPES_PER_EVENT,
  MAX_INBOUND_MAILBOX_STREAMS,
  MAX_MAILBOX_REQUEST_SIZE,
  MAX_SUBSCRIBERS_PER_MAILBOX,
  MAX_SUBSCRIPTIONS,
  MailboxErrorCode,
  SUBSCRIBE_HANDSHAKE_TIMEOUT
} from '../protocol/mailbox-constants.js'
import { frameStream } from '../protocol/framing.js'
import { ringIdOf, wireBytes } from './ring-id.js'
import type { MailboxSession, MailboxSessionHandlers } from '../mailbox/subscription.js'
import type { FramedStream } from '../protocol/framing.js'
import type { ChordRecord, RecordStore } from '../storage/store.js'
import type { AbortOptions, ComponentLogger, Logger, PeerId, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'

export interface MailboxServerComponents {
  peerId: PeerId
  logger: ComponentLogger
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string, options?: AbortOptions): Promise<void>
}

export interface MailboxServerInit {
  /** the mailbox record store */
  store: RecordStore
  /** ms allowed for SUBSCRIBE → CHALLENGE → PROVE */
  handshakeTimeout?: number
  maxSubscribersPerMailbox?: number
  maxSubscriptions?: number
}

/** Where a subscription's envelopes go: a remote owner's stream, or an owner on this very node */
interface Subscriber {
  write(envelopes: Uint8Array[], caughtUp: boolean): Promise<void>
  end(err: Error): void
  /** pushes go out one after another, never interleaved with the backlog */
  sending: Promise<void>
}

export class MailboxServer implements Startable {
  private readonly components: MailboxServerComponents
  private readonly init: MailboxServerInit
  private readonly log: Logger
  /** mailbox key (hex) → its proven subscribers */
  private readonly subscribers = new Map<string, Set<Subscriber>>()
  private subscriptions = 0

  constructor (components: MailboxServerComponents, init: MailboxServerInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('libp2p-chord:transport:mailbox-server')
  }

  async start (): Promise<void> {
    await this.components.handle(MAILBOX_PROTOCOL, async stream => this.serve(stream), {
      maxInboundStreams: MAX_INBOUND_MAILBOX_STREAMS
    })
  }

  async stop (): Promise<void> {
    await this.components.unhandle(MAILBOX_PROTOCOL)
    for (const set of this.subscribers.values()) {
      for (const subscriber of set) {
        subscriber.end(new Error('the node stopped'))
      }
    }
    this.subscribers.clear()
    this.subscriptions = 0
  }

  /** New envelopes were stored: push them to the subscribers of their mailboxes */
  deliver (records: ChordRecord[]): void {
    const byMailbox = new Map<string, Uint8Array[]>()
    for (const record of records) {
      const key = toHex(record.key, 'base16')
      if (this.subscribers.has(key)) {
        byMailbox.set(key, [...(byMailbox.get(key) ?? []), record.value])
      }
    }
    for (const [key, envelopes] of byMailbox) {
      for (const subscriber of this.subscribers.get(key) ?? []) {
        this.send(subscriber, envelopes, false)
      }
    }
  }

  /**
   * A subscription of an owner whose identity is on this node (it needs no proof): what
   * /chord/mailbox/1.0.0 would do, without a stream to ourselves
   */
  async subscribeLocally (owner: PublicKey, handlers: MailboxSessionHandlers): Promise<MailboxSession> {
    const key = toHex(mailboxKey(owner), 'base16')
    const subscriber: Subscriber = {
      write: async (envelopes, caughtUp) => handlers.onEnvelopes(envelopes, caughtUp),
      end: err => {
        if (this.unregister(key, subscriber)) {
          handlers.onClose(err)
        }
      },
      sending: Promise.resolve()
    }
    this.register(key, subscriber)
    const waiting = await this.init.store.get(mailboxKey(owner))
    this.send(subscriber, waiting.map(r => r.value), true)
    await subscriber.sending
    return {
      node: { id: ringIdOf(this.components.peerId), peer: this.components.peerId.toString() },
      close: async () => { this.unregister(key, subscriber) }
    }
  }

  private async serve (stream: Stream): Promise<void> {
    const framed = frameStream(stream, MAX_MAILBOX_REQUEST_SIZE)
    let key: string | undefined
    let subscriber: Subscriber | undefined
    try {
      const owner = await this.prove(framed, stream)
      key = toHex(mailboxKey(owner), 'base16')
      subscriber = {
        write: async (envelopes, caughtUp) => {
          await framed.write(MailboxEvent.encode({ type: MailboxEvent.Type.ENVELOPES, envelopes: envelopes.map(wireBytes), caughtUp }))
        },
        end: err => { stream.abort(err) },
        sending: Promise.resolve()
      }
      this.register(key, subscriber, framed, stream)
      const waiting = await this.init.store.get(mailboxKey(owner))
      this.send(subscriber, waiting.map(r => r.value), true)
      // the client sends nothing more; its closing the stream ends the subscription
      await framed.read().catch(() => {})
    } catch (err: any) {
      this.log('mailbox subscription ended - %e', err)
      stream.abort(err)
    } finally {
      if (key != null && subscriber != null) {
        this.unregister(key, subscriber)
      }
    }
  }

  /** SUBSCRIBE → CHALLENGE → PROVE; resolves to the proven owner */
  private async prove (framed: FramedStream, stream: Stream): Promise<PublicKey> {
    const signal = AbortSignal.timeout(this.init.handshakeTimeout ?? SUBSCRIBE_HANDSHAKE_TIMEOUT)
    const subscribe = MailboxRequest.decode(await framed.read({ signal }))
    if (subscribe.type !== MailboxRequest.Type.SUBSCRIBE || subscribe.owner == null) {
      await this.refuse(framed, stream, MailboxErrorCode.BAD_REQUEST)
      throw new InvalidMessageError('expected SUBSCRIBE with an owner key')
    }
    let owner: PublicKey
    try {
      owner = PublicKey.fromBytes(subscribe.owner)
    } catch (err) {
      await this.refuse(framed, stream, MailboxErrorCode.BAD_REQUEST)
      throw err
    }

    const nonce = randomBytes(CHALLENGE_NONCE_BYTES)
    await framed.write(MailboxEvent.encode({ type: MailboxEvent.Type.CHALLENGE, nonce: wireBytes(nonce), envelopes: [], caughtUp: false }), { signal })
    const prove = MailboxRequest.decode(await framed.read({ signal }))
    if (prove.type !== MailboxRequest.Type.PROVE || prove.signature == null) {
      await this.refuse(framed, stream, MailboxErrorCode.BAD_REQUEST)
      throw new InvalidMessageError('expected PROVE with a signature')
    }
    try {
      await verifyChallengeAnswer(owner, this.components.peerId.toMultihash().bytes, nonce, prove.signature)
    } catch (err) {
      await this.refuse(framed, stream, MailboxErrorCode.BAD_SIGNATURE)
      throw err
    }
    return owner
  }

  /** @throws RateLimitedError past the per-mailbox or total limit (a remote subscriber is told why) */
  private register (key: string, subscriber: Subscriber, framed?: FramedStream, stream?: Stream): void {
    const set = this.subscribers.get(key) ?? new Set()
    if (set.size >= (this.init.maxSubscribersPerMailbox ?? MAX_SUBSCRIBERS_PER_MAILBOX) ||
      this.subscriptions >= (this.init.maxSubscriptions ?? MAX_SUBSCRIPTIONS)) {
      if (framed != null && stream != null) {
        void this.refuse(framed, stream, MailboxErrorCode.TOO_MANY_SUBSCRIBERS)
      }
      throw new RateLimitedError('too many subscriptions')
    }
    set.add(subscriber)
    this.subscribers.set(key, set)
    this.subscriptions++
  }

  /** Returns whether it was registered */
  private unregister (key: string, subscriber: Subscriber): boolean {
    const set = this.subscribers.get(key)
    if (set?.delete(subscriber) !== true) {
      return false
    }
    this.subscriptions--
    if (set.size === 0) {
      this.subscribers.delete(key)
    }
    return true
  }

  /** Queue envelopes for one subscriber, in pages; a subscriber that cannot be written to is dropped */
  private send (subscriber: Subscriber, envelopes: Uint8Array[], endsBacklog: boolean): void {
    subscriber.sending = subscriber.sending.then(async () => {
      for (const page of pages(envelopes)) {
        await subscriber.write(envelopes.slice(page.start, page.end), endsBacklog && page.end === envelopes.length)
      }
    }).catch(err => {
      this.log('dropping a subscriber that could not be written to - %e', err)
      subscriber.end(err)
    })
  }

  private async refuse (framed: FramedStream, stream: Stream, errorCode: string): Promise<void> {
    await framed.write(MailboxEvent.encode({ type: MailboxEvent.Type.ERROR, errorCode, envelopes: [], caughtUp: false }))
      .then(async () => stream.close())
      .catch(() => {})
  }
}

/** Index ranges of envelopes that fit one message each; an empty list is one empty page (it still says caughtUp) */
function pages (envelopes: Uint8Array[]): Array<{ start: number, end: number }> {
  const result: Array<{ start: number, end: number }> = []
  let start = 0
  let bytes = 0
  for (let i = 0; i < envelopes.length; i++) {
    const size = envelopes[i].byteLength
    if (i > start && (i - start === MAX_ENVELOPES_PER_EVENT || bytes + size > ENVELOPES_PAGE_BYTES)) {
      result.push({ start, end: i })
      start = i
      bytes = 0
    }
    bytes += size
  }
  result.push({ start, end: envelopes.length })
  return result
}
