/**
 * KeyedSlots: the places a relay has for lookups passed on to each next node. A task that finds a
 * place runs at once; the rest wait in order, each for a bounded time or until its signal aborts,
 * and a place freed goes to the first in line.
 */
import assert from 'node:assert/strict'
import { KeyedSlots } from '../../src/limits/keyed-slots.js'
import { seededRandom } from '../helpers/simulator.js'
import { waitFor } from '../helpers/wait-for.js'

class TooLong extends Error {}

/** A task that runs until `finish` is called */
function heldTask (log: string[], name: string): { task: () => Promise<string>, finish: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>()
  return {
    task: async () => {
      log.push(`start ${name}`)
      await promise
      return name
    },
    finish: () => { resolve() }
  }
}

/** A few microtasks, or a turn of the event loop, or nothing: where tasks end and arrive */
async function pause (random: () => number): Promise<void> {
  const ticks = Math.floor(random() * 6)
  if (ticks === 5) {
    await new Promise(resolve => setImmediate(resolve))
    return
  }
  for (let tick = 0; tick < ticks; tick++) {
    await Promise.resolve()
  }
}

const slots = (places: number, maxWaitMs = 60_000): KeyedSlots => new KeyedSlots({ places, maxWaitMs, tooLong: key => new TooLong(`no place for ${key}`) })

describe('KeyedSlots (places per next node)', () => {
  it('runs up to its places of one key at once; the next waits for a place, and takes the first freed', async () => {
    const log: string[] = []
    const limited = slots(2)
    const [a, b, c] = ['a', 'b', 'c'].map(name => heldTask(log, name))
    const results = [limited.run('next', a.task), limited.run('next', b.task), limited.run('next', c.task)]
    await waitFor(() => log.length === 2, 'the first two to start')
    assert.deepEqual(log, ['start a', 'start b'])
    assert.equal(limited.size('next'), 3)
    b.finish()
    await waitFor(() => log.length === 3, 'the waiting task to take the freed place')
    assert.deepEqual(log, ['start a', 'start b', 'start c'])
    a.finish()
    c.finish()
    assert.deepEqual(await Promise.all(results), ['a', 'b', 'c'])
    assert.equal(limited.size('next'), 0, 'a key with nothing running or waiting is forgotten')
  })

  it('keys do not share places', async () => {
    const log: string[] = []
    const limited = slots(1)
    const [a, b] = ['a', 'b'].map(name => heldTask(log, name))
    const results = [limited.run('one', a.task), limited.run('other', b.task)]
    await waitFor(() => log.length === 2, 'both to start')
    a.finish()
    b.finish()
    assert.deepEqual(await Promise.all(results), ['a', 'b'])
  })

  it('never runs more than its places, and starts tasks in the order they came, as tasks end and arrive in any order', async () => {
    const limited = slots(3)
    const random = seededRandom(7)
    const started: number[] = []
    let running = 0
    let most = 0
    const runs: Array<Promise<void>> = []
    for (let i = 0; i < 200; i++) {
      runs.push(limited.run('next', async () => {
        started.push(i)
        running++
        most = Math.max(most, running)
        await pause(random)
        running--
      }))
      // newcomers arrive at any moment, also while a freed place is on its way to the first in line
      await pause(random)
    }
    await Promise.all(runs)
    assert.equal(most, 3)
    assert.deepEqual(started, Array.from({ length: 200 }, (_, i) => i))
    assert.equal(limited.size('next'), 0)
  })

  it('a task that waits longer than maxWaitMs fails with its error and never runs; the line goes on without it', async () => {
    const log: string[] = []
    const limited = slots(1, 50)
    const [a, b, c] = ['a', 'b', 'c'].map(name => heldTask(log, name))
    const first = limited.run('next', a.task)
    const started = performance.now()
    await assert.rejects(limited.run('next', b.task), (err: Error) => err instanceof TooLong && err.message === 'no place for next')
    assert.ok(performance.now() - started >= 45, 'gave up before its wait was up')
    assert.equal(limited.size('next'), 1, 'the task that gave up still counts')
    const next = limited.run('next', c.task)
    a.finish()
    await waitFor(() => log.length === 2, 'the next in line to start')
    assert.deepEqual(log, ['start a', 'start c'])
    c.finish()
    assert.deepEqual(await Promise.all([first, next]), ['a', 'c'])
    assert.equal(limited.size('next'), 0)
  })

  it('a wait its signal aborts fails with the signal\'s reason and never runs', async () => {
    const log: string[] = []
    const limited = slots(1)
    const [a, b] = ['a', 'b'].map(name => heldTask(log, name))
    const first = limited.run('next', a.task)
    const controller = new AbortController()
    const waiting = limited.run('next', b.task, { signal: controller.signal })
    const reason = new Error('the deadline passed')
    controller.abort(reason)
    await assert.rejects(waiting, (err: Error) => err === reason)
    a.finish()
    assert.equal(await first, 'a')
    assert.deepEqual(log, ['start a'])
    assert.equal(limited.size('next'), 0)
  })

  it('a task that fails frees its place', async () => {
    const limited = slots(1)
    await assert.rejects(limited.run('next', async () => { throw new Error('the next node reset the stream') }), /reset the stream/)
    assert.equal(await limited.run('next', async () => 'after'), 'after')
    assert.equal(limited.size('next'), 0)
  })
})
