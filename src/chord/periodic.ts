/**
 * Runs a task again and again, one run at a time: the next run is scheduled only after the
 * previous one settled, so a slow network never piles rounds on top of each other. Each delay is
 * jittered so that nodes started together drift apart.
 */
export interface PeriodicInit {
  intervalMs: number
  /** fraction of the interval by which each delay may vary, e.g. 0.2 for ±20% */
  jitter: number
  /** a run that throws is logged here and the loop goes on */
  onError?(err: unknown): void
}

export class Periodic {
  private readonly task: () => Promise<void>
  private readonly init: PeriodicInit
  private timer?: ReturnType<typeof setTimeout>
  private running = false

  constructor (task: () => Promise<void>, init: PeriodicInit) {
    this.task = task
    this.init = init
  }

  start (): void {
    if (this.running) {
      return
    }
    this.running = true
    this.schedule()
  }

  stop (): void {
    this.running = false
    clearTimeout(this.timer)
  }

  private schedule (): void {
    if (!this.running) {
      return
    }
    const { intervalMs, jitter } = this.init
    const delay = intervalMs * (1 + jitter * (2 * Math.random() - 1))
    this.timer = setTimeout(() => {
      this.task()
        .catch(err => { this.init.onError?.(err) })
        .finally(() => { this.schedule() })
    }, delay)
  }
}
