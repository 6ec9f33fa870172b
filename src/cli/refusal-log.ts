/**
 * A running node says when it turns work away: every REFUSAL_LOG_INTERVAL, one warning with the
 * requests it refused since the last one for a peer over its limits or breaking its rules
 * (TURNED_AWAY_CODES), by code; nothing when there were none. Without it a node held at its limits
 * by a stranger logs nothing at all.
 */
import { describeRefusals } from '../observability/refused-requests.js'
import { REFUSAL_LOG_INTERVAL } from './constants.js'
import type { Logger } from './log.js'
import type { RefusedRequests } from '../observability/refused-requests.js'

export interface RefusingNode {
  readonly status: string
  refusedRequests(): RefusedRequests
}

/** Start logging `node`'s refusals; it stops by itself once the node has stopped, or when called */
export function logRefusals (node: RefusingNode, log: Pick<Logger, 'warn'>, intervalMs = REFUSAL_LOG_INTERVAL): () => void {
  let before = node.refusedRequests()
  let since = Date.now()
  const timer = setInterval(() => {
    if (node.status === 'stopped') {
      clearInterval(timer)
      return
    }
    const now = node.refusedRequests()
    const line = describeRefusals(before, now, Date.now() - since)
    if (line != null) {
      log.warn({ byCode: now.byCode }, line)
    }
    before = now
    since = Date.now()
  }, intervalMs)
  // a node stops through its signal handlers; this must never keep the process alive
  timer.unref()
  return () => { clearInterval(timer) }
}
