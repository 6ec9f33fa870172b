/**
 * The chat's IndexedDB database: identities, contacts, messages, and settings (the library chat's
 * groups and delivery counts among them).
 *
 * Contacts and messages belong to the identity that holds them (`owner`, an address), so
 * importing another identity keeps the first one's conversations; every identity ever used on
 * this device stays too, so switching never loses a secret key.
 */
import { openDB } from 'idb'
import type { StoredIdentity } from '../shared/identity-vault.js'
import type { ChatStore } from '../../src/index.js'
import type { DBSchema, IDBPDatabase } from 'idb'

export const CHAT_DB_NAME = 'libp2p-chord-chat'
const CHAT_DB_VERSION = 1

/**
 * An outgoing message's state: `sending` until send() resolved, `stored` once it is on the
 * recipient's mailbox replicas, `delivered` once the recipient's receipt came back; `failed`
 * when sending gave up (it can be sent again).
 */
export type OutgoingState = 'sending' | 'stored' | 'delivered' | 'failed'

export interface Contact {
  owner: string
  address: string
  name: string
  fingerprint: string
  addedAt: number
  /** added because they wrote first: the user has not named them yet */
  unknown: boolean
  /** time of the last message either way, for the order of the list */
  lastAt: number
  unread: number
}

export interface ChatMessage {
  /** the envelope id for incoming messages; a local id for outgoing ones */
  key: string
  owner: string
  contact: string
  direction: 'in' | 'out'
  text: string
  /** ms since the epoch: when it was written (outgoing) or sent, as the sender's clock said (incoming) */
  at: number
  /** outgoing only */
  state?: OutgoingState
  /** outgoing only: the id send() returned, which delivery states name */
  envelopeId?: string
  /** outgoing only: how far it got, "delivered to 2 of 3 devices" */
  progress?: string
  /** incoming group messages: who wrote it (an address) */
  author?: string
  /** outgoing only: why it failed */
  error?: string
}

/** A receipt that came before its send() resolved (the id was not known yet) */
export interface EarlyReceipt {
  id: string
  from: string
  receivedAt: number
}

interface ChatSchema extends DBSchema {
  identities: { key: string, value: StoredIdentity }
  settings: { key: string, value: string }
  contacts: { key: [string, string], value: Contact, indexes: { owner: string } }
  messages: {
    key: string
    value: ChatMessage
    indexes: { conversation: [string, string, number], envelope: string, state: string }
  }
  /** receipts that came before send() resolved, from before the library counted delivery; unused, kept in the schema of version 1 */
  receipts: { key: string, value: EarlyReceipt }
}

export type ChatDb = IDBPDatabase<ChatSchema>

export async function openChatDb (): Promise<ChatDb> {
  return openDB<ChatSchema>(CHAT_DB_NAME, CHAT_DB_VERSION, {
    upgrade (db) {
      db.createObjectStore('identities', { keyPath: 'address' })
      db.createObjectStore('settings')
      db.createObjectStore('contacts', { keyPath: ['owner', 'address'] }).createIndex('owner', 'owner')
      const messages = db.createObjectStore('messages', { keyPath: 'key' })
      messages.createIndex('conversation', ['owner', 'contact', 'at'])
      messages.createIndex('envelope', 'envelopeId')
      // incoming messages have no state, so this index holds outgoing ones only
      messages.createIndex('state', 'state')
      db.createObjectStore('receipts', { keyPath: 'id' })
    }
  })
}

/* ---- identities ---- */

export async function currentIdentity (db: ChatDb): Promise<StoredIdentity | undefined> {
  const address = await db.get('settings', 'current')
  return address == null ? undefined : db.get('identities', address)
}

/** Keep `stored` and make it the current identity */
export async function saveIdentity (db: ChatDb, stored: StoredIdentity): Promise<void> {
  const tx = db.transaction(['identities', 'settings'], 'readwrite')
  await Promise.all([tx.objectStore('identities').put(stored), tx.objectStore('settings').put(stored.address, 'current'), tx.done])
}

export async function getSetting (db: ChatDb, name: string): Promise<string | undefined> {
  return db.get('settings', name)
}

export async function setSetting (db: ChatDb, name: string, value: string): Promise<void> {
  await db.put('settings', value, name)
}

/* ---- contacts ---- */

export async function listContacts (db: ChatDb, owner: string): Promise<Contact[]> {
  const contacts = await db.getAllFromIndex('contacts', 'owner', owner)
  return contacts.sort((a, b) => b.lastAt - a.lastAt || a.name.localeCompare(b.name))
}

export async function getContact (db: ChatDb, owner: string, address: string): Promise<Contact | undefined> {
  return db.get('contacts', [owner, address])
}

export async function putContact (db: ChatDb, contact: Contact): Promise<void> {
  await db.put('contacts', contact)
}

/* ---- messages ---- */

export async function conversation (db: ChatDb, owner: string, contact: string): Promise<ChatMessage[]> {
  const range = IDBKeyRange.bound([owner, contact, -Infinity], [owner, contact, Infinity])
  return db.getAllFromIndex('messages', 'conversation', range)
}

export async function getMessage (db: ChatDb, key: string): Promise<ChatMessage | undefined> {
  return db.get('messages', key)
}

export async function putMessage (db: ChatDb, message: ChatMessage): Promise<void> {
  await db.put('messages', message)
}

export async function deleteMessage (db: ChatDb, key: string): Promise<void> {
  await db.delete('messages', key)
}

/** Store an incoming message unless it is already there; resolves to whether it was new */
export async function addIncoming (db: ChatDb, message: ChatMessage): Promise<boolean> {
  const tx = db.transaction('messages', 'readwrite')
  const known = await tx.store.getKey(message.key)
  if (known == null) {
    await tx.store.put(message)
  }
  await tx.done
  return known == null
}

export async function outgoingByEnvelope (db: ChatDb, envelopeId: string): Promise<ChatMessage | undefined> {
  return db.getFromIndex('messages', 'envelope', envelopeId)
}

/** Outgoing messages of `owner` still marked sending (the page closed before send() resolved) */
export async function unfinishedSends (db: ChatDb, owner: string): Promise<ChatMessage[]> {
  const sending = await db.getAllFromIndex('messages', 'state', 'sending')
  return sending.filter(m => m.owner === owner)
}

/* ---- the library chat's own store ---- */

/** Where the library's chat keeps groups and delivery counts: the settings store, under this prefix */
const CHAT_STORE_PREFIX = 'chat-store:'

/** The library chat's store (its groups, the delivery of sent messages) in this database */
export function chatStoreIn (db: ChatDb): ChatStore {
  return {
    get: async key => db.get('settings', CHAT_STORE_PREFIX + key),
    set: async (key, value) => { await db.put('settings', value, CHAT_STORE_PREFIX + key) },
    delete: async key => { await db.delete('settings', CHAT_STORE_PREFIX + key) },
    entries: async prefix => {
      const from = CHAT_STORE_PREFIX + prefix
      const range = IDBKeyRange.bound(from, `${from}\uffff`)
      const [keys, values] = await Promise.all([db.getAllKeys('settings', range), db.getAll('settings', range)])
      return keys.map((key, i): [string, string] => [String(key).slice(CHAT_STORE_PREFIX.length), values[i]])
    }
  }
}
