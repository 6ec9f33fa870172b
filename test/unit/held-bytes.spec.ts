/**
 * HeldBytes: what a node holds for peers until they take it, under a cap per peer and one for
 * all. A hold that would pass either is refused whole; a release gives back exactly what its
 * hold took, once, and a peer holding nothing is forgotten.
 */
import assert from 'node:assert/strict'
import { HeldBytes } from '../../src/limits/held-bytes.js'
import { MAX_SMALL_ANSWER_BYTES, MAX_TOTAL_PENDING_ANSWER_BYTES, SMALL_ANSWER_RESERVE_BYTES } from '../../src/transport/constants.js'

describe('HeldBytes', () => {
  it('holds up to the per-peer cap for one peer, and refuses a hold that would pass it', () => {
    const held = new HeldBytes({ perPeer: 100, total: 1_000 })
    assert.ok(held.hold('a', 60) != null)
    assert.equal(held.hold('a', 41), undefined, 'a hold past the per-peer cap')
    assert.ok(held.hold('a', 40) != null, 'a hold that reaches the cap exactly')
    assert.equal(held.of('a'), 100)
    assert.ok(held.hold('b', 100) != null, 'another peer has a cap of its own')
  })

  it('refuses every peer a hold past the total, each under its own cap', () => {
    const held = new HeldBytes({ perPeer: 100, total: 150 })
    assert.ok(held.hold('a', 100) != null)
    assert.equal(held.hold('b', 60), undefined, 'a hold past the total, within the peer\'s cap')
    assert.ok(held.hold('b', 50) != null)
    assert.equal(held.total, 150)
  })

  it('holds a small hold past the total within its reserve, never past the reserve or the peer\'s cap', () => {
    const held = new HeldBytes({ perPeer: 100, total: 150, smallReserve: { upTo: 10, extra: 15 } })
    assert.ok(held.hold('a', 100) != null)
    assert.ok(held.hold('b', 50) != null)
    assert.equal(held.hold('c', 11), undefined, 'past the total and not small')
    assert.ok(held.hold('c', 10) != null, 'small: from the reserve')
    assert.equal(held.hold('d', 6), undefined, 'past the reserve too')
    assert.ok(held.hold('d', 5) != null)
    assert.equal(held.total, 165)
    assert.equal(held.hold('a', 1), undefined, 'never past a peer\'s own cap')
  })

  it('as the request server holds answers: small ones (MAX_SMALL_ANSWER_BYTES) take SMALL_ANSWER_RESERVE_BYTES past MAX_TOTAL_PENDING_ANSWER_BYTES, and no more', () => {
    const held = new HeldBytes({ perPeer: Infinity, total: MAX_TOTAL_PENDING_ANSWER_BYTES, smallReserve: { upTo: MAX_SMALL_ANSWER_BYTES, extra: SMALL_ANSWER_RESERVE_BYTES } })
    assert.ok(held.hold('pages', MAX_TOTAL_PENDING_ANSWER_BYTES) != null)
    assert.equal(held.hold('large', MAX_SMALL_ANSWER_BYTES + 1), undefined)
    for (let i = 0; i < SMALL_ANSWER_RESERVE_BYTES / MAX_SMALL_ANSWER_BYTES; i++) {
      assert.ok(held.hold(`stranger-${i}`, MAX_SMALL_ANSWER_BYTES) != null)
    }
    assert.equal(held.hold('one more', 1), undefined, 'the reserve is spent')
    assert.equal(held.total, MAX_TOTAL_PENDING_ANSWER_BYTES + SMALL_ANSWER_RESERVE_BYTES)
  })

  it('gives back what a hold took once, however often its release is called, and forgets a peer holding nothing', () => {
    const held = new HeldBytes({ perPeer: 100, total: 150 })
    const first = held.hold('a', 30)
    const second = held.hold('a', 20)
    assert.ok(first != null && second != null)
    first()
    first()
    assert.equal(held.of('a'), 20)
    assert.equal(held.total, 20)
    second()
    assert.equal(held.total, 0)
    assert.equal(held.peers, 0)
    assert.ok(held.hold('a', 100) != null, 'the room came back whole')
  })
})
