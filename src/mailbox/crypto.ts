/**
 * The mailbox's cryptography as the rest of the package uses it: user identities, their public
 * keys and addresses, and sealed envelopes. Nothing here does I/O; the mailbox protocol builds on
 * it. docs/security.md describes the formats and what each party can see.
 */
export { createIdentity, importIdentity, verifySignature } from './identity.js'
export type { Identity } from './identity.js'
export { PublicKey, parseAddress, mailboxKey } from './public-key.js'
export { seal, open, envelopeId, decodeEnvelope } from './seal.js'
export type { SealOptions, OpenedMessage } from './seal.js'
export { MAX_ENVELOPE_SIZE, MAX_PLAINTEXT_SIZE, ENVELOPE_SIZES } from './constants.js'
