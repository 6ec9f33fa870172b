/**
 * The terminal chat on any ring: a client-mode node joined through `--bootstrap`, the user's
 * identity kept in a file (the same format the chat page exports and imports), contacts, groups
 * and delivery counts kept next to it, and a readline prompt that incoming lines never break.
 * It runs the library's chat (`mailbox.chat`): messages reach every device of their recipient,
 * and it lists this person's devices and links new ones.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { createInterface, clearLine, cursorTo } from 'node:readline'
import { createChordNode, createIdentity, parseAddress } from '../src/index.js'
import { identityFileText, openIdentity, parseIdentityFile, storeIdentity } from './shared/identity-vault.js'
import type { ChatClient, ChatMessage, ChatStore, ChordNode, DeliveryState, GroupInfo, Identity } from '../src/index.js'

/** Read the passphrase of a protected identity file from this environment variable */
export const PASSPHRASE_VARIABLE = 'CHORD_CHAT_PASSPHRASE'

export interface TerminalChatOptions {
  bootstrap: string[]
  /** the identity file; made on first use */
  identityFile: string
  input: NodeJS.ReadableStream
  output: NodeJS.WritableStream & { isTTY?: boolean }
}

interface Contacts {
  /** name → address */
  [name: string]: string
}

const HELP = `commands:
  /add <name> <address>   add a contact (or rename one); an address starts with chord:
  /to <name>              talk to that contact: lines that are not commands go to them
  /to #<group>            talk to that group
  /contacts               list contacts
  /group <name> <contact>…  make a group of you and these contacts, and talk to it
  /groups                 list your groups
  /invite <contact>       add a contact to the group you talk to (admins)
  /leave                  leave the group you talk to (or forget one you were removed from)
  /devices                list your devices
  /link                   show a link for a new device; /yes or /no when it asks
  /unlink <fingerprint>   remove a device (the first digits of its fingerprint)
  /me                     your address and fingerprint
  /quit                   leave (Ctrl-D too)`

export async function runTerminalChat (options: TerminalChatOptions): Promise<void> {
  const { output } = options
  const { identity, created } = await loadOrCreateIdentity(options.identityFile)
  const contactsFile = `${options.identityFile}.contacts.json`
  const contacts: Contacts = await readJson(contactsFile) ?? {}
  /** message id → contact or group name, for the receipts to come */
  const sent = new Map<string, string>()
  let current: string | undefined

  const terminal = createInterface({ input: options.input, output, prompt: '> ', terminal: output.isTTY === true })
  // made now, the iterator keeps what is typed (or piped in) while the node joins: a line read
  // before there is an iterator would be lost
  const lines = terminal[Symbol.asyncIterator]()
  /** Print above the prompt, keeping whatever the user is typing */
  const say = (line: string): void => {
    if (output.isTTY === true) {
      clearLine(output, 0)
      cursorTo(output, 0)
    }
    output.write(`${line}\n`)
    terminal.prompt(true)
  }

  output.write(`${created ? 'made a new identity in' : 'identity from'} ${options.identityFile}\n`)
  output.write(`address:     ${identity.address}\n`)
  output.write(`fingerprint: ${identity.fingerprint}\n`)
  output.write(`joining through ${options.bootstrap.join(', ')}…\n`)

  const node: ChordNode = await createChordNode({ bootstrap: options.bootstrap, clientMode: true })
  const nameOf = (address: string): string | undefined => Object.entries(contacts).find(([, a]) => a === address)?.[0]
  const plainName = (group: GroupInfo): string => `#${group.name.replaceAll(/\s+/g, '-')}`
  // anyone may name a group anything: a name two groups share gets the first digits of the id,
  // so that /to and /leave never pick the wrong one
  const groupName = (group: GroupInfo): string => {
    const shared = opened.chat?.groups.list().some(other => other.id !== group.id && plainName(other) === plainName(group)) === true
    return shared ? `${plainName(group)}~${group.id.slice(0, 6)}` : plainName(group)
  }
  const opened: { chat?: ChatClient } = {}
  /** a link request waiting for /yes or /no */
  let answerLink: ((yes: boolean) => void) | undefined
  const chat: ChatClient = await node.mailbox.chat(identity, {
    store: fileChatStore(`${options.identityFile}.chat.json`),
    onError: err => { say(`! ${(err as Error).message}`) },
    onDelivery: (state: DeliveryState) => { sayDelivered(sent.get(state.id) ?? 'someone', state) },
    onGroupChange: (group: GroupInfo) => {
      say(group.left
        ? `* you left ${groupName(group)}`
        : group.member
          ? `* group ${groupName(group)}: ${group.members.map(m => m === identity.address ? 'you' : nameOf(m) ?? m.slice(0, 14)).join(', ')}`
          : `* you are no longer in ${groupName(group)} (/to ${groupName(group)}, then /leave, forgets it)`)
    },
    onMessage: async (message: ChatMessage) => {
      let name = nameOf(message.from)
      if (name == null && message.from !== identity.address) {
        name = uniqueName(contacts, `new-${message.sender.fingerprint.slice(0, 4)}`)
        contacts[name] = message.from
        await saveJson(contactsFile, contacts)
        say(`* ${name} (${message.sender.fingerprint}) wrote to you for the first time: /add <name> ${message.from} to name them`)
      }
      const time = new Date(message.sentAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      const group = message.group == null ? undefined : chat.groups.get(message.group)
      const where = group == null ? '' : ` in ${groupName(group)}`
      const who = message.outgoing ? `you (another device)${message.to == null ? '' : ` to ${nameOf(message.to) ?? message.to}`}` : name
      say(`[${time}] ${who}${where}: ${new TextDecoder().decode(message.plaintext)}`)
      await chat.ack([message.id])
    }
  })
  opened.chat = chat
  const connections = node.libp2p.getConnections().length
  output.write(`joined the ring as a client (${connections} connection${connections === 1 ? '' : 's'}). /help lists the commands.\n`)

  const sayDelivered = (name: string, state: DeliveryState): void => {
    if (state.devicesDelivered > 0) {
      say(`  ✓✓ delivered to ${name}: ${state.group == null ? '' : `${state.membersDelivered} of ${state.members} members, `}${state.devicesDelivered} of ${state.devices} devices`)
    }
  }

  const groupNamed = (name: string): GroupInfo | undefined => chat.groups.list().find(group => groupName(group) === name)

  const send = async (name: string, text: string): Promise<void> => {
    const plaintext = new TextEncoder().encode(text)
    say(`  … sending to ${name}`)
    try {
      const group = groupNamed(name)
      const { id, envelopes, delivery } = group != null ? await chat.groups.send(group.id, plaintext) : await chat.send(contacts[name], plaintext)
      sent.set(id, name)
      const stored = envelopes.filter(envelope => envelope.error == null && envelope.person !== identity.address)
      const replicas = Math.min(...stored.map(envelope => envelope.replicas))
      say(`  ✓ stored for ${name} on ${replicas} replica${replicas === 1 ? '' : 's'} (${id.slice(0, 8)}) · ${stored.length} device${stored.length === 1 ? '' : 's'}`)
      // receipts that came back before the send resolved are counted in its result
      sayDelivered(name, delivery)
    } catch (err) {
      say(`! not sent to ${name}: ${(err as Error).message}`)
    }
  }

  const link = async (): Promise<void> => {
    const offer = await chat.devices.offerLink({
      onRequest: async device => new Promise<boolean>(resolve => {
        say(`* "${device.name}" asks to be your device; its fingerprint is ${device.fingerprint}. /yes to link it, /no to refuse`)
        answerLink = resolve
      })
    })
    say(`on the new device, link with:\n${offer.link}`)
    offer.done.then(device => { say(`* "${device.name}" is linked`) }, err => { say(`! not linked: ${(err as Error).message}`) })
      .finally(() => { answerLink = undefined })
  }

  const talkTo = (name: string): void => {
    current = name
    terminal.setPrompt(`${name}> `)
  }

  const handle = async (line: string): Promise<boolean> => {
    const input = line.trim()
    if (input === '') {
      return true
    }
    const [command, ...args] = input.split(/\s+/)
    switch (command) {
      case '/quit':
        return false
      case '/help':
        say(HELP)
        return true
      case '/me':
        say(`address:     ${identity.address}\nfingerprint: ${identity.fingerprint}`)
        return true
      case '/contacts': {
        const entries = Object.entries(contacts)
        say(entries.length === 0 ? 'no contacts yet: /add <name> <address>' : entries.map(([name, address]) => `${name === current ? '*' : ' '} ${name}  ${parseAddress(address).fingerprint}`).join('\n'))
        return true
      }
      case '/add': {
        const [name, address] = args
        if (name == null || address == null || args.length !== 2) {
          say('usage: /add <name> <address>')
          return true
        }
        let canonical: string
        try {
          canonical = parseAddress(address).address
        } catch (err) {
          say(`! not added: ${(err as Error).message}`)
          return true
        }
        for (const [other, a] of Object.entries(contacts)) {
          if (a === canonical) {
            delete contacts[other]
          }
        }
        contacts[name] = canonical
        await saveJson(contactsFile, contacts)
        if (current == null) {
          talkTo(name)
        }
        say(`added ${name} (${parseAddress(canonical).fingerprint})${current === name ? `; talking to ${name}` : ''}`)
        return true
      }
      case '/to': {
        const [name] = args
        if (name?.startsWith('#') === true) {
          if (groupNamed(name) == null) {
            say(`! no group named ${name}: /groups lists them`)
            return true
          }
          talkTo(name)
          say(`talking to ${name}`)
          return true
        }
        if (name == null || contacts[name] == null) {
          say(`! no contact named ${name ?? '(none)'}: /contacts lists them`)
          return true
        }
        talkTo(name)
        say(`talking to ${name}`)
        return true
      }
      case '/groups': {
        const groups = chat.groups.list()
        say(groups.length === 0
          ? 'no groups yet: /group <name> <contact>…'
          : groups.map(group => `${groupName(group) === current ? '*' : ' '} ${groupName(group)}  ${group.member ? `${group.members.length} members${group.admin ? ', you are an admin' : ''}` : 'you were removed; /leave forgets it'}`).join('\n'))
        return true
      }
      case '/group': {
        const [name, ...members] = args
        const unknown = members.filter(member => contacts[member] == null)
        if (name == null || members.length === 0 || unknown.length > 0) {
          say(unknown.length > 0 ? `! no contact named ${unknown.join(', ')}` : 'usage: /group <name> <contact>…')
          return true
        }
        const { group } = await chat.groups.create(name, members.map(member => contacts[member]))
        talkTo(groupName(group))
        say(`talking to ${groupName(group)}`)
        return true
      }
      case '/invite': {
        const group = current == null ? undefined : groupNamed(current)
        const [member] = args
        if (group == null || member == null || contacts[member] == null) {
          say('usage: /invite <contact>, while talking to a group')
          return true
        }
        await chat.groups.add(group.id, contacts[member])
        return true
      }
      case '/leave': {
        const group = current == null ? undefined : groupNamed(current)
        if (group == null) {
          say('usage: /leave, while talking to a group')
          return true
        }
        await chat.groups.leave(group.id)
        current = undefined
        terminal.setPrompt('> ')
        return true
      }
      case '/devices': {
        const devices = await chat.devices.list()
        say(devices.map(device => `  ${device.name === '' ? (device.address === identity.address ? 'this terminal' : 'unnamed') : device.name}  ${device.fingerprint}`).join('\n'))
        return true
      }
      case '/link':
        await link()
        return true
      case '/yes':
      case '/no':
        if (answerLink == null) {
          say('! no device is asking to be linked')
          return true
        }
        answerLink(command === '/yes')
        answerLink = undefined
        return true
      case '/unlink': {
        const [prefix] = args
        const device = (await chat.devices.list()).find(d => prefix != null && d.address !== identity.address && d.fingerprint.replaceAll(' ', '').startsWith(prefix.replaceAll(' ', '')))
        if (device == null) {
          say('usage: /unlink <the first digits of a device\'s fingerprint>, from /devices')
          return true
        }
        await chat.devices.remove(device.address)
        say(`removed ${device.name === '' ? device.fingerprint : device.name}: nothing is sealed to it any more`)
        return true
      }
      default:
        if (command.startsWith('/')) {
          say(`! unknown command ${command}: /help lists the commands`)
          return true
        }
        if (current == null) {
          say('! talking to nobody yet: /add <name> <address>, then /to <name>')
          return true
        }
        void send(current, input)
        return true
    }
  }

  terminal.prompt()
  for await (const line of lines) {
    if (!await handle(line).catch(err => { say(`! ${(err as Error).message}`); return true })) {
      break
    }
    terminal.prompt()
  }
  terminal.close()
  output.write('leaving…\n')
  await chat.close()
  await node.stop()
}

async function loadOrCreateIdentity (file: string): Promise<{ identity: Identity, created: boolean }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err
    }
    const identity = await createIdentity()
    const passphrase = process.env[PASSPHRASE_VARIABLE]
    await writeFile(file, identityFileText(await storeIdentity(identity, passphrase === '' ? undefined : passphrase)), { mode: 0o600, flag: 'wx' })
    return { identity, created: true }
  }
  const stored = parseIdentityFile(text)
  if (stored.secret.kind === 'sealed' && process.env[PASSPHRASE_VARIABLE] == null) {
    throw new Error(`${file} is protected by a passphrase: set ${PASSPHRASE_VARIABLE}`)
  }
  return { identity: await openIdentity(stored, process.env[PASSPHRASE_VARIABLE]), created: false }
}

/** The chat's groups and delivery counts, in one JSON file written whole on each change */
function fileChatStore (file: string): ChatStore {
  let values: Record<string, string> | undefined
  /** one write at a time: they share the temporary file */
  let writing = Promise.resolve()
  const loaded = async (): Promise<Record<string, string>> => {
    values ??= await readJson<Record<string, string>>(file) ?? {}
    return values
  }
  const change = async (edit: (all: Record<string, string>) => void): Promise<void> => {
    edit(await loaded())
    writing = writing.then(async () => saveJson(file, values))
    await writing
  }
  return {
    get: async key => (await loaded())[key],
    set: async (key, value) => change(all => { all[key] = value }),
    delete: async key => change(all => { delete all[key] }),
    entries: async prefix => Object.entries(await loaded()).filter(([key]) => key.startsWith(prefix))
  }
}

function uniqueName (contacts: Contacts, base: string): string {
  let name = base
  for (let i = 2; contacts[name] != null; i++) {
    name = `${base}-${i}`
  }
  return name
}

async function readJson<T> (file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined
    }
    throw err
  }
}

/** Write through a temporary file, so that a crash mid-write leaves the old contacts */
async function saveJson (file: string, value: unknown): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify(value, null, 2))
  await rename(`${file}.tmp`, file)
}
