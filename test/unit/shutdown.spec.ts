/**
 * Stop signals: one starts a graceful stop, a second exits at once, and the same signal passed on
 * by a parent (npm) within REPEATED_SIGNAL_GRACE is not a second.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { pino } from 'pino'
import { REPEATED_SIGNAL_GRACE, SIGNAL_EXIT_BASE } from '../../src/cli/constants.js'
import { exitOnSignals } from '../../src/cli/shutdown.js'

const SIGINT_EXIT = SIGNAL_EXIT_BASE + 2
const SIGTERM_EXIT = SIGNAL_EXIT_BASE + 15

/** A node whose graceful stop never ends by itself, its signals from an emitter, its clock set by hand */
function stoppingNode (): { signals: EventEmitter, exits: number[], messages: string[], clock: { now: number }, stops: string[], unhandle(): void } {
  const signals = new EventEmitter()
  const exits: number[] = []
  const messages: string[] = []
  const stops: string[] = []
  const clock = { now: 1_000_000 }
  const log = pino({ level: 'debug' }, { write: (line: string) => { messages.push(JSON.parse(line).msg) } })
  const unhandle = exitOnSignals({
    stop: async signal => { stops.push(signal); await new Promise(() => {}) },
    deadlineMs: 60_000,
    log,
    exit: code => { exits.push(code) },
    signals,
    now: () => clock.now
  })
  return { signals, exits, messages, clock, stops, unhandle }
}

describe('stop signals', () => {
  const started: Array<() => void> = []
  afterEach(() => {
    started.splice(0).forEach(unhandle => { unhandle() })
  })

  function node (): ReturnType<typeof stoppingNode> {
    const made = stoppingNode()
    started.push(made.unhandle)
    return made
  }

  it('the same signal passed on by a parent within REPEATED_SIGNAL_GRACE leaves the graceful stop running; once more, it exits at once', () => {
    const { signals, exits, stops, clock, messages } = node()
    signals.emit('SIGINT')
    clock.now += 5
    signals.emit('SIGINT')
    assert.deepEqual(stops, ['SIGINT'])
    assert.deepEqual(exits, [])
    assert.ok(messages.some(m => m.startsWith('SIGINT again within')), messages.join('\n'))
    // the person's second Ctrl-C reaches the node too, however soon
    clock.now += 5
    signals.emit('SIGINT')
    assert.deepEqual(exits, [SIGINT_EXIT])
  })

  it('the same signal after REPEATED_SIGNAL_GRACE exits at once', () => {
    const { signals, exits, clock } = node()
    signals.emit('SIGTERM')
    clock.now += REPEATED_SIGNAL_GRACE
    signals.emit('SIGTERM')
    assert.deepEqual(exits, [SIGTERM_EXIT])
  })

  it('another signal, however soon, exits at once', () => {
    const { signals, exits } = node()
    signals.emit('SIGTERM')
    signals.emit('SIGINT')
    assert.deepEqual(exits, [SIGINT_EXIT])
  })

  it('handles nothing once told to stop handling', () => {
    const { signals, stops, unhandle } = node()
    unhandle()
    signals.emit('SIGTERM')
    assert.deepEqual(stops, [])
  })
})
