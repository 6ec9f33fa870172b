/**
 * Mailbox delivery while the ring churns: one recipient subscribes through a node that stays,
 * messages are sent to it at a steady pace from nodes that stay, and meanwhile other nodes leave
 * and new ones join, in turn. Counts what the application was handed: every acknowledged send
 * (send() resolved) should reach the callback exactly once. Bounded: the messages are counted,
 * the churn stops with them, and delivery is awaited until a deadline.
 */
import { createIdentity } from '../../src/index.js'
import { seededRandom } from './simulator.js'
import { startNode } from './ring.js'
import { waitFor } from './wait-for.js'
import type { ChordNode, ChordNodeOptions } from '../../src/index.js'

export interface ChurnPlan {
  messages: number
  /** ms between two sends */
  sendIntervalMs: number
  /** ms between two churn events (a leave, then a join, and so on); none when undefined */
  churnIntervalMs?: number
  /** how a node leaves: gracefully (stop) or by crashing (nothing handed over) */
  leave: 'stop' | 'crash'
  /** nodes at the start of the ring that never leave: the subscriber's and the senders' */
  stable: number
  /** ms to wait, after the last send, for every acknowledged message to be delivered */
  deliveryDeadlineMs: number
  /** options of the nodes that join */
  nodeOptions?: ChordNodeOptions
  seed?: number
  /** how a node crashes (the test helper's `crash`), for leave = 'crash' */
  crash?(node: ChordNode): Promise<void>
}

export interface ChurnRun {
  sent: number
  /** sends that resolved: the node stored the envelope on at least one replica */
  acknowledged: number
  /** acknowledged messages handed to the callback at least once */
  delivered: number
  /** extra deliveries of a message already handed over */
  duplicates: number
  /** nodes that left and joined */
  left: number
  joined: number
  /** joins that did not complete (on a loaded machine a join can time out) */
  joinsFailed: number
}

/**
 * Run the plan on `nodes` (a consistent ring; joined nodes are pushed onto it, nodes that left
 * stay in it, stopped, so that the caller's cleanup covers them all)
 */
export async function deliverUnderChurn (nodes: ChordNode[], plan: ChurnPlan): Promise<ChurnRun> {
  const random = seededRandom(plan.seed ?? 1)
  const [alice, bob] = await Promise.all([createIdentity(), createIdentity()])
  const deliveries = new Map<string, number>()
  const subscription = await nodes[0].mailbox.subscribe(bob, message => {
    deliveries.set(message.id, (deliveries.get(message.id) ?? 0) + 1)
  })
  const live = new Set(nodes)
  const run: ChurnRun = { sent: 0, acknowledged: 0, delivered: 0, duplicates: 0, left: 0, joined: 0, joinsFailed: 0 }
  const acknowledged: string[] = []
  // read by the churn loop, set once the sends are done
  const state = { sending: true }

  const churn = async (): Promise<void> => {
    if (plan.churnIntervalMs == null) {
      return
    }
    for (let event = 0; state.sending; event++) {
      await new Promise(resolve => setTimeout(resolve, plan.churnIntervalMs))
      if (!state.sending) {
        return
      }
      const leaving = [...live].slice(plan.stable)
      if (event % 2 === 0 && leaving.length > 0) {
        const node = leaving[Math.floor(random() * leaving.length)]
        live.delete(node)
        await (plan.leave === 'crash' && plan.crash != null ? plan.crash(node) : node.stop()).catch(() => {})
        run.left++
      } else {
        try {
          const node = await startNode(nodes[0], plan.nodeOptions)
          nodes.push(node)
          live.add(node)
          run.joined++
        } catch {
          run.joinsFailed++
        }
      }
    }
  }

  const send = async (): Promise<void> => {
    try {
      for (let i = 0; i < plan.messages; i++) {
        const from = nodes[Math.floor(random() * plan.stable)]
        run.sent++
        try {
          const { id } = await from.mailbox.send(alice, bob.address, new TextEncoder().encode(`message ${i}`))
          acknowledged.push(id)
        } catch {
          // not acknowledged: the sender knows, and the bar does not count it
        }
        await new Promise(resolve => setTimeout(resolve, plan.sendIntervalMs))
      }
    } finally {
      state.sending = false
    }
  }

  try {
    await Promise.all([send(), churn()])
    // what has not arrived by the deadline counts as lost, not as an error of the run
    await waitFor(() => acknowledged.every(id => deliveries.has(id)), 'every acknowledged message to be delivered', plan.deliveryDeadlineMs)
      .catch(() => {})
  } finally {
    await subscription.close()
  }
  run.acknowledged = acknowledged.length
  run.delivered = acknowledged.filter(id => deliveries.has(id)).length
  run.duplicates = [...deliveries.values()].reduce((extra, count) => extra + count - 1, 0)
  return run
}
