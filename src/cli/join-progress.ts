/**
 * What a person sees while the node joins: each address as it is tried, why it failed, when the
 * next round starts; and, for the error at the end, the last reason of every address tried.
 */
import prettyMs from 'ms'
import { findNamed, oneLine } from './errors.js'
import type { Logger } from './log.js'
import type { JoinProgressEvent } from '../index.js'

export class JoinProgress {
  /** the last failure of each candidate tried */
  readonly failures = new Map<string, string>()
  private readonly log: Logger
  /** the node stopped while joining: what the join says from then on is no news of the ring */
  private stopped = false

  constructor (log: Logger) {
    this.log = log
  }

  readonly onEvent = (event: JoinProgressEvent): void => {
    switch (event.type) {
      case 'attempt':
        this.log.info({ candidate: event.candidate, attempt: event.index, of: event.total, round: event.round }, `trying ${event.candidate} (${event.index}/${event.total})…`)
        break
      case 'attempt-failed': {
        // the stop cuts short the attempt under way (the library's join goes on in the
        // background after its deadline): the candidate's last failure of its own stands
        if (findNamed(event.error, 'NotStartedError') != null) {
          this.stopped = true
          break
        }
        const reason = describeFailure(event.error)
        this.failures.set(event.candidate, reason)
        this.log.warn({ candidate: event.candidate, reason }, `${event.candidate}: ${reason}`)
        break
      }
      case 'round-failed':
        if (this.stopped) {
          break
        }
        this.log.warn({ round: event.round, retryInMs: event.retryInMs }, `nobody answered in round ${event.round}; next round in ${prettyMs(event.retryInMs)}`)
        break
      case 'joined':
        this.log.info({ candidate: event.candidate }, `joined through ${event.candidate}`)
        break
    }
  }

  /** Every address tried with its last failure, for one line */
  summary (): string {
    return [...this.failures].map(([candidate, reason]) => `${candidate} (${reason})`).join(', ')
  }
}

/** The innermost, most specific reason, on one line */
function describeFailure (err: Error): string {
  const errors = (err as AggregateError).errors
  const inner = Array.isArray(errors) && errors.length > 0 ? errors[0] : (err.cause instanceof Error ? err.cause : err)
  const message = inner instanceof Error ? inner.message : String(inner)
  if (err.name === 'AbortError' || err.name === 'TimeoutError' || /aborted|timed out/i.test(message)) {
    return 'no answer in time'
  }
  return oneLine(message === '' ? err.name : message)
}
