/**
 * What one group message costs at 10, 100 and 1,000 members, under the scheme the library uses
 * (pairwise fan-out: sealed to each member's device and stored in its mailbox) and under sender
 * keys (one symmetric encryption per message, every member rekeying when one leaves), the scheme
 * docs/security.md, "Groups", weighs it against.
 *
 * - CPU and bytes per message, in this process alone: fan-out seals the frame once per member
 *   (an X25519 agreement, an Ed25519 signature, ChaCha20-Poly1305); sender keys step a hash chain,
 *   encrypt once and sign once. Removal: fan-out seals nothing more (the next message is not sealed
 *   to the removed member); sender keys have each remaining member seal a new key to every other,
 *   (n − 1)(n − 2) seals, counted at the seal cost measured here.
 * - Time to deliver to all, fan-out only, on a converged ring: from the first seal to the last
 *   member's subscription callback, every member subscribed through a node of the ring. Sender
 *   keys over this ring would need a group mailbox the library does not have; it is not measured.
 *
 * kad-dht has no mailbox or groups: there is nothing of it to compare here.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { randomBytes } from '@noble/hashes/utils.js'
import pMap from 'p-map'
import { FAN_OUT_CONCURRENCY } from '../src/devices/constants.js'
import { encodeFrame } from '../src/mailbox/frames.js'
import { seal } from '../src/mailbox/seal.js'
import { createIdentity } from '../src/index.js'
import { startConvergedRing } from './harness/chord-ring.js'
import { cpuMsSince, cpuNow } from './harness/cpu-time.js'
import { summarize } from './harness/stats.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { ChordNode, Identity, Subscription } from '../src/index.js'

interface Plan {
  sizes: number[]
  /** messages per size for CPU and bytes */
  messages: number
  /** sizes sent on the ring */
  ringSizes: number[]
  /** of those, the sizes whose members all subscribe, to time delivery (a thousand subscriptions overwhelm one process) */
  subscribedSizes: number[]
  /** messages per size delivered on the ring */
  ringMessages: number
  nodes: number
  settleMs: number
}

const FULL: Plan = { sizes: [10, 100, 1000], messages: 5, ringSizes: [10, 100, 1000], subscribedSizes: [10, 100], ringMessages: 3, nodes: 16, settleMs: 3000 }
const QUICK: Plan = { sizes: [10, 100, 1000], messages: 1, ringSizes: [10, 100], subscribedSizes: [10], ringMessages: 1, nodes: 8, settleMs: 1000 }

/** A chat message's worth of text */
const MESSAGE = new TextEncoder().encode('see you at the station at eight, by the clock')

/** Replicas each envelope is stored on */
const REPLICAS = 3

/** ms the last member may take before the benchmark gives up on a message */
const DELIVERY_DEADLINE = 120_000

/** What a sender-key message carries besides its ciphertext: key id (4), chain index (4), signature (64) */
const SENDER_KEY_OVERHEAD = 4 + 4 + 64

interface CostRow {
  members: number
  fanOutCpuMs: number
  fanOutBytes: number
  senderKeyCpuMs: number
  senderKeyBytes: number
  /** seals a removal costs sender keys: each remaining member's new key to every other */
  rekeySeals: number
  rekeyCpuMs: number
}

interface RingRow {
  members: number
  /** ms from the first seal to the last envelope stored on its replicas */
  storedMs: ReturnType<typeof summarize>
  /** ms from the first seal to the last member's callback; absent when members did not subscribe */
  deliveredMs?: ReturnType<typeof summarize>
  cpuMs: number
  failed: number
  lost: number
}

export const groupFanout: Benchmark = {
  name: 'group-fanout',
  description: 'a group message at 10, 100 and 1,000 members: pairwise fan-out against sender keys',
  async run (context: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = context.quick ? QUICK : FULL
    const sender = await createIdentity()
    const everyone = await identities(Math.max(...plan.sizes) - 1)
    const costs: CostRow[] = []
    for (const members of plan.sizes) {
      context.progress(`${members} members: sealing`)
      costs.push(await cost(sender, everyone.slice(0, members - 1), plan.messages))
    }
    context.progress(`starting a ring of ${plan.nodes}`)
    const ring = await startConvergedRing({ size: plan.nodes, settleMs: plan.settleMs, progress: context.progress })
    const delivered: RingRow[] = []
    try {
      for (const members of plan.ringSizes) {
        context.progress(`${members} members: delivering on the ring`)
        delivered.push(await deliver(ring.nodes, sender, everyone.slice(0, members - 1), plan.ringMessages, plan.subscribedSizes.includes(members)))
      }
    } finally {
      await ring.stop()
    }
    return {
      tables: [{
        title: 'one group message, per message (CPU of the sender, bytes stored on the ring)',
        columns: ['members', 'fan-out CPU ms', 'fan-out KB stored', 'sender-key CPU ms', 'sender-key KB stored', 'CPU ratio', 'removal: sender-key seals', 'removal: sender-key CPU s'],
        rows: costs.map(row => [
          row.members, row.fanOutCpuMs.toFixed(1), (row.fanOutBytes / 1024).toFixed(1), row.senderKeyCpuMs.toFixed(3),
          (row.senderKeyBytes / 1024).toFixed(2), `${(row.fanOutCpuMs / row.senderKeyCpuMs).toFixed(0)}×`, row.rekeySeals, (row.rekeyCpuMs / 1000).toFixed(1)
        ]),
        notes: [
          `stored: every envelope on ${REPLICAS} replicas; sender keys as one ciphertext in one group mailbox (the most favourable case)`,
          'removal: fan-out seals nothing extra; sender-key CPU is the seals counted at the fan-out seal cost measured here, spread over every member'
        ]
      }, {
        title: `fan-out on a converged ring of ${plan.nodes} nodes (ms from the first seal: to the last envelope stored, to the last member's callback)`,
        columns: ['members', 'messages', 'stored p50', 'stored max', 'delivered p50', 'delivered max', 'CPU ms per message (whole ring)', 'envelopes failed', 'lost'],
        rows: delivered.map(row => [
          row.members, row.storedMs.count, row.storedMs.p50.toFixed(0), row.storedMs.max.toFixed(0),
          row.deliveredMs?.p50.toFixed(0) ?? '—', row.deliveredMs?.max.toFixed(0) ?? '—', row.cpuMs.toFixed(0), row.failed, row.lost
        ]),
        notes: ['delivered: — where the members did not subscribe (a thousand subscriptions in one process overwhelm it, not the ring)']
      }],
      results: { nodes: plan.nodes, replicas: REPLICAS, costs, delivered }
    }
  }
}

async function identities (count: number): Promise<Identity[]> {
  return Promise.all(Array.from({ length: count }, async () => createIdentity()))
}

function groupFrame (): Uint8Array {
  return encodeFrame({ content: { type: 'group-message', groupId: randomBytes(16), version: 1, body: MESSAGE } })
}

/** CPU and bytes of one message to `others` (the sender not counted), both ways */
async function cost (sender: Identity, others: Identity[], messages: number): Promise<CostRow> {
  const frame = groupFrame()
  let bytes = 0
  const fanOutStart = cpuNow()
  for (let m = 0; m < messages; m++) {
    for (const member of others) {
      bytes += (await seal(sender, member.publicKey, frame, { kind: 'frame' })).byteLength
    }
  }
  const fanOutCpuMs = cpuMsSince(fanOutStart) / messages
  const perSeal = fanOutCpuMs / others.length

  // sender keys: step the chain, encrypt once, sign once
  let chainKey = randomBytes(32)
  let senderKeyBytes = 0
  const rounds = messages * 100
  const senderKeyStart = cpuNow()
  for (let m = 0; m < rounds; m++) {
    const messageKey = sha256(Uint8Array.of(1, ...chainKey))
    chainKey = sha256(Uint8Array.of(2, ...chainKey))
    const ciphertext = chacha20poly1305(messageKey, new Uint8Array(12)).encrypt(frame)
    await sender.sign(ciphertext, 'libp2p-chord/bench-sender-key/v1')
    senderKeyBytes = ciphertext.byteLength + SENDER_KEY_OVERHEAD
  }
  const senderKeyCpuMs = cpuMsSince(senderKeyStart) / rounds
  const members = others.length + 1
  const rekeySeals = (members - 1) * (members - 2)
  return {
    members,
    fanOutCpuMs,
    fanOutBytes: bytes / messages * REPLICAS,
    senderKeyCpuMs,
    senderKeyBytes: senderKeyBytes * REPLICAS,
    rekeySeals,
    rekeyCpuMs: rekeySeals * perSeal
  }
}

/** Messages fanned out from one node to `others`, each subscribed (when `subscribe`) through a node of the ring */
async function deliver (nodes: ChordNode[], sender: Identity, others: Identity[], messages: number, subscribe: boolean): Promise<RingRow> {
  const subscriptions: Subscription[] = []
  const received = new Map<string, number>()
  let onDelivered = (): void => {}
  try {
    if (subscribe) {
      for (const [i, member] of others.entries()) {
        const node = nodes[i % nodes.length]
        subscriptions.push(await node.mailbox.subscribe(member, async message => {
          received.set(member.address, (received.get(member.address) ?? 0) + 1)
          await node.mailbox.ack(member, [message.id])
          onDelivered()
        }, { receipts: false }))
      }
    }
    const stored: number[] = []
    const delivered: number[] = []
    let failed = 0
    let lost = 0
    const cpuStart = cpuNow()
    const from = nodes[0]
    const frame = groupFrame()
    for (let m = 1; m <= messages; m++) {
      const started = performance.now()
      const allThere = (): boolean => others.every(member => (received.get(member.address) ?? 0) >= m)
      const done = new Promise<boolean>(resolve => {
        const timer = setTimeout(() => { resolve(false) }, DELIVERY_DEADLINE)
        onDelivered = () => {
          if (allThere()) {
            clearTimeout(timer)
            resolve(true)
          }
        }
        if (!subscribe) {
          clearTimeout(timer)
          resolve(false)
        }
      })
      // the frame's bytes as the body of a plain message: the same seal and store per member
      const outcomes = await pMap(others, async member => from.mailbox.send(sender, member.address, frame).then(() => true, () => false), { concurrency: FAN_OUT_CONCURRENCY })
      failed += outcomes.filter(ok => !ok).length
      stored.push(performance.now() - started)
      if (!subscribe) {
        continue
      }
      if (allThere() || await done) {
        delivered.push(performance.now() - started)
      } else {
        lost++
      }
    }
    return {
      members: others.length + 1,
      storedMs: summarize(stored),
      deliveredMs: subscribe ? summarize(delivered) : undefined,
      cpuMs: cpuMsSince(cpuStart) / messages,
      failed,
      lost
    }
  } finally {
    await Promise.allSettled(subscriptions.map(async s => s.close()))
  }
}
