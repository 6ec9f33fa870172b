/**
 * Sizes and labels of owned records, with the reason for each. docs/protocol.md describes the
 * format they shape.
 */
import { KiB } from '../units.js'

/** The label of an owned record's key: ownedKey(owner, name) = sha256(transcript(label, owner, name)) */
export const OWNED_KEY_LABEL = 'libp2p-chord/owned-key/v1'

/** The context of the owner's signature over a record: it can pass for no other signature */
export const OWNED_RECORD_CONTEXT = 'libp2p-chord/owned-record/v1'

/**
 * Longest name, in bytes of UTF-8: names are labels an application picks ("profile",
 * "prekeys/3"), not data; the limit keeps the signed bytes and the key's input small.
 */
export const MAX_OWNED_NAME_BYTES = 256

/**
 * Largest value. A whole owned record (the value, the owner's key, the name, three numbers, the
 * signature and their framing: under 1 KiB) must fit the store's largest value (64 KiB), so the
 * value may take 63 KiB.
 */
export const MAX_OWNED_VALUE_SIZE = 63 * KiB

export { MAX_OWNED_RECORDS_PER_STORE } from '../transport/constants.js'
