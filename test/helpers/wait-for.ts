/**
 * Waits until a condition holds, checking it every few milliseconds, and fails with `what` when
 * it does not hold by the deadline. Tests wait for outcomes, never for fixed times. Resolves to
 * the time it took, for tests that report it.
 */
export async function waitFor (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<number> {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    }
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  return Date.now() - started
}
