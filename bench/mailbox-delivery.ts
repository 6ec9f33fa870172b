/**
 * Mailbox delivery latency on loopback: from a sender's `mailbox.send()` call to the recipient's
 * subscription callback, on a converged ring of real chord nodes (r = 3). Each recipient
 * subscribes through one random node and each message is sent from another, one message in
 * flight at a time, so the time is the path a chat message takes: seal, lookup, write to the
 * replicas, push from the mailbox's node, open. Twice: without delivery receipts (the path
 * alone), then with them (each message answered by a sealed receipt, which its sender's
 * subscription takes and deletes). Then as conversations: each recipient written to from one
 * node, as a chat partner's device stays on its node, so that after the first message the
 * sender's node knows the mailbox's owner (the owner cache) and a message is what the CPU target
 * names: seal, store on 3 replicas, push, open.
 */
import { createIdentity } from '../src/index.js'
import { seededRandom } from '../test/helpers/simulator.js'
import { startConvergedRing } from './harness/chord-ring.js'
import { cpuMsSince, cpuNow, idleCpuMsPerSecond } from './harness/cpu-time.js'
import { ed25519VerifyMicros } from './harness/crypto-calibration.js'
import { summarize } from './harness/stats.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { ChordNode, Identity, MailboxMessage, Subscription } from '../src/index.js'

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
    context.progress(`starting a ring of ${plan.nodes}`)
    const ring = await startConvergedRing({ size: plan.nodes, settleMs: plan.settleMs, progress: context.progress })
    try {
      // what the ring burns on its own, to take out of the CPU the messages cost
      const idleMsPerSecond = await idleCpuMsPerSecond(IDLE_SAMPLE_MS)
      const runs: DeliveryRun[] = []
      // the yardstick before and after, as the machine's load changes under the run
      const verifyMicros = [ed25519VerifyMicros()]
      for (const mode of MODES) {
        context.progress(`sending ${plan.warmup + plan.messages} messages, ${describe(mode)}`)
        runs.push(await deliver(ring.nodes, plan, mode, idleMsPerSecond))
      }
      verifyMicros.push(ed25519VerifyMicros())
      return {
        tables: [{
          title: `mailbox delivery, ${plan.nodes} nodes, r = 3 (ms, send() call to callback)`,
          columns: ['senders', 'receipts', 'messages', 'p50', 'p90', 'p99', 'max', 'lost', 'CPU ms per message', 'target p50 / p99 / CPU'],
          rows: runs.map(run => [run.conversations ? 'one node per recipient' : 'a random node', run.receipts ? 'on' : 'off', run.latency.count, run.latency.p50.toFixed(2), run.latency.p90.toFixed(2), run.latency.p99.toFixed(2), run.latency.max.toFixed(1), run.lost, run.cpuMsPerMessageOwn.toFixed(2), '< 20 / < 100 / ≤ 3']),
          notes: [
            `CPU per message: the whole process's CPU during the timed messages (the warm-up left out), the ring's idle ${idleMsPerSecond.toFixed(0)} ms/s taken out, per message`,
            `with the background: ${runs.map(run => `${run.cpuMsPerMessage.toFixed(2)} ms (${describe(run)})`).join(', ')}`,
            `yardstick: one Ed25519 verification took ${verifyMicros.map(us => us.toFixed(0)).join(' and ')} µs of CPU before and after (a quiet modern core: about 50 µs)`
          ]
        }],
        results: { nodes: plan.nodes, recipients: plan.recipients, idleCpuMsPerSecond: idleMsPerSecond, ed25519VerifyMicros: verifyMicros, runs }
      }
    } finally {
      await ring.stop()
    }
  }
}

/** Who sends each message, and whether the recipients answer with receipts */
interface DeliveryMode {
  receipts: boolean
  /** each recipient written to from one node (that learns the mailbox's owner), not from any */
  conversations: boolean
}

const MODES: DeliveryMode[] = [
  { receipts: false, conversations: false },
  { receipts: true, conversations: false },
  { receipts: false, conversations: true }
]

function describe (mode: DeliveryMode): string {
  return `${mode.conversations ? 'conversations' : 'random senders'}, receipts ${mode.receipts ? 'on' : 'off'}`
}

interface DeliveryRun extends DeliveryMode {
  latency: ReturnType<typeof summarize>
  lost: number
  cpuMsPerMessage: number
  cpuMsPerMessageOwn: number
}

/**
 * Messages one at a time to recipients subscribed through random nodes, each from a random node
 * or, in conversations, from the recipient's partner node. CPU and wall-clock time are counted
 * after the warm-up, which in conversations writes to every recipient first (its lookup and
 * connections are a first message's, not a conversation's)
 */
async function deliver (nodes: ChordNode[], plan: Plan, mode: DeliveryMode, idleMsPerSecond: number): Promise<DeliveryRun> {
  const { receipts, conversations } = mode
  const random = seededRandom(7 + MODES.indexOf(mode))
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]
  const subscriptions: Subscription[] = []
  try {
    const sender = await createIdentity()
    // the sender subscribes too, so that receipts are taken and deleted as in a chat
    subscriptions.push(await pick(nodes).mailbox.subscribe(sender, () => {}, { receipts }))
    // the callback can come before send() resolves (the mailbox's node pushes as soon as it
    // stores), so a delivery is either awaited or found already done
    const deliveredAt = new Map<string, number>()
    const waiting = new Map<string, (at: number) => void>()
    const recipients: Identity[] = []
    // in conversations, the one node each recipient is written to from
    const partnerNodes: ChordNode[] = []
    for (let i = 0; i < plan.recipients; i++) {
      const recipient = await createIdentity()
      recipients.push(recipient)
      subscriptions.push(await pick(nodes).mailbox.subscribe(recipient, (message: MailboxMessage) => {
        const at = performance.now()
        const waiter = waiting.get(message.id)
        if (waiter == null) {
          deliveredAt.set(message.id, at)
        } else {
          waiter(at)
        }
      }, { receipts }))
      if (conversations) {
        partnerNodes.push(pick(nodes))
      }
    }

    const samples: number[] = []
    let wallStart = performance.now()
    let cpuStart = cpuNow()
    let lost = 0
    for (let i = 0; i < plan.warmup + plan.messages; i++) {
      if (i === plan.warmup) {
        wallStart = performance.now()
        cpuStart = cpuNow()
      }
      const k = conversations && i < recipients.length ? i : Math.floor(random() * recipients.length)
      const recipient = recipients[k]
      const from = conversations ? partnerNodes[k] : pick(nodes)
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
    const sent = plan.messages
    return {
      ...mode,
      latency: summarize(samples),
      lost,
      cpuMsPerMessage: cpuMs / sent,
      cpuMsPerMessageOwn: (cpuMs - idleMsPerSecond * wallSeconds) / sent
    }
  } finally {
    await Promise.allSettled(subscriptions.map(async s => s.close()))
  }
}
