import assert from 'node:assert/strict'
import { InvalidOptionsError } from '../../src/errors.js'
import { DEFAULT_TTL, MAX_TTL } from '../../src/chord/constants.js'
import { minute } from '../../src/units.js'
import { capExpiresAt, expiresAtFor } from '../../src/chord/ttl.js'

const NOW = 1_700_000_000_000

describe('record lifetimes', () => {
  it('uses DEFAULT_TTL when the writer asks for none', () => {
    assert.equal(expiresAtFor(undefined, NOW), NOW + DEFAULT_TTL)
  })

  it('keeps a requested TTL up to MAX_TTL and cuts a longer one', () => {
    assert.equal(expiresAtFor(5 * minute, NOW), NOW + 5 * minute)
    assert.equal(expiresAtFor(MAX_TTL, NOW), NOW + MAX_TTL)
    assert.equal(expiresAtFor(MAX_TTL + 1, NOW), NOW + MAX_TTL)
  })

  it('rejects a TTL that is not a positive integer', () => {
    for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => expiresAtFor(ttl, NOW), InvalidOptionsError)
    }
  })

  it('cuts what a remote peer asks to at most MAX_TTL from now', () => {
    assert.equal(capExpiresAt(NOW + MAX_TTL + 1, NOW), NOW + MAX_TTL)
    assert.equal(capExpiresAt(NOW + minute, NOW), NOW + minute)
  })

  it('follows a node policy', () => {
    const policy = { defaultTtl: minute, maxTtl: 2 * minute }
    assert.equal(expiresAtFor(undefined, NOW, policy), NOW + minute)
    assert.equal(expiresAtFor(3 * minute, NOW, policy), NOW + 2 * minute)
  })
})
