/**
 * Tasks run one at a time per key (per remote peer), in the order they came; tasks of different
 * keys run side by side. A key is forgotten as soon as its last task ends, so memory follows the
 * tasks in flight, not the peers ever seen.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>()

  async run<T> (key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve()
    const result = before.then(task, task)
    const tail = result.catch(() => {})
    this.tails.set(key, tail)
    try {
      return await result
    } finally {
      if (this.tails.get(key) === tail) {
        this.tails.delete(key)
      }
    }
  }

  /** Keys with a task queued or running */
  get size (): number {
    return this.tails.size
  }
}
