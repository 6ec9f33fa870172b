/**
 * `chord-node` as an operator runs it: the built program (dist/chord-node.mjs, the package's bin)
 * under plain Node, in its own process. `ensureBuilt()` builds it once per test run; `startChordNode()`
 * starts a long-lived node (JSON logs, so the test reads its addresses from them);
 * `runChordNode()` runs a one-shot command to its end.
 */
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait-for.js'
import type { ChildProcess, SpawnOptions } from 'node:child_process'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = fileURLToPath(new URL('../../dist/chord-node.mjs', import.meta.url))

/** The longest a build may take on a busy 2-core machine */
export const BUILD_TIMEOUT_MS = 240_000

/** Maintenance intervals short enough for a ring of processes to settle in a second or two */
export const FAST_TIMER_FLAGS = [
  '--stabilize-interval', '100ms',
  '--fix-fingers-interval', '50ms',
  '--check-predecessor-interval', '200ms',
  '--anti-entropy-interval', '500ms',
  '--sweep-interval', '500ms',
  '--subscription-check-interval', '100ms',
  '--request-timeout', '2s'
]

let built: Promise<void> | undefined

/** Build the package as `npm run build` does (tsc, then the bin's bundle), once per test process */
export async function ensureBuilt (): Promise<void> {
  built ??= (async () => {
    const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
    const steps = [[tsc, '-p', 'tsconfig.build.json'], ['--import', 'tsx', 'scripts/build-bin.ts']]
    for (const args of steps) {
      const result = await runProcess(process.execPath, args, { cwd: REPO_ROOT }, BUILD_TIMEOUT_MS)
      if (result.code !== 0) {
        throw new Error(`the build failed (${result.code}): ${result.stdout}${result.stderr}`)
      }
    }
  })()
  return built
}

export interface ProcessResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  durationMs: number
}

/** Run a process to its end (killed at the deadline, which fails the test) */
export async function runProcess (command: string, args: string[], options: SpawnOptions = {}, timeoutMs = 30_000, stdin?: string): Promise<ProcessResult> {
  const started = Date.now()
  const child = spawn(command, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  child.stdin?.end(stdin)
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (c, s) => { resolve([c, s]) })
  })
  clearTimeout(timer)
  if (signal === 'SIGKILL' && Date.now() - started >= timeoutMs) {
    throw new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms: ${stdout}${stderr}`)
  }
  return { code, signal, stdout, stderr, durationMs: Date.now() - started }
}

/** A one-shot `chord-node …` command */
export async function runChordNode (args: string[], options: { env?: NodeJS.ProcessEnv, cwd?: string, stdin?: string, timeoutMs?: number, uid?: number, gid?: number } = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...cleanEnv(), ...options.env },
    uid: options.uid,
    gid: options.gid
  }, options.timeoutMs, options.stdin)
}

/**
 * The environment an operator's shell would give: without CHORD_* variables of whoever runs the
 * tests, and without NODE_OPTIONS (a test runner's TypeScript loader has no place in a compiled
 * program)
 */
export function cleanEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CHORD_') && name !== 'NODE_OPTIONS'))
}

/** One JSON log line of a node */
export interface LogLine {
  level: string
  msg: string
  [field: string]: unknown
}

/** A long-lived `chord-node run` (or `npm start`) process, its log read as it goes */
export class NodeProcess {
  readonly child: ChildProcess
  readonly lines: LogLine[] = []
  /** stderr lines that were not JSON (a crash, libp2p's DEBUG output) */
  readonly otherLines: string[] = []
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null, at: number }>
  readonly dataDir: string
  exitStatus?: { code: number | null, signal: NodeJS.Signals | null, at: number }

  constructor (child: ChildProcess, dataDir: string) {
    this.child = child
    this.dataDir = dataDir
    this.exited = new Promise(resolve => {
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal, at: Date.now() }
        resolve(this.exitStatus)
      })
    })
    for (const stream of [child.stderr, child.stdout]) {
      if (stream == null) {
        continue
      }
      createInterface({ input: stream }).on('line', line => {
        try {
          this.lines.push(JSON.parse(line))
        } catch {
          this.otherLines.push(line)
        }
      })
    }
  }

  get pid (): number {
    return this.child.pid ?? -1
  }

  /** The first log line (so far or to come) that matches */
  async waitForLine (match: (line: LogLine) => boolean, what: string, timeoutMs = 30_000): Promise<LogLine> {
    await waitFor(() => this.lines.some(match) || this.exitStatus != null, what, timeoutMs)
    const line = this.lines.find(match)
    if (line == null) {
      throw new Error(`the node exited (${JSON.stringify(this.exitStatus)}) before ${what}: ${this.describe()}`)
    }
    return line
  }

  /** Wait until the node has joined (or started) a ring; resolves to its first listen address */
  async started (timeoutMs = 30_000): Promise<{ address: string, peerId: string, httpUrl?: string }> {
    await this.waitForLine(line => /^(joined a ring|started a new ring)/.test(line.msg), 'the node to join or start a ring', timeoutMs)
    const address = this.lines.find(line => typeof line.address === 'string')?.address as string
    const peerId = this.lines.find(line => typeof line.peerId === 'string')?.peerId as string
    const httpUrl = this.lines.find(line => line.msg.startsWith('metrics and health'))?.url as string | undefined
    return { address, peerId, httpUrl }
  }

  /** The admin API's address and token, from the data directory */
  async admin (): Promise<{ url: string, token: string, pid: number }> {
    return JSON.parse(await readFile(`${this.dataDir}/admin.json`, 'utf8'))
  }

  /** A request to the node's admin API, as the client commands make them */
  async call (path: string, body?: unknown): Promise<any> {
    const { url, token } = await this.admin()
    const response = await fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const answer = await response.json()
    if (!response.ok) {
      throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`)
    }
    return answer
  }

  describe (): string {
    return [...this.lines.map(line => `${line.level}: ${line.msg}`), ...this.otherLines].join('\n')
  }

  /**
   * Send a signal and wait for the exit (SIGKILL at the deadline, which fails the caller's
   * assertions). To `group`, every process of the child's process group gets it, as a terminal's
   * Ctrl-C or a supervisor stopping a whole service does (the child must lead its group: spawn it
   * `detached`)
   */
  async stop (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 45_000, to: 'process' | 'group' = 'process'): Promise<{ code: number | null, signal: NodeJS.Signals | null, durationMs: number }> {
    if (this.exitStatus == null) {
      const sent = Date.now()
      this.kill(signal, to)
      const timer = setTimeout(() => { this.kill('SIGKILL', to) }, timeoutMs)
      const status = await this.exited
      clearTimeout(timer)
      return { code: status.code, signal: status.signal, durationMs: status.at - sent }
    }
    return { ...this.exitStatus, durationMs: 0 }
  }

  private kill (signal: NodeJS.Signals, to: 'process' | 'group'): void {
    if (to === 'group') {
      process.kill(-this.pid, signal)
    } else {
      this.child.kill(signal)
    }
  }
}

/** Start `chord-node run` with JSON logs and the given flags */
export function startChordNode (dataDir: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): NodeProcess {
  const child = spawn(process.execPath, [BIN, 'run', '--data-dir', dataDir, '--log-format', 'json', ...args], {
    env: { ...cleanEnv(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  return new NodeProcess(child, dataDir)
}

/** Stop every process still running (SIGKILL: for clean-up after a failed test only) */
export async function killAll (nodes: Array<NodeProcess | undefined>): Promise<void> {
  await Promise.all(nodes.map(async node => {
    if (node != null && node.exitStatus == null) {
      node.child.kill('SIGKILL')
      await node.exited
    }
  }))
}
