/**
 * Delivery receipts, as the mailbox API promises them: the recipient's subscription seals a
 * receipt back to the sender's mailbox once the app's `onMessage` callback resolved (opt out with
 * `receipts: false`), and the sender's subscription hands it to `onReceipt`, never to
 * `onMessage`. The chat examples are written against this contract; these types stand in for the
 * ones `libp2p-chord` will export (`DeliveryReceipt`, and the two options on `SubscribeOptions`),
 * and the options object is passed to `subscribe()` as it is.
 */
import type { SubscribeOptions } from '../../src/index.js'

export interface DeliveryReceipt {
  /** the id send() returned for the message this receipt is about */
  id: string
  /** the recipient's address: who received it */
  from: string
  /** ms since the epoch, as the recipient's clock said */
  receivedAt: number
}

export interface ReceiptOptions {
  /** send receipts for the messages this subscription receives (default true) */
  receipts?: boolean
  /** receipts for messages this identity sent */
  onReceipt?(receipt: DeliveryReceipt): void
}

export type SubscribeWithReceipts = SubscribeOptions & ReceiptOptions
