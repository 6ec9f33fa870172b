/**
 * At most `places` tasks per key (per next node) at once; more wait their turn, in the order they
 * came, each for at most `maxWaitMs` or until its signal aborts. A place freed goes straight to
 * the first in line, so a newcomer never overtakes it. A key is forgotten as soon as its last task
 * ends, so memory follows the tasks in flight, not the keys ever seen.
 *
 * Cheap on the path every relayed lookup takes: a task that finds a place makes no timer, no
 * promise beyond its own and no event; only one that has to wait pays for its wait.
 */
import { raceSignal } from 'race-signal'

export interface KeyedSlotsInit {
  /** tasks of one key running at once */
  places: number
  /** ms a task waits for a place before it fails with `tooLong`'s error */
  maxWaitMs: number
  /** the error of a task that waited `maxWaitMs` for a place of `key` in vain */
  tooLong(key: string): Error
}

interface Line {
  running: number
  /** each waiting task's grant of a place, first in line first */
  waiting: Array<() => void>
}

export class KeyedSlots {
  private readonly init: KeyedSlotsInit
  private readonly lines = new Map<string, Line>()

  constructor (init: KeyedSlotsInit) {
    this.init = init
  }

  /** Tasks of `key` running or waiting */
  size (key: string): number {
    const line = this.lines.get(key)
    return line == null ? 0 : line.running + line.waiting.length
  }

  /**
   * Run `task` once a place of `key` is free. Rejects without running it when the wait ends
   * first: after `maxWaitMs` with `tooLong`'s error, or with `signal`'s reason. Once running, the
   * task is the caller's to stop.
   */
  async run<T> (key: string, task: () => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    let line = this.lines.get(key)
    if (line == null) {
      line = { running: 0, waiting: [] }
      this.lines.set(key, line)
    }
    if (line.running < this.init.places && line.waiting.length === 0) {
      line.running++
    } else {
      await this.waitForPlace(key, line, options.signal)
    }
    try {
      return await task()
    } finally {
      this.release(key, line)
    }
  }

  /** Resolves once a place is handed to us; rejects, out of line, when the wait ends first */
  private async waitForPlace (key: string, line: Line, signal?: AbortSignal): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    line.waiting.push(resolve)
    const timer = setTimeout(() => { reject(this.init.tooLong(key)) }, this.init.maxWaitMs)
    try {
      await raceSignal(promise, signal)
    } catch (err) {
      const at = line.waiting.indexOf(resolve)
      if (at !== -1) {
        line.waiting.splice(at, 1)
        this.forgetIfIdle(key, line)
        throw err
      }
      // the place was handed to us as the wait ended: it is ours to use
    } finally {
      clearTimeout(timer)
    }
  }

  /** A task ended: its place goes to the first in line, or is free */
  private release (key: string, line: Line): void {
    const next = line.waiting.shift()
    if (next != null) {
      next()
      return
    }
    line.running--
    this.forgetIfIdle(key, line)
  }

  private forgetIfIdle (key: string, line: Line): void {
    if (line.running === 0 && line.waiting.length === 0 && this.lines.get(key) === line) {
      this.lines.delete(key)
    }
  }
}
