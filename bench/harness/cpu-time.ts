/**
 * CPU time of this process (user + system, all threads), for "CPU per operation" figures. The
 * process runs every node of a benchmark network, so this is the whole network's CPU.
 */

/** A reading to measure from */
export function cpuNow (): NodeJS.CpuUsage {
  return process.cpuUsage()
}

/** ms of CPU (user + system) spent since `start` */
export function cpuMsSince (start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

/**
 * ms of CPU the process burns per wall-clock second while nothing is asked of it (maintenance
 * timers, routing-table refreshes), measured over `durationMs`. Subtracted from a measurement, it
 * leaves the CPU the measured operations themselves cost.
 */
export async function idleCpuMsPerSecond (durationMs: number): Promise<number> {
  const start = cpuNow()
  const began = performance.now()
  await new Promise(resolve => setTimeout(resolve, durationMs))
  return cpuMsSince(start) / ((performance.now() - began) / 1000)
}
