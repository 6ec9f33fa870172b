/**
 * Mailbox delivery latency on loopback: from a sender's `mailbox.send()` call to the recipient's
 * subscription callback, on a converged ring of real chord nodes (r = 3). Each recipient
 * subscribes through one random node and each message is sent from another, one message in
 * flight at a time, so the time is the path a chat message takes: seal, lookup, write to the
 * replicas, push from the mailbox's node, open.
 */
import { createIdentity } from '../src/index.js'
import { seededRandom } from '../test/helpers/simulator.js'
import { startConvergedRing } from './harness/chord-ring.js'
import { cpuMsSince, cpuNow, idleCpuMsPerSecond } from './harness/cpu-time.js'
import { summarize } from './harness/stats.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { Identity, MailboxMessage, Subscription } from '../src/index.js'

interface Plan {
  nodes: number
  recipients: number
  messages: number
  warmup: number
  settleMs: number
}

/** ms over which the ring's own CPU (maintenance timers) is measured before the messages */
const IDLE_SAMPLE_MS = 5000

const FULL: Plan = { nodes: 32, recipients: 8, messages: 400, warmup: 40, settleMs: 5000 }
const QUICK: Plan = { nodes: 12, recipients: 4, messages: 60, warmup: 10, settleMs: 1000 }

/** A chat message's worth of text */
const MESSAGE = new TextEncoder().encode('see you at the station at eight, by the clock')

/** ms a message may take before the benchmark gives up on it (a lost message, not a slow one) */
const DELIVERY_DEADLINE = 10_000

export const mailboxDelivery: Benchmark = {
  name: 'mailbox-delivery',
  description: 'mailbox send() to the recipient\'s callback on a converged ring, against the 20 ms / 100 ms targets',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    const random = seededRandom(7)
    context.progress(`starting a ring of ${plan.nodes}`)
    const ring = await startConvergedRing({ size: plan.nodes, settleMs: plan.settleMs, progress: context.progress })
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]
    const subscriptions: Subscription[] = []
    try {
      const sender = await createIdentity()
      // the callback can come before send() resolves (the mailbox's node pushes as soon as it
      // stores), so a delivery is either awaited or found already done
      const deliveredAt = new Map<string, number>()
      const waiting = new Map<string, (at: number) => void>()
      const recipients: Identity[] = []
      for (let i = 0; i < plan.recipients; i++) {
        const recipient = await createIdentity()
        recipients.push(recipient)
        subscriptions.push(await pick(ring.nodes).mailbox.subscribe(recipient, (message: MailboxMessage) => {
          const at = performance.now()
          const waiter = waiting.get(message.id)
          if (waiter == null) {
            deliveredAt.set(message.id, at)
          } else {
            waiter(at)
          }
        }))
      }

      const samples: number[] = []
      // what the ring burns on its own, to take out of the CPU the messages cost
      const idleMsPerSecond = await idleCpuMsPerSecond(IDLE_SAMPLE_MS)
      const wallStart = performance.now()
      const cpuStart = cpuNow()
      let lost = 0
      for (let i = 0; i < plan.warmup + plan.messages; i++) {
        const recipient = pick(recipients)
        const from = pick(ring.nodes)
        const started = performance.now()
        const { id } = await from.mailbox.send(sender, recipient.address, MESSAGE)
        const at = deliveredAt.get(id) ?? await new Promise<number>(resolve => {
          const timer = setTimeout(() => { resolve(Number.NaN) }, DELIVERY_DEADLINE)
          waiting.set(id, at => { clearTimeout(timer); resolve(at) })
        })
        waiting.delete(id)
        deliveredAt.delete(id)
        if (Number.isNaN(at)) {
          lost++
        } else if (i >= plan.warmup) {
          samples.push(at - started)
        }
      }
      const cpuMs = cpuMsSince(cpuStart)
      const wallSeconds = (performance.now() - wallStart) / 1000
      const sent = plan.warmup + plan.messages
      const perMessage = cpuMs / sent
      const perMessageOwn = (cpuMs - idleMsPerSecond * wallSeconds) / sent
      const latency = summarize(samples)
      return {
        tables: [{
          title: `mailbox delivery, ${plan.nodes} nodes, r = 3 (ms, send() call to callback)`,
          columns: ['messages', 'p50', 'p90', 'p99', 'max', 'lost', 'target p50 / p99'],
          rows: [[latency.count, latency.p50.toFixed(2), latency.p90.toFixed(2), latency.p99.toFixed(2), latency.max.toFixed(1), lost, '< 20 / < 100']],
          notes: [
            `CPU per message (seal, three replicas, push, open, receipt), the ring's idle ${idleMsPerSecond.toFixed(0)} ms/s taken out: ${perMessageOwn.toFixed(2)} ms (target ≤ 3 ms)`,
            `CPU of the whole process per message (all ${plan.nodes} nodes, background included): ${perMessage.toFixed(2)} ms`
          ]
        }],
        results: { nodes: plan.nodes, recipients: plan.recipients, latencyMs: latency, lost, cpuMsPerMessage: perMessage, cpuMsPerMessageOwn: perMessageOwn, idleCpuMsPerSecond: idleMsPerSecond }
      }
    } finally {
      await Promise.allSettled(subscriptions.map(async s => s.close()))
      await ring.stop()
    }
  }
}
