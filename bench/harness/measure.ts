/**
 * Timing series of operations, one operation at a time, on a shared and noisy machine.
 *
 * Series that are compared with each other (chord against kad-dht) run interleaved: a block of one,
 * then a block of the other, over and over, with both networks up the whole time. A burst of load
 * from elsewhere on the machine then lands on both sides alike instead of on whichever series
 * happened to run at that moment.
 *
 * Besides latency, each series gets the CPU the process spent on it: CPU used during its blocks,
 * less the idle background rate (maintenance timers of every network in the process) measured
 * before the first block. The heap is collected before every block, so that a block pays for the
 * garbage collection of its own garbage and not for what the block before it left behind.
 */
import v8 from 'node:v8'
import vm from 'node:vm'
import { cpuMsSince, cpuNow, idleCpuMsPerSecond } from './cpu-time.js'
import { summarize } from './stats.js'
import type { Summary } from './stats.js'

/** ms of quiet before timing, to learn the background CPU rate */
const IDLE_CPU_SAMPLE = 3000

/** A full garbage collection on demand, without having to start Node with --expose-gc */
function collectGarbageFunction (): () => void {
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc')
}

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
  /** process CPU per operation beyond the idle background rate */
  cpuMsPerOperation: number
  /** ms of wall-clock time spent in this series' blocks */
  wallMs: number
}

export interface InterleavedSeries<T extends unknown[]> {
  series: { [K in keyof T]: Series<T[K]> }
  /** process CPU per second with every network idle */
  idleCpuMsPerSecond: number
}

/**
 * Run `specs` in `blocks` rounds; in each round every spec runs its next count/blocks operations.
 */
export async function timeInterleaved<T extends unknown[]> (blocks: number, specs: { [K in keyof T]: SeriesSpec<T[K]> }): Promise<InterleavedSeries<T>> {
  for (const spec of specs) {
    for (let i = 0; i < spec.warmup; i++) {
      await spec.operation(spec.count + i)
    }
  }
  const collectGarbage = collectGarbageFunction()
  collectGarbage()
  const idleRate = await idleCpuMsPerSecond(IDLE_CPU_SAMPLE)

  const progress = specs.map(() => ({ latencies: [] as number[], outcomes: [] as unknown[], cpuMs: 0, wallMs: 0 }))
  for (let block = 0; block < blocks; block++) {
    for (const [s, spec] of specs.entries()) {
      const state = progress[s]
      const until = Math.round(spec.count * (block + 1) / blocks)
      collectGarbage()
      const cpuStart = cpuNow()
      const began = performance.now()
      for (let i = state.outcomes.length; i < until; i++) {
        const started = performance.now()
        state.outcomes.push(await spec.operation(i))
        state.latencies.push(performance.now() - started)
      }
      state.wallMs += performance.now() - began
      state.cpuMs += cpuMsSince(cpuStart)
    }
  }

  const series = specs.map((spec, s) => {
    const { latencies, outcomes, cpuMs, wallMs } = progress[s]
    return {
      name: spec.name,
      latencyMs: summarize(latencies),
      outcomes,
      cpuMsPerOperation: (cpuMs - idleRate * wallMs / 1000) / spec.count,
      wallMs
    }
  })
  return { series: series as InterleavedSeries<T>['series'], idleCpuMsPerSecond: idleRate }
}
