/**
 * A person's device list: the value of the owned record DEVICE_LIST_NAME, which only the person's
 * key can sign. The person's own key is always its first device (the device that holds the
 * identity); each other device has keys of its own, and so a mailbox of its own.
 *
 * A person who never published a list has one device: their own key. That is every identity made
 * before devices existed, and every identity that never linked a second device.
 */
import { MaxLengthError } from 'protons-runtime'
import { InvalidOptionsError, InvalidRecordError } from '../errors.js'
import { PublicKey } from '../mailbox/public-key.js'
import { utf8 } from '../chord/transcript.js'
import { DeviceList } from '../protocol/generated/chat.js'
import { MAX_DEVICES, MAX_DEVICE_NAME_BYTES } from './constants.js'

/** One device of a person */
export interface DeviceInfo {
  /** the device's public key: what messages to it are sealed to */
  publicKey: PublicKey
  /** the device's address (its own, not the person's) */
  address: string
  fingerprint: string
  /** what the person called it; empty for a device never named */
  name: string
  /** when it was added, ms since the epoch; 0 for the person's own key on a list never published */
  addedAt: number
}

export function deviceInfo (publicKey: PublicKey, name: string, addedAt: number): DeviceInfo {
  return { publicKey, address: publicKey.address, fingerprint: publicKey.fingerprint, name, addedAt }
}

/** The list of a person who never published one: their own key */
export function soleDevice (person: PublicKey): DeviceInfo[] {
  return [deviceInfo(person, '', 0)]
}

/**
 * The owned record's value for `devices`, which start with the person's own key
 *
 * @throws InvalidOptionsError when the list breaks a rule of decodeDeviceList
 */
export function encodeDeviceList (person: PublicKey, devices: DeviceInfo[]): Uint8Array {
  const bytes = DeviceList.encode({
    devices: devices.map(device => ({ key: device.publicKey.bytes, name: device.name, addedAt: device.addedAt }))
  })
  try {
    decodeDeviceList(person, bytes)
  } catch (err) {
    throw new InvalidOptionsError((err as Error).message, { cause: err })
  }
  return bytes
}

/**
 * The devices a resolved device list names.
 *
 * @throws InvalidRecordError when it is not protobuf, names no device or more than MAX_DEVICES,
 * does not start with the person's own key, names a device twice, or a key or name breaks its rules
 */
export function decodeDeviceList (person: PublicKey, bytes: Uint8Array): DeviceInfo[] {
  let list: DeviceList
  try {
    // the count is checked while decoding, before the list is built
    list = DeviceList.decode(bytes, { limits: { devices: MAX_DEVICES } })
  } catch (err) {
    throw new InvalidRecordError(err instanceof MaxLengthError ? `a device list names at most ${MAX_DEVICES} devices` : 'a device list is not protobuf', { cause: err })
  }
  if (list.devices.length === 0) {
    throw new InvalidRecordError('a device list names at least one device')
  }
  const seen = new Set<string>()
  return list.devices.map((device, i) => {
    let publicKey: PublicKey
    try {
      publicKey = PublicKey.fromBytes(device.key)
    } catch (err) {
      throw new InvalidRecordError(`device ${i} of a device list has no valid public key`, { cause: err })
    }
    if (i === 0 && !publicKey.equals(person)) {
      throw new InvalidRecordError('a device list starts with its person\'s own key')
    }
    if (seen.has(publicKey.address)) {
      throw new InvalidRecordError('a device list names a device twice')
    }
    seen.add(publicKey.address)
    if (utf8(device.name).byteLength > MAX_DEVICE_NAME_BYTES) {
      throw new InvalidRecordError(`a device's name is at most ${MAX_DEVICE_NAME_BYTES} bytes of UTF-8`)
    }
    if (!Number.isSafeInteger(device.addedAt) || device.addedAt < 0) {
      throw new InvalidRecordError('a device\'s addedAt is an integer from 0 to 2^53 - 1')
    }
    return deviceInfo(publicKey, device.name, device.addedAt)
  })
}

/**
 * A device name as given, checked
 *
 * @throws InvalidOptionsError for a name that is not a string of at most MAX_DEVICE_NAME_BYTES
 */
export function checkedDeviceName (name: unknown): string {
  if (typeof name !== 'string' || utf8(name).byteLength > MAX_DEVICE_NAME_BYTES) {
    throw new InvalidOptionsError(`a device name is a string of at most ${MAX_DEVICE_NAME_BYTES} bytes of UTF-8`)
  }
  return name
}
