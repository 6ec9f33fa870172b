/**
 * How one /chord/1.0.0 request went, as its sender or the node answering it saw it. The service
 * reports these to whoever watches it (metrics), so the transport itself stays free of them.
 */
import type { MessageType } from '../protocol/generated/chord.js'

/**
 * - `ok`: answered
 * - `error`: answered with an ERROR status (the remote refused, or we did)
 * - `timeout`: sent, and no answer came before the request deadline
 * - `failed`: sent, and the exchange broke: no connection, a reset stream, an invalid answer, or
 *   the caller gave up
 */
export type RequestOutcome = 'ok' | 'error' | 'timeout' | 'failed'

export interface ObservedRequest {
  type: MessageType
  outcome: RequestOutcome
  /** sender: from sending the request to its answer or failure; server: spent answering it */
  durationMs: number
  /** with outcome `error`, on the server: the code it answered with */
  errorCode?: string
}
