/**
 * An account: a person as one of their devices acts for them. The person's address is what
 * others send to and see as the sender; the device's own keys open what is sealed to this device
 * and sign what it sends.
 *
 * On the device that holds the person's identity, the two are one key (`accountOf(identity)`):
 * that is every identity as it was before devices existed. A linked device has keys of its own
 * and names its person (`linkedAccount(person, device)`); it never holds the person's secret key,
 * so removing it from the person's list takes everything from it.
 */
import { InvalidOptionsError } from '../errors.js'
import { publicKeyOf } from '../mailbox/public-key.js'
import type { PublicKey } from '../mailbox/public-key.js'
import type { Identity } from '../mailbox/identity.js'

export interface Account {
  /** the person's public key */
  readonly publicKey: PublicKey
  /** the person's address: what others send to */
  readonly address: string
  /** the person's fingerprint, for people to compare */
  readonly fingerprint: string
  /** this device's keys: its mailbox, what it signs with */
  readonly device: Identity
  /** the person's identity, on the one device that holds it: it signs the device list */
  readonly identity?: Identity
}

/** The account of the device that holds `identity` itself */
export function accountOf (identity: Identity): Account {
  return { publicKey: identity.publicKey, address: identity.address, fingerprint: identity.fingerprint, device: identity, identity }
}

/**
 * The account of a linked device: `device` acts for `person`
 *
 * @throws InvalidOptionsError if `person` is not an address or key, or is the device's own key
 * (that is `accountOf(device)`)
 */
export function linkedAccount (person: string | PublicKey, device: Identity): Account {
  const publicKey = publicKeyOf(person)
  if (publicKey.equals(device.publicKey)) {
    throw new InvalidOptionsError('a device with its person\'s own key is that person\'s identity: use accountOf(identity)')
  }
  return { publicKey, address: publicKey.address, fingerprint: publicKey.fingerprint, device }
}

/** The account a caller means: an identity is the account of the device that holds it */
export function toAccount (sender: Identity | Account): Account {
  return isAccount(sender) ? sender : accountOf(sender)
}

export function isAccount (value: Identity | Account): value is Account {
  return 'device' in value
}

/** Whether the account's device is the person's own key (it holds the identity) */
export function holdsIdentity (account: Account): boolean {
  return account.device.publicKey.equals(account.publicKey)
}
