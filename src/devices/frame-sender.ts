/**
 * Who sent a frame. The sealed sender is a device; the person it speaks for is the frame's
 * `person` when it names one, believed only once the device is on that person's device list, and
 * otherwise the device's own key (the device that holds the person's identity).
 */
import { VerificationError } from '../errors.js'
import type { DeviceLists } from './device-lists.js'
import type { Frame } from '../mailbox/frames.js'
import type { PublicKey } from '../mailbox/public-key.js'

export interface FrameSender {
  /** the person the frame is from */
  person: PublicKey
  /** the device that sealed it */
  device: PublicKey
}

/**
 * @throws VerificationError when the frame names a person whose device list does not hold the
 * sealing device (a device removed, or one that was never theirs)
 */
export async function verifiedSender (lists: Pick<DeviceLists, 'includes'>, device: PublicKey, frame: Frame): Promise<FrameSender> {
  const person = frame.person ?? device
  if (!await lists.includes(person, device)) {
    throw new VerificationError(`the device ${device.fingerprint} is not on the device list of ${person.fingerprint}`)
  }
  return { person, device }
}
