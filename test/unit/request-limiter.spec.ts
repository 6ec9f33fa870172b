import { strict as assert } from 'node:assert'
import { mock } from 'node:test'
import { RateLimitedError } from '../../src/errors.js'
import { DEFAULT_REQUEST_LIMITS, RequestLimiter } from '../../src/transport/request-limits.js'
import { MessageType } from '../../src/protocol/generated/chord.js'
import {
  MAX_CARRIED_CHECKS_PER_WINDOW,
  MAX_DELETED_IDS_PER_WINDOW,
  MAX_IDS_PER_DELETE,
  MAX_RATE_LIMITED_PEERS,
  MAX_READ_REQUESTS_PER_WINDOW,
  MAX_RECORDS_PER_MESSAGE,
  MAX_RING_REQUESTS_PER_WINDOW,
  MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW,
  MAX_SCANNED_RECORDS_PER_WINDOW,
  MAX_SIGNATURE_CHECKS_PER_WINDOW,
  MAX_STORED_BYTES_PER_WINDOW,
  MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW,
  MAX_STORED_RECORDS_PER_WINDOW,
  MAX_SUMMARIES_PER_MESSAGE,
  MAX_WRITTEN_BYTES_PER_WINDOW,
  RATE_LIMIT_WINDOW,
  SUBNET_BUDGET_PEERS,
  WRITE_BATCH_COST
} from '../../src/transport/constants.js'
import { MAX_INBOUND_CONNECTIONS_PER_IP } from '../../src/node/constants.js'
import { MAX_VALUE_SIZE } from '../../src/storage/constants.js'
import type { ValidRequest } from '../../src/transport/validate.js'
import type { ChordRecord } from '../../src/chord/record.js'

const ping: ValidRequest = { type: MessageType.PING }
const fetch: ValidRequest = { type: MessageType.FETCH, namespace: 'records', key: new Uint8Array(32) }
const digest: ValidRequest = { type: MessageType.RANGE_DIGEST, namespace: 'records', start: 0n, end: 0n }
const summaries: ValidRequest = { type: MessageType.RANGE_SUMMARIES, namespace: 'mailbox', start: 0n, end: 0n }

/** A STORE of `count` records whose values are `valueBytes` long (one shared buffer: only lengths count) */
function store (count: number, valueBytes = 1): ValidRequest {
  const value = new Uint8Array(valueBytes)
  const record: ChordRecord = { key: new Uint8Array(32), value, id: new Uint8Array(32), expiresAt: 0 }
  return { type: MessageType.STORE, namespace: 'records', records: Array.from({ length: count }, () => record), deletions: [] }
}

function del (ids: number): ValidRequest {
  return {
    type: MessageType.DELETE,
    namespace: 'mailbox',
    deletion: { key: new Uint8Array(32), ids: Array.from({ length: ids }, () => new Uint8Array(32)), owner: new Uint8Array(65), signedAt: 0, signature: new Uint8Array(64) }
  }
}

/** Admits `request` `times` times, then asserts the next one is refused */
function exhaust (limiter: RequestLimiter, peer: string, request: ValidRequest, times: number): void {
  for (let i = 0; i < times; i++) {
    limiter.admit(peer, request)
  }
  assert.throws(() => { limiter.admit(peer, request) }, RateLimitedError)
}

describe('RequestLimiter', () => {
  // the limiter counts with Date and setTimeout: a mocked clock crosses its windows at once
  beforeEach(() => { mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 }) })
  afterEach(() => { mock.timers.reset() })

  describe('defaults', () => {
    it('uses the named constants', () => {
      assert.deepEqual(new RequestLimiter().limits, DEFAULT_REQUEST_LIMITS)
      assert.deepEqual(DEFAULT_REQUEST_LIMITS, {
        windowMs: RATE_LIMIT_WINDOW,
        ringRequests: MAX_RING_REQUESTS_PER_WINDOW,
        readRequests: MAX_READ_REQUESTS_PER_WINDOW,
        scannedRecords: MAX_SCANNED_RECORDS_PER_WINDOW,
        storedRecords: MAX_STORED_RECORDS_PER_WINDOW,
        storedBytes: MAX_STORED_BYTES_PER_WINDOW,
        writtenBytes: MAX_WRITTEN_BYTES_PER_WINDOW,
        deletedIds: MAX_DELETED_IDS_PER_WINDOW,
        signatureChecks: MAX_SIGNATURE_CHECKS_PER_WINDOW,
        carriedChecks: MAX_CARRIED_CHECKS_PER_WINDOW,
        strangersScannedRecords: MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW,
        scannedRecordsPerStranger: MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW,
        maxPeers: MAX_RATE_LIMITED_PEERS,
        peersPerSubnet: SUBNET_BUDGET_PEERS
      })
    })

    it(`refuses the strangers of one subnet together past SUBNET_BUDGET_PEERS (${SUBNET_BUDGET_PEERS}) peers' budgets, each within its own, and charges nothing then`, () => {
      const subnet = '203.0.113.0/24'
      const limiter = new RequestLimiter({}, { isNeighbour: peer => peer === 'neighbour' })
      for (let peer = 0; peer < SUBNET_BUDGET_PEERS; peer++) {
        for (let i = 0; i < MAX_SIGNATURE_CHECKS_PER_WINDOW; i++) {
          limiter.admit(`sybil ${peer}`, del(1), [], undefined, subnet)
        }
      }
      assert.throws(() => { limiter.admit('one more sybil', del(1), [], undefined, subnet) }, /the peers of 203\.0\.113\.0\/24 together: signatureChecks: 1 asked, 0 of 2048 left/)
      // refused, it was charged nothing: its own budget is whole, from another subnet or over loopback
      exhaust(limiter, 'one more sybil', del(1), MAX_SIGNATURE_CHECKS_PER_WINDOW)
      // the subnet's other budgets, its ring neighbour, and other subnets go on
      limiter.admit('one more sybil', ping, [], undefined, subnet)
      limiter.admit('neighbour', del(1), [], undefined, subnet)
      limiter.admit('elsewhere', del(1), [], undefined, '198.51.100.0/24')
    })

    it('charges a subnet the checks of records its strangers carry, and a subscriber\'s proof and backlog, as it charges their requests', () => {
      const subnet = '203.0.113.0/24'
      const limiter = new RequestLimiter({ carriedChecks: 2, signatureChecks: 2, scannedRecords: 10, peersPerSubnet: 2 }, { isNeighbour: peer => peer === 'neighbour' })
      for (const peer of ['a', 'a', 'b', 'b']) {
        limiter.admitCarriedCheck(peer, subnet)
        limiter.admitSignatureCheck(peer, subnet)
      }
      assert.throws(() => { limiter.admitCarriedCheck('c', subnet) }, /the peers of 203\.0\.113\.0\/24 together: carriedChecks/)
      assert.throws(() => { limiter.admitSignatureCheck('c', subnet) }, /the peers of 203\.0\.113\.0\/24 together: signatureChecks/)
      limiter.admitScan('a', subnet)
      limiter.chargeScannedRecords('a', 20, subnet)
      assert.throws(() => { limiter.admitScan('c', subnet) }, RateLimitedError)
      // a ring neighbour of the subnet, and the same peers from elsewhere, are charged apart
      limiter.admitCarriedCheck('neighbour', subnet)
      limiter.admitScan('neighbour', subnet)
      limiter.admitCarriedCheck('c', '198.51.100.0/24')
    })

    it('charges a subnet what its strangers\' work turned out to cost, and refuses what needs a budget it spent', () => {
      const limiter = new RequestLimiter({ scannedRecords: 10, peersPerSubnet: 2 })
      const subnet = '2001:db8:1::/48'
      limiter.admit('a', fetch, [], undefined, subnet)
      limiter.charge('a', fetch, { records: [] }, { scannedRecords: 10 }, undefined, subnet)
      limiter.admit('b', fetch, [], undefined, subnet)
      limiter.charge('b', fetch, { records: [] }, { scannedRecords: 10 }, undefined, subnet)
      assert.throws(() => { limiter.admit('c', fetch, [], undefined, subnet) }, RateLimitedError)
      limiter.admit('c', fetch)
    })

    it('refuses carried records\' checks past MAX_CARRIED_CHECKS_PER_WINDOW, and leaves the peer\'s other signature checks whole', () => {
      const limiter = new RequestLimiter()
      for (let i = 0; i < MAX_CARRIED_CHECKS_PER_WINDOW; i++) {
        limiter.admitCarriedCheck('relay')
      }
      assert.throws(() => { limiter.admitCarriedCheck('relay') }, RateLimitedError)
      exhaust(limiter, 'relay', del(1), MAX_SIGNATURE_CHECKS_PER_WINDOW)
    })

    it('refuses DELETEs past MAX_SIGNATURE_CHECKS_PER_WINDOW, one check each however few ids they name', () => {
      assert.ok(MAX_SIGNATURE_CHECKS_PER_WINDOW < MAX_DELETED_IDS_PER_WINDOW)
      exhaust(new RequestLimiter(), 'a', del(1), MAX_SIGNATURE_CHECKS_PER_WINDOW)
    })

    it('refuses reads once MAX_SCANNED_RECORDS_PER_WINDOW records were read for a peer, charged after each answer', () => {
      // a ring neighbour: its reads are counted by its own budgets only
      const limiter = new RequestLimiter({}, { isNeighbour: () => true })
      limiter.admit('a', digest)
      limiter.charge('a', digest, { count: MAX_SCANNED_RECORDS_PER_WINDOW - 1 })
      limiter.admit('a', digest)
      // the answer that spends the budget may overdraw it: the work was done
      limiter.charge('a', digest, { count: 10 })
      assert.throws(() => { limiter.admit('a', digest) }, RateLimitedError)
      assert.throws(() => { limiter.admit('a', fetch) }, RateLimitedError)
      // other budgets are untouched
      limiter.admit('a', ping)
    })

    it('refuses STOREs once MAX_WRITTEN_BYTES_PER_WINDOW were written for a peer, each batch costing WRITE_BATCH_COST more', () => {
      const limiter = new RequestLimiter()
      const batch = store(1)
      const writes = MAX_WRITTEN_BYTES_PER_WINDOW / (1024 + WRITE_BATCH_COST)
      for (let i = 0; i < writes; i++) {
        limiter.admit('a', batch)
        limiter.charge('a', batch, {}, { writtenBytes: 1024 })
      }
      assert.throws(() => { limiter.admit('a', batch) }, RateLimitedError)
      // a STORE that wrote nothing (every record there already, or refused) costs the disk nothing
      const other = new RequestLimiter({ writtenBytes: 1 })
      for (let i = 0; i < 10; i++) {
        other.admit('b', batch)
        other.charge('b', batch, {}, { writtenBytes: 0 })
      }
    })

    it('tells a refused peer when its budget refills', () => {
      const limiter = new RequestLimiter({ ringRequests: 1 })
      limiter.admit('a', ping)
      mock.timers.tick(4_000)
      assert.throws(() => { limiter.admit('a', ping) }, (err: RateLimitedError) => err.retryAfterMs === RATE_LIMIT_WINDOW - 4_000)
    })

    it('refuses ring requests past MAX_RING_REQUESTS_PER_WINDOW', () => {
      exhaust(new RequestLimiter(), 'a', ping, MAX_RING_REQUESTS_PER_WINDOW)
    })

    it('refuses reads past MAX_READ_REQUESTS_PER_WINDOW', () => {
      exhaust(new RequestLimiter(), 'a', fetch, MAX_READ_REQUESTS_PER_WINDOW)
    })

    it('refuses stored records past MAX_STORED_RECORDS_PER_WINDOW', () => {
      exhaust(new RequestLimiter(), 'a', store(MAX_RECORDS_PER_MESSAGE), MAX_STORED_RECORDS_PER_WINDOW / MAX_RECORDS_PER_MESSAGE)
    })

    it('refuses stored bytes past MAX_STORED_BYTES_PER_WINDOW', () => {
      // 16 values of 64 KiB: 1 MiB a STORE, few records, so only the byte budget runs out
      const batch = store(16, MAX_VALUE_SIZE)
      exhaust(new RequestLimiter(), 'a', batch, MAX_STORED_BYTES_PER_WINDOW / (16 * MAX_VALUE_SIZE))
    })

    it('refuses deleted ids past MAX_DELETED_IDS_PER_WINDOW', () => {
      exhaust(new RequestLimiter(), 'a', del(MAX_IDS_PER_DELETE), MAX_DELETED_IDS_PER_WINDOW / MAX_IDS_PER_DELETE)
    })

    it('refills after RATE_LIMIT_WINDOW, not before', () => {
      const limiter = new RequestLimiter()
      exhaust(limiter, 'a', ping, MAX_RING_REQUESTS_PER_WINDOW)
      mock.timers.tick(RATE_LIMIT_WINDOW - 1)
      assert.throws(() => { limiter.admit('a', ping) }, RateLimitedError)
      mock.timers.tick(1)
      exhaust(limiter, 'a', ping, MAX_RING_REQUESTS_PER_WINDOW)
    })

    it('remembers at most MAX_RATE_LIMITED_PEERS peers: past it, the one remembered longest with budget left is forgotten, never first a peer that spent its budget', () => {
      const limiter = new RequestLimiter()
      const batch = del(MAX_IDS_PER_DELETE)
      for (let i = 0; i < MAX_RATE_LIMITED_PEERS; i++) {
        limiter.admit(`peer-${i}`, batch)
      }
      assert.equal(limiter.trackedPeers, MAX_RATE_LIMITED_PEERS)
      limiter.admit('peer-0', batch)
      assert.throws(() => { limiter.admit('peer-0', batch) }, RateLimitedError)

      limiter.admit('newcomer', batch)

      assert.equal(limiter.trackedPeers, MAX_RATE_LIMITED_PEERS)
      // peer-0's spent budget is still remembered, and the others' windows are intact but peer-1's:
      // forgotten, its window starts again
      assert.throws(() => { limiter.admit('peer-0', batch) }, RateLimitedError)
      assert.throws(() => { limiter.admit('peer-2', del(MAX_DELETED_IDS_PER_WINDOW - MAX_IDS_PER_DELETE + 1)) }, RateLimitedError)
      exhaust(limiter, 'peer-1', batch, MAX_DELETED_IDS_PER_WINDOW / MAX_IDS_PER_DELETE)
    })

    it('leaves a busy ring neighbour far below the ring budget: maintenance plus hundreds of lookups a second', () => {
      // stabilize (GET_NEIGHBOURS + NOTIFY) and fix fingers once a second, a predecessor check every
      // 2 s, and the first hop of 500 lookups a second (about what one core can start)
      const perSecond = 2 + 1 + 0.5 + 500
      assert.ok(perSecond * RATE_LIMIT_WINDOW / 1000 * 3 < MAX_RING_REQUESTS_PER_WINDOW)
    })

    it('refuses a stranger\'s range scans once MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW records were read for it, with its own budget far from spent', () => {
      const limiter = new RequestLimiter()
      assert.ok(MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW < MAX_SCANNED_RECORDS_PER_WINDOW)
      limiter.admit('stranger', digest)
      limiter.charge('stranger', digest, { count: MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW })
      mock.timers.tick(1_000)
      assert.throws(() => { limiter.admit('stranger', digest) }, (err: RateLimitedError) => /per asker/.test(err.message) && err.retryAfterMs === RATE_LIMIT_WINDOW - 1_000)
      limiter.admit('stranger', fetch)
      limiter.admit('another stranger', digest)
    })

    it('refuses every stranger\'s range scans once MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW records were read for all of them, and never a ring neighbour\'s', () => {
      const limiter = new RequestLimiter({}, { isNeighbour: peer => peer === 'neighbour' })
      const identities = MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW / MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW
      for (let i = 0; i < identities; i++) {
        limiter.admit(`stranger-${i}`, digest)
        limiter.charge(`stranger-${i}`, digest, { count: MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW })
      }
      assert.throws(() => { limiter.admit('fresh', digest) }, (err: RateLimitedError) => !/per asker/.test(err.message) && err.retryAfterMs === RATE_LIMIT_WINDOW)
      // a neighbour comparing its copy reads up to its own budget
      limiter.admit('neighbour', digest)
      limiter.charge('neighbour', digest, { count: MAX_SCANNED_RECORDS_PER_WINDOW - 1 })
      limiter.admit('neighbour', digest)
    })

    it('lets a stranger\'s range scan read no more than is left of its share and of all strangers\' budget; a ring neighbour\'s, a FETCH, anything', () => {
      const limiter = new RequestLimiter({ strangersScannedRecords: 100, scannedRecordsPerStranger: 40 }, { isNeighbour: peer => peer === 'neighbour' })
      assert.equal(limiter.scanLimit('a', digest), 40)
      limiter.admit('a', digest)
      limiter.charge('a', digest, undefined, { scannedRecords: 25 })
      assert.equal(limiter.scanLimit('a', summaries), 15)
      limiter.admit('b', digest)
      limiter.charge('b', digest, undefined, { scannedRecords: 40 })
      // 35 left for all strangers: less than a fresh stranger's share
      assert.equal(limiter.scanLimit('c', digest), 35)
      assert.equal(limiter.scanLimit('neighbour', digest), undefined)
      assert.equal(limiter.scanLimit('a', fetch), undefined)
    })

    it('sizes all strangers\' scans for more identities than one address may connect', () => {
      assert.ok(MAX_STRANGERS_SCANNED_RECORDS_PER_WINDOW / MAX_SCANNED_RECORDS_PER_STRANGER_PER_WINDOW > MAX_INBOUND_CONNECTIONS_PER_IP)
    })

    it('lets a whole default store through in one window, in handoff batches', () => {
      const limiter = new RequestLimiter()
      // handoff batches: up to 1,024 records or 512 KiB of values each
      const batch = store(8, MAX_VALUE_SIZE)
      for (let bytes = 0; bytes < MAX_STORED_BYTES_PER_WINDOW; bytes += 8 * MAX_VALUE_SIZE) {
        limiter.admit('neighbour', batch)
      }
    })
  })

  describe('accounting', () => {
    it('counts each budget apart: a peer out of ring requests may still read, store and delete', () => {
      const limiter = new RequestLimiter({ ringRequests: 2, readRequests: 1, storedRecords: 1, deletedIds: 1 })
      exhaust(limiter, 'a', ping, 2)
      limiter.admit('a', fetch)
      limiter.admit('a', store(1))
      limiter.admit('a', del(1))
      for (const request of [fetch, store(1), del(1)]) {
        assert.throws(() => { limiter.admit('a', request) }, RateLimitedError)
      }
    })

    it('counts each peer apart', () => {
      const limiter = new RequestLimiter({ ringRequests: 3 })
      exhaust(limiter, 'a', ping, 3)
      exhaust(limiter, 'b', ping, 3)
    })

    it('charges nothing for a refused request: a batch too large for what is left leaves room for smaller ones', () => {
      const limiter = new RequestLimiter({ storedRecords: 10, storedBytes: 100 })
      limiter.admit('a', store(8, 1))
      assert.throws(() => { limiter.admit('a', store(5, 1)) }, RateLimitedError)
      // the records would fit but the bytes would not: neither budget is charged
      assert.throws(() => { limiter.admit('a', store(2, 50)) }, RateLimitedError)
      limiter.admit('a', store(2, 46))
      assert.throws(() => { limiter.admit('a', store(1, 1)) }, RateLimitedError)
    })

    it('limits and charges a scan by the standing its asker had when it was admitted, though it changes before the scan is done', () => {
      const neighbours = new Set<string>(['flips'])
      const limiter = new RequestLimiter({ strangersScannedRecords: 10, scannedRecordsPerStranger: 10 }, { isNeighbour: peer => neighbours.has(peer) })
      // admitted as a neighbour: no limit, and not charged to the strangers when it drops out of the ring meanwhile
      const asNeighbour = limiter.isStranger('flips')
      limiter.admit('flips', digest, [], asNeighbour)
      neighbours.delete('flips')
      assert.equal(limiter.scanLimit('flips', digest, asNeighbour), undefined)
      limiter.charge('flips', digest, undefined, { scannedRecords: 1_000 }, asNeighbour)
      limiter.admit('stranger', digest)

      // admitted as a stranger: limited, and charged to the strangers though it became a neighbour meanwhile
      const asStranger = limiter.isStranger('flips')
      limiter.admit('flips', digest, [], asStranger)
      neighbours.add('flips')
      assert.equal(limiter.scanLimit('flips', digest, asStranger), 10)
      limiter.charge('flips', digest, undefined, { scannedRecords: 10 }, asStranger)
      assert.throws(() => { limiter.admit('stranger', digest) }, RateLimitedError)
    })

    it('charges nothing for a scan refused for all strangers: the stranger, once a neighbour, has its budgets whole', () => {
      const neighbours = new Set<string>()
      const limiter = new RequestLimiter({ readRequests: 1, strangersScannedRecords: 10, scannedRecordsPerStranger: 10 }, { isNeighbour: peer => neighbours.has(peer) })
      limiter.admit('a', digest)
      limiter.charge('a', digest, { count: 10 })
      assert.throws(() => { limiter.admit('b', digest) }, RateLimitedError)
      neighbours.add('b')
      limiter.admit('b', digest)
    })

    it('counts only range scans with the other strangers\': a client\'s FETCH and a subscriber\'s backlog pass once strangers spent theirs', () => {
      const limiter = new RequestLimiter({ strangersScannedRecords: 10, scannedRecordsPerStranger: 10 })
      limiter.admit('scanner', digest)
      limiter.charge('scanner', digest, { count: 10 })
      assert.throws(() => { limiter.admit('another scanner', digest) }, RateLimitedError)

      limiter.admit('client', fetch)
      limiter.charge('client', fetch, { records: [] }, { scannedRecords: 1_000 })
      limiter.admitScan('subscriber')
      limiter.chargeScannedRecords('subscriber', 1_000)
      limiter.admit('another client', fetch)
      limiter.admitScan('another subscriber')
    })

    it('charges a range scan refused before it read anything nothing, to the peer\'s budget or to the strangers\'', () => {
      const limiter = new RequestLimiter({ scannedRecords: MAX_SUMMARIES_PER_MESSAGE, strangersScannedRecords: MAX_SUMMARIES_PER_MESSAGE, scannedRecordsPerStranger: MAX_SUMMARIES_PER_MESSAGE })
      // a mailbox's summaries are listed for nobody but its primary: FORBIDDEN, nothing read
      for (let i = 0; i < 3; i++) {
        limiter.admit('a', summaries)
        limiter.charge('a', summaries, undefined, { scannedRecords: 0 })
      }
      limiter.admit('a', summaries)
      assert.equal(limiter.scanLimit('a', summaries), MAX_SUMMARIES_PER_MESSAGE)
      limiter.admit('a', fetch)
      limiter.charge('a', fetch, { records: [] }, { scannedRecords: MAX_SUMMARIES_PER_MESSAGE - 1 })
      limiter.admit('a', fetch)
    })

    it('charges a range scan that failed after reading what it read, to both budgets', () => {
      const limiter = new RequestLimiter({ scannedRecords: 1_000, strangersScannedRecords: 1_000, scannedRecordsPerStranger: 1_000 })
      limiter.admit('a', summaries)
      limiter.charge('a', summaries, undefined, { scannedRecords: 600 })
      assert.equal(limiter.scanLimit('a', digest), 400)
      limiter.admit('a', digest)
      limiter.charge('a', digest, undefined, { scannedRecords: 400 })
      assert.throws(() => { limiter.admit('a', digest) }, RateLimitedError)
      assert.throws(() => { limiter.admit('a', fetch) }, RateLimitedError)
    })

    it('takes every peer for a stranger without a way to tell ring neighbours', () => {
      assert.equal(new RequestLimiter().isStranger('anyone'), true)
      const limiter = new RequestLimiter({}, { isNeighbour: peer => peer === 'neighbour' })
      assert.equal(limiter.isStranger('neighbour'), false)
      assert.equal(limiter.isStranger('anyone'), true)
    })

    it('forgets a peer whose window ended', () => {
      const limiter = new RequestLimiter({ windowMs: 500 })
      limiter.admit('a', ping)
      limiter.admit('b', ping)
      limiter.admit('b', store(1))
      assert.equal(limiter.trackedPeers, 2)
      mock.timers.tick(500)
      assert.equal(limiter.trackedPeers, 0)
    })
  })
})
