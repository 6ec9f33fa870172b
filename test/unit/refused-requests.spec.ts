import assert from 'node:assert/strict'
import { logRefusals } from '../../src/cli/refusal-log.js'
import { REFUSAL_LOG_INTERVAL } from '../../src/cli/constants.js'
import { RefusedRequestTally, TURNED_AWAY_CODES, describeRefusals, knownErrorCode } from '../../src/observability/refused-requests.js'
import { waitFor } from '../helpers/wait-for.js'

describe('refused requests', () => {
  it('are tallied by code, and a code the node never sends counts as INTERNAL', () => {
    const tally = new RefusedRequestTally()
    tally.record('RATE_LIMITED')
    tally.record('RATE_LIMITED')
    tally.record('QUOTA_EXCEEDED')
    tally.record('made up by a peer')
    tally.record(undefined)
    assert.deepEqual(tally.snapshot(), { total: 5, byCode: { RATE_LIMITED: 2, QUOTA_EXCEEDED: 1, INTERNAL: 2 } })
    assert.equal(knownErrorCode('FORBIDDEN'), 'FORBIDDEN')
    assert.equal(knownErrorCode('x'.repeat(1000)), 'INTERNAL')
  })

  it('are described in one line between two snapshots, most frequent code first; none, no line', () => {
    const before = { total: 3, byCode: { RATE_LIMITED: 3 } }
    const now = { total: 194_915, byCode: { RATE_LIMITED: 194_914, QUOTA_EXCEEDED: 1 } }
    const line = describeRefusals(before, now, 60_000)
    assert.ok(line?.startsWith('turned away 194,912 requests in the last 60 s (RATE_LIMITED 194,911, QUOTA_EXCEEDED 1)'), line)
    assert.ok(line?.includes('chord_rpc_requests_refused_total'))
    assert.equal(describeRefusals(now, now, 60_000), undefined)
    assert.ok(describeRefusals({ total: 0, byCode: {} }, { total: 1, byCode: { BAD_SIGNATURE: 1 } }, 60_000)?.startsWith('turned away 1 request in'))
  })

  it('leave out of the line what the ring\'s own work brings: FORBIDDEN, TOO_LARGE, STALE, NO_ROUTE', () => {
    const churn = { total: 40, byCode: { FORBIDDEN: 30, TOO_LARGE: 5, STALE: 3, NO_ROUTE: 2 } }
    assert.equal(describeRefusals({ total: 0, byCode: {} }, churn, 60_000), undefined)
    for (const code of ['RATE_LIMITED', 'QUOTA_EXCEEDED', 'BAD_SIGNATURE', 'INVALID_ARGUMENT', 'INVALID_RECORD']) {
      assert.ok(TURNED_AWAY_CODES.has(code), code)
    }
    const line = describeRefusals({ total: 0, byCode: {} }, { total: 41, byCode: { ...churn.byCode, RATE_LIMITED: 1 } }, 60_000)
    assert.ok(line?.startsWith('turned away 1 request in the last 60 s (RATE_LIMITED 1)'), line)
  })

  it(`are logged by a running node once every REFUSAL_LOG_INTERVAL (${REFUSAL_LOG_INTERVAL} ms) when any were turned away, and no more once it stops`, async () => {
    // each interval reads the node's count once: `reads` tells the intervals that went by
    let state = 'joined'
    let looks = 0
    const node = {
      get status () { looks++; return state },
      reads: 0,
      refused: { total: 0, byCode: {} as Record<string, number> },
      refusedRequests () { this.reads++; return this.refused }
    }
    const intervalsFrom = (reads: number): number => node.reads - reads
    const lines: string[] = []
    const stop = logRefusals(node, { warn: (_fields: object, line: string) => { lines.push(line) } } as never, 20)
    try {
      node.refused = { total: 4, byCode: { RATE_LIMITED: 4 } }
      await waitFor(() => lines.length === 1, 'a line for the refusals', 2_000)
      assert.ok(lines[0].startsWith('turned away 4 requests'))
      // intervals with nothing refused log nothing; the next refusal, a line of its own
      const quietFrom = node.reads
      await waitFor(() => intervalsFrom(quietFrom) >= 3, 'three quiet intervals', 2_000)
      assert.equal(lines.length, 1)
      node.refused = { total: 5, byCode: { RATE_LIMITED: 4, BAD_SIGNATURE: 1 } }
      await waitFor(() => lines.length === 2, 'a line for the next refusal', 2_000)
      assert.ok(lines[1].startsWith('turned away 1 request in'), lines[1])
      assert.ok(lines[1].includes('(BAD_SIGNATURE 1)'), lines[1])
      state = 'stopped'
      node.refused = { total: 9, byCode: { RATE_LIMITED: 8, BAD_SIGNATURE: 1 } }
      // the interval that finds the node stopped reads nothing, logs nothing, and ends itself
      const stoppedFrom = node.reads
      const looksFrom = looks
      await waitFor(() => looks > looksFrom, 'an interval to find the node stopped', 2_000)
      assert.equal(node.reads, stoppedFrom)
      assert.equal(lines.length, 2)
    } finally {
      stop()
    }
  })
})
