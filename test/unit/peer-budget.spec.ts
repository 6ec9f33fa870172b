/**
 * PeerBudget's memory: at most maxPeers entries, and past it the entry forgotten is, of the
 * EVICTION_CANDIDATES remembered longest, the one that spent least, so that new light entries
 * cannot wipe out spent ones, and a table of spent ones costs a bounded look per newcomer.
 */
import assert from 'node:assert/strict'
import { EVICTION_CANDIDATES, PeerBudget } from '../../src/limits/peer-budget.js'

describe('PeerBudget', () => {
  it('forgets, of the EVICTION_CANDIDATES remembered longest, the one that spent least, and looks no further', () => {
    const maxPeers = EVICTION_CANDIDATES + 2
    const budget = new PeerBudget({ points: 10, windowMs: 60_000, maxPeers })
    // the EVICTION_CANDIDATES oldest have spent 10, 9, 10, 10, ...; one past them has spent 1
    for (let i = 0; i < EVICTION_CANDIDATES; i++) {
      budget.spend(`old-${i}`, i === 1 ? 9 : 10)
    }
    budget.spend('light', 1)
    budget.spend('other', 10)
    assert.equal(budget.trackedPeers, maxPeers)

    budget.spend('newcomer', 1)
    assert.equal(budget.trackedPeers, maxPeers)
    assert.equal(budget.remaining('old-1'), 10, 'the lightest of the candidates was forgotten')
    assert.equal(budget.remaining('light'), 9, 'the lighter entry past the candidates was not looked at')
    assert.equal(budget.remaining('old-0'), 0)
  })

  it('gives back a refund, and forgets an entry whose whole spend came back', () => {
    const budget = new PeerBudget({ points: 10, windowMs: 60_000, maxPeers: 4 })
    budget.spend('a', 6)
    budget.refund('a', 2)
    assert.equal(budget.remaining('a'), 6)
    budget.refund('a', 4)
    assert.equal(budget.trackedPeers, 0)
  })
})
