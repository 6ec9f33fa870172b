/**
 * Timing series of operations, one operation at a time, on a shared and noisy machine.
 *
 * Series that are compared with each other (chord against kad-dht) run interleaved: a block of one,
 * then a block of the other, over and over, with both networks up the whole time. A burst of load
 * from elsewhere on the machine then lands on both sides alike instead of on whichever series
 * happened to run at that moment.
 *
 * Besides latency, each series gets the CPU the process spent on it: CPU used during its blocks,
 * less the background rate (maintenance timers of every network in the process, their garbage
 * collection). The background comes in bursts, so it is sampled the same way as the series: an
 * idle window in every round of blocks, not once at the start.
 */
import { cpuMsSince, cpuNow } from './cpu-time.js'
import { summarize } from './stats.js'
import type { Summary } from './stats.js'

/** ms of doing nothing in each round of blocks, to sample the background CPU rate */
const IDLE_WINDOW = 500

export interface SeriesSpec<T> {
  name: string
  /** operations timed */
  count: number
  /** operations run first, untimed (indices count … count + warmup - 1): connections and streams open, code gets compiled */
  warmup: number
  operation(index: number): Promise<T>
}

export interface Series<T> {
  name: string
  latencyMs: Summary
  /** what each timed operation returned, in order */
  outcomes: T[]
  /** process CPU per operation beyond the background rate */
  cpuMsPerOperation: number
  /** ms of wall-clock time spent in this series' blocks */
  wallMs: number
}

export interface InterleavedSeries<T extends unknown[]> {
  series: { [K in keyof T]: Series<T[K]> }
  /** process CPU per second while no operation ran, over all idle windows */
  idleCpuMsPerSecond: number
}

interface Tally {
  cpuMs: number
  wallMs: number
}

/** Run `body` and add the CPU and wall-clock time it took to `tally` */
async function tallied<R> (tally: Tally, body: () => Promise<R>): Promise<R> {
  const cpuStart = cpuNow()
  const began = performance.now()
  try {
    return await body()
  } finally {
    tally.wallMs += performance.now() - began
    tally.cpuMs += cpuMsSince(cpuStart)
  }
}

/**
 * Run `specs` in `blocks` rounds; in each round every spec runs its next count/blocks operations,
 * and the process sits idle for a moment.
 */
export async function timeInterleaved<T extends unknown[]> (blocks: number, specs: { [K in keyof T]: SeriesSpec<T[K]> }): Promise<InterleavedSeries<T>> {
  for (const spec of specs) {
    for (let i = 0; i < spec.warmup; i++) {
      await spec.operation(spec.count + i)
    }
  }

  const idle: Tally = { cpuMs: 0, wallMs: 0 }
  const progress = specs.map(() => ({ latencies: [] as number[], outcomes: [] as unknown[], tally: { cpuMs: 0, wallMs: 0 } }))
  for (let block = 0; block < blocks; block++) {
    await tallied(idle, async () => new Promise(resolve => setTimeout(resolve, IDLE_WINDOW)))
    for (const [s, spec] of specs.entries()) {
      const { latencies, outcomes, tally } = progress[s]
      const until = Math.round(spec.count * (block + 1) / blocks)
      await tallied(tally, async () => {
        for (let i = outcomes.length; i < until; i++) {
          const started = performance.now()
          outcomes.push(await spec.operation(i))
          latencies.push(performance.now() - started)
        }
      })
    }
  }

  const idleRate = idle.cpuMs / (idle.wallMs / 1000)
  const series = specs.map((spec, s) => {
    const { latencies, outcomes, tally } = progress[s]
    return {
      name: spec.name,
      latencyMs: summarize(latencies),
      outcomes,
      cpuMsPerOperation: (tally.cpuMs - idleRate * tally.wallMs / 1000) / spec.count,
      wallMs: tally.wallMs
    }
  })
  return { series: series as InterleavedSeries<T>['series'], idleCpuMsPerSecond: idleRate }
}
