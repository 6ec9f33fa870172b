/** The items in a uniformly random order, shuffled lazily (Fisher–Yates) so a short read costs little */
export function * randomOrder<T> (items: readonly T[]): Generator<T> {
  const pool = [...items]
  for (let i = 0; i < pool.length; i++) {
    const j = i + Math.floor(Math.random() * (pool.length - i))
    ;[pool[i], pool[j]] = [pool[j], pool[i]]
    yield pool[i]
  }
}

/** A copy of `items` in a uniformly random order */
export function shuffled<T> (items: readonly T[]): T[] {
  return [...randomOrder(items)]
}
