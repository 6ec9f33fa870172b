/**
 * Lookups judged against the true ring (test/helpers/simulated-churn.ts), summed up for a table
 * and the JSON file.
 */
import { failedLookups } from '../../test/helpers/simulated-churn.js'
import { summarize } from './stats.js'
import type { LookupTally } from '../../test/helpers/simulated-churn.js'

export interface TallySummary {
  lookups: number
  failed: number
  failedFraction: number
  wrongOwner: number
  unconfirmed: number
  noRoute: number
  corrected: number
  meanHops: number
  p99Hops: number
  timeoutsPerLookup: number
}

export function summarizeTally (tally: LookupTally): TallySummary {
  const hops = summarize(tally.hops)
  const failed = failedLookups(tally)
  return {
    lookups: tally.lookups,
    failed,
    failedFraction: failed / tally.lookups,
    wrongOwner: tally.wrongOwner,
    unconfirmed: tally.unconfirmed,
    noRoute: tally.noRoute,
    corrected: tally.corrected,
    meanHops: hops.mean,
    p99Hops: hops.p99,
    timeoutsPerLookup: tally.timeouts / tally.lookups
  }
}

export function percent (fraction: number): string {
  return `${(100 * fraction).toFixed(2)}%`
}
