/**
 * Memory of another process as the kernel counts it (Linux /proc): resident set now and at its peak.
 */
import { readFile } from 'node:fs/promises'

export interface ProcessMemory {
  rssBytes: number
  peakRssBytes: number
}

export async function readProcessMemory (pid: number): Promise<ProcessMemory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return { rssBytes: statusKiB(status, 'VmRSS') * 1024, peakRssBytes: statusKiB(status, 'VmHWM') * 1024 }
}

function statusKiB (status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)
  if (match == null) {
    throw new Error(`no ${field} in /proc/<pid>/status`)
  }
  return Number(match[1])
}
