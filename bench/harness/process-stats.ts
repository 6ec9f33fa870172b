/**
 * Resource use of another process as the kernel counts it (Linux /proc): resident memory now and
 * at its peak, and CPU time used so far.
 */
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'

export interface ProcessMemory {
  rssBytes: number
  peakRssBytes: number
  /**
   * the part of the RSS that is file pages (the Node binary's code and read-only data above all):
   * clean pages the kernel shares between every process that maps the same file
   */
  fileRssBytes: number
}

export async function readProcessMemory (pid: number): Promise<ProcessMemory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return {
    rssBytes: statusKiB(status, 'VmRSS') * 1024,
    peakRssBytes: statusKiB(status, 'VmHWM') * 1024,
    fileRssBytes: statusKiB(status, 'RssFile') * 1024
  }
}

/** ms of CPU (user + system) the process has used since it started */
export async function readProcessCpuMs (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // fields after the command name, which is in parentheses and may contain spaces
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name
  const ticks = Number(fields[11]) + Number(fields[12])
  return ticks * 1000 / clockTicksPerSecond()
}

let ticksPerSecond: number | undefined

function clockTicksPerSecond (): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
  return ticksPerSecond
}

function statusKiB (status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)
  if (match == null) {
    throw new Error(`no ${field} in /proc/<pid>/status`)
  }
  return Number(match[1])
}
