/**
 * SharedBudget: work capped for all askers together and for each asker, counted in points that
 * are either checked before the work (a lookup) or checked for one left and charged once done (a
 * scan, which may overdraw).
 */
import assert from 'node:assert/strict'
import { mock } from 'node:test'
import { RateLimitedError } from '../../src/errors.js'
import { SharedBudget } from '../../src/limits/shared-budget.js'

const WINDOW_MS = 10_000

function budget (perWindow: number, perAskerPerWindow: number): SharedBudget {
  return new SharedBudget({ work: 'records read', perWindow, perAskerPerWindow, windowMs: WINDOW_MS, maxAskers: 16 })
}

/** A refusal for the node's budget or the asker's share, telling when it refills */
const refused = (which: 'all' | 'asker', retryAfterMs: number) => (err: unknown): boolean =>
  err instanceof RateLimitedError && /per asker/.test(err.message) === (which === 'asker') && err.retryAfterMs === retryAfterMs

describe('SharedBudget', () => {
  beforeEach(() => { mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 }) })
  afterEach(() => { mock.timers.reset() })

  it('refuses an asker past its share, and leaves the others theirs', () => {
    const shared = budget(100, 10)
    shared.check('a', 10)
    shared.spend('a', 10)
    mock.timers.tick(1_000)
    assert.throws(() => { shared.check('a') }, refused('asker', WINDOW_MS - 1_000))
    shared.check('b', 10)
  })

  it('refuses every asker once all of them together spent the node\'s budget, even one with its share whole', () => {
    const shared = budget(25, 10)
    for (const asker of ['a', 'b']) {
      shared.spend(asker, 10)
    }
    shared.check('c', 5)
    shared.spend('c', 5)
    assert.throws(() => { shared.check('fresh') }, refused('all', WINDOW_MS))
  })

  it('refuses work of more points than are left, whole: what is left stays for smaller work', () => {
    const shared = budget(100, 10)
    shared.spend('a', 6)
    assert.throws(() => { shared.check('a', 5) }, RateLimitedError)
    shared.check('a', 4)
  })

  it('charges work done in full, past what is left, and admits nothing more until the window ends', () => {
    const shared = budget(100, 10)
    shared.check('a')
    shared.spend('a', 1_000)
    assert.throws(() => { shared.check('a') }, RateLimitedError)
    assert.throws(() => { shared.check('b') }, refused('all', WINDOW_MS))
    mock.timers.tick(WINDOW_MS)
    shared.check('a', 10)
    shared.check('b', 10)
  })

  it('tells how much work is left for an asker: the less of its share and of the node\'s budget, never below none', () => {
    const shared = budget(25, 10)
    assert.equal(shared.remaining('a'), 10)
    shared.spend('a', 4)
    assert.equal(shared.remaining('a'), 6)
    shared.spend('b', 10)
    shared.spend('c', 8)
    assert.equal(shared.remaining('a'), 3)
    assert.equal(shared.remaining('d'), 3)
    shared.spend('d', 50)
    assert.equal(shared.remaining('a'), 0)
  })
})
