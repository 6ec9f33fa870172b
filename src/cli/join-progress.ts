/**
 * What a person sees while the node joins: each address as it is tried, why it failed, when the
 * next round starts; and, for the error at the end, the last reason of every address tried.
 */
import prettyMs from 'ms'
import { oneLine } from './errors.js'
import type { Logger } from './log.js'
import type { JoinProgressEvent } from '../index.js'

export class JoinProgress {
  /** the last failure of each candidate tried */
  readonly failures = new Map<string, string>()
  private readonly log: Logger

  constructor (log: Logger) {
    this.log = log
  }

  readonly onEvent = (event: JoinProgressEvent): void => {
    switch (event.type) {
      case 'attempt':
        this.log.info({ candidate: event.candidate, attempt: event.index, of: event.total, round: event.round }, `trying ${event.candidate} (${event.index}/${event.total})…`)
        break
      case 'attempt-failed': {
        const reason = describeFailure(event.error)
        this.failures.set(event.candidate, reason)
        this.log.warn({ candidate: event.candidate, reason }, `${event.candidate}: ${reason}`)
        break
      }
      case 'round-failed':
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
