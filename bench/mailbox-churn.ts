/**
 * Mailbox delivery under churn: one recipient subscribed through a node that stays, messages sent
 * to it at a steady pace, while other nodes leave (gracefully, or by crashing) and new ones join,
 * in turn, at a few rates. Reported per rate: acknowledged sends (send() resolved), how many of
 * them the application was handed, and how many it was handed twice. The bar: every acknowledged
 * send delivered exactly once. The nodes run the tests' fast maintenance timers (stabilize every
 * 100 ms, anti-entropy every 500 ms), so that a ring repairs itself within the run.
 * (@libp2p/kad-dht has no mailbox to compare with.)
 */
import { crash, startRing, stopAll } from '../test/helpers/ring.js'
import { deliverUnderChurn } from '../test/helpers/churn.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { ChurnRun } from '../test/helpers/churn.js'
import type { ChordNode } from '../src/index.js'

interface Rate {
  leave: 'stop' | 'crash'
  /** ms between churn events; undefined: no churn (the baseline) */
  churnIntervalMs?: number
}

interface Plan {
  nodes: number
  messages: number
  sendIntervalMs: number
  rates: Rate[]
}

const FULL: Plan = {
  nodes: 12,
  messages: 100,
  sendIntervalMs: 50,
  rates: [{ leave: 'stop' }, { leave: 'stop', churnIntervalMs: 2000 }, { leave: 'stop', churnIntervalMs: 1000 }, { leave: 'crash', churnIntervalMs: 1000 }]
}
const QUICK: Plan = { nodes: 8, messages: 60, sendIntervalMs: 50, rates: [{ leave: 'stop' }, { leave: 'stop', churnIntervalMs: 1000 }] }

/** ms for a new ring to become consistent: on a loaded machine a ring of 12 can need more than half a minute */
const CONSISTENT_TIMEOUT = 120_000

/** nodes that never leave: the subscriber's, and the senders' */
const STABLE = 2

/** ms to wait after the last send for every acknowledged message */
const DELIVERY_DEADLINE = 60_000

interface ChurnResult extends ChurnRun {
  leave: 'stop' | 'crash'
  churnIntervalMs?: number
  seconds: number
}

export const mailboxChurn: Benchmark = {
  name: 'mailbox-churn',
  description: 'acknowledged mailbox sends delivered exactly once while nodes leave and join, at a few churn rates',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    const results: ChurnResult[] = []
    for (const { leave, churnIntervalMs } of plan.rates) {
      context.progress(`ring of ${plan.nodes}, ${plan.messages} messages, ${churnIntervalMs == null ? 'no churn' : `a node ${leave === 'stop' ? 'leaving' : 'crashing'} or joining every ${churnIntervalMs} ms`}`)
      // a fresh ring for each rate, so that one run's leftovers do not weigh on the next
      const nodes: ChordNode[] = await startRing(plan.nodes, {}, CONSISTENT_TIMEOUT)
      try {
        const started = performance.now()
        const run = await deliverUnderChurn(nodes, {
          messages: plan.messages,
          sendIntervalMs: plan.sendIntervalMs,
          churnIntervalMs,
          leave,
          crash,
          stable: STABLE,
          deliveryDeadlineMs: DELIVERY_DEADLINE,
          seed: results.length + 1
        })
        results.push({ ...run, leave, churnIntervalMs, seconds: (performance.now() - started) / 1000 })
      } finally {
        await stopAll(nodes)
      }
    }
    return {
      tables: [{
        title: `mailbox delivery under churn, ${plan.nodes} nodes, r = 3, a message every ${plan.sendIntervalMs} ms`,
        columns: ['leave', 'churn every', 'left', 'joined', 'joins failed', 'sent', 'acknowledged', 'delivered / acknowledged', 'duplicates', 's'],
        rows: results.map(r => [
          r.leave,
          r.churnIntervalMs == null ? 'none' : `${r.churnIntervalMs} ms`,
          r.left,
          r.joined,
          r.joinsFailed,
          r.sent,
          r.acknowledged,
          `${r.delivered} / ${r.acknowledged} (${(100 * r.delivered / Math.max(1, r.acknowledged)).toFixed(1)} %)`,
          r.duplicates,
          r.seconds.toFixed(0)
        ]),
        notes: ['the bar: every acknowledged send delivered exactly once (100 %, 0 duplicates)']
      }],
      results: { plan, runs: results }
    }
  }
}
