/**
 * How far each message this device sent has got: which of its envelopes (one per device of each
 * recipient) have come back with a receipt, counted per device and per person, "delivered to 7
 * of 9". Kept in the chat's store, so a page reloaded still counts the receipts that come later.
 */
import { LRUCache } from 'lru-cache'
import { MAX_EARLY_RECEIPTS, MAX_TRACKED_MESSAGES } from './constants.js'
import type { ChatStore } from './chat-store.js'
import type { EnvelopeOutcome } from '../mailbox/mailbox.js'
import type { DeliveryReceipt } from '../mailbox/receipts.js'

/** How one recipient's devices stand */
export interface RecipientDelivery {
  /** the person's address */
  person: string
  /** their devices the message was stored for */
  devices: number
  /** of those, the ones that have it */
  delivered: number
}

/** How a sent message stands */
export interface DeliveryState {
  /** the message's id, as send resolved with it */
  id: string
  /** the group it went to (its id) */
  group?: string
  /** the person it went to, for a direct message */
  to?: string
  /** people it went to (the sender not counted) */
  members: number
  /** of those, people with at least one device that has it */
  membersDelivered: number
  /** devices it was stored for (the sender's own not counted) */
  devices: number
  /** of those, devices that have it */
  devicesDelivered: number
  recipients: RecipientDelivery[]
}

interface TrackedEnvelope {
  person: string
  device?: string
  /** absent when it could not be stored */
  id?: string
  delivered?: boolean
}

interface TrackedMessage {
  id: string
  group?: string
  to?: string
  sentAt: number
  envelopes: TrackedEnvelope[]
}

export class DeliveryTracker {
  private readonly messages = new Map<string, TrackedMessage>()
  /** envelope id → message id */
  private readonly envelopes = new Map<string, string>()
  /** envelope id → the device whose receipt came before the send resolved */
  private readonly early = new LRUCache<string, string>({ max: MAX_EARLY_RECEIPTS })

  /**
   * @param prefix the store keys' prefix, so that one store holds several accounts
   * @param self the sender's address: envelopes to its own devices are not counted
   */
  constructor (private readonly store: ChatStore, private readonly prefix: string, private readonly self: string) {}

  async load (): Promise<void> {
    const saved = (await this.store.entries(this.key(''))).map(([, value]) => JSON.parse(value) as TrackedMessage)
    for (const message of saved.sort((a, b) => a.sentAt - b.sentAt)) {
      this.remember(message)
    }
  }

  /** Follow a message just sent, from how its envelopes fared */
  async track (message: { id: string, group?: string, to?: string, sentAt: number }, outcomes: EnvelopeOutcome[]): Promise<DeliveryState> {
    const tracked: TrackedMessage = {
      ...message,
      envelopes: outcomes.filter(outcome => outcome.person !== this.self).map(({ person, device, id }) => ({
        person,
        device,
        id,
        delivered: id != null && device != null && this.early.get(id) === device ? true : undefined
      }))
    }
    for (const envelope of tracked.envelopes) {
      this.early.delete(envelope.id ?? '')
    }
    for (const forgotten of this.remember(tracked)) {
      await this.store.delete(this.key(forgotten))
    }
    await this.save(tracked)
    return stateOf(tracked)
  }

  /**
   * Count a receipt; resolves to the message's new state, or undefined for a receipt of nothing
   * followed (yet: one for an envelope whose send has not resolved is counted when it has)
   */
  async receipt (receipt: DeliveryReceipt): Promise<DeliveryState | undefined> {
    const message = this.messages.get(this.envelopes.get(receipt.id) ?? '')
    if (message == null) {
      this.early.set(receipt.id, receipt.from)
      return undefined
    }
    const envelope = message.envelopes.find(e => e.id === receipt.id && e.device === receipt.from)
    if (envelope == null || envelope.delivered === true) {
      return undefined
    }
    envelope.delivered = true
    await this.save(message)
    return stateOf(message)
  }

  state (id: string): DeliveryState | undefined {
    const message = this.messages.get(id)
    return message == null ? undefined : stateOf(message)
  }

  /** Keep a message in memory; resolves to the ids of those forgotten to make room */
  private remember (message: TrackedMessage): string[] {
    this.messages.set(message.id, message)
    for (const envelope of message.envelopes) {
      if (envelope.id != null) {
        this.envelopes.set(envelope.id, message.id)
      }
    }
    const forgotten: string[] = []
    // a Map iterates in insertion order: the first is the oldest
    for (const [id, oldest] of this.messages) {
      if (this.messages.size <= MAX_TRACKED_MESSAGES) {
        break
      }
      this.messages.delete(id)
      for (const envelope of oldest.envelopes) {
        this.envelopes.delete(envelope.id ?? '')
      }
      forgotten.push(id)
    }
    return forgotten
  }

  private async save (message: TrackedMessage): Promise<void> {
    await this.store.set(this.key(message.id), JSON.stringify(message))
  }

  private key (id: string): string {
    return `${this.prefix}delivery/${id}`
  }
}

function stateOf (message: TrackedMessage): DeliveryState {
  const byPerson = new Map<string, RecipientDelivery>()
  for (const envelope of message.envelopes) {
    const recipient = byPerson.get(envelope.person) ?? { person: envelope.person, devices: 0, delivered: 0 }
    if (envelope.id != null) {
      recipient.devices++
      recipient.delivered += envelope.delivered === true ? 1 : 0
    }
    byPerson.set(envelope.person, recipient)
  }
  const recipients = [...byPerson.values()]
  return {
    id: message.id,
    group: message.group,
    to: message.to,
    members: recipients.length,
    membersDelivered: recipients.filter(r => r.delivered > 0).length,
    devices: recipients.reduce((sum, r) => sum + r.devices, 0),
    devicesDelivered: recipients.reduce((sum, r) => sum + r.delivered, 0),
    recipients
  }
}
