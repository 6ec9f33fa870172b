/**
 * The node side of /chord/mailbox/1.0.0: proves that a subscriber owns the mailbox (a fresh,
 * single-use challenge per stream, signed with the owner's key), sends it every envelope waiting
 * there, then pushes each new one the moment it is stored.
 *
 * Subscribers of one mailbox are independent: each has its own stream and challenge, and one
 * closing (or failing to prove) never affects another.
 *
 * Only mailboxes this node keeps (is a replica of) are served: a mailbox key costs nothing to
 * make, and a subscription for one kept elsewhere would only take a slot.
 *
 * Limits: subscriptions per mailbox, per remote peer and per node; a refused subscriber gets an
 * ERROR event before its stream ends. The backlog is read from the store a page at a time, each
 * just before it is written, so no subscriber has a whole mailbox held for it. A subscriber that
 * lets more than `maxPendingPushBytes` of envelopes pile up (a page of the backlog and the pushes
 * behind it), or does not take a page within `pushWriteTimeout`, is dropped: the envelopes stay
 * stored, and it gets them with the backlog when it subscribes again.
 */
import { randomBytes } from '@noble/hashes/utils.js'
import { toString as toHex } from 'uint8arrays/to-string'
import { RateLimitedError } from '../errors.js'
import { MailboxEvent, MailboxRequest } from '../protocol/generated/mailbox.js'
import { frameStream } from '../protocol/framing.js'
import { ringIdOf, wireBytes } from '../transport/ring-id.js'
import { remoteSubnet } from '../transport/subnet.js'
import { tally } from '../limits/tally.js'
import { PublicKey, mailboxKey } from './public-key.js'
import { verifyChallengeAnswer } from './proofs.js'
import {
  CHALLENGE_NONCE_BYTES,
  ENVELOPES_PAGE_BYTES,
  MAILBOX_PROTOCOL,
  MAX_ENVELOPES_PER_EVENT,
  MAX_INBOUND_MAILBOX_STREAMS,
  MAX_MAILBOX_REQUEST_SIZE,
  MAX_PENDING_PUSH_BYTES,
  MAX_TOTAL_PENDING_PUSH_BYTES,
  MAX_SUBSCRIBERS_PER_MAILBOX,
  MAX_SUBSCRIPTIONS,
  MAX_SUBSCRIPTIONS_PER_PEER,
  MAX_SUBSCRIPTIONS_PER_SUBNET,
  MailboxErrorCode,
  PUSH_WRITE_TIMEOUT,
  SUBSCRIBE_HANDSHAKE_TIMEOUT
} from './protocol-constants.js'
import type { MailboxSession, MailboxSessionHandlers } from './subscription.js'
import type { FramedStream } from '../protocol/framing.js'
import type { ChordRecord, RecordStore } from '../chord/record.js'
import type { AbortOptions, ComponentLogger, Connection, Logger, PeerId, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'

export interface MailboxServerComponents {
  peerId: PeerId
  logger: ComponentLogger
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string, options?: AbortOptions): Promise<void>
}

export interface MailboxServerInit {
  /** the mailbox record store */
  store: RecordStore
  /**
   * whether this node keeps the mailbox `key` (it is one of its replicas); a remote subscription
   * to any other is refused FORBIDDEN. Default: every mailbox is kept
   */
  keeps?(key: Uint8Array): Promise<boolean>
  /** ms allowed for SUBSCRIBE → CHALLENGE → PROVE */
  handshakeTimeout?: number
  maxSubscribersPerMailbox?: number
  /** default MAX_SUBSCRIPTIONS */
  maxSubscriptions?: number
  /**
   * default MAX_SUBSCRIPTIONS_PER_PEER; above MAX_INBOUND_MAILBOX_STREAMS, a connection may open
   * this many mailbox streams and one more (see inboundStreamsFor)
   */
  maxSubscriptionsPerPeer?: number
  /** default MAX_SUBSCRIPTIONS_PER_SUBNET */
  maxSubscriptionsPerSubnet?: number
  /**
   * the subnet whose count a remote subscription joins; default the connection's remote address's
   * /24 or /48, none (not counted) for loopback
   */
  subnetOf?(connection: Connection): string | undefined
  /** bytes, default MAX_PENDING_PUSH_BYTES */
  maxPendingPushBytes?: number
  /** bytes held for all remote subscribers together, default MAX_TOTAL_PENDING_PUSH_BYTES */
  maxTotalPendingPushBytes?: number
  /** ms, default PUSH_WRITE_TIMEOUT */
  pushWriteTimeout?: number
  /** told how many envelopes each page written to a subscriber held (metrics listen) */
  onPushed?(count: number): void
  /** told of each subscription refused, by its error code (metrics listen) */
  onRefused?(code: string): void
  /**
   * charges the remote peer one signature check before its PROVE is verified, and throws
   * RateLimitedError when its checks are spent (the node's per-peer budget, shared with
   * /chord/1.0.0); default: no budget
   */
  admitSignatureCheck?(peer: string, subnet?: string): void
  /**
   * throws RateLimitedError when the remote peer's scanned records are spent: asked before its
   * backlog is read (the node's per-peer budget, shared with /chord/1.0.0's reads); default: no budget
   */
  admitScan?(peer: string, subnet?: string): void
  /** charges the remote peer (and its subnet) the records its backlog read took */
  chargeScan?(peer: string, records: number, subnet?: string): void
}

/** Where a subscription's envelopes go: a remote owner's stream, or an owner on this very node */
interface Subscriber {
  /** the mailbox key, hex */
  key: string
  /**
   * the remote peer that subscribed; none for an owner on this node, whose callback is its own
   * business, so the push limits do not apply to it
   */
  peer?: string
  /** the remote peer's subnet, as the per-subnet limit counts it; none for loopback and local owners */
  subnet?: string
  write(envelopes: Uint8Array[], caughtUp: boolean): Promise<void>
  /** close its stream, or tell its local owner; called once it is unregistered */
  end(err: Error): void
  /** pushes go out one after another, never interleaved with the backlog */
  sending: Promise<void>
  /** bytes of envelopes read or queued for it and not yet written: a page of the backlog, pushes */
  pendingBytes: number
  ended: boolean
}

/** A subscription refused with an ERROR event carrying `code` */
class Refusal extends Error {
  readonly code: string

  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

export class MailboxServer implements Startable {
  private readonly components: MailboxServerComponents
  private readonly init: MailboxServerInit
  private readonly log: Logger
  /** mailbox key (hex) → its proven subscribers */
  private readonly subscribers = new Map<string, Set<Subscriber>>()
  /** remote peer → how many proven subscriptions it holds */
  private readonly subscriptionsByPeer = new Map<string, number>()
  /** subnet (CIDR) → how many proven subscriptions its peers hold */
  private readonly subscriptionsBySubnet = new Map<string, number>()
  private subscriptions = 0
  /** bytes of envelopes waiting for all remote subscribers together */
  private pendingPushBytes = 0

  constructor (components: MailboxServerComponents, init: MailboxServerInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('libp2p-chord:transport:mailbox-server')
  }

  async start (): Promise<void> {
    await this.components.handle(MAILBOX_PROTOCOL, async (stream, connection) => this.serve(stream, connection), {
      maxInboundStreams: inboundStreamsFor(this.init.maxSubscriptionsPerPeer ?? MAX_SUBSCRIPTIONS_PER_PEER)
    })
  }

  async stop (): Promise<void> {
    await this.components.unhandle(MAILBOX_PROTOCOL)
    for (const set of [...this.subscribers.values()]) {
      for (const subscriber of [...set]) {
        this.drop(subscriber, new Error('the node stopped'))
      }
    }
  }

  /** Live subscriptions this node serves, local owners' included */
  get subscriptionCount (): number {
    return this.subscriptions
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
        this.push(subscriber, envelopes)
      }
    }
  }

  /**
   * A subscription of an owner whose identity is on this node (it needs no proof): what
   * /chord/mailbox/1.0.0 would do, without a stream to ourselves
   */
  async subscribeLocally (owner: PublicKey, handlers: MailboxSessionHandlers): Promise<MailboxSession> {
    const subscriber: Subscriber = {
      key: toHex(mailboxKey(owner), 'base16'),
      write: async (envelopes, caughtUp) => handlers.onEnvelopes(envelopes, caughtUp),
      end: err => { handlers.onClose(err) },
      sending: Promise.resolve(),
      pendingBytes: 0,
      ended: false
    }
    try {
      this.register(subscriber)
    } catch (err: any) {
      throw new RateLimitedError(err.message)
    }
    this.sendBacklog(subscriber, mailboxKey(owner))
    await subscriber.sending
    return {
      node: { id: ringIdOf(this.components.peerId), peer: this.components.peerId.toString() },
      close: async () => { this.unregister(subscriber) }
    }
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const framed = frameStream(stream, MAX_MAILBOX_REQUEST_SIZE)
    const peer = connection.remotePeer.toString()
    const subnet = (this.init.subnetOf ?? remoteSubnet)(connection)
    let subscriber: Subscriber | undefined
    try {
      const owner = await this.prove(framed, peer, subnet)
      const pushWriteTimeout = this.init.pushWriteTimeout ?? PUSH_WRITE_TIMEOUT
      subscriber = {
        key: toHex(mailboxKey(owner), 'base16'),
        peer,
        subnet,
        write: async (envelopes, caughtUp) => {
          const event = MailboxEvent.encode({ type: MailboxEvent.Type.ENVELOPES, envelopes: envelopes.map(wireBytes), caughtUp })
          await framed.write(event, { signal: AbortSignal.timeout(pushWriteTimeout) })
        },
        end: err => { stream.abort(err) },
        sending: Promise.resolve(),
        pendingBytes: 0,
        ended: false
      }
      this.register(subscriber)
      this.sendBacklog(subscriber, mailboxKey(owner))
      // the client sends nothing more; its closing the stream ends the subscription
      await framed.read().catch(() => {})
      // close our side too, or the stream stays half open and holds one of the connection's
      // MAX_INBOUND_MAILBOX_STREAMS; a subscriber still owed a write gets pushWriteTimeout
      this.unregister(subscriber)
      await stream.close({ signal: AbortSignal.timeout(pushWriteTimeout) })
    } catch (err: any) {
      if (err instanceof Refusal) {
        this.log('refused a subscription from %p with %s - %e', connection.remotePeer, err.code, err)
        this.init.onRefused?.(err.code)
        await this.refuse(framed, stream, err.code)
      } else {
        this.log('mailbox subscription ended - %e', err)
        stream.abort(err)
      }
    } finally {
      if (subscriber != null) {
        this.unregister(subscriber)
      }
    }
  }

  /**
   * SUBSCRIBE → CHALLENGE → PROVE; resolves to the proven owner
   *
   * @throws Refusal when the owner broke the protocol, asked for a mailbox this node does not
   *   keep, or did not prove ownership
   */
  private async prove (framed: FramedStream, peer: string, subnet: string | undefined): Promise<PublicKey> {
    const signal = AbortSignal.timeout(this.init.handshakeTimeout ?? SUBSCRIBE_HANDSHAKE_TIMEOUT)
    const subscribe = MailboxRequest.decode(await framed.read({ signal }))
    if (subscribe.type !== MailboxRequest.Type.SUBSCRIBE || subscribe.owner == null) {
      throw new Refusal(MailboxErrorCode.BAD_REQUEST, 'expected SUBSCRIBE with an owner key')
    }
    let owner: PublicKey
    try {
      owner = PublicKey.fromBytes(subscribe.owner)
    } catch (err) {
      throw new Refusal(MailboxErrorCode.BAD_REQUEST, 'the owner key does not decode', { cause: err })
    }
    if (await this.init.keeps?.(mailboxKey(owner)) === false) {
      throw new Refusal(MailboxErrorCode.FORBIDDEN, 'this node does not keep the mailbox')
    }
    // before the challenge: a peer that may not make us read its backlog is not worth a signature check
    this.admitScan(peer, subnet)

    const nonce = randomBytes(CHALLENGE_NONCE_BYTES)
    await framed.write(MailboxEvent.encode({ type: MailboxEvent.Type.CHALLENGE, nonce: wireBytes(nonce), envelopes: [], caughtUp: false }), { signal })
    const prove = MailboxRequest.decode(await framed.read({ signal }))
    if (prove.type !== MailboxRequest.Type.PROVE || prove.signature == null) {
      throw new Refusal(MailboxErrorCode.BAD_REQUEST, 'expected PROVE with a signature')
    }
    try {
      this.init.admitSignatureCheck?.(peer, subnet)
    } catch (err) {
      throw new Refusal(MailboxErrorCode.RATE_LIMITED, `${peer} spent its signature checks`, { cause: err })
    }
    try {
      await verifyChallengeAnswer(owner, this.components.peerId.toMultihash().bytes, nonce, prove.signature)
    } catch (err) {
      throw new Refusal(MailboxErrorCode.BAD_SIGNATURE, 'the challenge answer does not verify', { cause: err })
    }
    return owner
  }

  /** @throws Refusal when the peer may not make this node read a backlog now */
  private admitScan (peer: string, subnet: string | undefined): void {
    try {
      this.init.admitScan?.(peer, subnet)
    } catch (err) {
      throw new Refusal(MailboxErrorCode.RATE_LIMITED, `${peer} spent its scanned records`, { cause: err })
    }
  }

  /** @throws Refusal past the per-mailbox, per-peer, per-subnet or total limit */
  private register (subscriber: Subscriber): void {
    const set = this.subscribers.get(subscriber.key) ?? new Set()
    if (set.size >= (this.init.maxSubscribersPerMailbox ?? MAX_SUBSCRIBERS_PER_MAILBOX) ||
      this.subscriptions >= (this.init.maxSubscriptions ?? MAX_SUBSCRIPTIONS)) {
      throw new Refusal(MailboxErrorCode.TOO_MANY_SUBSCRIBERS, 'too many subscriptions')
    }
    const ofPeer = subscriber.peer == null ? 0 : this.subscriptionsByPeer.get(subscriber.peer) ?? 0
    if (subscriber.peer != null && ofPeer >= (this.init.maxSubscriptionsPerPeer ?? MAX_SUBSCRIPTIONS_PER_PEER)) {
      throw new Refusal(MailboxErrorCode.RATE_LIMITED, `${subscriber.peer} holds ${ofPeer} subscriptions already`)
    }
    const ofSubnet = subscriber.subnet == null ? 0 : this.subscriptionsBySubnet.get(subscriber.subnet) ?? 0
    // a peer allowed more than a subnet (a gateway) is allowed them from its subnet too
    const subnetCap = Math.max(this.init.maxSubscriptionsPerSubnet ?? MAX_SUBSCRIPTIONS_PER_SUBNET, this.init.maxSubscriptionsPerPeer ?? MAX_SUBSCRIPTIONS_PER_PEER)
    if (subscriber.subnet != null && ofSubnet >= subnetCap) {
      throw new Refusal(MailboxErrorCode.RATE_LIMITED, `the peers of ${subscriber.subnet} hold ${ofSubnet} subscriptions already`)
    }
    set.add(subscriber)
    this.subscribers.set(subscriber.key, set)
    this.subscriptions++
    tally(this.subscriptionsByPeer, subscriber.peer, 1)
    tally(this.subscriptionsBySubnet, subscriber.subnet, 1)
  }

  /** Returns whether it was registered */
  private unregister (subscriber: Subscriber): boolean {
    const set = this.subscribers.get(subscriber.key)
    if (set?.delete(subscriber) !== true) {
      return false
    }
    subscriber.ended = true
    this.release(subscriber, subscriber.pendingBytes)
    this.subscriptions--
    if (set.size === 0) {
      this.subscribers.delete(subscriber.key)
    }
    tally(this.subscriptionsByPeer, subscriber.peer, -1)
    tally(this.subscriptionsBySubnet, subscriber.subnet, -1)
    return true
  }

  /** Unregister a subscriber and end it (close its stream, or tell its local owner) */
  private drop (subscriber: Subscriber, err: Error): void {
    if (this.unregister(subscriber)) {
      subscriber.end(err)
    }
  }

  /**
   * Queue the backlog: every envelope waiting in the mailbox, a page at a time, each read from
   * the store (and charged to the peer's scanned records) just before it is written; the last
   * page says caughtUp
   */
  private sendBacklog (subscriber: Subscriber, key: Uint8Array): void {
    this.queue(subscriber, async () => {
      let after: Uint8Array | undefined
      do {
        const page = await this.init.store.page(key, { after, maxRecords: MAX_ENVELOPES_PER_EVENT, maxBytes: ENVELOPES_PAGE_BYTES })
        if (subscriber.peer != null) {
          this.init.chargeScan?.(subscriber.peer, page.scanned, subscriber.subnet)
        }
        after = page.next
        const envelopes = page.records.map(r => r.value)
        // a page whose records were all deleted as it was read says nothing, unless it is the last
        if ((envelopes.length > 0 || after == null) && this.hold(subscriber, bytesOf(envelopes))) {
          await this.write(subscriber, envelopes, after == null)
        }
      } while (after != null && !subscriber.ended)
    })
  }

  /** Queue new envelopes for one subscriber, in pages, behind the backlog and earlier pushes */
  private push (subscriber: Subscriber, envelopes: Uint8Array[]): void {
    if (!this.hold(subscriber, bytesOf(envelopes))) {
      return
    }
    this.queue(subscriber, async () => {
      for (const page of pages(envelopes)) {
        if (subscriber.ended) {
          return
        }
        await this.write(subscriber, envelopes.slice(page.start, page.end), false)
      }
    })
  }

  /** Run `task` once what is queued for the subscriber is written; one that cannot be written to is dropped */
  private queue (subscriber: Subscriber, task: () => Promise<void>): void {
    subscriber.sending = subscriber.sending.then(async () => {
      if (!subscriber.ended) {
        await task()
      }
    }).catch(err => {
      this.log('dropping a subscriber that could not be written to - %e', err)
      this.drop(subscriber, err)
    })
  }

  /**
   * Count `bytes` of envelopes as waiting for the subscriber. A remote subscriber they would take
   * past maxPendingPushBytes is dropped instead; past maxTotalPendingPushBytes for all remote
   * subscribers, the one with the most waiting is dropped, until they fit. Returns whether the
   * subscriber is still subscribed.
   */
  private hold (subscriber: Subscriber, bytes: number): boolean {
    if (subscriber.ended) {
      // gone while its page was read: unregistering released what it held, and nothing more may count
      return false
    }
    if (subscriber.peer == null) {
      subscriber.pendingBytes += bytes
      return true
    }
    const maxPending = this.init.maxPendingPushBytes ?? MAX_PENDING_PUSH_BYTES
    if (subscriber.pendingBytes + bytes > maxPending) {
      this.log('dropping a subscriber of %p with more than %d bytes of envelopes queued', subscriber.peer, maxPending)
      this.drop(subscriber, new Error(`more than ${maxPending} bytes of envelopes waited for the subscriber to read them`))
      return false
    }
    const maxTotal = this.init.maxTotalPendingPushBytes ?? MAX_TOTAL_PENDING_PUSH_BYTES
    while (this.pendingPushBytes + bytes > maxTotal) {
      const slowest = this.slowestSubscriber(subscriber)
      this.log('dropping a subscriber of %p with %d bytes queued: more than %d bytes wait for all subscribers', slowest.peer, slowest.pendingBytes, maxTotal)
      this.drop(slowest, new Error(`the node holds more than ${maxTotal} bytes of envelopes for its subscribers, and this subscriber had the most waiting`))
      if (slowest === subscriber) {
        return false
      }
    }
    subscriber.pendingBytes += bytes
    this.pendingPushBytes += bytes
    return true
  }

  /** The remote subscriber with the most bytes waiting; `candidate` unless another has more */
  private slowestSubscriber (candidate: Subscriber): Subscriber {
    let slowest = candidate
    for (const set of this.subscribers.values()) {
      for (const other of set) {
        if (other.peer != null && other.pendingBytes > slowest.pendingBytes) {
          slowest = other
        }
      }
    }
    return slowest
  }

  /** Bytes no longer wait for the subscriber: written, or it is gone (counted once either way) */
  private release (subscriber: Subscriber, bytes: number): void {
    subscriber.pendingBytes -= bytes
    if (subscriber.peer != null) {
      this.pendingPushBytes -= bytes
    }
  }

  /** Write one page to the subscriber; its bytes no longer wait */
  private async write (subscriber: Subscriber, envelopes: Uint8Array[], caughtUp: boolean): Promise<void> {
    await subscriber.write(envelopes, caughtUp)
    if (!subscriber.ended) {
      // else unregistering released all it held
      this.release(subscriber, bytesOf(envelopes))
    }
    this.init.onPushed?.(envelopes.length)
  }

  /** Tell a refused subscriber why, then end the stream gracefully so that the event reaches it */
  private async refuse (framed: FramedStream, stream: Stream, errorCode: string): Promise<void> {
    const signal = AbortSignal.timeout(this.init.handshakeTimeout ?? SUBSCRIBE_HANDSHAKE_TIMEOUT)
    try {
      await framed.write(MailboxEvent.encode({ type: MailboxEvent.Type.ERROR, errorCode, envelopes: [], caughtUp: false }), { signal })
      await stream.close({ signal })
    } catch (err: any) {
      stream.abort(err)
    }
  }
}

/**
 * Mailbox streams one connection may open: MAX_INBOUND_MAILBOX_STREAMS, or for a per-peer limit
 * raised above it (a gateway carrying many owners), enough to reach that limit over one
 * connection and one more, so that the stream past it is refused with RATE_LIMITED rather than
 * reset by libp2p
 */
function inboundStreamsFor (maxSubscriptionsPerPeer: number): number {
  return maxSubscriptionsPerPeer > MAX_INBOUND_MAILBOX_STREAMS ? maxSubscriptionsPerPeer + 1 : MAX_INBOUND_MAILBOX_STREAMS
}

function bytesOf (envelopes: Uint8Array[]): number {
  return envelopes.reduce((bytes, envelope) => bytes + envelope.byteLength, 0)
}

/** Index ranges of envelopes that fit one message each */
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
