/**
 * Generated and mutated frames of every message of the three protocols, sent to a running node
 * (property-based, with fast-check): valid messages of every type with fields of every size, then
 * bit flips, truncations, insertions and replaced bytes of their encodings, and bytes at random.
 * Whatever comes, the node must not crash, must leave no promise rejection unhandled, must refuse
 * a malformed frame with a typed error (never INTERNAL) or a reset, must change no state for a
 * frame it refuses, and must answer an honest request afterwards.
 *
 * The node and the fuzzer talk over libp2p's in-memory transport (Noise and Yamux as over TCP), so
 * that FUZZ_FRAMES frames per protocol fit in the suite's time. The seed is fixed, so a run is
 * reproducible; set FUZZ_SEED to explore others.
 */
import { strict as assert } from 'node:assert'
import { randomBytes } from 'node:crypto'
import { memory } from '@libp2p/memory'
import fc from 'fast-check'
import { encode as encodeVarint } from 'uint8-varint'
import { chord, chordMailbox, createIdentity } from '../../src/index.js'
import { MAILBOX_PROTOCOL, MAX_MAILBOX_EVENT_SIZE } from '../../src/mailbox/protocol-constants.js'
import { PX_PROTOCOL, MAX_PX_RESPONSE_SIZE } from '../../src/peer-exchange/constants.js'
import { frameStream } from '../../src/protocol/framing.js'
import { MessageType, Namespace, Request, Response } from '../../src/protocol/generated/chord.js'
import { MailboxEvent, MailboxRequest } from '../../src/protocol/generated/mailbox.js'
import { PxRequest, PxResponse } from '../../src/protocol/generated/px.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { internalsOf } from '../../src/testing.js'
import { MAX_MESSAGE_SIZE, PROTOCOL } from '../../src/transport/constants.js'
import { FAST_TIMERS } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordMailbox, ChordService } from '../../src/index.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { FramedStream } from '../../src/protocol/framing.js'
import type { Stream } from '@libp2p/interface'

/** Frames per protocol: every message type, generated and mutated (FUZZ_FRAMES in the environment changes it for a run) */
const FUZZ_FRAMES = Number(process.env.FUZZ_FRAMES ?? 10_000)
const SEED = Number(process.env.FUZZ_SEED ?? 20260101)
/** How long the fuzzer waits for an answer before it takes the stream for stuck and resets it */
const ANSWER_TIMEOUT = 2_000

type Node = ChordLibp2p<{ chord: ChordService, mailbox: ChordMailbox }>

/** Budgets high enough that the fuzzer's frames reach the handlers rather than its rate limits */
const UNLIMITED = { ringRequests: 1e9, readRequests: 1e9, scannedRecords: 1e9, storedRecords: 1e9, storedBytes: 1e9, writtenBytes: 1e9, deletedIds: 1e9, signatureChecks: 1e9, carriedChecks: 1e9 }

/* ---- arbitraries ---- */

const bytes = (maxLength: number): fc.Arbitrary<Uint8Array<ArrayBuffer>> => fc.uint8Array({ maxLength }) as fc.Arbitrary<Uint8Array<ArrayBuffer>>
const exactly = (length: number): fc.Arbitrary<Uint8Array<ArrayBuffer>> => fc.uint8Array({ minLength: length, maxLength: length }) as fc.Arbitrary<Uint8Array<ArrayBuffer>>
/** mostly the right size for the field, sometimes not */
const sized = (length: number): fc.Arbitrary<Uint8Array<ArrayBuffer>> => fc.oneof({ weight: 4, arbitrary: exactly(length) }, { weight: 1, arbitrary: bytes(length * 2) })
const time = fc.oneof(fc.constant(Date.now() + 60_000), fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER))

/** The members of a generated protobuf enum (whose namespace also holds its codec) */
function membersOf<E extends string> (values: Record<string, unknown>): E[] {
  return Object.values(values).filter((value): value is E => typeof value === 'string')
}

const peer = fc.record({ peerId: sized(38), ringId: sized(32), addrs: fc.array(bytes(24), { maxLength: 3 }) })
const record = fc.record({
  key: sized(32),
  value: bytes(600),
  expiresAt: time,
  writer: fc.option(sized(8), { nil: undefined }),
  stamp: fc.option(sized(8), { nil: undefined })
})

const deletion = fc.record({
  key: sized(32),
  ids: fc.array(sized(32), { maxLength: 3 }),
  owner: sized(65),
  signedAt: time,
  signature: sized(64)
})

const request: fc.Arbitrary<Request> = fc.record({
  type: fc.constantFrom(...membersOf<MessageType>(MessageType)),
  target: fc.option(sized(32), { nil: undefined }),
  neighbours: fc.option(fc.record({ predecessor: fc.option(peer, { nil: undefined }), successors: fc.array(peer, { maxLength: 3 }) }), { nil: undefined }),
  records: fc.array(record, { maxLength: 3 }),
  key: fc.option(sized(32), { nil: undefined }),
  after: fc.option(sized(32), { nil: undefined }),
  rangeStart: fc.option(sized(32), { nil: undefined }),
  rangeEnd: fc.option(sized(32), { nil: undefined }),
  namespace: fc.constantFrom(...membersOf<Namespace>(Namespace)),
  owner: fc.option(sized(65), { nil: undefined }),
  ids: fc.array(sized(32), { maxLength: 3 }),
  signedAt: fc.option(time, { nil: undefined }),
  signature: fc.option(sized(64), { nil: undefined }),
  neighboursDigest: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { nil: undefined }),
  deletions: fc.array(deletion, { maxLength: 2 })
})

const pxRequest: fc.Arbitrary<PxRequest> = fc.record({ numPeers: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.nat(), fc.constant(2 ** 32 - 1)) })

const mailboxRequest: fc.Arbitrary<MailboxRequest> = fc.record({
  type: fc.constantFrom(...membersOf<MailboxRequest.Type>(MailboxRequest.Type)),
  owner: fc.option(sized(65), { nil: undefined }),
  signature: fc.option(sized(64), { nil: undefined })
})

/**
 * The encoding of `message`, or of something near it: unchanged, a bit flipped, cut short, bytes
 * inserted, a byte replaced, garbage appended; or bytes at random
 */
function framesOf<T> (message: fc.Arbitrary<T>, encode: (m: T) => Uint8Array): fc.Arbitrary<Uint8Array> {
  const mutated = fc.tuple(message.map(encode), fc.nat(), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 }))
    .chain(([encoded, at, bit, extra]) => fc.constantFrom<Uint8Array>(
      encoded,
      flip(encoded, at, bit),
      encoded.subarray(0, encoded.byteLength === 0 ? 0 : at % encoded.byteLength),
      Uint8Array.from([...encoded.subarray(0, at % (encoded.byteLength + 1)), ...extra, ...encoded.subarray(at % (encoded.byteLength + 1))]),
      replace(encoded, at, extra[0]),
      Uint8Array.from([...encoded, ...extra])
    ))
  return fc.oneof({ weight: 5, arbitrary: mutated }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 128 }) })
}

function flip (bytes: Uint8Array, at: number, bit: number): Uint8Array {
  if (bytes.byteLength === 0) {
    return bytes
  }
  const out = Uint8Array.from(bytes)
  out[at % out.byteLength] ^= 1 << (bit % 8)
  return out
}

function replace (bytes: Uint8Array, at: number, value: number): Uint8Array {
  if (bytes.byteLength === 0) {
    return bytes
  }
  const out = Uint8Array.from(bytes)
  out[at % out.byteLength] = value
  return out
}

/* ---- the fuzzing ---- */

/** The answer to one frame: a response (OK or an error code), or the stream's end */
type Outcome = 'OK' | 'reset' | string

describe('fuzzed frames of every protocol against a running node', function () {
  this.timeout(600_000)
  let victim: Node
  let neighbour: Node
  let fuzzer: ChordLibp2p
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }

  before(async () => {
    process.on('unhandledRejection', onUnhandled)
    const name = `fuzz-${randomBytes(4).toString('hex')}`
    victim = await createChordLibp2p({ listen: [`/memory/${name}-victim`], transports: [memory()], peerExchange: { requestsPerMinute: 1e9 } }, {
      chord: chord({ timers: FAST_TIMERS, requestLimits: UNLIMITED, joinTimeoutMs: 10_000 }),
      mailbox: chordMailbox({ acceptance: { perMailbox: 1e9, perSender: 1e9 } })
    })
    await victim.services.chord.joined()
    neighbour = await createChordLibp2p({ listen: [`/memory/${name}-neighbour`], transports: [memory()] }, {
      chord: chord({ bootstrap: [victim.getMultiaddrs()[0].toString()], timers: FAST_TIMERS, joinTimeoutMs: 10_000 }),
      mailbox: chordMailbox()
    })
    await neighbour.services.chord.joined()
    fuzzer = await createChordLibp2p({ listen: [], transports: [memory()], peerExchange: false })
    await fuzzer.dial(victim.getMultiaddrs()[0])
    console.log(`      fuzz seed ${SEED}`)
  })

  after(async () => {
    process.off('unhandledRejection', onUnhandled)
    await Promise.allSettled([fuzzer?.stop(), neighbour?.stop(), victim?.stop()])
  })

  /** What a frame may change: the stores, and the ring's view */
  function state (): string {
    const internals = internalsOf(victim)
    const { table } = internals.ring
    return JSON.stringify({
      records: internals.store.stats(),
      owned: internals.ownedStore.stats(),
      mailbox: internals.mailboxStore.stats(),
      predecessor: table.predecessor?.peer,
      successors: table.getSuccessors().map(node => node.peer)
    })
  }

  async function open (protocol: string, maxMessage: number): Promise<{ stream: Stream, framed: FramedStream }> {
    const stream = await fuzzer.dialProtocol(victim.peerId, protocol)
    return { stream, framed: frameStream(stream, maxMessage) }
  }

  /** One frame written, one answer read (decoded with `decode`); a stream that fails is reset */
  async function exchange (framed: FramedStream, stream: Stream, frame: Uint8Array, decode: (bytes: Uint8Array) => Outcome): Promise<Outcome> {
    try {
      stream.send(Uint8Array.from([...encodeVarint(frame.byteLength), ...frame]))
      return decode((await framed.read({ signal: AbortSignal.timeout(ANSWER_TIMEOUT) })).subarray())
    } catch {
      stream.abort(new Error('the fuzzer is done with this stream'))
      return 'reset'
    }
  }

  /** After the fuzz: no unhandled rejection, and the node answers an honest peer */
  async function stillServes (outcomes: Map<Outcome, number>, frames: number): Promise<void> {
    console.log(`      ${frames} frames: ${JSON.stringify(Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])))}`)
    assert.equal(frames, FUZZ_FRAMES)
    assert.deepEqual(unhandled, [])
    assert.equal(victim.status, 'started')
    await waitFor(async () => neighbour.services.chord.put('honest key', new TextEncoder().encode('honest value')).then(() => true, () => false), 'an honest put through the fuzzed node', 30_000)
    const values = await neighbour.services.chord.get('honest key')
    assert.ok(values.some(v => new TextDecoder().decode(v) === 'honest value'))
    const bob = await createIdentity()
    await neighbour.services.mailbox.send(bob, bob.address, new TextEncoder().encode('still here'))
  }

  function count (outcomes: Map<Outcome, number>, outcome: Outcome): void {
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
  }

  it(`takes ${FUZZ_FRAMES} fuzzed /chord/1.0.0 requests without crashing or changing state for any it refuses`, async () => {
    const outcomes = new Map<Outcome, number>()
    let frames = 0
    let current = await open(PROTOCOL, MAX_MESSAGE_SIZE)
    await fc.assert(fc.asyncProperty(framesOf(request, m => Request.encode(m)), async frame => {
      frames++
      if (current.stream.status !== 'open') {
        current = await open(PROTOCOL, MAX_MESSAGE_SIZE)
      }
      const before = state()
      const outcome = await exchange(current.framed, current.stream, frame, bytes => {
        const response = Response.decode(bytes)
        return response.status === Response.Status.ERROR ? response.errorCode ?? 'ERROR' : 'OK'
      })
      count(outcomes, outcome)
      // a malformed field is a typed refusal, never a failure of the node
      assert.notEqual(outcome, 'INTERNAL', 'the node failed on a frame instead of refusing it')
      if (outcome !== 'OK') {
        assert.equal(state(), before, `a refused frame (${outcome}) changed the node's state`)
      }
    }), { numRuns: FUZZ_FRAMES, seed: SEED, endOnFailure: true })
    await stillServes(outcomes, frames)
  })

  it(`takes ${FUZZ_FRAMES} fuzzed /chord/px/1.0.0 requests without crashing or changing state`, async () => {
    const outcomes = new Map<Outcome, number>()
    let frames = 0
    await fc.assert(fc.asyncProperty(framesOf(pxRequest, m => PxRequest.encode(m)), async frame => {
      frames++
      const before = state()
      const { stream, framed } = await open(PX_PROTOCOL, MAX_PX_RESPONSE_SIZE)
      const outcome = await exchange(framed, stream, frame, bytes => PxResponse.decode(bytes).status)
      count(outcomes, outcome)
      await stream.close().catch(() => { stream.abort(new Error('done')) })
      assert.equal(state(), before, 'a peer-exchange request changed the node\'s state')
    }), { numRuns: FUZZ_FRAMES, seed: SEED, endOnFailure: true })
    await stillServes(outcomes, frames)
  })

  it(`takes ${FUZZ_FRAMES} fuzzed /chord/mailbox/1.0.0 requests without crashing or changing state`, async () => {
    const outcomes = new Map<Outcome, number>()
    const owner = await createIdentity()
    const subscribe = MailboxRequest.encode({ type: MailboxRequest.Type.SUBSCRIBE, owner: owner.publicKey.bytes as Uint8Array<ArrayBuffer> })
    let frames = 0
    const decodeEvent = (bytes: Uint8Array): Outcome => {
      const event = MailboxEvent.decode(bytes)
      return event.type === MailboxEvent.Type.ERROR ? event.errorCode ?? 'ERROR' : event.type
    }
    // half the frames open a stream, the other half follow a valid SUBSCRIBE (in place of PROVE)
    await fc.assert(fc.asyncProperty(framesOf(mailboxRequest, m => MailboxRequest.encode(m)), fc.boolean(), async (frame, second) => {
      frames++
      const before = state()
      const { stream, framed } = await open(MAILBOX_PROTOCOL, MAX_MAILBOX_EVENT_SIZE)
      let outcome: Outcome = 'reset'
      if (second) {
        const challenge = await exchange(framed, stream, subscribe, decodeEvent)
        assert.equal(challenge, 'CHALLENGE')
      }
      outcome = await exchange(framed, stream, frame, decodeEvent)
      count(outcomes, `${second ? 'after SUBSCRIBE ' : ''}${outcome}`)
      await stream.close().catch(() => { stream.abort(new Error('done')) })
      assert.equal(state(), before, 'a mailbox request changed the node\'s state')
    }), { numRuns: FUZZ_FRAMES, seed: SEED, endOnFailure: true })
    await stillServes(outcomes, frames)
  })
})
