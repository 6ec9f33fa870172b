/**
 * Sending to people rather than to keys: each person's device list is resolved afresh, and the
 * body is sealed to every device on it (never to the sending device itself) and stored in that
 * device's mailbox. Each envelope is sent, retried and reported on its own, so one device that
 * cannot be reached holds up nobody else's.
 */
import pMap from 'p-map'
import { asError } from '../errors.js'
import { FAN_OUT_CONCURRENCY } from './constants.js'
import type { Account } from './account.js'
import type { DeviceLists } from './device-lists.js'
import type { EnvelopeOutcome, SendOptions, SendResult } from '../mailbox/mailbox.js'
import type { Identity } from '../mailbox/identity.js'
import type { PublicKey } from '../mailbox/public-key.js'
import type { SealedKind } from '../mailbox/seal.js'

/** Seal `body` as `kind` from `sender` to one device, and store it in that device's mailbox */
export type SendSealed = (sender: Identity, device: PublicKey, body: Uint8Array, kind: SealedKind, options: SendOptions) => Promise<SendResult>

/** What goes to all of one person's devices */
export interface PersonDelivery {
  person: PublicKey
  kind: SealedKind
  body: Uint8Array
}

export interface FanOutInit {
  lists: Pick<DeviceLists, 'of'>
  sendSealed: SendSealed
}

export class DeviceFanOut {
  constructor (private readonly init: FanOutInit) {}

  /** Seal each delivery to every device of its person but the sender's own, and store each */
  async send (sender: Account, deliveries: PersonDelivery[], options: SendOptions = {}): Promise<EnvelopeOutcome[]> {
    const perPerson = await pMap(deliveries, async delivery => {
      try {
        const devices = await this.init.lists.of(delivery.person, options)
        return devices
          .filter(device => !device.publicKey.equals(sender.device.publicKey))
          .map(device => ({ delivery, device: device.publicKey }))
      } catch (err) {
        return [{ delivery, error: asError(err) }]
      }
    }, { concurrency: FAN_OUT_CONCURRENCY })
    return pMap(perPerson.flat(), async (target): Promise<EnvelopeOutcome> => {
      const person = target.delivery.person.address
      if ('error' in target) {
        return { person, replicas: 0, error: target.error }
      }
      const device = target.device.address
      try {
        const { id, replicas } = await this.init.sendSealed(sender.device, target.device, target.delivery.body, target.delivery.kind, options)
        return { person, device, id, replicas }
      } catch (err) {
        return { person, device, replicas: 0, error: asError(err) }
      }
    }, { concurrency: FAN_OUT_CONCURRENCY })
  }
}
