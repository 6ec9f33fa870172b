/**
 * Costly requests cost their sender: a flood of DELETEs whose signatures do not verify, and of
 * whole-ring RANGE_DIGESTs, is paid from per-peer budgets counted in signature checks and records
 * scanned, not in requests, so four identities cannot make a node spend its CPU on them. Records
 * scanned for askers that are not ring neighbours are also counted for all of them together, so
 * that more identities do not buy more of the node's store reads.
 */
import { strict as assert } from 'node:assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { randomBytes } from '@noble/hashes/utils.js'
import { createIdentity } from '../../src/index.js'
import { signDeletion } from '../../src/mailbox/proofs.js'
import { signCarriedStore } from '../../src/transport/carried-store.js'
import { createRecord } from '../../src/chord/record.js'
import { keyPosition } from '../../src/chord/id.js'
import { frameStream } from '../../src/protocol/framing.js'
import { MessageType, Namespace, Request, Response } from '../../src/protocol/generated/chord.js'
import { ErrorCode, MAX_CARRIED_CHECKS_PER_WINDOW, MAX_MESSAGE_SIZE, MAX_SIGNATURE_CHECKS_PER_WINDOW, PROTOCOL } from '../../src/transport/constants.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { ringIdOf, ringIdToWire, wireBytes } from '../../src/transport/ring-id.js'
import { internalsOf } from '../../src/testing.js'
import { startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { ScanTally } from '../../src/chord/record.js'
import type { RequestLimits } from '../../src/transport/request-limits.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'

const ATTACKERS = 4
/** how long each flood lasts; shorter than one budget window (RATE_LIMIT_WINDOW, 10 s) */
const FLOOD_MS = 6_000
/** requests each attacker keeps in flight */
const IN_FLIGHT = 8
/**
 * records one peer may have the nodes scan per window: lower than the default
 * (MAX_SCANNED_RECORDS_PER_WINDOW) so that a flood from this one process overdraws it for sure
 */
const SCAN_BUDGET = 20_000

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

/**
 * Every attacker sends `request` to `victim` as fast as it answers, IN_FLIGHT at a time, for
 * FLOOD_MS; resolves to the answers by error code (OK for none). Bounded: it stops by itself.
 */
async function flood (attackers: ChordLibp2p[], victim: ChordNode, request: () => Uint8Array, onAnswer?: (response: Response, attacker: number) => void): Promise<Map<string, number>> {
  const answers = new Map<string, number>()
  const until = Date.now() + FLOOD_MS
  await Promise.all(attackers.map(async (attacker, index) => {
    await attacker.dial(victim.getMultiaddrs()[0])
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      const framed = frameStream(await attacker.dialProtocol(victim.peerId, PROTOCOL), MAX_MESSAGE_SIZE)
      while (Date.now() < until) {
        await framed.write(request())
        const response = Response.decode(await framed.read())
        const code = response.errorCode ?? 'OK'
        answers.set(code, (answers.get(code) ?? 0) + 1)
        onAnswer?.(response, index)
      }
    }))
  }))
  return answers
}

/** `peer`'s one answer to `request` from `victim` */
async function ask (peer: Pick<ChordLibp2p, 'dial' | 'dialProtocol'>, victim: ChordNode, request: Uint8Array): Promise<Response> {
  await peer.dial(victim.getMultiaddrs()[0])
  const framed = frameStream(await peer.dialProtocol(victim.peerId, PROTOCOL), MAX_MESSAGE_SIZE)
  await framed.write(request)
  return Response.decode(await framed.read())
}

/**
 * Records `node`'s store reads for each stranger's range scans of plain records (the scans it
 * reads with a limit), by PeerId, refused scans as well as answered ones
 */
function readForStrangers (node: ChordNode): Map<string, number> {
  const handler = internalsOf(node).core.handlerOf('records')
  assert.ok(handler != null)
  const read = new Map<string, number>()
  const count = (peer: string, tally?: ScanTally): void => {
    if (tally?.limit != null) {
      read.set(peer, (read.get(peer) ?? 0) + tally.read)
    }
  }
  const { onRangeDigest, onRangeSummaries } = handler
  handler.onRangeDigest = async (from, start, until, options) => {
    try {
      return await onRangeDigest(from, start, until, options)
    } finally {
      count(from.peer, options?.tally)
    }
  }
  handler.onRangeSummaries = async (from, start, until, options) => {
    try {
      return await onRangeSummaries(from, start, until, options)
    } finally {
      count(from.peer, options?.tally)
    }
  }
  return read
}

function sum (values: Iterable<number>): number {
  return [...values].reduce((total, value) => total + value, 0)
}

/** A RANGE_DIGEST or RANGE_SUMMARIES of the whole ring (an interval whose start is its end) */
function wholeRing (type: MessageType.RANGE_DIGEST | MessageType.RANGE_SUMMARIES): Uint8Array {
  const whole = wireBytes(new Uint8Array(32))
  return Request.encode({ type, rangeStart: whole, rangeEnd: whole })
}

describe('costly requests against a node', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []
  let attackers: ChordLibp2p[] = []

  before(async () => {
    // strangers' shares above the per-peer budget: it is that budget which refuses them here
    nodes = await startRing(3, { requestLimits: { scannedRecords: SCAN_BUDGET, scannedRecordsPerStranger: 2 * SCAN_BUDGET, strangersScannedRecords: 2 * ATTACKERS * SCAN_BUDGET } })
    attackers = await Promise.all(Array.from({ length: ATTACKERS }, async () => createChordLibp2p({ listen: [], peerExchange: false })))
  })

  after(async () => {
    await Promise.all(attackers.map(async attacker => attacker.stop()))
    await stopAll(nodes)
  })

  /**
   * Well-formed DELETEs of a new person's mailbox (of the id `fill` makes) whose signature is not
   * theirs: each costs a verification. Every one made has a new random signature
   */
  async function forgedDeletes (fill: number): Promise<() => Uint8Array> {
    const deletion = await signDeletion(await createIdentity(), [new Uint8Array(32).fill(fill)], Date.now())
    return () => Request.encode({
      type: MessageType.DELETE,
      namespace: Namespace.MAILBOX,
      key: wireBytes(deletion.key),
      ids: deletion.ids.map(wireBytes),
      owner: wireBytes(deletion.owner),
      signedAt: deletion.signedAt,
      signature: wireBytes(randomBytes(64))
    })
  }

  /** Honest gets from another node while `during` runs: their latencies, ms */
  async function honestGets (reader: ChordNode, during: Promise<unknown>): Promise<number[]> {
    const latencies: number[] = []
    const state = { done: false }
    void during.finally(() => { state.done = true })
    while (!state.done) {
      const started = performance.now()
      await reader.get('a key somebody reads')
      latencies.push(performance.now() - started)
    }
    return latencies
  }

  it('pays DELETEs with bad signatures from a budget of signature checks, per peer', async () => {
    const [victim, reader] = nodes
    await nodes[2].put('a key somebody reads', new TextEncoder().encode('value'))
    const baseline = await honestGets(reader, new Promise(resolve => setTimeout(resolve, 1_000)))

    const forged = await forgedDeletes(1)
    const flooding = flood(attackers, victim, forged)
    const during = await honestGets(reader, flooding)
    const answers = await flooding

    const checked = answers.get(ErrorCode.BAD_SIGNATURE) ?? 0
    console.log(`      ${checked} signature checks in ${FLOOD_MS} ms for ${ATTACKERS} identities, ${answers.get(ErrorCode.RATE_LIMITED) ?? 0} refused RATE_LIMITED; ` +
      `honest get p95 ${percentile(baseline, 0.95).toFixed(1)} ms before, ${percentile(during, 0.95).toFixed(1)} ms during (${during.length} gets)`)
    assert.ok(checked > 0, 'the attackers got their checks')
    assert.ok(checked <= ATTACKERS * MAX_SIGNATURE_CHECKS_PER_WINDOW, `${checked} checks, over ${ATTACKERS} × ${MAX_SIGNATURE_CHECKS_PER_WINDOW}`)
    assert.deepEqual([...answers.keys()].sort(), [ErrorCode.BAD_SIGNATURE, ErrorCode.RATE_LIMITED].sort())
  })

  it('pays the checks of records carried by FIND_OWNER from a budget of their own, which leaves the sender\'s other checks whole', async () => {
    const victim = nodes[2]
    const target = ringIdToWire(ringIdOf(victim.peerId))
    // a record signed by its origin as the protocol asks: the owner checks it and stores it
    const originKey = await generateKeyPair('Ed25519')
    const signedCarry = async (): Promise<Uint8Array> => {
      const nonce = randomBytes(16)
      const record = createRecord(target, randomBytes(10), Date.now() + 60_000)
      return Request.encode({
        type: MessageType.FIND_OWNER,
        target,
        nonce,
        hopsLeft: 3,
        namespace: Namespace.RECORDS,
        records: [{ key: target, value: wireBytes(record.value), expiresAt: record.expiresAt }],
        origin: peerIdFromPrivateKey(originKey).toMultihash().bytes,
        originSignature: await signCarriedStore(originKey, nonce, 'records', record)
      })
    }
    const carriedFrom = async (attacker: ChordLibp2p): Promise<boolean> => {
      const framed = frameStream(await attacker.dialProtocol(victim.peerId, PROTOCOL), MAX_MESSAGE_SIZE)
      await framed.write(await signedCarry())
      return Response.decode(await framed.read()).ownerStatement?.stored != null
    }
    await attackers[0].dial(victim.getMultiaddrs()[0])
    assert.ok(await carriedFrom(attackers[0]), 'a well-signed carried record is stored')

    // an origin with a key whose checks are dear (secp256k1), and a signature it never made
    const origin = peerIdFromPrivateKey(await generateKeyPair('secp256k1'))
    const carrying = (): Uint8Array => Request.encode({
      type: MessageType.FIND_OWNER,
      target,
      nonce: randomBytes(16),
      hopsLeft: 3,
      namespace: Namespace.RECORDS,
      records: [{ key: target, value: randomBytes(10), expiresAt: Date.now() + 60_000 }],
      origin: origin.toMultihash().bytes,
      originSignature: randomBytes(64)
    })
    let stored = 0
    const answers = await flood(attackers, victim, carrying, response => { stored += response.ownerStatement?.stored == null ? 0 : 1 })
    // the lookups are answered; the records, whose signatures do not verify, are not taken
    assert.ok((answers.get('OK') ?? 0) > ATTACKERS * MAX_CARRIED_CHECKS_PER_WINDOW, `only ${answers.get('OK') ?? 0} FIND_OWNERs answered`)
    assert.equal(stored, 0)

    // the flood spent each attacker's carried checks: even a well-signed record is no longer
    // checked, nor stored (its asker would STORE it itself)...
    for (const attacker of attackers) {
      assert.equal(await carriedFrom(attacker), false, 'a carried record checked past the budget')
    }
    // ...and none of its other signature checks: a DELETE is still checked (and found forged)
    const forged = await forgedDeletes(2)
    for (const attacker of attackers) {
      assert.equal((await ask(attacker, victim, forged())).errorCode, ErrorCode.BAD_SIGNATURE)
    }
  })

  it('pays whole-ring RANGE_DIGESTs from a budget of records scanned, per peer', async () => {
    const victim = nodes[1]
    for (let i = 0; i < 400; i++) {
      await nodes[0].put(`record ${i}`, new TextEncoder().encode(`value ${i}`))
    }
    let scanned = 0
    const answers = await flood(attackers, victim, () => wholeRing(MessageType.RANGE_DIGEST), response => { scanned += response.count ?? 0 })

    console.log(`      ${scanned} records scanned in ${FLOOD_MS} ms for ${ATTACKERS} identities (${answers.get('OK') ?? 0} digests answered, ${answers.get(ErrorCode.RATE_LIMITED) ?? 0} refused)`)
    assert.ok(scanned > 0)
    // a peer overdraws its budget by one scan at most: its scans run one at a time
    assert.ok(scanned <= ATTACKERS * (SCAN_BUDGET + 500), `${scanned} records scanned, over ${ATTACKERS} × ${SCAN_BUDGET} and one scan each`)
  })
})

/**
 * A ring of three with `limits` (in one window longer than a spec) whose second node, the victim,
 * holds `records` records ('scanned record i'), and `strangers` libp2p nodes outside it
 */
async function scannedRing (limits: Partial<RequestLimits>, records: number, strangers: number): Promise<{ nodes: ChordNode[], strangers: ChordLibp2p[] }> {
  // longer than a whole spec: every scan in it is counted in one window
  const nodes = await startRing(3, { requestLimits: { ...limits, windowMs: 120_000 } })
  const outside = await Promise.all(Array.from({ length: strangers }, async () => createChordLibp2p({ listen: [], peerExchange: false })))
  const keys = Array.from({ length: records }, (_, i) => `scanned record ${i}`)
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(keys.slice(i, i + 50).map(async key => nodes[0].put(key, new TextEncoder().encode(key))))
  }
  // a ring of three keeps every record on every node
  await waitFor(async () => (await internalsOf(nodes[1]).store.digest(0n, 0n, { now: Date.now() })).count === records, 'the victim to hold every record')
  return { nodes, strangers: outside }
}

describe('many identities scanning a node\'s store', function () {
  this.timeout(180_000)
  /** identities, each spending all it may of the node's store reads */
  const IDENTITIES = 10
  /** records the victim holds: a whole-ring scan reads them all */
  const RECORDS = 1_000
  /** per peer, as in the test above: the flood overdraws it for sure */
  const PER_PEER = 20_000
  /** what all strangers together may have the node read per window; two and a half peers' worth */
  const ALL_STRANGERS = 50_000
  /** what one stranger may have read of ALL_STRANGERS per window */
  const PER_STRANGER = 10_000
  let nodes: ChordNode[] = []
  let strangers: ChordLibp2p[] = []

  before(async () => {
    // one stranger more than the flood's: one that has read nothing yet
    ({ nodes, strangers } = await scannedRing({ scannedRecords: PER_PEER, strangersScannedRecords: ALL_STRANGERS, scannedRecordsPerStranger: PER_STRANGER }, RECORDS, IDENTITIES + 1))
  })

  after(async () => {
    await Promise.all(strangers.map(async stranger => stranger.stop()))
    await stopAll(nodes)
  })

  it('reads no more records per window for all strangers together than the node-wide budget, however many identities ask', async () => {
    const victim = nodes[1]
    const read = readForStrangers(victim)
    const answers = await flood(strangers.slice(0, IDENTITIES), victim, () => wholeRing(MessageType.RANGE_DIGEST))
    const scanned = sum(read.values())

    console.log(`      ${scanned} records scanned in ${FLOOD_MS} ms for ${IDENTITIES} identities (${read.size} of them read for), at most ${Math.max(...read.values())} for one ` +
      `(${answers.get('OK') ?? 0} digests answered, ${answers.get(ErrorCode.TOO_LARGE) ?? 0} refused TOO_LARGE, ${answers.get(ErrorCode.RATE_LIMITED) ?? 0} RATE_LIMITED)`)
    // a stranger's scan reads no more than is left of its share and of all strangers': neither is overdrawn
    assert.ok(scanned <= ALL_STRANGERS, `${scanned} records scanned for ${IDENTITIES} identities, over ${ALL_STRANGERS}`)
    for (const records of read.values()) {
      assert.ok(records <= PER_STRANGER, `${records} records scanned for one stranger, over its share of ${PER_STRANGER}`)
    }
    assert.equal(scanned, ALL_STRANGERS, `only ${scanned} records scanned: the strangers did not spend the node-wide budget`)
  })

  it('answers a ring neighbour\'s RANGE_SUMMARIES while strangers have spent the node-wide budget', async () => {
    const [neighbour, victim] = nodes
    // whatever is left of the node-wide budget, the strangers spend it
    await flood(strangers.slice(0, IDENTITIES), victim, () => wholeRing(MessageType.RANGE_DIGEST))

    // a stranger that read nothing yet is refused, and told when to ask again...
    const latecomer = await ask(strangers[IDENTITIES], victim, wholeRing(MessageType.RANGE_SUMMARIES))
    assert.equal(latecomer.errorCode, ErrorCode.RATE_LIMITED)
    assert.ok((latecomer.retryAfterMs ?? 0) > 0, 'no retry hint')
    // ...while a ring neighbour, comparing its copy, is answered in full
    const answer = await ask(neighbour.libp2p, victim, wholeRing(MessageType.RANGE_SUMMARIES))
    assert.equal(answer.status, Response.Status.OK)
    assert.equal(answer.summaries.length, RECORDS)
    // and the latecomer's get of one key is read as ever: only range scans count together
    const got = await ask(strangers[IDENTITIES], victim, Request.encode({ type: MessageType.FETCH, namespace: Namespace.RECORDS, key: Uint8Array.from(keyPosition('scanned record 7')) }))
    assert.equal(got.status, Response.Status.OK)
    assert.deepEqual(got.records.map(record => new TextDecoder().decode(record.value)), ['scanned record 7'])
  })
})

describe('a stranger\'s scan of a store larger than its share', function () {
  this.timeout(180_000)
  /** records the victim holds: more than a stranger's share */
  const RECORDS = 600
  /** what all strangers together may have the node read per window: two shares and a half */
  const ALL_STRANGERS = 1_000
  /** what one stranger may have read of ALL_STRANGERS per window */
  const PER_STRANGER = 400
  let nodes: ChordNode[] = []
  let strangers: ChordLibp2p[] = []

  before(async () => {
    ({ nodes, strangers } = await scannedRing({ strangersScannedRecords: ALL_STRANGERS, scannedRecordsPerStranger: PER_STRANGER }, RECORDS, 5))
  })

  after(async () => {
    await Promise.all(strangers.map(async stranger => stranger.stop()))
    await stopAll(nodes)
  })

  it('refuses a stranger\'s whole-ring RANGE_DIGEST TOO_LARGE having read no more than its share, answers a range that fits, and a ring neighbour\'s whole ring in full', async () => {
    const [neighbour, victim] = nodes
    const read = readForStrangers(victim)
    const [first, second, third, fourth, fifth] = strangers

    // an eighth of the ring holds some 75 records: within a stranger's share
    const eighth = { start: 0n, end: 1n << 253n }
    const expected = await internalsOf(victim).store.digest(eighth.start, eighth.end, { now: Date.now() })
    const small = await ask(fifth, victim, Request.encode({ type: MessageType.RANGE_DIGEST, rangeStart: ringIdToWire(eighth.start), rangeEnd: ringIdToWire(eighth.end) }))
    assert.equal(small.status, Response.Status.OK)
    assert.equal(small.count, expected.count)
    assert.equal(read.get(fifth.peerId.toString()), expected.count)

    // the whole ring is more than a share: refused, having read the share and no more
    const whole = await ask(first, victim, wholeRing(MessageType.RANGE_DIGEST))
    assert.equal(whole.errorCode, ErrorCode.TOO_LARGE)
    assert.equal(read.get(first.peerId.toString()), PER_STRANGER)
    // which spent it: the next scan waits for the window's end
    const again = await ask(first, victim, wholeRing(MessageType.RANGE_SUMMARIES))
    assert.equal(again.errorCode, ErrorCode.RATE_LIMITED)
    assert.ok((again.retryAfterMs ?? 0) > 0, 'no retry hint')

    // two more strangers spend what is left of all strangers' reads: the second only what the first left
    assert.equal((await ask(second, victim, wholeRing(MessageType.RANGE_DIGEST))).errorCode, ErrorCode.TOO_LARGE)
    assert.equal((await ask(third, victim, wholeRing(MessageType.RANGE_SUMMARIES))).errorCode, ErrorCode.TOO_LARGE)
    assert.equal((await ask(fourth, victim, wholeRing(MessageType.RANGE_DIGEST))).errorCode, ErrorCode.RATE_LIMITED)
    assert.equal(read.get(second.peerId.toString()), PER_STRANGER)
    assert.equal(read.get(third.peerId.toString()), ALL_STRANGERS - 2 * PER_STRANGER - expected.count)
    assert.equal(read.get(fourth.peerId.toString()), undefined)
    assert.equal(sum(read.values()), ALL_STRANGERS)

    // a ring neighbour, comparing its copy, is answered in full
    const answer = await ask(neighbour.libp2p, victim, wholeRing(MessageType.RANGE_DIGEST))
    assert.equal(answer.status, Response.Status.OK)
    assert.equal(answer.count, RECORDS)
  })
})
