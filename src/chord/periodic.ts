/**
 * Runs a task again and again, one run at a time: the next run is scheduled only after the
 * previous one settled, so a slow network never piles rounds on top of each other. Each delay is
 * jittered so that nodes started together drift apart.
 *
 * A loop may be adaptive: it starts at `intervalMs`, and each run during which nobody called
 * `wake()` lengthens the interval by `backoffFactor`, up to `maxIntervalMs`. `wake()` brings it
 * back to `intervalMs` at once, cutting short a wait that would end later than that. So a loop
 * whose task has nothing to do costs little, and one that is told of a change works at full speed
 * until things are quiet again. Without `maxIntervalMs` the interval is fixed.
 */
export interface PeriodicInit {
  /** ms between runs while things change, and at first */
  intervalMs: number
  /** the longest ms between runs once nothing changes; default `intervalMs` (a fixed interval) */
  maxIntervalMs?: number
  /** the interval grows by this factor after each quiet run; default 2 */
  backoffFactor?: number
  /**
   * quiet runs at the short interval after a wake (or the start) before the interval starts to
   * grow: changes come in bursts, and the first quiet run after one often only means the next
   * part of it has not arrived yet; default 0
   */
  quietRunsBeforeBackoff?: number
  /** fraction of the interval by which each delay may vary, e.g. 0.2 for ±20% */
  jitter: number
  /** a run that throws is logged here and the loop goes on */
  onError?(err: unknown): void
}

/** Growth of an adaptive interval after a quiet run: doubling reaches 30× in five runs */
export const DEFAULT_BACKOFF_FACTOR = 2

/**
 * The short and long interval of an adaptive loop from its settings: a long interval left out is
 * the same multiple of the short one as the defaults', so that shortening the short interval (as
 * tests and simulations do) shortens both
 */
export function adaptiveInterval (shortMs: number | undefined, longMs: number | undefined, defaults: { shortMs: number, longMs: number }): { intervalMs: number, maxIntervalMs: number } {
  const intervalMs = shortMs ?? defaults.shortMs
  const maxIntervalMs = longMs ?? Math.round(intervalMs * defaults.longMs / defaults.shortMs)
  return { intervalMs, maxIntervalMs: Math.max(intervalMs, maxIntervalMs) }
}

export class Periodic {
  private readonly task: () => Promise<void>
  private readonly init: PeriodicInit
  private readonly maxIntervalMs: number
  private readonly backoffFactor: number
  private readonly quietRunsBeforeBackoff: number
  /** quiet runs since the last wake */
  private quietRuns = 0
  private timer?: ReturnType<typeof setTimeout>
  /** when the pending timer fires, ms since the epoch */
  private dueAt = 0
  private running = false
  private inRun = false
  /** wake() was called while the task ran: the next delay is the short one */
  private wokenDuringRun = false
  /** wake() asked for a run at once while the task ran: run again as soon as it ends */
  private rerun = false
  private currentMs: number
  /** the delay before the pending run and the one before it: how far apart runs are now */
  private recentDelays: [number, number]

  constructor (task: () => Promise<void>, init: PeriodicInit) {
    this.task = task
    this.init = init
    this.maxIntervalMs = Math.max(init.intervalMs, init.maxIntervalMs ?? init.intervalMs)
    this.backoffFactor = init.backoffFactor ?? DEFAULT_BACKOFF_FACTOR
    this.quietRunsBeforeBackoff = init.quietRunsBeforeBackoff ?? 0
    this.currentMs = init.intervalMs
    this.recentDelays = [init.intervalMs, init.intervalMs]
  }

  /** The interval the loop works at now, between `intervalMs` and `maxIntervalMs` */
  get intervalMs (): number {
    return this.currentMs
  }

  /**
   * How far apart runs may be at the moment: the longer of the last two delays (jitter included),
   * so that a run that comes a full backed-off interval after the previous one is not late
   */
  get expectedGapMs (): number {
    return Math.max(...this.recentDelays)
  }

  start (): void {
    if (this.running) {
      return
    }
    this.running = true
    this.currentMs = this.init.intervalMs
    this.quietRuns = 0
    this.schedule(this.jittered(this.currentMs))
  }

  stop (): void {
    this.running = false
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /**
   * Something changed: work at the short interval again. The next run comes within it (at once
   * with `immediately`), unless it was due sooner anyway.
   */
  wake (options: { immediately?: boolean } = {}): void {
    this.currentMs = this.init.intervalMs
    this.quietRuns = 0
    if (!this.running) {
      return
    }
    if (this.inRun) {
      this.wokenDuringRun = true
      this.rerun ||= options.immediately === true
      return
    }
    const delay = options.immediately === true ? 0 : this.jittered(this.currentMs)
    if (Date.now() + delay < this.dueAt) {
      clearTimeout(this.timer)
      this.schedule(delay)
    }
  }

  private schedule (delay: number): void {
    if (!this.running) {
      return
    }
    this.recentDelays = [this.recentDelays[1], delay]
    this.dueAt = Date.now() + delay
    this.timer = setTimeout(() => { this.run() }, delay)
  }

  private run (): void {
    this.timer = undefined
    this.inRun = true
    this.wokenDuringRun = false
    this.rerun = false
    this.task()
      .catch(err => { this.init.onError?.(err) })
      .finally(() => {
        this.inRun = false
        if (this.wokenDuringRun) {
          this.currentMs = this.init.intervalMs
          this.quietRuns = 0
        } else if (++this.quietRuns > this.quietRunsBeforeBackoff) {
          this.currentMs = Math.min(this.maxIntervalMs, this.currentMs * this.backoffFactor)
        }
        this.schedule(this.rerun ? 0 : this.jittered(this.currentMs))
      })
  }

  private jittered (intervalMs: number): number {
    return intervalMs * (1 + this.init.jitter * (2 * Math.random() - 1))
  }
}
