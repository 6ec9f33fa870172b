/**
 * A chat's groups in its ChatStore, under the device's prefix: each group's states, the groups
 * its person left, and the leaves heard but not acted on yet (docs/protocol.md, "Groups")
 */
import { fromString as fromHex } from 'uint8arrays/from-string'
import { toString as toHex } from 'uint8arrays/to-string'
import type { ChatStore } from './chat-store.js'
import type { GroupStore, SavedLeave } from '../groups/groups.js'

export function groupStoreIn (store: ChatStore, prefix: string): GroupStore {
  const statesKey = `${prefix}group/`
  const leftKey = `${prefix}groups-left`
  const heardKey = `${prefix}group-leaves-heard/`
  return {
    load: async () => (await store.entries(statesKey)).map(([, value]) => (JSON.parse(value) as string[]).map(hex => fromHex(hex, 'base16'))),
    save: async (id, states) => { await store.set(statesKey + id, JSON.stringify(states.map(state => toHex(state, 'base16')))) },
    remove: async id => {
      await store.delete(statesKey + id)
      await store.delete(heardKey + id)
    },
    loadLeft: async () => JSON.parse(await store.get(leftKey) ?? '[]') as string[],
    saveLeft: async ids => { await store.set(leftKey, JSON.stringify(ids)) },
    loadHeard: async () => (await store.entries(heardKey)).map(([key, value]) => [key.slice(heardKey.length), JSON.parse(value) as SavedLeave[]]),
    saveHeard: async (id, leaves) => {
      await (leaves.length === 0 ? store.delete(heardKey + id) : store.set(heardKey + id, JSON.stringify(leaves)))
    }
  }
}
