/**
 * Standalone ring nodes as separate processes: the example CLI behind `npm start`, each with its
 * own data directory, listening on 127.0.0.1. A node counts as started once it has printed its
 * identity and address.
 */
import { spawn } from 'node:child_process'
import { ringIdFromHex } from '../../src/chord/id.js'
import type { ChildProcess } from 'node:child_process'

/** How a node process is started: the program and the arguments before the CLI's own options */
export interface Launcher {
  name: string
  command: string
  args: string[]
}

export interface StandaloneNode {
  launcher: string
  child: ChildProcess
  pid: number
  peerId: string
  ringId: bigint
  address: string
}

export interface StandaloneNodeInit {
  dataDir: string
  bootstrap: string[]
  /** ms to wait for the node to print its address */
  startTimeoutMs: number
  cwd: string
}

/** Start one node and wait until it says who and where it is */
export async function startStandaloneNode (launcher: Launcher, init: StandaloneNodeInit): Promise<StandaloneNode> {
  const child = spawn(launcher.command, [
    ...launcher.args,
    '--listen', '/ip4/127.0.0.1/tcp/0',
    '--data-dir', init.dataDir,
    ...init.bootstrap.flatMap(address => ['--bootstrap', address])
  ], { cwd: init.cwd, stdio: ['ignore', 'pipe', 'pipe'] })

  let output = ''
  let errors = ''
  child.stderr?.on('data', (chunk: Buffer) => { errors = (errors + chunk.toString()).slice(-4000) })
  // chord-node logs to stderr, each line after a timestamp and level
  const read = (chunk: Buffer): string => { output += chunk.toString(); return output }
  try {
    const identity = await new Promise<{ peerId: string, ringId: bigint, address: string }>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`no address from ${launcher.name} node within ${init.startTimeoutMs} ms`)) }, init.startTimeoutMs)
      child.once('exit', code => {
        clearTimeout(timer)
        reject(new Error(`${launcher.name} node exited with ${code} before it started: ${errors}`))
      })
      const onData = (chunk: Buffer): void => {
        const text = read(chunk)
        const peerId = /peer id:\s+(\S+)$/m.exec(text)?.[1]
        const ringId = /ring id:\s+([0-9a-f]+)$/m.exec(text)?.[1]
        const address = /listening on (\S+)$/m.exec(text)?.[1]
        if (peerId != null && ringId != null && address != null) {
          clearTimeout(timer)
          resolve({ peerId, ringId: ringIdFromHex(ringId), address })
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
    })
    return { launcher: launcher.name, child, pid: child.pid ?? -1, ...identity }
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
}

/** Ask every process to end (SIGTERM: a node leaves the ring gracefully), and kill those still running after `graceMs` */
export async function stopProcesses (children: ChildProcess[], graceMs: number): Promise<void> {
  await Promise.all(children.map(async child => {
    if (child.exitCode != null || child.signalCode != null) {
      return
    }
    const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
    child.kill('SIGTERM')
    const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
    await exited
    clearTimeout(timer)
  }))
}
