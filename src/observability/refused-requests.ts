/**
 * The requests this node answered with an ERROR, by the code it gave: peers over its limits
 * (RATE_LIMITED, QUOTA_EXCEEDED), peers breaking its rules (BAD_SIGNATURE, INVALID_ARGUMENT, …),
 * and what the ring's own work brings (TURNED_AWAY_CODES below tells them apart). Counted since
 * the node started, so an operator (or `chord-node run`'s log) can see a node turning work away
 * without reading /metrics.
 */
import { ErrorCode } from '../transport/constants.js'

export interface RefusedRequests {
  total: number
  /** by the code the answer carried; only the codes this node sends, none with a count of 0 */
  byCode: Record<string, number>
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode))

/**
 * The codes that mean a peer went over one of the node's limits or broke its rules, which a log
 * should show. The others come with the ring's own work and would only cry wolf: FORBIDDEN for a
 * key the node stopped keeping as the ring changed, TOO_LARGE asking a neighbour to compare a
 * smaller range, STALE for an owned record already superseded, NO_ROUTE for a lookup out of hops.
 */
export const TURNED_AWAY_CODES: ReadonlySet<string> = new Set([ErrorCode.RATE_LIMITED, ErrorCode.QUOTA_EXCEEDED, ErrorCode.BAD_SIGNATURE, ErrorCode.INVALID_ARGUMENT, ErrorCode.INVALID_RECORD])

/** `code` if it is one this node sends, else INTERNAL: a bounded set, fit for a metric's label */
export function knownErrorCode (code: string | undefined): string {
  return code != null && KNOWN_CODES.has(code) ? code : ErrorCode.INTERNAL
}

export class RefusedRequestTally {
  private readonly counts = new Map<string, number>()

  record (code: string | undefined): void {
    const known = knownErrorCode(code)
    this.counts.set(known, (this.counts.get(known) ?? 0) + 1)
  }

  snapshot (): RefusedRequests {
    let total = 0
    for (const count of this.counts.values()) {
      total += count
    }
    return { total, byCode: Object.fromEntries(this.counts) }
  }
}

/**
 * One line for a log: how many requests were turned away (TURNED_AWAY_CODES) between two
 * snapshots, by code, most first; undefined when none were
 */
export function describeRefusals (before: RefusedRequests, now: RefusedRequests, sinceMs: number): string | undefined {
  const byCode = Object.entries(now.byCode)
    .filter(([code]) => TURNED_AWAY_CODES.has(code))
    .map(([code, count]) => [code, count - (before.byCode[code] ?? 0)] as const)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1])
  const refused = byCode.reduce((sum, [, count]) => sum + count, 0)
  if (refused === 0) {
    return undefined
  }
  const counts = byCode.map(([code, count]) => `${code} ${count.toLocaleString('en-US')}`)
  return `turned away ${refused.toLocaleString('en-US')} request${refused === 1 ? '' : 's'} in the last ${Math.round(sinceMs / 1000)} s (${counts.join(', ')}): peers over this node's limits or breaking its rules; chord_rpc_requests_refused_total in /metrics counts every refusal`
}
