/**
 * The machine a run was made on, written with every result: numbers from different machines (or a
 * busier moment of a shared one) are not comparable.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  loadAverage: number[]
  node: string
  platform: string
}

export function describeMachine (): Machine {
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    loadAverage: os.loadavg().map(load => Math.round(load * 100) / 100),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`
  }
}

function cpuModel (): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find(l => l.startsWith('model name'))
    if (line != null) {
      return line.slice(line.indexOf(':') + 1).trim()
    }
  } catch {
    // not Linux: fall back to what Node reports
  }
  return os.cpus()[0]?.model ?? 'unknown'
}
