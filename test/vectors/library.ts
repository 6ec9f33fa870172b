/**
 * The library's internals that the test vectors are made from and checked against, gathered in
 * one module so that a move of files under src/ is fixed here and nowhere else. Only the vector
 * generator and the vector tests import it; the spec client (test/integration/spec-client.spec.ts)
 * must not.
 */
export { createIdentity, importIdentity, verifySignature } from '../../src/mailbox/identity.js'
export type { Identity } from '../../src/mailbox/identity.js'
export { PublicKey, mailboxKey, parseAddress } from '../../src/mailbox/public-key.js'
export { decodeEnvelope, envelopeId, open, sealWith } from '../../src/mailbox/seal.js'
export { Envelope, Sealed } from '../../src/protocol/generated/envelope.js'
export { labelledHash, transcript, uint64, utf8 } from '../../src/chord/transcript.js'
export { pad, paddedSizeFor, unpad } from '../../src/mailbox/padding.js'
export {
  DELETE_CONTEXT, SUBSCRIBE_CONTEXT, answerChallenge, signDeletion, verifyChallengeAnswer, verifyDeletion
} from '../../src/mailbox/proofs.js'
export {
  ADDRESS_CHECKSUM_LABEL, ENVELOPE_KEY_LABEL, ENVELOPE_SIZES, FINGERPRINT_LABEL, IDENTITY_EXPORT_LABEL,
  MAILBOX_KEY_LABEL, MESSAGE_SIGNATURE_LABEL, USER_SIGNATURE_LABEL
} from '../../src/mailbox/constants.js'

export { MessageType, Namespace, Neighbours, Peer, Request, Response } from '../../src/protocol/generated/chord.js'
export { OWNER_STATEMENT_DOMAIN, OWNER_STATEMENT_STORED_DOMAIN, signedBytes as ownerStatementBytes } from '../../src/transport/owner-statement.js'
export { CARRIED_STORE_DOMAIN, carriedSignedBytes } from '../../src/transport/carried-store.js'
export { decodeRequest, decodeResponse } from '../../src/transport/validate.js'
export { MailboxEvent, MailboxRequest } from '../../src/protocol/generated/mailbox.js'
export { PxRequest, PxResponse } from '../../src/protocol/generated/px.js'
export { decodePxRequest, decodePxResponse, validatePxPeer } from '../../src/peer-exchange/validate.js'
export { frameStream } from '../../src/protocol/framing.js'
export { MAX_MESSAGE_SIZE, PROTOCOL } from '../../src/transport/constants.js'
export { MAILBOX_PROTOCOL, MAX_MAILBOX_EVENT_SIZE, MAX_MAILBOX_REQUEST_SIZE } from '../../src/mailbox/protocol-constants.js'
export { MAX_PX_REQUEST_SIZE, MAX_PX_RESPONSE_SIZE, PX_PROTOCOL } from '../../src/peer-exchange/constants.js'

export { OWNED_KEY_LABEL, OWNED_RECORD_CONTEXT } from '../../src/owned/constants.js'
export { decodeOwnedRecord, ownedKey, ownedTranscript, signOwnedRecord, verifyOwnedRecord } from '../../src/owned/record.js'
export { OwnedRecord } from '../../src/protocol/generated/owned.js'

export { ringIdOf } from '../../src/transport/ring-id.js'
export { POSITION_PUZZLE_LABEL, mintNonce, positionId, puzzleWork } from '../../src/chord/ring-position.js'
export { keyPosition, ringIdFromBytes, ringIdToHex } from '../../src/chord/id.js'
export { openLevelStore } from '../../src/storage/level-store.js'
export { createRecord } from '../../src/chord/record.js'

export { FRAME_SIGNATURE_LABEL } from '../../src/mailbox/constants.js'
export { decodeFrame, encodeFrame } from '../../src/mailbox/frames.js'
export { decodeDeviceList, deviceInfo, encodeDeviceList } from '../../src/devices/device-list.js'
export { DEVICE_LIST_NAME, LINK_CHECKSUM_LABEL } from '../../src/devices/constants.js'
export { decodeLink, encodeLink } from '../../src/devices/link-text.js'
export { GROUP_STATE_LABEL } from '../../src/groups/constants.js'
export { decodeGroupState, makeGroupState } from '../../src/groups/group-state.js'
