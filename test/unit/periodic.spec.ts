import assert from 'node:assert/strict'
import { mock } from 'node:test'
import { Periodic, adaptiveInterval } from '../../src/chord/periodic.js'

/** Let the task's promise and the loop's scheduling run (immediates are not mocked) */
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise(resolve => setImmediate(resolve))
  }
}

/** A loop whose runs are recorded at the mocked clock's time; `during` runs inside each run */
function recordedLoop (init: { intervalMs: number, maxIntervalMs?: number, quietRunsBeforeBackoff?: number }, during: (loop: Periodic) => void = () => {}): { loop: Periodic, runs: number[] } {
  const runs: number[] = []
  const loop: Periodic = new Periodic(async () => {
    runs.push(Date.now())
    during(loop)
  }, { ...init, jitter: 0 })
  return { loop, runs }
}

/** Move the mocked clock forward `ms`, one ms at a time, letting every run finish (and the runs due at once) */
async function advance (ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(0)
    await settle()
    mock.timers.tick(1)
    await settle()
  }
}

describe('periodic loops', () => {
  let loops: Periodic[] = []

  beforeEach(() => { mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }) })
  afterEach(() => {
    loops.forEach(loop => { loop.stop() })
    loops = []
    mock.timers.reset()
  })

  it('runs at a fixed interval when it has no long one', async () => {
    const { loop, runs } = recordedLoop({ intervalMs: 100 })
    loops.push(loop)
    loop.start()
    await advance(450)
    assert.deepEqual(runs, [100, 200, 300, 400])
  })

  it('doubles the interval after each run in which nothing woke it, up to the long interval', async () => {
    const { loop, runs } = recordedLoop({ intervalMs: 100, maxIntervalMs: 800 })
    loops.push(loop)
    loop.start()
    await advance(3_200)
    assert.deepEqual(runs, [100, 300, 700, 1_500, 2_300, 3_100])
    assert.equal(loop.intervalMs, 800)
  })

  it('runs quietRunsBeforeBackoff quiet runs at the short interval after a start or a wake before backing off', async () => {
    const { loop, runs } = recordedLoop({ intervalMs: 100, maxIntervalMs: 800, quietRunsBeforeBackoff: 2 })
    loops.push(loop)
    loop.start()
    await advance(1_000)
    assert.deepEqual(runs, [100, 200, 300, 500, 900])
    loop.wake()
    await advance(1_000)
    assert.deepEqual(runs.slice(5), [1_100, 1_200, 1_300, 1_500, 1_900])
  })

  it('is woken back to the short interval, cutting a long wait short', async () => {
    const { loop, runs } = recordedLoop({ intervalMs: 100, maxIntervalMs: 800 })
    loops.push(loop)
    loop.start()
    await advance(1_600)
    // runs at 100, 300, 700, 1,500; the next is due at 2,300
    loop.wake()
    assert.equal(loop.intervalMs, 100)
    await advance(1_000)
    assert.deepEqual(runs.slice(4), [1_700, 1_900, 2_300])
  })

  it('runs at once when woken immediately', async () => {
    const { loop, runs } = recordedLoop({ intervalMs: 100, maxIntervalMs: 800 })
    loops.push(loop)
    loop.start()
    await advance(800)
    loop.wake({ immediately: true })
    await advance(1)
    assert.deepEqual(runs, [100, 300, 700, 800])
  })

  it('never puts a run off that was due sooner than a wake would bring it', async () => {
    const { loop, runs } = recordedLoop({ intervalMs: 100, maxIntervalMs: 800 })
    loops.push(loop)
    loop.start()
    await advance(50)
    loop.wake()
    await advance(100)
    assert.deepEqual(runs, [100])
  })

  it('stays at the short interval while its runs wake it (a round that changed something)', async () => {
    let changing = 3
    const { loop, runs } = recordedLoop({ intervalMs: 100, maxIntervalMs: 800 }, self => {
      if (changing-- > 0) {
        self.wake()
      }
    })
    loops.push(loop)
    loop.start()
    await advance(1_100)
    assert.deepEqual(runs, [100, 200, 300, 400, 600, 1_000])
  })

  it('runs again right after a run during which it was woken immediately', async () => {
    let woken = false
    const { loop, runs } = recordedLoop({ intervalMs: 100, maxIntervalMs: 800 }, self => {
      if (!woken) {
        woken = true
        self.wake({ immediately: true })
      }
    })
    loops.push(loop)
    loop.start()
    await advance(150)
    assert.deepEqual(runs, [100, 100])
  })

  it('does not run once stopped, even when woken', async () => {
    const { loop, runs } = recordedLoop({ intervalMs: 100, maxIntervalMs: 800 })
    loop.start()
    await advance(150)
    loop.stop()
    loop.wake({ immediately: true })
    await advance(1_000)
    assert.deepEqual(runs, [100])
  })

  it('takes the long interval left out as the same multiple of the short one as the defaults', () => {
    const defaults = { shortMs: 1_000, longMs: 30_000 }
    assert.deepEqual(adaptiveInterval(undefined, undefined, defaults), { intervalMs: 1_000, maxIntervalMs: 30_000 })
    assert.deepEqual(adaptiveInterval(100, undefined, defaults), { intervalMs: 100, maxIntervalMs: 3_000 })
    assert.deepEqual(adaptiveInterval(100, 500, defaults), { intervalMs: 100, maxIntervalMs: 500 })
    // a long interval shorter than the short one pins the loop to the short one
    assert.deepEqual(adaptiveInterval(100, 50, defaults), { intervalMs: 100, maxIntervalMs: 100 })
  })
})
