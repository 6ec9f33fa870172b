/**
 * Delivery receipts: once a recipient's application has taken a message (its `onMessage`
 * resolved), the recipient's subscription seals a receipt back to the sender's mailbox; the
 * sender's subscription opens it and tells its application which message arrived. A receipt is a
 * sealed message of kind RECEIPT, signed under its own label, so it is as private and as
 * authenticated as a message, and can never pass for one.
 */
import { toString as toHex } from 'uint8arrays/to-string'
import { InvalidMessageError } from '../errors.js'
import { Receipt } from '../protocol/generated/envelope.js'
import { ID_LENGTH, MAX_SENT_AT } from './constants.js'

/** What a sender learns when its message arrived */
export interface DeliveryReceipt {
  /** the id `send()` returned for the message (hex) */
  id: string
  /** the recipient's verified address: who received it */
  from: string
  /** when the recipient's application took it, ms since the epoch (the recipient's clock) */
  receivedAt: number
}

/** The body of a receipt for the envelope `messageId` */
export function encodeReceipt (messageId: Uint8Array, receivedAt: number): Uint8Array {
  return Receipt.encode({ messageId: messageId as Uint8Array<ArrayBuffer>, receivedAt })
}

/**
 * @throws InvalidMessageError when the body is not a receipt: a message id of ID_LENGTH bytes and a time
 */
export function decodeReceipt (body: Uint8Array, from: string): DeliveryReceipt {
  let receipt: Receipt
  try {
    receipt = Receipt.decode(body)
  } catch (err) {
    throw new InvalidMessageError('a receipt is not valid protobuf', { cause: err })
  }
  if (receipt.messageId.byteLength !== ID_LENGTH) {
    throw new InvalidMessageError(`a receipt names a message id of ${ID_LENGTH} bytes, got ${receipt.messageId.byteLength}`)
  }
  if (!Number.isSafeInteger(receipt.receivedAt) || receipt.receivedAt < 0 || receipt.receivedAt > MAX_SENT_AT) {
    throw new InvalidMessageError(`a receipt's time is an integer in [0, ${MAX_SENT_AT}]`)
  }
  return { id: toHex(receipt.messageId, 'base16'), from, receivedAt: receipt.receivedAt }
}
