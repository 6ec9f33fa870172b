/**
 * The chat page. It joins the ring named by `?bootstrap=<multiaddr>` (repeatable) over
 * WebSockets as a client, with the user's identity from IndexedDB (made on the first visit,
 * unlocked with its passphrase when it has one), and runs the chat on the user's mailbox.
 * `#contact=<address>&name=<name>` in the URL (a contact link) adds that contact.
 */
import { createIdentity, linkedAccount } from '../../src/index.js'
import { WrongPassphraseError, openIdentity, storeIdentity } from '../shared/identity-vault.js'
import { ChatApp } from './chat-app.js'
import { chatStoreIn, currentIdentity, getSetting, openChatDb, saveIdentity } from './chat-db.js'
import { ChatConnection } from './connection.js'
import { InvalidContactError, contactInFragment } from './contact-link.js'
import { linkedSetting, mountDevicesPanel } from './devices-panel.js'
import { mountIdentityPanel } from './identity-panel.js'
import { describeError, requireElement, showNotice } from './page.js'
import { mountRecordsPanel } from './records-panel.js'
import type { ChatDb } from './chat-db.js'
import type { ConnectionState } from './connection.js'
import type { StoredIdentity } from '../shared/identity-vault.js'
import type { ChatClient, Identity } from '../../src/index.js'

type PageState = ConnectionState | 'locked' | 'failed'

/** IndexedDB name of the page's libp2p node (its PeerId and the ring peers it has seen) */
const NODE_DATA_DIR = 'libp2p-chord-chat-node'

/** Web Lock that keeps one tab per browser profile on the mailbox (two would each take its messages) */
const TAB_LOCK = 'libp2p-chord-chat'

const status = requireElement('#status', HTMLOutputElement)

function showState (state: PageState, text: string): void {
  status.dataset.state = state
  status.textContent = text
  status.title = text
}

/**
 * A page served from this machine is a developer's: it may dial ring nodes on this machine's
 * loopback over plain ws://. Served from anywhere else, the node keeps libp2p's browser rules.
 */
function servedFromLoopback (): boolean {
  return ['127.0.0.1', '[::1]', 'localhost'].includes(location.hostname)
}

/** The identity stored in this browser, made on the first visit, unlocked if it has a passphrase */
async function loadIdentity (db: ChatDb): Promise<{ identity: Identity, stored: StoredIdentity }> {
  let stored = await currentIdentity(db)
  if (stored == null) {
    const identity = await createIdentity()
    stored = await storeIdentity(identity)
    await saveIdentity(db, stored)
    return { identity, stored }
  }
  if (stored.secret.kind === 'plain') {
    return { identity: await openIdentity(stored), stored }
  }
  showState('locked', 'locked: enter your passphrase')
  const unlock = requireElement('#unlock', HTMLElement)
  const form = requireElement('#unlock-form', HTMLFormElement)
  const input = requireElement('#unlock-passphrase', HTMLInputElement)
  unlock.hidden = false
  input.focus()
  const sealed = stored
  const identity = await new Promise<Identity>(resolve => {
    form.addEventListener('submit', event => {
      event.preventDefault()
      openIdentity(sealed, input.value).then(resolve, err => {
        input.select()
        showNotice(err instanceof WrongPassphraseError ? 'Wrong passphrase.' : describeError(err))
      })
    })
  })
  unlock.hidden = true
  return { identity, stored }
}

/** Hold the tab lock for as long as the page lives; a newer tab (or a reload) takes it over */
function holdTabLock (onLost: () => void): void {
  if (navigator.locks == null) {
    return
  }
  navigator.locks.request(TAB_LOCK, { steal: true }, async () => new Promise<never>(() => {})).catch(() => { onLost() })
}

async function main (): Promise<void> {
  requireElement('#notice-close', HTMLButtonElement).addEventListener('click', () => { requireElement('#notice', HTMLElement).hidden = true })
  const page = new URL(location.href)
  const bootstrap = page.searchParams.getAll('bootstrap')
  const db = await openChatDb()
  const { identity, stored } = await loadIdentity(db)
  // a page linked to an identity another device holds speaks for that person with its own keys
  const linkedTo = await getSetting(db, linkedSetting(identity))
  const account = linkedTo == null ? identity : linkedAccount(linkedTo, identity)

  // the app's sends go through the connection made below, once the page knows a ring to join
  // eslint-disable-next-line prefer-const
  let connection: ChatConnection | undefined
  const chat = async (): Promise<ChatClient> => {
    if (connection == null) {
      throw new Error('this page has no ring to send through')
    }
    return connection.chat()
  }
  const app = new ChatApp(db, identity.address, {
    send: async (recipient, plaintext) => (await chat()).send(recipient, plaintext),
    sendToGroup: async (group, plaintext) => (await chat()).groups.send(group, plaintext),
    createGroup: async (name, members) => (await (await chat()).groups.create(name, members)).group,
    addToGroup: async (group, member) => { await (await chat()).groups.add(group, member) },
    removeFromGroup: async (group, member) => { await (await chat()).groups.remove(group, member) },
    setGroupAdmin: async (group, member, admin) => { await (await chat()).groups.setAdmin(group, member, admin) },
    renameGroup: async (group, name) => { await (await chat()).groups.rename(group, name) },
    leaveGroup: async group => { await (await chat()).groups.leave(group) },
    delivery: id => connection?.joinedChat?.delivery(id),
    ack: async ids => connection?.ack(ids)
  })
  requireElement('#app', HTMLElement).hidden = false
  const person = linkedTo == null ? undefined : { address: account.address, fingerprint: account.fingerprint }
  await mountIdentityPanel({ db, identity, stored, person, page, onSwitched: () => { location.replace(page.pathname + page.search) } })
  const devices = mountDevicesPanel({
    db,
    identity,
    linkedTo,
    chat,
    requestLink: async (link, options) => {
      if (connection == null) {
        throw new Error('this page has no ring to link through')
      }
      return connection.requestLink(link, options)
    },
    onLinked: () => { location.replace(page.pathname + page.search) }
  })
  await app.mount()

  // a contact link: add the contact it names, then take it out of the address bar; a link pasted
  // into the address bar of the open page changes only the fragment, which reloads nothing
  const followContactLink = async (): Promise<void> => {
    try {
      const contact = contactInFragment(location.hash)
      if (contact != null) {
        await app.addContact(contact)
      }
    } catch (err) {
      showNotice(err instanceof InvalidContactError ? `This contact link is damaged. ${err.message}` : describeError(err))
    }
    if (location.hash !== '') {
      history.replaceState(null, '', location.pathname + location.search)
    }
  }
  await followContactLink()
  addEventListener('hashchange', () => { void followContactLink() })

  if (bootstrap.length === 0) {
    showState('failed', 'no ring to join: add ?bootstrap=/dns4/…/tcp/…/wss/p2p/… to the address')
    return
  }
  connection = new ChatConnection({
    bootstrap,
    account,
    store: chatStoreIn(db),
    allowLoopback: servedFromLoopback(),
    dataDir: NODE_DATA_DIR,
    onMessage: async message => app.receive(message),
    onDelivery: state => { app.delivery(state).catch(err => { console.error('delivery not recorded', err) }) },
    onGroupChange: group => { app.groupChanged(group).catch(err => { console.error('group not recorded', err) }) },
    onState: (state, detail) => {
      showState(state, detail)
      const node = connection?.node
      requireElement('#peer-id', HTMLElement).textContent = node == null ? 'not connected' : `${node.peerId.toString()} (client)`
    },
    onError: err => { console.warn(describeError(err)) }
  })
  const running = connection
  holdTabLock(() => {
    void running.stop()
    showState('stopped', 'open in another tab')
    showNotice('The chat is open in another tab of this browser; this one has stopped. Reload to use it here.')
  })
  addEventListener('pagehide', () => { void running.stop() })
  mountRecordsPanel(() => running.node, requireElement('#records', HTMLElement))
  await running.start()
  await devices.refresh().catch(err => { console.warn(describeError(err)) })
}

// whatever escapes is shown as one line, never as a stack trace
addEventListener('unhandledrejection', event => { showNotice(`Something went wrong: ${describeError(event.reason)}`) })
main().catch(err => {
  showState('failed', describeError(err))
  showNotice(`The chat could not start: ${describeError(err)}`)
})
