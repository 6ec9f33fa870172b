/**
 * Where a chat keeps what must outlive the page or process: its groups' states and the delivery
 * of the messages it sent. The application provides it (IndexedDB in a browser, a file in a
 * terminal); values are text. Without one, a chat keeps them in memory.
 */

export interface ChatStore {
  get(key: string): Promise<string | undefined>
  set(key: string, value: string): Promise<void>
  delete(key: string): Promise<void>
  /** every key that starts with `prefix`, with its value */
  entries(prefix: string): Promise<Array<[string, string]>>
}

/** A ChatStore in memory: nothing outlives the process */
export class MemoryChatStore implements ChatStore {
  private readonly values = new Map<string, string>()

  async get (key: string): Promise<string | undefined> {
    return this.values.get(key)
  }

  async set (key: string, value: string): Promise<void> {
    this.values.set(key, value)
  }

  async delete (key: string): Promise<void> {
    this.values.delete(key)
  }

  async entries (prefix: string): Promise<Array<[string, string]>> {
    return [...this.values].filter(([key]) => key.startsWith(prefix))
  }
}
