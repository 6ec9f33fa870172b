/**
 * The deadlines a unit arms with AbortSignal.timeout, seen and shortened: a test checks the length
 * a deadline is given, then sees it pass without waiting it out.
 */

/**
 * Runs `start` with AbortSignal.timeout recording the length of each deadline asked for and
 * arming one of `armedMs` instead. Only what `start` does before it first awaits is affected:
 * AbortSignal.timeout is itself again once `start` returns.
 */
export function withShortDeadlines<T> (armedMs: number, start: () => T): { result: T, asked: number[] } {
  const asked: number[] = []
  const timeout = AbortSignal.timeout
  AbortSignal.timeout = (ms: number): AbortSignal => {
    asked.push(ms)
    return timeout.call(AbortSignal, armedMs)
  }
  try {
    return { result: start(), asked }
  } finally {
    AbortSignal.timeout = timeout
  }
}
