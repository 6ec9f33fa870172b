/**
 * Stopping on SIGTERM (what supervisors send) and SIGINT (Ctrl-C): the first signal starts a
 * graceful stop that must finish within a deadline, or the process exits 1 anyway; a second
 * signal exits at once (128 + its number), for the operator who cannot wait. The same signal once
 * more within REPEATED_SIGNAL_GRACE is the first one passed on by a parent (npm), not a second.
 */
import { constants } from 'node:os'
import { REPEATED_SIGNAL_GRACE, SIGNAL_EXIT_BASE } from './constants.js'
import { EXIT_FAILURE, EXIT_OK, ShutdownTimeoutError } from './errors.js'
import type { Logger } from './log.js'

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const
type StopSignal = typeof STOP_SIGNALS[number]

export interface ShutdownInit {
  /** the graceful stop; resolves once everything is handed off and closed */
  stop(signal: StopSignal): Promise<void>
  /** ms the graceful stop may take */
  deadlineMs: number
  log: Logger
  /** how the process ends; tests pass a fake */
  exit?(code: number): void
  /** where the signals come from: the process; tests pass an emitter */
  signals?: SignalSource
  /** ms now; tests pass a clock */
  now?(): number
}

export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown
  off(signal: StopSignal, listener: () => void): unknown
}

/** Handle stop signals from now on; returns a function that stops handling them */
export function exitOnSignals (init: ShutdownInit): () => void {
  const exit = init.exit ?? ((code: number) => process.exit(code))
  const signals = init.signals ?? process
  const now = init.now ?? Date.now
  let stopping: StopSignal | undefined
  let started = 0
  let repeatTaken = false
  const onSignal = (signal: StopSignal): void => {
    if (stopping != null) {
      if (signal === stopping && !repeatTaken && now() - started < REPEATED_SIGNAL_GRACE) {
        repeatTaken = true
        init.log.debug(`${signal} again within ${REPEATED_SIGNAL_GRACE} ms: the same one, passed on by a parent process`)
        return
      }
      init.log.warn(`second ${signal}: exiting at once, without finishing the handoff`)
      exit(SIGNAL_EXIT_BASE + constants.signals[signal])
      return
    }
    stopping = signal
    started = now()
    init.log.info(`${signal}: leaving the ring (at most ${Math.round(init.deadlineMs / 1000)} s; ${signal} again to exit at once)`)
    const deadline = setTimeout(() => {
      const err = new ShutdownTimeoutError(`did not stop within ${init.deadlineMs} ms; exiting without finishing the handoff`)
      init.log.error({ errorName: err.name }, err.message)
      exit(EXIT_FAILURE)
    }, init.deadlineMs)
    init.stop(signal).then(() => {
      clearTimeout(deadline)
      init.log.info({ durationMs: now() - started }, `stopped in ${now() - started} ms`)
      exit(EXIT_OK)
    }, (err: any) => {
      clearTimeout(deadline)
      init.log.error({ errorName: err?.name }, `stopping failed: ${err?.message ?? String(err)}`)
      exit(EXIT_FAILURE)
    })
  }
  const handlers = STOP_SIGNALS.map(signal => [signal, () => { onSignal(signal) }] as const)
  for (const [signal, handler] of handlers) {
    signals.on(signal, handler)
  }
  return () => {
    for (const [signal, handler] of handlers) {
      signals.off(signal, handler)
    }
  }
}
