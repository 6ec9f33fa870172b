/**
 * The address: the text form of a public key that users share and send to.
 *
 *   chord:<base58btc(canonical public key bytes ‖ checksum)>
 *
 * base58btc (the Bitcoin alphabet, via multiformats) has no look-alike characters and no
 * punctuation, so an address survives copy, paste and double-click selection. The checksum is
 * the first bytes of a labelled sha256 of the key bytes, so a mistyped address is refused instead
 * of sending to a key nobody holds.
 */
import { base58btc } from 'multiformats/bases/base58'
import { InvalidOptionsError } from '../errors.js'
import { labelledHash } from '../chord/transcript.js'
import {
  ADDRESS_CHECKSUM_LABEL, ADDRESS_CHECKSUM_LENGTH, ADDRESS_PREFIX, MAX_ADDRESS_LENGTH, PUBLIC_KEY_LENGTH
} from './constants.js'

/** Text form of canonical public key bytes */
export function encodeAddress (publicKeyBytes: Uint8Array): string {
  const withChecksum = new Uint8Array(publicKeyBytes.byteLength + ADDRESS_CHECKSUM_LENGTH)
  withChecksum.set(publicKeyBytes)
  withChecksum.set(checksum(publicKeyBytes), publicKeyBytes.byteLength)
  return ADDRESS_PREFIX + base58btc.baseEncode(withChecksum)
}

/**
 * The canonical public key bytes an address holds, once its prefix, alphabet, length and checksum
 * have been checked. What the bytes say (version, keys) is checked by `PublicKey.fromBytes()`.
 *
 * @throws InvalidOptionsError if any of these is wrong
 */
export function decodeAddress (text: string): Uint8Array {
  if (typeof text !== 'string' || !text.startsWith(ADDRESS_PREFIX)) {
    throw new InvalidOptionsError(`an address starts with "${ADDRESS_PREFIX}"`)
  }
  if (text.length > MAX_ADDRESS_LENGTH) {
    throw new InvalidOptionsError(`an address is at most ${MAX_ADDRESS_LENGTH} characters, got ${text.length}`)
  }
  let bytes: Uint8Array
  try {
    bytes = base58btc.baseDecode(text.slice(ADDRESS_PREFIX.length))
  } catch (err) {
    throw new InvalidOptionsError('an address holds base58btc characters only after its prefix', { cause: err })
  }
  if (bytes.byteLength !== PUBLIC_KEY_LENGTH + ADDRESS_CHECKSUM_LENGTH) {
    throw new InvalidOptionsError(`an address holds ${PUBLIC_KEY_LENGTH + ADDRESS_CHECKSUM_LENGTH} bytes, got ${bytes.byteLength}`)
  }
  const key = bytes.subarray(0, PUBLIC_KEY_LENGTH)
  const expected = checksum(key)
  const actual = bytes.subarray(PUBLIC_KEY_LENGTH)
  if (!expected.every((b, i) => b === actual[i])) {
    throw new InvalidOptionsError('the address checksum does not match: is it mistyped or cut short?')
  }
  return key
}

function checksum (publicKeyBytes: Uint8Array): Uint8Array {
  return labelledHash(ADDRESS_CHECKSUM_LABEL, publicKeyBytes).subarray(0, ADDRESS_CHECKSUM_LENGTH)
}
