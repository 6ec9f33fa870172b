/**
 * A round-trip estimate per peer, from the ring's own requests: no probe is ever sent for it.
 * Each answered request is a sample, smoothed as TCP smooths its own (RFC 6298), so that finger
 * choice (finger-choice.ts) can prefer the nearer of the nodes a finger may name.
 */
import { LRUCache } from 'lru-cache'
import { MAX_ROUND_TRIP_PEERS, ROUND_TRIP_SMOOTHING } from './constants.js'

export class RoundTripTimes {
  private readonly estimates = new LRUCache<string, number>({ max: MAX_ROUND_TRIP_PEERS })

  /** A request to `peer` was answered `ms` after it was sent */
  observe (peer: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      return
    }
    const before = this.estimates.get(peer)
    this.estimates.set(peer, before == null ? ms : before + ROUND_TRIP_SMOOTHING * (ms - before))
  }

  /** ms, the smoothed round trip to `peer`; undefined when no request to it was answered yet */
  estimate (peer: string): number | undefined {
    return this.estimates.get(peer)
  }
}
