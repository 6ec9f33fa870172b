/**
 * Linking a new device, from the device that holds the person's identity:
 *
 * 1. The old device makes a fresh link key, watches its mailbox, and shows the link offer (the
 *    person's key and the link key, as text or QR code).
 * 2. The new device makes its own keys, watches its own mailbox, and seals a link request (its
 *    name) to the link key; it shows its fingerprint.
 * 3. The old device opens the request, shows the new device's name and fingerprint, and asks its
 *    user. Confirmed, it puts the device on the person's device list (an owned record only the
 *    identity can sign), seals a link grant to the new device, and brings it the person's groups.
 * 4. The new device believes a grant sealed by the person's own key only; it is then an account of
 *    its own (`linkedAccount(person, device)`), and never holds the person's secret key.
 *
 * Nothing but the confirmation on the old device puts a device on the list: a link offer that
 * leaks lets a stranger ask, not get in.
 */
import { InvalidMessageError, InvalidOptionsError, LinkRefusedError, RequestTimeoutError, VerificationError } from '../errors.js'
import { decodeFrame, encodeFrame } from '../mailbox/frames.js'
import { createIdentity } from '../mailbox/identity.js'
import { linkedAccount } from './account.js'
import { LINK_OFFER_TTL } from './constants.js'
import { checkedDeviceName, deviceInfo } from './device-list.js'
import { decodeLink, encodeLink } from './link-text.js'
import type { Account } from './account.js'
import type { DeviceInfo } from './device-list.js'
import type { DeviceLists } from './device-lists.js'
import type { FrameSubscribeOptions, SendResult } from '../mailbox/mailbox.js'
import type { Identity } from '../mailbox/identity.js'
import type { PublicKey } from '../mailbox/public-key.js'
import type { MailboxMessage, Subscription } from '../mailbox/subscription.js'

export interface LinkingInit {
  subscribe(identity: Identity, onMessage: (message: MailboxMessage) => Promise<void>, options: FrameSubscribeOptions): Promise<Subscription>
  sendFrame(sender: Identity, recipient: PublicKey, frame: Uint8Array): Promise<SendResult>
  ack(identity: Identity, ids: string[]): Promise<unknown>
  lists: Pick<DeviceLists, 'add'>
  /**
   * told of each device once it is on the list and granted: bring it the person's groups. The
   * link is made by then (`done` does not wait for it): its failure goes to onError.
   */
  onLinked?(identity: Identity, device: DeviceInfo): Promise<void>
  onError?(err: unknown): void
}

export interface LinkOfferOptions {
  /**
   * asked when a device has asked to be linked: show its name and fingerprint (the new device
   * shows the same fingerprint) and resolve true to link it. Resolving false ends the offer.
   */
  onRequest(device: DeviceInfo): boolean | Promise<boolean>
  /** ms the offer waits for a request, default LINK_OFFER_TTL */
  ttlMs?: number
}

export interface LinkOffer {
  /** the offer's text (`chord-link:…`): show it, or a QR code of it, to the new device */
  link: string
  /** ms since the epoch: after this the offer takes no request */
  expiresAt: number
  /**
   * resolves with the device once it is on the list and granted; rejects with LinkRefusedError
   * (refused, cancelled) or RequestTimeoutError (nobody asked in time)
   */
  done: Promise<DeviceInfo>
  cancel(): Promise<void>
}

export interface LinkRequestOptions {
  /** what to call this device on the person's list */
  name?: string
  /** this device's keys; default: new ones */
  device?: Identity
  /** ms to wait for the grant, default LINK_OFFER_TTL */
  ttlMs?: number
}

export interface PendingLink {
  /** this device's keys: keep them, they are the device's account once granted */
  device: Identity
  /** the person this device asked to join */
  person: PublicKey
  /** show it: the other device shows the same before its user confirms */
  fingerprint: string
  /** resolves once the person's device granted the link; rejects with RequestTimeoutError */
  account: Promise<Account>
  cancel(): Promise<void>
}

/** A one-shot outcome with a deadline: settled once, by whichever comes first */
class Outcome<T> {
  readonly promise: Promise<T>
  settled = false
  private readonly resolvers: PromiseWithResolvers<T>
  private readonly timer: ReturnType<typeof setTimeout>

  constructor (ttlMs: number, expired: () => Error, private readonly onSettled: () => void) {
    this.resolvers = Promise.withResolvers<T>()
    this.promise = this.resolvers.promise
    // a caller that never awaits the outcome must not see an unhandled rejection
    this.promise.catch(() => {})
    this.timer = setTimeout(() => { this.settle(expired()) }, ttlMs)
  }

  settle (result: T | Error): void {
    if (this.settled) {
      return
    }
    this.settled = true
    clearTimeout(this.timer)
    this.onSettled()
    if (result instanceof Error) {
      this.resolvers.reject(result)
    } else {
      this.resolvers.resolve(result)
    }
  }
}

/** Offer to link a new device to `identity`'s person (on the device that holds the identity) */
export async function offerLink (init: LinkingInit, identity: Identity, options: LinkOfferOptions): Promise<LinkOffer> {
  if (typeof options?.onRequest !== 'function') {
    throw new InvalidOptionsError('a link offer needs onRequest, which asks the user to confirm the new device')
  }
  const ttlMs = checkedTtl(options.ttlMs)
  const linkIdentity = await createIdentity()
  // eslint-disable-next-line prefer-const -- the outcome may settle before subscribe resolves: a const would not exist yet
  let subscription: Subscription | undefined
  // closed without waiting: a close from inside the subscription's own callback would wait for itself
  const outcome = new Outcome<DeviceInfo>(ttlMs, () => new RequestTimeoutError('the link offer expired before a device asked'), () => {
    subscription?.close().catch(err => init.onError?.(err))
  })
  subscription = await init.subscribe(linkIdentity, async () => {}, {
    receipts: false,
    onError: init.onError,
    onFrame: async message => {
      if (outcome.settled) {
        return false
      }
      const frame = decodeFrame(message.plaintext)
      if (frame.content.type !== 'link-request' || frame.person != null) {
        throw new InvalidMessageError('a link offer takes link requests only')
      }
      if (message.sender.equals(identity.publicKey)) {
        throw new InvalidMessageError('a device cannot link the identity to itself')
      }
      const asking = deviceInfo(message.sender, checkedDeviceName(frame.content.name), Date.now())
      try {
        if (!await options.onRequest(asking)) {
          outcome.settle(new LinkRefusedError('the link request was refused'))
          return false
        }
        if (outcome.settled) {
          return false
        }
        const devices = await init.lists.add(identity, asking.publicKey, asking.name)
        const linked = devices.find(device => device.publicKey.equals(asking.publicKey)) ?? asking
        await init.sendFrame(identity, asking.publicKey, encodeFrame({ content: { type: 'link-grant' } }))
        outcome.settle(linked)
        // what the new device is told next may wait minutes on its mailbox's rate
        init.onLinked?.(identity, linked).catch(err => init.onError?.(err))
      } catch (err) {
        outcome.settle(err as Error)
      }
      return false
    }
  })
  if (outcome.settled) {
    await subscription.close()
  }
  return {
    link: encodeLink({ person: identity.publicKey, linkKey: linkIdentity.publicKey }),
    expiresAt: Date.now() + ttlMs,
    done: outcome.promise,
    cancel: async () => {
      outcome.settle(new LinkRefusedError('the link offer was cancelled'))
      await subscription?.close()
    }
  }
}

/** Ask to link this device to the person of a link offer (on the new device) */
export async function requestLink (init: LinkingInit, link: string, options: LinkRequestOptions = {}): Promise<PendingLink> {
  const { person, linkKey } = decodeLink(link)
  const name = checkedDeviceName(options.name ?? '')
  const ttlMs = checkedTtl(options.ttlMs)
  const device = options.device ?? await createIdentity()
  if (device.publicKey.equals(person)) {
    throw new InvalidOptionsError('this device holds the identity the offer is for: it is linked already')
  }
  // eslint-disable-next-line prefer-const -- the outcome may settle before subscribe resolves: a const would not exist yet
  let subscription: Subscription | undefined
  const outcome = new Outcome<Account>(ttlMs, () => new RequestTimeoutError('no grant came for the link request in time'), () => {
    subscription?.close().catch(err => init.onError?.(err))
  })
  // messages and other frames that come before the grant are left for the chat opened after it
  subscription = await init.subscribe(device, async () => {}, {
    receipts: false,
    onError: init.onError,
    onFrame: async message => {
      const frame = decodeFrame(message.plaintext)
      if (outcome.settled || frame.content.type !== 'link-grant') {
        return false
      }
      if (!message.sender.equals(person) || frame.person != null) {
        throw new VerificationError('a link grant counts only from the identity the offer named')
      }
      await init.ack(device, [message.id])
      outcome.settle(linkedAccount(person, device))
      return false
    }
  })
  try {
    await init.sendFrame(device, linkKey, encodeFrame({ content: { type: 'link-request', name } }))
  } catch (err) {
    outcome.settle(err as Error)
    await subscription.close()
    throw err
  }
  return {
    device,
    person,
    fingerprint: device.fingerprint,
    account: outcome.promise,
    cancel: async () => {
      outcome.settle(new LinkRefusedError('the link request was cancelled'))
      await subscription?.close()
    }
  }
}

function checkedTtl (ttlMs: number | undefined): number {
  const ttl = ttlMs ?? LINK_OFFER_TTL
  if (!Number.isSafeInteger(ttl) || ttl <= 0) {
    throw new InvalidOptionsError('a link\'s ttlMs is a positive integer')
  }
  return ttl
}
