/**
 * The browser build's version of `metrics.ts` (swapped in through the package's `browser` field):
 * prom-client needs Node built-ins, and nobody scrapes a page, so a browser node keeps no
 * metrics and exposes none. It exports the same names as `metrics.ts`.
 */
import type { NodeMetrics } from './metrics.js'

export function createNodeMetrics (): NodeMetrics {
  return {
    watch: () => {},
    watchMailbox: () => {},
    mailbox: { stored: () => {}, pushed: () => {}, acknowledged: () => {}, expired: () => {}, refused: () => {} },
    healingRound: () => {},
    peerExchangeRound: () => {},
    lookupFinished: () => {},
    requestSent: () => {},
    requestServed: () => {},
    antiEntropyRound: () => {},
    observePut: async put => put(),
    observeGet: async get => get(),
    expose: async () => ''
  }
}
