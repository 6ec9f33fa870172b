/**
 * The chat itself: contacts, groups, conversations and the composer, kept in IndexedDB and fed by
 * the page's connection to the ring. Everything another person controls (names, messages) reaches
 * the page as text, never as markup.
 */
import { parseAddress } from '../../src/index.js'
import {
  addIncoming, conversation, deleteMessage, getContact, getMessage, listContacts,
  outgoingByEnvelope, putContact, putMessage, unfinishedSends
} from './chat-db.js'
import { InvalidContactError, parseContactInput } from './contact-link.js'
import { clearNotice, describeError, element, requireElement, showNotice } from './page.js'
import type { ChatDb, ChatMessage, Contact, OutgoingState } from './chat-db.js'
import type { ContactRef } from './contact-link.js'
import type { ChatMessage as ReceivedMessage, ChatSendResult, DeliveryState, GroupInfo } from '../../src/index.js'

export interface ChatTransport {
  send(recipient: string, plaintext: Uint8Array): Promise<ChatSendResult>
  sendToGroup(group: string, plaintext: Uint8Array): Promise<ChatSendResult>
  createGroup(name: string, members: string[]): Promise<GroupInfo>
  addToGroup(group: string, member: string): Promise<void>
  removeFromGroup(group: string, member: string): Promise<void>
  setGroupAdmin(group: string, member: string, admin: boolean): Promise<void>
  renameGroup(group: string, name: string): Promise<void>
  leaveGroup(group: string): Promise<void>
  /** how a sent message stands now, by the id send resolved with */
  delivery(id: string): DeliveryState | undefined
  ack(ids: string[]): Promise<void>
}

/** A group's conversation is kept as a contact with this address prefix and the group's id */
const GROUP_PREFIX = 'group:'

const STATE_MARKS: Record<OutgoingState, { mark: string, title: string }> = {
  sending: { mark: '…', title: 'sending' },
  stored: { mark: '✓', title: 'stored in the recipient\'s mailbox' },
  delivered: { mark: '✓✓', title: 'delivered to every device of the recipients' },
  failed: { mark: '!', title: 'not sent' }
}

/** A contact who wrote first is listed under this name until the user names them */
const UNKNOWN_CONTACT_NAME = 'New contact'

const AVATAR_COLOURS = ['#2f6fed', '#7a5af8', '#0e9384', '#dd2590', '#e04f16', '#4e5ba6', '#099250', '#c11574']

export class ChatApp {
  private readonly db: ChatDb
  private readonly transport: ChatTransport
  private readonly owner: string
  private openContact?: string
  private readonly rendered = new Map<string, HTMLLIElement>()
  private readonly groups = new Map<string, GroupInfo>()
  /** the names this person gave their contacts, by address: how group members and authors are shown */
  private readonly names = new Map<string, string>()

  private readonly app = requireElement('#app', HTMLElement)
  private readonly contactsList = requireElement('#contacts', HTMLUListElement)
  private readonly groupsList = requireElement('#groups', HTMLUListElement)
  private readonly groupAddForm = requireElement('#group-add-form', HTMLFormElement)
  private readonly messagesList = requireElement('#messages', HTMLOListElement)
  private readonly composer = requireElement('#composer', HTMLFormElement)
  private readonly input = requireElement('#message-input', HTMLTextAreaElement)
  private readonly header = requireElement('#conversation-header', HTMLElement)
  private readonly peerName = requireElement('#peer-name', HTMLInputElement)
  private readonly peerFingerprint = requireElement('#peer-fingerprint', HTMLElement)
  private readonly memberPanel = requireElement('#group-member-panel', HTMLDetailsElement)

  /** @param owner the address the page's conversations are kept under (the page's identity) */
  constructor (db: ChatDb, owner: string, transport: ChatTransport) {
    this.db = db
    this.owner = owner
    this.transport = transport
  }

  /** Wire the controls and show the stored contacts */
  async mount (): Promise<void> {
    const addForm = requireElement('#add-contact-form', HTMLFormElement)
    const addressInput = requireElement('#contact-address', HTMLInputElement)
    const nameInput = requireElement('#contact-name', HTMLInputElement)
    addForm.addEventListener('submit', event => {
      event.preventDefault()
      let ref: ContactRef
      try {
        ref = parseContactInput(addressInput.value)
      } catch (err) {
        // what was typed stays in the field, to be corrected
        showNotice(err instanceof InvalidContactError ? err.message : describeError(err))
        return
      }
      const name = nameInput.value.trim() === '' ? ref.name : nameInput.value.trim()
      this.addContact({ address: ref.address, name }).then(added => {
        if (added) {
          addressInput.value = ''
          nameInput.value = ''
        }
      }, err => { showNotice(describeError(err)) })
    })

    this.composer.addEventListener('submit', event => {
      event.preventDefault()
      void this.sendText()
    })
    this.input.addEventListener('keydown', event => {
      // Enter sends, Shift+Enter starts a new line, as in every chat
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault()
        void this.sendText()
      }
    })
    const groupForm = requireElement('#new-group-form', HTMLFormElement)
    groupForm.addEventListener('submit', event => {
      event.preventDefault()
      const name = requireElement('#group-name', HTMLInputElement)
      const members = requireElement('#group-members', HTMLInputElement)
      this.transport.createGroup(name.value, members.value.split(/[\s,]+/).filter(address => address !== '')).then(async group => {
        name.value = ''
        members.value = ''
        await this.groupChanged(group)
        await this.openConversation(GROUP_PREFIX + group.id)
      }, err => { showNotice(describeError(err)) })
    })
    this.groupAddForm.addEventListener('submit', event => {
      event.preventDefault()
      const input = requireElement('#group-add-address', HTMLInputElement)
      const group = this.openGroup()
      if (group == null) {
        return
      }
      this.transport.addToGroup(group.id, input.value.trim()).then(() => { input.value = '' }, err => { showNotice(describeError(err)) })
    })
    requireElement('#group-leave', HTMLButtonElement).addEventListener('click', () => {
      const group = this.openGroup()
      if (group != null) {
        // the chat tells groupChanged, which marks the conversation as left
        this.transport.leaveGroup(group.id).catch(err => { showNotice(describeError(err)) })
      }
    })
    requireElement('#back', HTMLButtonElement).addEventListener('click', () => { this.closeConversation() })
    this.peerName.addEventListener('change', () => { void this.renameOpenContact(this.peerName.value) })

    // a message the page could not finish sending before it closed is not known to be stored
    for (const message of await unfinishedSends(this.db, this.owner)) {
      await putMessage(this.db, { ...message, state: 'failed', error: 'the page closed before it was stored' })
    }
    await this.renderContacts()
  }

  /**
   * Add (or rename) a contact and open the conversation with them. Resolves to whether it was
   * added; a bad address is reported to the user, not thrown.
   */
  async addContact (ref: ContactRef): Promise<boolean> {
    if (ref.address === this.owner) {
      showNotice('That is your own address: give it to others so that they can add you.')
      return false
    }
    const known = await getContact(this.db, this.owner, ref.address)
    const contact: Contact = known == null
      ? { owner: this.owner, address: ref.address, name: ref.name ?? shortName(ref.address), fingerprint: fingerprintOf(ref.address), addedAt: Date.now(), unknown: false, lastAt: Date.now(), unread: 0 }
      : { ...known, name: ref.name ?? known.name, unknown: false }
    await putContact(this.db, contact)
    clearNotice()
    await this.openConversation(contact.address)
    return true
  }

  /**
   * A message from the chat: stored (once), shown, then acknowledged. It may be to a group, or a
   * copy of one this person sent from another device.
   */
  async receive (message: ReceivedMessage): Promise<void> {
    const address = message.group != null ? GROUP_PREFIX + message.group : message.outgoing ? (message.to ?? message.from) : message.from
    let contact = await getContact(this.db, this.owner, address)
    if (contact == null) {
      contact = message.group != null || message.outgoing
        ? { owner: this.owner, address, name: message.group != null ? 'Group' : shortName(address), fingerprint: message.group != null ? '' : fingerprintOf(address), addedAt: Date.now(), unknown: false, lastAt: 0, unread: 0 }
        : { owner: this.owner, address, name: UNKNOWN_CONTACT_NAME, fingerprint: message.sender.fingerprint, addedAt: Date.now(), unknown: true, lastAt: 0, unread: 0 }
    }
    const stored: ChatMessage = {
      key: message.id,
      owner: this.owner,
      contact: address,
      direction: message.outgoing ? 'out' : 'in',
      text: new TextDecoder().decode(message.plaintext),
      at: message.sentAt,
      ...(message.outgoing ? { state: 'stored' as const, progress: 'sent from your other device' } : {}),
      ...(message.group != null && !message.outgoing ? { author: message.from } : {})
    }
    const isNew = await addIncoming(this.db, stored)
    if (isNew) {
      const reading = this.openContact === address && document.visibilityState === 'visible'
      await putContact(this.db, { ...contact, lastAt: Math.max(contact.lastAt, Date.now()), unread: reading || message.outgoing ? contact.unread : contact.unread + 1 })
      if (this.openContact === address) {
        this.renderMessage(stored)
      }
      await this.renderContacts()
    }
    // stored: the replicas may delete it (a failed ack only means it comes again, and is dropped above)
    this.transport.ack([message.id]).catch(() => {})
  }

  /** How a message this page sent stands: delivered once every device of every recipient has it */
  async delivery (state: DeliveryState): Promise<void> {
    const message = await outgoingByEnvelope(this.db, state.id)
    if (message != null) {
      await this.updateMessage(withDelivery(message, state))
    }
    // else send() has not resolved yet: deliver() reads the state once it has
  }

  /** A group was made, joined or changed: its conversation is kept as a contact */
  async groupChanged (group: GroupInfo): Promise<void> {
    this.groups.set(group.id, group)
    const address = GROUP_PREFIX + group.id
    const known = await getContact(this.db, this.owner, address)
    const fingerprint = group.member ? memberCount(group) : group.left ? 'you left' : 'you are no longer a member'
    await putContact(this.db, { owner: this.owner, address, name: group.name, fingerprint, addedAt: known?.addedAt ?? Date.now(), unknown: false, lastAt: known?.lastAt ?? Date.now(), unread: known?.unread ?? 0 })
    if (this.openContact === address) {
      this.showHeader(await getContact(this.db, this.owner, address))
    }
    await this.renderContacts()
  }

  private async sendText (): Promise<void> {
    const contact = this.openContact
    const text = this.input.value
    if (contact == null || text.trim() === '') {
      return
    }
    const message: ChatMessage = {
      key: crypto.randomUUID(),
      owner: this.owner,
      contact,
      direction: 'out',
      text,
      at: Date.now(),
      state: 'sending'
    }
    await putMessage(this.db, message)
    this.renderMessage(message)
    this.input.value = ''
    await this.touchContact(contact)
    await this.deliver(message)
  }

  private async deliver (message: ChatMessage): Promise<void> {
    let result: ChatSendResult
    try {
      const plaintext = new TextEncoder().encode(message.text)
      result = message.contact.startsWith(GROUP_PREFIX)
        ? await this.transport.sendToGroup(message.contact.slice(GROUP_PREFIX.length), plaintext)
        : await this.transport.send(message.contact, plaintext)
    } catch (err) {
      if ((err as Error).name === 'InvalidOptionsError') {
        // the message itself is refused (too long): it goes back to the composer, nothing is lost
        await deleteMessage(this.db, message.key)
        this.rendered.get(message.key)?.remove()
        this.rendered.delete(message.key)
        if (this.input.value === '') {
          this.input.value = message.text
        }
        showNotice(`This message was not sent: ${(err as Error).message}. Shorten it and send it again.`)
        return
      }
      await this.updateMessage({ ...message, state: 'failed', error: describeError(err) })
      return
    }
    // receipts that came before send() resolved are counted in the state read now
    await this.updateMessage(withDelivery({ ...message, envelopeId: result.id, error: undefined }, this.transport.delivery(result.id) ?? result.delivery))
  }

  private async retry (key: string): Promise<void> {
    const message = await getMessage(this.db, key)
    if (message?.state !== 'failed') {
      return
    }
    const sending = { ...message, state: 'sending' as const, error: undefined }
    await this.updateMessage(sending)
    await this.deliver(sending)
  }

  /** Store a changed message and redraw it, unless a later state already replaced it */
  private async updateMessage (message: ChatMessage): Promise<void> {
    const stored = await getMessage(this.db, message.key)
    if (stored?.state === 'delivered' && message.state !== 'delivered') {
      return
    }
    await putMessage(this.db, message)
    const old = this.rendered.get(message.key)
    if (old != null) {
      const fresh = this.messageElement(message)
      old.replaceWith(fresh)
      this.rendered.set(message.key, fresh)
    }
  }

  private async openConversation (address: string): Promise<void> {
    const contact = await getContact(this.db, this.owner, address)
    if (contact == null) {
      return
    }
    this.openContact = address
    if (contact.unread > 0) {
      await putContact(this.db, { ...contact, unread: 0 })
    }
    this.app.classList.add('conversation-open')
    this.header.hidden = false
    this.composer.hidden = false
    this.messagesList.hidden = false
    requireElement('#no-conversation', HTMLElement).hidden = true
    this.showHeader(contact)
    this.messagesList.replaceChildren()
    this.rendered.clear()
    for (const message of await conversation(this.db, this.owner, address)) {
      this.renderMessage(message)
    }
    await this.renderContacts()
    this.input.focus()
  }

  private showHeader (contact: Contact | undefined): void {
    if (contact == null) {
      return
    }
    this.peerName.value = contact.name
    const group = this.openGroup()
    this.peerFingerprint.hidden = group != null
    this.peerFingerprint.textContent = contact.fingerprint
    this.memberPanel.hidden = group == null
    if (group != null) {
      this.showMembers(group)
    }
    this.peerName.readOnly = group != null && !group.admin
    this.groupAddForm.hidden = group?.admin !== true
    // a group left (or removed from) is history: nothing more can be sent to it
    this.composer.hidden = contact.address.startsWith(GROUP_PREFIX) && group?.member !== true
  }

  /** A group's members, by the names this person gave them; an admin may remove them and make them admins; a member may leave */
  private showMembers (group: GroupInfo): void {
    const leave = requireElement('#group-leave', HTMLButtonElement)
    leave.hidden = group.left
    leave.textContent = group.member ? 'Leave group' : 'Forget group'
    requireElement('#group-members-summary', HTMLElement).textContent = group.member
      ? `${memberCount(group)}: ${group.members.map(member => this.nameOf(member)).join(', ')}`
      : group.left ? 'you left' : 'you are no longer a member'
    requireElement('#group-member-list', HTMLUListElement).replaceChildren(...group.members.map(member => {
      const admin = group.admins.includes(member)
      const controls: HTMLElement[] = []
      if (group.admin && member !== this.owner) {
        const toggle = element('button', { type: 'button', class: 'member-admin' }, admin ? 'Not admin' : 'Make admin')
        toggle.addEventListener('click', () => {
          this.transport.setGroupAdmin(group.id, member, !admin).catch(err => { showNotice(describeError(err)) })
        })
        const remove = element('button', { type: 'button', class: 'member-remove' }, 'Remove')
        remove.addEventListener('click', () => {
          this.transport.removeFromGroup(group.id, member).catch(err => { showNotice(describeError(err)) })
        })
        controls.push(toggle, remove)
      }
      return element('li', { 'data-member': member },
        element('span', { class: 'name', title: member }, this.nameOf(member)),
        ...(admin ? [element('span', { class: 'tag' }, 'admin')] : []),
        ...controls)
    }))
  }

  /** How a person is shown: the name given to them as a contact, else the start of their address */
  private nameOf (address: string): string {
    return address === this.owner ? 'you' : this.names.get(address) ?? shortName(address)
  }

  /** The group whose conversation is open */
  private openGroup (): GroupInfo | undefined {
    return this.openContact?.startsWith(GROUP_PREFIX) === true ? this.groups.get(this.openContact.slice(GROUP_PREFIX.length)) : undefined
  }

  private closeConversation (): void {
    this.openContact = undefined
    this.app.classList.remove('conversation-open')
    void this.renderContacts()
  }

  private async renameOpenContact (name: string): Promise<void> {
    const address = this.openContact
    const trimmed = name.trim()
    if (address == null || trimmed === '') {
      return
    }
    const group = this.openGroup()
    if (group != null) {
      this.transport.renameGroup(group.id, trimmed).catch(err => { showNotice(describeError(err)) })
      return
    }
    const contact = await getContact(this.db, this.owner, address)
    if (contact != null) {
      await putContact(this.db, { ...contact, name: trimmed, unknown: false })
      await this.renderContacts()
    }
  }

  private async touchContact (address: string): Promise<void> {
    const contact = await getContact(this.db, this.owner, address)
    if (contact != null) {
      await putContact(this.db, { ...contact, lastAt: Date.now() })
      await this.renderContacts()
    }
  }

  private async renderContacts (): Promise<void> {
    const all = await listContacts(this.db, this.owner)
    const contacts = all.filter(contact => !contact.address.startsWith(GROUP_PREFIX))
    this.names.clear()
    for (const contact of contacts.filter(contact => !contact.unknown)) {
      this.names.set(contact.address, contact.name)
    }
    const groups = all.filter(contact => contact.address.startsWith(GROUP_PREFIX))
    this.contactsList.replaceChildren(...(contacts.length === 0
      ? [element('li', { class: 'empty' }, 'No contacts yet. Paste someone\'s address or open their contact link.')]
      : contacts.map(contact => this.contactItem(contact))))
    this.groupsList.replaceChildren(...(groups.length === 0
      ? [element('li', { class: 'empty' }, 'No groups yet.')]
      : groups.map(contact => this.contactItem(contact))))
  }

  private contactItem (contact: Contact): HTMLLIElement {
    const button = element('button', { type: 'button', class: 'contact', 'data-contact': contact.address, 'aria-current': String(contact.address === this.openContact) },
      element('span', { class: 'avatar', style: `background:${colourOf(contact.address)}` }, initialOf(contact.name)),
      element('span', { class: 'name' }, contact.name, ...(contact.unknown ? [element('span', { class: 'tag' }, 'new')] : [])),
      element('span', { class: 'fingerprint' }, contact.fingerprint),
      ...(contact.unread > 0 && contact.address !== this.openContact ? [element('span', { class: 'badge' }, String(contact.unread))] : [])
    )
    button.addEventListener('click', () => { void this.openConversation(contact.address) })
    return element('li', {}, button)
  }

  private renderMessage (message: ChatMessage): void {
    const li = this.messageElement(message)
    const old = this.rendered.get(message.key)
    if (old != null) {
      old.replaceWith(li)
    } else {
      // keep the list in time order: a late incoming message goes before newer ones
      const after = [...this.rendered.values()].find(other => Number(other.dataset.at) > message.at)
      this.messagesList.insertBefore(li, after ?? null)
    }
    this.rendered.set(message.key, li)
    li.scrollIntoView({ block: 'end' })
  }

  private messageElement (message: ChatMessage): HTMLLIElement {
    const time = new Date(message.at)
    const footer = element('footer', {}, element('time', { datetime: time.toISOString() }, time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })))
    const attributes: Record<string, string> = { 'data-message': '', 'data-direction': message.direction, 'data-at': String(message.at) }
    if (message.direction === 'out' && message.state != null) {
      attributes['data-state'] = message.state
      const { mark, title } = STATE_MARKS[message.state]
      const detail = message.error ?? message.progress
      footer.append(element('span', { class: 'state', title: detail == null ? title : `${title}: ${detail}` }, mark))
      if (message.state === 'failed') {
        const retry = element('button', { type: 'button', class: 'retry' }, 'Retry')
        retry.addEventListener('click', () => { void this.retry(message.key) })
        footer.append(retry)
      }
    }
    const author = message.author == null ? [] : [element('span', { class: 'author', title: message.author }, this.nameOf(message.author))]
    return element('li', attributes, ...author, element('p', { class: 'text' }, message.text), footer)
  }
}

/** A sent message with its delivery: delivered once every recipient device has it */
function withDelivery (message: ChatMessage, state: DeliveryState): ChatMessage {
  const delivered = state.devices > 0 && state.devicesDelivered === state.devices
  const progress = state.group == null
    ? `delivered to ${state.devicesDelivered} of ${state.devices} devices`
    : `delivered to ${state.membersDelivered} of ${state.members} members (${state.devicesDelivered} of ${state.devices} devices)`
  return { ...message, state: delivered ? 'delivered' : 'stored', progress }
}

/** Contacts are only ever added from addresses that parsed (parseContactInput checked this one) */
function fingerprintOf (address: string): string {
  return parseAddress(address).fingerprint
}

/** A name for a contact added without one: the start of their address */
function shortName (address: string): string {
  return `${address.slice(0, 12)}…`
}

function initialOf (name: string): string {
  return [...name.trim()][0]?.toUpperCase() ?? '?'
}

function colourOf (address: string): string {
  let hash = 0
  for (const char of address) {
    hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  }
  return AVATAR_COLOURS[hash % AVATAR_COLOURS.length]
}

function memberCount (group: GroupInfo): string {
  return group.members.length === 1 ? '1 member' : `${group.members.length} members`
}
