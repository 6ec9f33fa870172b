/**
 * Counts by key that forget a key once its count is back to 0, so that a map of what strangers
 * hold (per peer, address or subnet) shrinks as they leave
 */

/** Add `change` to the count of `key` (none: not counted) */
export function tally (counts: Map<string, number>, key: string | undefined, change: number): void {
  if (key == null) {
    return
  }
  const next = (counts.get(key) ?? 0) + change
  if (next <= 0) {
    counts.delete(key)
  } else {
    counts.set(key, next)
  }
}
