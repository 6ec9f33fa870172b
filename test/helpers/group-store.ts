import type { GroupStore, SavedLeave } from '../../src/groups/groups.js'

/** A GroupStore in memory, which a second Groups of the same device can load again */
export class MemoryGroupStore implements GroupStore {
  readonly states = new Map<string, Uint8Array[]>()
  readonly heard = new Map<string, SavedLeave[]>()
  left: string[] = []
  async load (): Promise<Uint8Array[][]> { return [...this.states.values()] }
  async save (id: string, states: Uint8Array[]): Promise<void> { this.states.set(id, states) }
  async remove (id: string): Promise<void> { this.states.delete(id); this.heard.delete(id) }
  async loadLeft (): Promise<string[]> { return this.left }
  async saveLeft (ids: string[]): Promise<void> { this.left = ids }
  async loadHeard (): Promise<Array<[string, SavedLeave[]]>> { return [...this.heard] }
  async saveHeard (id: string, leaves: SavedLeave[]): Promise<void> {
    if (leaves.length === 0) {
      this.heard.delete(id)
    } else {
      this.heard.set(id, leaves)
    }
  }
}
