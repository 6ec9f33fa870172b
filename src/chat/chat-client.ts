/**
 * A person's chat on one of their devices: direct messages and groups, sent to every device of
 * every recipient and copied to the person's own other devices; receipts counted per person and
 * device; the person's device list, and linking a new device from the one that holds the identity.
 *
 * It subscribes to this device's mailbox and takes what arrives there: plain messages (from the
 * devices that hold their senders' identities), and frames, whose sending device is checked
 * against its person's device list before anything is believed.
 */
import { randomBytes } from '@noble/hashes/utils.js'
import { toString as toHex } from 'uint8arrays/to-string'
import { Periodic } from '../chord/periodic.js'
import { TIMER_JITTER } from '../chord/constants.js'
import { ForbiddenError, InvalidMessageError, InvalidOptionsError, LookupFailedError, VerificationError } from '../errors.js'
import { DEVICE_LIST_CHECK_INTERVAL } from '../devices/constants.js'
import { sendDirect } from '../devices/direct.js'
import { verifiedSender } from '../devices/frame-sender.js'
import { offerLink } from '../devices/linking.js'
import { MAX_GROUP_MEMBERS, MAX_GROUP_RECEIPT_MEMBERS, MAX_PENDING_GROUP_MESSAGES } from '../groups/constants.js'
import { Groups } from '../groups/groups.js'
import { decodeFrame } from '../mailbox/frames.js'
import { publicKeyOf } from '../mailbox/public-key.js'
import { MemoryChatStore } from './chat-store.js'
import { groupStoreIn } from './group-store.js'
import { DeliveryTracker } from './delivery.js'
import { tellNewDevice } from './new-device.js'
import type { ChatStore } from './chat-store.js'
import type { DeliveryState } from './delivery.js'
import type { Account } from '../devices/account.js'
import type { DeviceInfo } from '../devices/device-list.js'
import type { DeviceLists } from '../devices/device-lists.js'
import type { DeviceFanOut } from '../devices/fan-out.js'
import type { FrameSender } from '../devices/frame-sender.js'
import type { LinkOffer, LinkOfferOptions, LinkingInit } from '../devices/linking.js'
import type { GroupChangeResult, GroupInfo } from '../groups/groups.js'
import type { Frame, FrameContent } from '../mailbox/frames.js'
import type { EnvelopeOutcome, Mailbox, SendOptions } from '../mailbox/mailbox.js'
import type { PublicKey } from '../mailbox/public-key.js'
import type { MailboxMessage, Subscription } from '../mailbox/subscription.js'

/** A message as a chat shows it */
export interface ChatMessage extends MailboxMessage {
  /** the address of the device that sent it (the sender's own, or one of their linked devices) */
  device: string
  /** the group it was sent to (its id), for a group message */
  group?: string
  /** sent by this person from another of their devices: true, and `to` names the recipient of a direct one */
  outgoing: boolean
  to?: string
}

export interface ChatOptions {
  /** each message, direct or to a group, and each copy of one this person sent from another device */
  onMessage(message: ChatMessage): void | Promise<void>
  /**
   * how a message this device sent stands, each time a receipt changes it after its send resolved
   * (receipts that came back sooner are counted in the send's result)
   */
  onDelivery?(state: DeliveryState): void | Promise<void>
  /** a group's state changed (made, joined, renamed, members or admins changed, left) */
  onGroupChange?(group: GroupInfo): void | Promise<void>
  onError?(err: unknown): void
  /** where groups and delivery state are kept; default: memory */
  store?: ChatStore
  /** answer messages with delivery receipts (default true; never in groups over MAX_GROUP_RECEIPT_MEMBERS) */
  receipts?: boolean
}

/** What a send resolves with */
export interface ChatSendResult {
  /** the message's id: what delivery states name */
  id: string
  delivery: DeliveryState
  envelopes: EnvelopeOutcome[]
}

export interface ChatClientInit {
  account: Account
  mailbox: Pick<Mailbox, 'subscribe' | 'sendFrame' | 'ack' | 'sendReceipt'>
  lists: DeviceLists
  fanOut: DeviceFanOut
  options: ChatOptions
  /** told when the chat closes */
  onClose?(): void
}

/** Bytes of a message id */
const MESSAGE_ID_BYTES = 16

/** A group frame that waits for a state of its group: a message, or a leave this device cannot act on yet */
interface WaitingMessage {
  message: MailboxMessage
  sender: FrameSender
  content: Extract<FrameContent, { type: 'group-message' | 'group-leave' }>
}

export class ChatClient {
  readonly account: Account
  private readonly init: ChatClientInit
  private readonly options: ChatOptions
  private readonly store: ChatStore
  private readonly prefix: string
  private readonly tracker: DeliveryTracker
  private readonly groupsOf: Groups
  private readonly republish?: Periodic
  private readonly waiting: WaitingMessage[] = []
  /** the pass over the waiting frames under way, if any */
  private showing: Promise<void> = Promise.resolve()
  /** aborted by close(): what is still being told to a device just linked stops */
  private readonly closing = new AbortController()
  /** acting on heard group leaves, from start: close waits for it (it never rejects) */
  private actingOnHeard?: Promise<void>
  private subscription?: Subscription

  constructor (init: ChatClientInit) {
    this.init = init
    this.account = init.account
    this.options = init.options
    this.store = init.options.store ?? new MemoryChatStore()
    // one store may hold several accounts' chats
    this.prefix = `${this.account.device.address}/`
    this.tracker = new DeliveryTracker(this.store, this.prefix, this.account.address)
    this.groupsOf = new Groups({
      account: this.account,
      fanOut: init.fanOut,
      store: groupStoreIn(this.store, this.prefix),
      onChange: async group => this.options.onGroupChange?.(group),
      onError: this.options.onError
    })
    const identity = this.account.identity
    if (identity != null) {
      this.republish = new Periodic(async () => { await init.lists.republishIfOld(identity) }, {
        intervalMs: DEVICE_LIST_CHECK_INTERVAL,
        jitter: TIMER_JITTER,
        onError: this.options.onError
      })
    }
  }

  /** Load what the store holds and subscribe to this device's mailbox */
  async start (): Promise<void> {
    if (typeof this.options?.onMessage !== 'function') {
      throw new InvalidOptionsError('a chat needs onMessage')
    }
    await this.tracker.load()
    await this.groupsOf.load()
    this.subscription = await this.init.mailbox.subscribe(this.account.device, async message => {
      await this.options.onMessage({ ...message, device: message.from, outgoing: false })
    }, {
      receipts: this.options.receipts,
      onError: this.options.onError,
      onReceipt: async receipt => {
        const state = await this.tracker.receipt(receipt)
        if (state != null) {
          await this.options.onDelivery?.(state)
        }
      },
      onFrame: async frame => this.takeFrame(frame)
    })
    // leaves heard before a stop that came as this person became an admin
    this.actingOnHeard = this.groupsOf.actOnHeard({ signal: this.closing.signal })
    if (this.republish != null && this.account.identity != null) {
      this.init.lists.republishIfOld(this.account.identity).catch(err => this.options.onError?.(err))
      this.republish.start()
    }
  }

  async close (): Promise<void> {
    this.closing.abort()
    this.republish?.stop()
    this.init.onClose?.()
    await this.subscription?.close()
    await this.actingOnHeard
  }

  /**
   * Send `plaintext` to `recipient`: to every device on their list, with a copy to this person's
   * other devices
   *
   * @throws the first failure when the message reached none of the recipient's devices
   */
  async send (recipient: string | PublicKey, plaintext: Uint8Array, options: SendOptions = {}): Promise<ChatSendResult> {
    const to = publicKeyOf(recipient)
    const envelopes = await sendDirect(this.init.fanOut, this.account, to, plaintext, options)
    const delivery = await this.tracker.track({ id: newMessageId(), to: to.address, sentAt: Date.now() }, envelopes)
    return { id: delivery.id, delivery, envelopes }
  }

  /** Delete messages this device received from its mailbox (the other devices keep their copies) */
  async ack (ids: Array<string | Uint8Array>): Promise<{ replicas: number }> {
    return this.init.mailbox.ack(this.account.device, ids)
  }

  /** The messages' delivery as last counted, by the id send resolved with */
  delivery (id: string): DeliveryState | undefined {
    return this.tracker.state(id)
  }

  /** This person's groups: make them, change them (as admin), send to them */
  get groups (): ChatGroups {
    const groups = this.groupsOf
    return {
      list: () => groups.list(),
      get: id => groups.get(id),
      create: async (name, members, options) => groups.create(name, members, options),
      add: async (id, member, options) => groups.change(id, { type: 'add', member: publicKeyOf(member) }, options),
      remove: async (id, member, options) => groups.change(id, { type: 'remove', member: publicKeyOf(member) }, options),
      rename: async (id, name, options) => groups.change(id, { type: 'rename', name }, options),
      setAdmin: async (id, member, admin, options) => groups.change(id, { type: 'admin', member: publicKeyOf(member), admin }, options),
      leave: async (id, options) => {
        const result = await groups.leave(id, options)
        await this.showWaiting()
        return result
      },
      send: async (id, plaintext, options) => this.sendToGroup(id, plaintext, options)
    }
  }

  /** This person's devices: the list, linking a new one and removing one (on the device that holds the identity) */
  get devices (): ChatDevices {
    return {
      list: async () => this.init.lists.of(this.account.publicKey),
      offerLink: async options => offerLink(this.linking(), this.identity(), options),
      remove: async device => this.init.lists.remove(this.identity(), publicKeyOf(device))
    }
  }

  private async sendToGroup (id: string, plaintext: Uint8Array, options: SendOptions = {}): Promise<ChatSendResult> {
    const { deliveries } = this.groupsOf.messageTo(id, plaintext)
    const envelopes = await this.init.fanOut.send(this.account, deliveries, options)
    const others = envelopes.filter(envelope => envelope.person !== this.account.address)
    if (others.length > 0 && others.every(envelope => envelope.error != null)) {
      throw others[0].error ?? new LookupFailedError('the message reached no member\'s device')
    }
    const delivery = await this.tracker.track({ id: newMessageId(), group: id, sentAt: Date.now() }, envelopes)
    return { id: delivery.id, delivery, envelopes }
  }

  /** A frame from this device's mailbox; resolves to whether it was a message to answer with a receipt */
  private async takeFrame (message: MailboxMessage): Promise<boolean> {
    try {
      const frame = decodeFrame(message.plaintext)
      const sender = await verifiedSender(this.init.lists, message.sender, frame)
      return await this.route(message, frame, sender)
    } catch (err) {
      if (isRefusal(err)) {
        // refused for good: nobody will show it, so it need not wait in the mailbox
        await this.init.mailbox.ack(this.account.device, [message.id]).catch(() => {})
      }
      throw err
    }
  }

  private async route (message: MailboxMessage, frame: Frame, sender: FrameSender): Promise<boolean> {
    const { content } = frame
    const mine = sender.person.equals(this.account.publicKey)
    const base = { ...message, from: sender.person.address, sender: sender.person, device: sender.device.address }
    switch (content.type) {
      case 'direct':
        await this.options.onMessage({ ...base, plaintext: content.body, outgoing: mine })
        return !mine
      case 'sent':
        if (!mine) {
          throw new VerificationError('a copy of a sent message comes from one\'s own devices only')
        }
        await this.options.onMessage({ ...base, plaintext: content.body, outgoing: true, to: content.to.address })
        return false
      case 'group-message': {
        const group = toHex(content.groupId, 'base16')
        const admission = this.groupsOf.admit(sender.person, group, content.version)
        if (admission === 'drop') {
          await this.init.mailbox.ack(this.account.device, [message.id])
          return false
        }
        if (admission === 'wait') {
          this.wait({ message, sender, content })
          return false
        }
        return this.showGroupMessage(message, sender, content)
      }
      case 'group-update': {
        const changed = await this.groupsOf.receiveState(sender, content.state)
        await this.init.mailbox.ack(this.account.device, [message.id])
        if (changed != null) {
          await this.showWaiting()
        }
        return false
      }
      case 'group-leave': {
        const outcome = await this.groupsOf.receiveLeave(sender, toHex(content.groupId, 'base16'))
        if (outcome === 'wait') {
          this.wait({ message, sender, content })
          return false
        }
        if (outcome != null) {
          await this.showWaiting()
        }
        await this.init.mailbox.ack(this.account.device, [message.id])
        return false
      }
      case 'link-request':
      case 'link-grant':
        // the link's own subscription took it (or it came too late): nothing for the chat
        await this.init.mailbox.ack(this.account.device, [message.id])
        return false
    }
  }

  /** Keep a frame until its group's state comes, at most MAX_PENDING_GROUP_MESSAGES (the oldest stays in the mailbox) */
  private wait (item: WaitingMessage): void {
    this.waiting.push(item)
    this.waiting.splice(0, this.waiting.length - MAX_PENDING_GROUP_MESSAGES)
  }

  private async showGroupMessage (message: MailboxMessage, sender: FrameSender, content: Extract<FrameContent, { type: 'group-message' }>): Promise<boolean> {
    const group = toHex(content.groupId, 'base16')
    const mine = sender.person.equals(this.account.publicKey)
    await this.options.onMessage({
      ...message,
      from: sender.person.address,
      sender: sender.person,
      device: sender.device.address,
      plaintext: content.body,
      group,
      outgoing: mine
    })
    const members = this.groupsOf.get(group)?.members.length ?? MAX_GROUP_MEMBERS
    return !mine && this.options.receipts !== false && members <= MAX_GROUP_RECEIPT_MEMBERS
  }

  /**
   * Frames that waited for a group state: messages shown (and answered) now if it explains them,
   * leaves acted on now that the group is known here. One pass at a time (a change, a leave and
   * the mailbox's frames each ask for one), so that no frame is acted on twice.
   */
  private async showWaiting (): Promise<void> {
    const pass = this.showing.then(async () => { await this.showWaitingNow() })
    this.showing = pass.catch(() => {})
    return pass
  }

  private async showWaitingNow (): Promise<void> {
    for (const item of [...this.waiting]) {
      try {
        const { message, sender, content } = item
        const group = toHex(content.groupId, 'base16')
        if (content.type === 'group-leave') {
          if (await this.groupsOf.receiveLeave(sender, group) === 'wait') {
            continue
          }
          this.unwait(item)
          await this.init.mailbox.ack(this.account.device, [message.id])
          continue
        }
        const admission = this.groupsOf.admit(sender.person, group, content.version)
        if (admission === 'wait') {
          continue
        }
        this.unwait(item)
        if (admission === 'drop') {
          await this.init.mailbox.ack(this.account.device, [message.id])
        } else if (await this.showGroupMessage(message, sender, content)) {
          this.init.mailbox.sendReceipt(this.account.device, message).catch(err => this.options.onError?.(err))
        }
      } catch (err) {
        this.unwait(item)
        if (isRefusal(err)) {
          // refused for good: nobody will show it, so it need not wait in the mailbox
          await this.init.mailbox.ack(this.account.device, [item.message.id]).catch(() => {})
        }
        // otherwise it stays in the mailbox, and comes again with the next subscription
        this.options.onError?.(err)
      }
    }
  }

  /** Let go of a waiting frame, if a newer one did not push it out meanwhile */
  private unwait (item: WaitingMessage): void {
    const index = this.waiting.indexOf(item)
    if (index !== -1) {
      this.waiting.splice(index, 1)
    }
  }

  private linking (): LinkingInit {
    return {
      subscribe: async (identity, onMessage, options) => this.init.mailbox.subscribe(identity, onMessage, options),
      sendFrame: async (sender, recipient, frame) => this.init.mailbox.sendFrame(sender, recipient, frame),
      ack: async (identity, ids) => this.init.mailbox.ack(identity, ids),
      lists: this.init.lists,
      onError: this.options.onError,
      onLinked: async (identity, device) => {
        await tellNewDevice(this.groupsOf, async frame => this.init.mailbox.sendFrame(identity, device.publicKey, frame), this.closing.signal)
      }
    }
  }

  private identity (): NonNullable<Account['identity']> {
    if (this.account.identity == null) {
      throw new ForbiddenError('only the device that holds the identity changes its device list')
    }
    return this.account.identity
  }
}

/** A chat's groups */
export interface ChatGroups {
  list(): GroupInfo[]
  get(id: string): GroupInfo | undefined
  /** make a group of this person (its admin) and `members`; they see it at once */
  create(name: string, members: Array<string | PublicKey>, options?: SendOptions): Promise<GroupChangeResult>
  add(id: string, member: string | PublicKey, options?: SendOptions): Promise<GroupChangeResult>
  remove(id: string, member: string | PublicKey, options?: SendOptions): Promise<GroupChangeResult>
  rename(id: string, name: string, options?: SendOptions): Promise<GroupChangeResult>
  setAdmin(id: string, member: string | PublicKey, admin: boolean, options?: SendOptions): Promise<GroupChangeResult>
  /**
   * leave the group: an admin removes themselves and makes admins of the members longest in the
   * group without the role, anyone else asks the others to; this person's devices forget it (onGroupChange tells, with `left: true`) and drop its frames from then on
   */
  leave(id: string, options?: SendOptions): Promise<GroupChangeResult>
  /** send to every member's devices (and this person's other devices) */
  send(id: string, plaintext: Uint8Array, options?: SendOptions): Promise<ChatSendResult>
}

/** A chat's view of its person's devices */
export interface ChatDevices {
  /** the person's devices as the ring holds them now */
  list(): Promise<DeviceInfo[]>
  /** offer to link a new device (on the device that holds the identity) */
  offerLink(options: LinkOfferOptions): Promise<LinkOffer>
  /** take a device off the list (on the device that holds the identity); resolves to the list left */
  remove(device: string | PublicKey): Promise<DeviceInfo[]>
}

function newMessageId (): string {
  return toHex(randomBytes(MESSAGE_ID_BYTES), 'base16')
}

/** Errors that refuse a frame for good: another try would only repeat them */
function isRefusal (err: unknown): boolean {
  return err instanceof InvalidMessageError || err instanceof VerificationError || err instanceof ForbiddenError
}
