/**
 * Proximity finger choice and the round-trip estimates it reads: a finger names the nearest known
 * node of its interval, and plain Chord's node when nothing there is known.
 */
import assert from 'node:assert/strict'
import { chooseFinger } from '../../src/chord/finger-choice.js'
import { MAX_ROUND_TRIP_PEERS, ROUND_TRIP_SMOOTHING } from '../../src/chord/constants.js'
import { RoundTripTimes } from '../../src/chord/round-trip-times.js'
import type { NodeRef } from '../../src/chord/rpc.js'

const node = (id: bigint): NodeRef => ({ id, peer: `peer-${id}` })

describe('finger choice', () => {
  // finger interval [1000, 1000 + 256)
  const start = 1000n
  const span = 256n
  const successors = [node(1010n), node(1100n), node(1200n), node(1300n), node(1400n)]

  it('names the start\'s successor when no round trip is known, as plain Chord does', () => {
    assert.equal(chooseFinger(start, span, successors, () => undefined), successors[0])
  })

  it('names the node of the interval with the lowest round trip', () => {
    const roundTrips = new Map([['peer-1010', 140], ['peer-1100', 30], ['peer-1200', 60]])
    assert.equal(chooseFinger(start, span, successors, peer => roundTrips.get(peer)), successors[1])
  })

  it('never names a node past the interval, however near', () => {
    const roundTrips = new Map([['peer-1010', 140], ['peer-1300', 5], ['peer-1400', 1]])
    assert.equal(chooseFinger(start, span, successors, peer => roundTrips.get(peer)), successors[0])
  })

  it('names the start\'s successor when it lies past the interval (a sparse stretch of the ring)', () => {
    const sparse = [node(2000n), node(2100n)]
    assert.equal(chooseFinger(start, span, sparse, () => 1), sparse[0])
  })

  it('takes the interval across zero', () => {
    const top = (1n << 256n) - 10n
    const wrapped = [node(top), node(5n), node(300n)]
    const roundTrips = new Map([['peer-5', 10], [`peer-${top}`, 90], ['peer-300', 1]])
    assert.equal(chooseFinger(top - 1n, 64n, wrapped, peer => roundTrips.get(peer)), wrapped[1])
  })
})

describe('round-trip estimates', () => {
  it('starts from the first sample and moves by ROUND_TRIP_SMOOTHING of each later one', () => {
    const times = new RoundTripTimes()
    assert.equal(times.estimate('a'), undefined)
    times.observe('a', 100)
    assert.equal(times.estimate('a'), 100)
    times.observe('a', 200)
    assert.equal(times.estimate('a'), 100 + ROUND_TRIP_SMOOTHING * 100)
  })

  it('ignores samples that are not durations', () => {
    const times = new RoundTripTimes()
    times.observe('a', 50)
    times.observe('a', Number.NaN)
    times.observe('a', -1)
    times.observe('a', Infinity)
    assert.equal(times.estimate('a'), 50)
  })

  it('keeps at most MAX_ROUND_TRIP_PEERS peers, forgetting the least recently heard from', () => {
    const times = new RoundTripTimes()
    for (let i = 0; i <= MAX_ROUND_TRIP_PEERS; i++) {
      times.observe(`peer-${i}`, i)
    }
    assert.equal(times.estimate('peer-0'), undefined)
    assert.equal(times.estimate(`peer-${MAX_ROUND_TRIP_PEERS}`), MAX_ROUND_TRIP_PEERS)
  })
})
