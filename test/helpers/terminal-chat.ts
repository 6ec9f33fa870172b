/**
 * The terminal chat (`npm run chat`) in a pseudo-terminal, as a person would run it: a real TTY,
 * so readline draws its prompt and echoes what is typed. Output is collected with the terminal's
 * escape sequences removed, for tests to wait on.
 */
import { fileURLToPath } from 'node:url'
import pty from '@lydell/node-pty'
import stripAnsi from 'strip-ansi'
import { waitFor as waitForCondition } from './wait-for.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

/** ms to wait for a line of the chat's output */
export const TERMINAL_DEADLINE = 30_000

export interface TerminalChat {
  /** everything printed so far, escape sequences removed */
  output(): string
  /** wait until the output matches; resolves to the match */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** type a line and press Enter */
  type(line: string): void
  /** type without pressing Enter */
  write(text: string): void
  /** the exit code, once it exits */
  exited: Promise<number>
  kill(): void
}

export function spawnTerminalChat (args: string[]): TerminalChat {
  // this Node (22, from node_modules) with tsx, as `npm run chat` runs it
  const child = pty.spawn(process.execPath, ['--import', 'tsx', 'examples/chat.ts', ...args], {
    cwd: REPO,
    cols: 160,
    rows: 50,
    env: { ...process.env, CHORD_CHAT_PASSPHRASE: '' }
  })
  let raw = ''
  child.onData(data => { raw += data })
  let exitCode: number | undefined
  const exited = new Promise<number>(resolve => child.onExit(({ exitCode: code }) => { exitCode = code; resolve(code) }))
  const output = (): string => stripAnsi(raw)
  return {
    output,
    async waitFor (pattern, timeoutMs = TERMINAL_DEADLINE) {
      let match: RegExpMatchArray | null = null
      try {
        await waitForCondition(() => (match = output().match(pattern)) != null || exitCode != null, `${pattern} in the terminal`, timeoutMs)
      } catch (err) {
        throw new Error(`${(err as Error).message}; the terminal shows:\n${output()}`)
      }
      if (match == null) {
        throw new Error(`the terminal chat exited (${exitCode}) before printing ${pattern}:\n${output()}`)
      }
      return match
    },
    type (line) { child.write(`${line}\r`) },
    write (text) { child.write(text) },
    exited,
    kill () {
      if (exitCode == null) {
        child.kill()
      }
    }
  }
}
