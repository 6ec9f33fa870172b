import { strict as assert } from 'node:assert'
import { streamPair } from '@libp2p/utils'
import * as varint from 'uint8-varint'
import { FrameLengthError, frameStream } from '../../src/protocol/framing.js'

const MAX = 70_000

describe('frameStream', () => {
  it('reads frames whose lengths take one, two and three varint bytes, sent a byte at a time', async () => {
    const [outbound, inbound] = await streamPair()
    const sizes = [0, 1, 127, 128, 300, 16_383, 16_384, MAX]
    const starts: number[] = []
    const reader = frameStream(inbound, MAX, { onFrameStart: () => starts.push(starts.length) })

    for (const size of sizes) {
      // one frame ahead at most, as the protocols are request → response
      for (const byte of [...varint.encode(size), ...new Uint8Array(size).fill(size % 251)]) {
        outbound.send(Uint8Array.of(byte))
      }
      const frame = await reader.read()
      assert.equal(frame.byteLength, size)
      assert.ok(frame.subarray().every(byte => byte === size % 251))
    }
    assert.equal(starts.length, sizes.length)
  })

  it('refuses a length prefix longer than the varint of the largest frame, before the varint ends', async () => {
    const [outbound, inbound] = await streamPair()
    const reader = frameStream(inbound, MAX)

    // MAX takes 3 varint bytes: a fourth that still says "more" is refused
    outbound.send(Uint8Array.of(0x80, 0x80, 0x80, 0x80))

    await assert.rejects(reader.read(), FrameLengthError)
  })

  it('refuses a length over the largest frame', async () => {
    const [outbound, inbound] = await streamPair()
    const reader = frameStream(inbound, MAX)

    outbound.send(varint.encode(MAX + 1))

    await assert.rejects(reader.read(), /too long/)
  })
})
