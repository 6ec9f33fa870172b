/**
 * The text of a link offer, what the device holding a person's identity shows (as text or QR
 * code) for a new device to scan:
 *
 *   chord-link:<base58btc(version (1) ‖ person's public key (65) ‖ link key (65) ‖ checksum (4))>
 *
 * The person's key tells the new device whose grant to believe; the link key is a fresh key made
 * for this offer alone, whose mailbox the offering device watches for the new device's request.
 * The checksum (as in an address) makes a damaged code fail instead of leading nowhere.
 */
import { base58btc } from 'multiformats/bases/base58'
import { equalBytes } from '@noble/curves/utils.js'
import { InvalidOptionsError } from '../errors.js'
import { PUBLIC_KEY_LENGTH } from '../mailbox/constants.js'
import { PublicKey } from '../mailbox/public-key.js'
import { labelledHash } from '../chord/transcript.js'
import { LINK_CHECKSUM_LABEL, LINK_CHECKSUM_LENGTH, LINK_PREFIX, LINK_VERSION } from './constants.js'

export interface LinkText {
  /** the person whose device list the new device joins */
  person: PublicKey
  /** the offer's own key: the new device sends its request to it */
  linkKey: PublicKey
}

const BODY_LENGTH = 1 + 2 * PUBLIC_KEY_LENGTH
const LINK_BYTES = BODY_LENGTH + LINK_CHECKSUM_LENGTH
/** The prefix and the base58 digits of the bytes (each digit carries log2(58) bits) */
export const MAX_LINK_LENGTH = LINK_PREFIX.length + Math.ceil(LINK_BYTES * 8 / Math.log2(58))

export function encodeLink (link: LinkText): string {
  const bytes = new Uint8Array(LINK_BYTES)
  bytes[0] = LINK_VERSION
  bytes.set(link.person.bytes, 1)
  bytes.set(link.linkKey.bytes, 1 + PUBLIC_KEY_LENGTH)
  bytes.set(checksum(bytes.subarray(0, BODY_LENGTH)), BODY_LENGTH)
  return LINK_PREFIX + base58btc.baseEncode(bytes)
}

/**
 * @throws InvalidOptionsError when the text is not a link offer: prefix, length, alphabet,
 * version, checksum or either key
 */
export function decodeLink (text: string): LinkText {
  if (typeof text !== 'string' || !text.startsWith(LINK_PREFIX)) {
    throw new InvalidOptionsError(`a link offer starts with "${LINK_PREFIX}"`)
  }
  if (text.length > MAX_LINK_LENGTH) {
    throw new InvalidOptionsError(`a link offer is at most ${MAX_LINK_LENGTH} characters, got ${text.length}`)
  }
  let bytes: Uint8Array
  try {
    bytes = base58btc.baseDecode(text.slice(LINK_PREFIX.length))
  } catch (err) {
    throw new InvalidOptionsError('a link offer holds base58btc characters only after its prefix', { cause: err })
  }
  if (bytes.byteLength !== LINK_BYTES) {
    throw new InvalidOptionsError(`a link offer holds ${LINK_BYTES} bytes, got ${bytes.byteLength}`)
  }
  if (bytes[0] !== LINK_VERSION) {
    throw new InvalidOptionsError(`unknown link offer version ${bytes[0]}`)
  }
  if (!equalBytes(checksum(bytes.subarray(0, BODY_LENGTH)), bytes.subarray(BODY_LENGTH))) {
    throw new InvalidOptionsError('the link offer\'s checksum does not match: is it cut short or mistyped?')
  }
  try {
    return {
      person: PublicKey.fromBytes(bytes.subarray(1, 1 + PUBLIC_KEY_LENGTH)),
      linkKey: PublicKey.fromBytes(bytes.subarray(1 + PUBLIC_KEY_LENGTH, BODY_LENGTH))
    }
  } catch (err) {
    throw new InvalidOptionsError(`the link offer does not hold valid keys: ${(err as Error).message}`, { cause: err })
  }
}

function checksum (body: Uint8Array): Uint8Array {
  return labelledHash(LINK_CHECKSUM_LABEL, body).subarray(0, LINK_CHECKSUM_LENGTH)
}
