/**
 * A ring of real chord nodes on 127.0.0.1, converged before anything is timed: consistent
 * successors and predecessors (the test helper's check) and every finger pointing at the true
 * successor of its start. The nodes run the production maintenance timers, so what a benchmark
 * measures includes the background traffic a deployed ring has, not the tests' tenfold faster one.
 */
import { FAST_TIMERS, startRing, stopAll } from '../../test/helpers/ring.js'
import { waitFor } from '../../test/helpers/wait-for.js'
import { distance } from '../../src/chord/id.js'
import { internalsOf } from '../../src/testing.js'
import type { ChordNode, ChordNodeTimers } from '../../src/index.js'

/**
 * Every timer the test helper shortens, unset again, so that each node falls back to its own
 * production default (whatever timers the helper comes to shorten)
 */
export const PRODUCTION_TIMERS: ChordNodeTimers = Object.fromEntries(Object.keys(FAST_TIMERS).map(name => [name, undefined]))

/**
 * ms for the ring to become consistent once every node has joined. Stabilize runs once a second,
 * and on a loaded machine a ring of 32 has been seen to need more than half a minute.
 */
const CONSISTENT_TIMEOUT = 120_000

/**
 * ms for every finger table to become exact after that: one finger (and those that name the same
 * node) per round, the rounds backing off towards one every 30 s while the ring is quiet
 */
const FINGERS_TIMEOUT = 240_000

/** ms between checks of the finger tables: each check walks every finger of every node */
const FINGER_CHECK_INTERVAL = 250

export interface ChordRingInit {
  size: number
  replicas?: number
  /** ms to leave the ring alone once converged */
  settleMs: number
  progress?(message: string): void
}

export interface ChordBenchRing {
  nodes: ChordNode[]
  /** ms from the first node's start to a consistent ring */
  consistentMs: number
  /** ms from the first node's start to exact finger tables */
  convergedMs: number
  stop(): Promise<void>
}

export async function startConvergedRing (init: ChordRingInit): Promise<ChordBenchRing> {
  const started = Date.now()
  const nodes = await startRing(init.size, { timers: PRODUCTION_TIMERS, replicas: init.replicas }, CONSISTENT_TIMEOUT)
  const stop = async (): Promise<void> => { await stopAll(nodes) }
  try {
    const consistentMs = Date.now() - started
    let lastCheck = 0
    await waitFor(() => {
      if (Date.now() - lastCheck < FINGER_CHECK_INTERVAL) {
        return false
      }
      lastCheck = Date.now()
      return fingersAreSettled(nodes)
    }, 'settled finger tables', FINGERS_TIMEOUT)
    const convergedMs = Date.now() - started
    init.progress?.(`chord: ${init.size} nodes consistent in ${(consistentMs / 1000).toFixed(1)} s, fingers settled in ${(convergedMs / 1000).toFixed(1)} s; settling ${init.settleMs / 1000} s`)
    await new Promise(resolve => setTimeout(resolve, init.settleMs))
    return { nodes, consistentMs, convergedMs, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/**
 * Every node's finger i names the first node at or after start = self + 2^i (none when that is
 * itself), or another node of the ring in [start, start + 2^i): one nearer in round trips, which
 * finger choice may prefer (chord/finger-choice.ts)
 */
export function fingersAreSettled (nodes: ChordNode[]): boolean {
  const sorted = nodes.map(node => internalsOf(node).ring.self).sort((a, b) => (a.id < b.id ? -1 : 1))
  const successorOf = (id: bigint): string => {
    let low = 0
    let high = sorted.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (sorted[middle].id < id) {
        low = middle + 1
      } else {
        high = middle
      }
    }
    return sorted[low % sorted.length].peer
  }
  const members = new Set(sorted.map(node => node.peer))
  return nodes.every(node => {
    const { table } = internalsOf(node).ring
    for (let i = 0; i < table.fingerCount; i++) {
      const start = table.fingerStart(i)
      const expected = successorOf(start)
      const finger = table.getFinger(i)
      const exact = finger?.peer === (expected === table.self.peer ? undefined : expected)
      const nearer = finger != null && members.has(finger.peer) && distance(start, finger.id) < 1n << BigInt(i)
      if (!exact && !nearer) {
        return false
      }
    }
    return true
  })
}
