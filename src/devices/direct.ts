/**
 * A direct message from one person to another, as envelopes: one for each of the recipient's
 * devices, and a copy for each of the sender's own other devices, which show it as sent.
 *
 * From the device that holds the sender's identity, the recipient's envelopes are plain messages,
 * as they were before devices existed, so an older client still reads them; from a linked device
 * they are frames naming the person the device speaks for.
 */
import { LookupFailedError } from '../errors.js'
import { encodeFrame } from '../mailbox/frames.js'
import { holdsIdentity } from './account.js'
import type { Account } from './account.js'
import type { DeviceFanOut, PersonDelivery } from './fan-out.js'
import type { EnvelopeOutcome, SendOptions } from '../mailbox/mailbox.js'
import type { PublicKey } from '../mailbox/public-key.js'

/** What a direct message is: envelopes for the recipient's devices and the sender's others */
export function directDeliveries (sender: Account, recipient: PublicKey, plaintext: Uint8Array): PersonDelivery[] {
  const person = holdsIdentity(sender) ? undefined : sender.publicKey
  const toRecipient: PersonDelivery = person == null
    ? { person: recipient, kind: 'message', body: plaintext }
    : { person: recipient, kind: 'frame', body: encodeFrame({ person, content: { type: 'direct', body: plaintext } }) }
  if (recipient.equals(sender.publicKey)) {
    return [toRecipient] // a note to oneself: the recipient's devices are one's own
  }
  const copy = encodeFrame({ person, content: { type: 'sent', to: recipient, body: plaintext } })
  return [toRecipient, { person: sender.publicKey, kind: 'frame', body: copy }]
}

/**
 * Send a direct message; resolves with every envelope's outcome once each is stored or has failed
 *
 * @throws the first failure when not one envelope reached the recipient's devices
 */
export async function sendDirect (fanOut: Pick<DeviceFanOut, 'send'>, sender: Account, recipient: PublicKey, plaintext: Uint8Array, options: SendOptions = {}): Promise<EnvelopeOutcome[]> {
  const outcomes = await fanOut.send(sender, directDeliveries(sender, recipient, plaintext), options)
  const toRecipient = outcomes.filter(outcome => outcome.person === recipient.address)
  if (toRecipient.length > 0 && toRecipient.every(outcome => outcome.error != null)) {
    throw toRecipient[0].error ?? new LookupFailedError('the message reached none of the recipient\'s devices')
  }
  return outcomes
}
