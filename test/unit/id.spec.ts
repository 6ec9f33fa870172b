import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  RING_SIZE, addPowerOfTwo, distance, hashToRingId, inHalfOpenInterval, inOpenInterval,
  ringIdFromBytes, ringIdFromHex, ringIdToBytes, ringIdToHex
} from '../../src/chord/id.js'

const MAX = RING_SIZE - 1n

describe('ring identifiers', () => {
  it('round-trips through bytes and hex', () => {
    for (const id of [0n, 1n, 255n, 256n, MAX, hashToRingId(new Uint8Array([1, 2, 3]))]) {
      assert.equal(ringIdFromBytes(ringIdToBytes(id)), id)
      assert.equal(ringIdFromHex(ringIdToHex(id)), id)
      assert.equal(ringIdToHex(id).length, 64)
    }
  })

  it('reads and writes bytes big-endian, wherever in a buffer they sit', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(7), (bytes, offset) => {
      const buffer = new Uint8Array(offset + 32 + 3)
      buffer.set(bytes, offset)
      const id = ringIdFromBytes(buffer.subarray(offset, offset + 32))
      assert.equal(id, BigInt('0x' + Buffer.from(bytes).toString('hex')))
      assert.deepEqual(ringIdToBytes(id), bytes)
    }))
  })

  it('rejects ids of the wrong length', () => {
    assert.throws(() => ringIdFromBytes(new Uint8Array(31)), RangeError)
    assert.throws(() => ringIdFromHex('abc'), RangeError)
  })

  it('hashes with sha256 (known vector)', () => {
    // sha256('abc')
    assert.equal(ringIdToHex(hashToRingId(new TextEncoder().encode('abc'))),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('wraps finger starts and distances around zero', () => {
    assert.equal(addPowerOfTwo(MAX, 0), 0n)
    assert.equal(addPowerOfTwo(0n, 255), 1n << 255n)
    assert.equal(distance(MAX, 1n), 2n)
    assert.equal(distance(5n, 5n), 0n)
  })

  describe('open interval (a, b)', () => {
    it('excludes both ends without wrapping', () => {
      assert.equal(inOpenInterval(5n, 1n, 10n), true)
      assert.equal(inOpenInterval(1n, 1n, 10n), false)
      assert.equal(inOpenInterval(10n, 1n, 10n), false)
      assert.equal(inOpenInterval(11n, 1n, 10n), false)
    })
    it('wraps around zero', () => {
      assert.equal(inOpenInterval(0n, MAX - 1n, 2n), true)
      assert.equal(inOpenInterval(MAX, MAX - 1n, 2n), true)
      assert.equal(inOpenInterval(1n, MAX - 1n, 2n), true)
      assert.equal(inOpenInterval(3n, MAX - 1n, 2n), false)
    })
    it('with equal ends is the whole ring but that point', () => {
      assert.equal(inOpenInterval(7n, 7n, 7n), false)
      assert.equal(inOpenInterval(8n, 7n, 7n), true)
      assert.equal(inOpenInterval(0n, 7n, 7n), true)
    })
    it('between neighbours is empty', () => {
      assert.equal(inOpenInterval(8n, 7n, 8n), false)
      assert.equal(inOpenInterval(7n, 7n, 8n), false)
    })
  })

  describe('half-open interval (a, b]', () => {
    it('includes the upper end only', () => {
      assert.equal(inHalfOpenInterval(10n, 1n, 10n), true)
      assert.equal(inHalfOpenInterval(1n, 1n, 10n), false)
    })
    it('wraps around zero', () => {
      assert.equal(inHalfOpenInterval(0n, MAX, 0n), true)
      assert.equal(inHalfOpenInterval(MAX, MAX, 0n), false)
      assert.equal(inHalfOpenInterval(2n, MAX - 1n, 2n), true)
    })
    it('with equal ends is the whole ring', () => {
      assert.equal(inHalfOpenInterval(7n, 7n, 7n), true)
      assert.equal(inHalfOpenInterval(0n, 7n, 7n), true)
      assert.equal(inHalfOpenInterval(MAX, 7n, 7n), true)
    })
  })
})
