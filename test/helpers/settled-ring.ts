/**
 * A large simulated ring built the way a real network grows: in batches, each a quarter of the
 * ring so far, with maintenance rounds after each until the ring is consistent again; then every
 * finger table is filled. The starting point of every measurement on a 1,000–10,000 node ring.
 */
import { Simulator } from './simulator.js'
import type { SimulatorInit } from './simulator.js'

/** Each batch of joins adds this fraction of the ring, so a ring of N is built in about log(N) batches */
const GROWTH_PER_BATCH = 0.25

/** Rounds a batch of joins may take to become one consistent ring before the build is declared broken */
const MAX_ROUNDS_PER_BATCH = 100

/**
 * Finger-fixing rounds run on the complete ring, beyond log2(N). One round refreshes one distinct
 * finger per node and a node has about log2(N) + 1 distinct fingers, so log2(N) + 2 rounds take
 * every node once through its whole finger table.
 */
const EXTRA_FINGER_ROUNDS = 2

export interface RingBuild {
  ms: number
  batches: number
  rounds: number
  cpuMs: number
}

/** Grow a ring of `nodes` and settle it: consistent, every finger fixed */
export async function buildSettledRing (nodes: number, random: () => number, init: SimulatorInit = {}): Promise<{ sim: Simulator, build: RingBuild }> {
  const sim = new Simulator(init)
  const started = performance.now()
  const cpuStart = process.cpuUsage()
  let batches = 0
  let rounds = 0
  while (sim.rings.size < nodes) {
    const batch = Math.min(nodes - sim.rings.size, Math.max(1, Math.ceil(sim.rings.size * GROWTH_PER_BATCH)))
    await sim.grow(batch, random)
    rounds += await sim.roundsUntil(() => sim.isConsistent(), MAX_ROUNDS_PER_BATCH)
    batches++
  }
  rounds += await fixEveryFinger(sim)
  const cpu = process.cpuUsage(cpuStart)
  return { sim, build: { ms: performance.now() - started, batches, rounds, cpuMs: (cpu.user + cpu.system) / 1000 } }
}

/**
 * Take every live node through its whole finger table, on a consistent ring (these rounds skip
 * stabilizing: only the fingers need work); resolves to the rounds run
 */
export async function fixEveryFinger (sim: Simulator): Promise<number> {
  const rounds = Math.ceil(Math.log2(Math.max(2, sim.alive.size))) + EXTRA_FINGER_ROUNDS
  for (let i = 0; i < rounds; i++) {
    await Promise.all(sim.liveRings().map(async ring => ring.fixFingers().catch(() => {})))
  }
  return rounds
}
