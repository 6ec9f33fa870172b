/**
 * The terminal chat: `npm run chat -- --bootstrap <multiaddr> [--identity <file>]`.
 *
 * With `--bootstrap` (repeatable) it joins that ring as a client and chats as the identity kept
 * in the file (examples/terminal-chat.ts).
 *
 * Without it, it is a demo of two people chatting end to end over a small local ring: it starts
 * three ring nodes on 127.0.0.1, gives Alice an identity on the first and Bob one on the last,
 * and reads lines from the terminal: `@bob hello` is sent by Alice to Bob, `@alice hi` by Bob to
 * Alice. Each side prints what it receives with the sender's fingerprint, which two real people
 * would compare out of band. `--demo` plays a short scripted exchange and exits.
 */
import { createInterface } from 'node:readline/promises'
import { createChordNode, createIdentity } from '../src/index.js'
import { parseCommandLine } from './shared/command-line.js'
import { PASSPHRASE_VARIABLE, runTerminalChat } from './terminal-chat.js'
import type { ChordNode, Identity, MailboxMessage } from '../src/index.js'

const DEFAULT_IDENTITY_FILE = './chat-identity.json'

const usage = `usage: npm run chat -- --bootstrap <multiaddr> [--identity <file>]
       npm run chat [-- --demo]
  --bootstrap <multiaddr>  a ring node to join through (repeatable)
  --identity <file>        your identity (made on first use; default ${DEFAULT_IDENTITY_FILE}); a file
                           protected by a passphrase is opened with $${PASSPHRASE_VARIABLE}
  --demo                   without --bootstrap: a scripted exchange on a local ring, then exit
  --help                   this text`

const values = parseCommandLine('chat', usage, {
  demo: { type: 'boolean', default: false },
  bootstrap: { type: 'string', multiple: true },
  identity: { type: 'string', default: DEFAULT_IDENTITY_FILE }
})

if (values.bootstrap != null && values.bootstrap.length > 0) {
  try {
    await runTerminalChat({ bootstrap: values.bootstrap, identityFile: values.identity, input: process.stdin, output: process.stdout })
    process.exit(0)
  } catch (err) {
    // a message, not a stack trace: what went wrong is in its name and text
    console.error(`chat: ${(err as Error).name}: ${(err as Error).message}`)
    process.exit(1)
  }
}

const listen = ['/ip4/127.0.0.1/tcp/0']
const first = await createChordNode({ listen })
const bootstrap = [first.getMultiaddrs()[0].toString()]
const nodes: ChordNode[] = [first, await createChordNode({ listen, bootstrap }), await createChordNode({ listen, bootstrap })]

const people: Record<string, { identity: Identity, node: ChordNode }> = {
  alice: { identity: await createIdentity(), node: nodes[0] },
  bob: { identity: await createIdentity(), node: nodes[2] }
}
for (const [name, { identity }] of Object.entries(people)) {
  console.log(`${name}: fingerprint ${identity.fingerprint}`)
}

let received = 0
const subscriptions = await Promise.all(Object.entries(people).map(async ([name, { identity, node }]) =>
  node.mailbox.subscribe(identity, async (message: MailboxMessage) => {
    const from = Object.entries(people).find(([, p]) => p.identity.address === message.from)?.[0] ?? 'someone'
    console.log(`[${name}] ${from} (${message.sender.fingerprint}): ${new TextDecoder().decode(message.plaintext)}`)
    received++
    await node.mailbox.ack(identity, [message.id])
  })
))

async function say (line: string): Promise<void> {
  const match = /^@(alice|bob)\s+(.+)$/.exec(line.trim())
  if (match == null) {
    console.log('write "@bob <text>" (Alice to Bob) or "@alice <text>" (Bob to Alice); Ctrl-D quits')
    return
  }
  const [, to, text] = match
  const from = to === 'bob' ? people.alice : people.bob
  await from.node.mailbox.send(from.identity, people[to].identity.address, new TextEncoder().encode(text))
}

if (values.demo) {
  await say('@bob hello Bob, it is Alice')
  await say('@alice hi Alice! loud and clear')
  const deadline = Date.now() + 10_000
  // `received` grows in the subscriptions' callbacks
  // eslint-disable-next-line no-unmodified-loop-condition
  while (received < 2 && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 20))
  }
} else {
  const terminal = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' })
  terminal.prompt()
  for await (const line of terminal) {
    await say(line).catch(err => { console.error(err.message) })
    terminal.prompt()
  }
}

await Promise.all(subscriptions.map(async s => s.close()))
await Promise.all(nodes.map(async n => n.stop()))
process.exit(received >= 2 || !values.demo ? 0 : 1)
