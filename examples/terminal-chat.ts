/**
 * The terminal chat on any ring: a client-mode node joined through `--bootstrap`, the user's
 * identity kept in a file (the same format the chat page exports and imports), contacts kept next
 * to it, and a readline prompt that incoming lines never break.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { createInterface, clearLine, cursorTo } from 'node:readline'
import { createChordNode, createIdentity, parseAddress } from '../src/index.js'
import { identityFileText, openIdentity, parseIdentityFile, storeIdentity } from './shared/identity-vault.js'
import type { DeliveryReceipt, SubscribeOptions, ChordNode, Identity, MailboxMessage, Subscription } from '../src/index.js'

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
  /contacts               list contacts
  /me                     your address and fingerprint
  /quit                   leave (Ctrl-D too)`

export async function runTerminalChat (options: TerminalChatOptions): Promise<void> {
  const { output } = options
  const { identity, created } = await loadOrCreateIdentity(options.identityFile)
  const contactsFile = `${options.identityFile}.contacts.json`
  const contacts: Contacts = await readJson(contactsFile) ?? {}
  /** envelope id → contact name, for the receipts to come */
  const sent = new Map<string, string>()
  let current: string | undefined

  const terminal = createInterface({ input: options.input, output, prompt: '> ', terminal: output.isTTY === true })
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
  const subscribeOptions: SubscribeOptions = {
    onError: err => { say(`! ${(err as Error).message}`) },
    onReceipt: (receipt: DeliveryReceipt) => {
      const name = sent.get(receipt.id) ?? nameOf(receipt.from) ?? 'someone'
      say(`  ✓✓ delivered to ${name} (${receipt.id.slice(0, 8)})`)
    }
  }
  const subscription: Subscription = await node.mailbox.subscribe(identity, async (message: MailboxMessage) => {
    let name = nameOf(message.from)
    if (name == null) {
      name = uniqueName(contacts, `new-${message.sender.fingerprint.slice(0, 4)}`)
      contacts[name] = message.from
      await saveJson(contactsFile, contacts)
      say(`* ${name} (${message.sender.fingerprint}) wrote to you for the first time: /add <name> ${message.from} to name them`)
    }
    const time = new Date(message.sentAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    say(`[${time}] ${name}: ${new TextDecoder().decode(message.plaintext)}`)
    await node.mailbox.ack(identity, [message.id])
  }, subscribeOptions)
  output.write(`joined the ring as a client (${node.libp2p.getConnections().length} connections). /help lists the commands.\n`)

  const send = async (name: string, text: string): Promise<void> => {
    const address = contacts[name]
    say(`  … sending to ${name}`)
    try {
      const { id, replicas } = await node.mailbox.send(identity, address, new TextEncoder().encode(text))
      sent.set(id, name)
      say(`  ✓ stored for ${name} on ${replicas} replica${replicas === 1 ? '' : 's'} (${id.slice(0, 8)})`)
    } catch (err) {
      say(`! not sent to ${name}: ${(err as Error).message}`)
    }
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
        if (name == null || contacts[name] == null) {
          say(`! no contact named ${name ?? '(none)'}: /contacts lists them`)
          return true
        }
        talkTo(name)
        say(`talking to ${name}`)
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
  for await (const line of terminal) {
    if (!await handle(line).catch(err => { say(`! ${(err as Error).message}`); return true })) {
      break
    }
    terminal.prompt()
  }
  terminal.close()
  output.write('leaving…\n')
  await subscription.close()
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
