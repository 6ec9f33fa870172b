/**
 * The chat in one command: `npm run demo`.
 *
 * Starts a small ring of nodes on 127.0.0.1 in this process (TCP between them, WebSockets for
 * browsers), serves the chat page, and prints the URL to open in two browser windows. Two
 * windows of one browser profile share IndexedDB, hence one identity: use two profiles, or a
 * private window for the second person. Ctrl-C stops everything.
 */
import { createChordNode } from '../src/index.js'
import { serveBrowserExample } from './browser/build.js'
import { parseCommandLine } from './shared/command-line.js'
import type { ChordNode } from '../src/index.js'

const usage = `usage: npm run demo -- [--nodes <n>] [--port <port>]
  --nodes <n>      ring nodes to start (default 4)
  --port <port>    port of the page on 127.0.0.1 (default 8000)
  --help           this text`

const values = parseCommandLine('demo', usage, {
  nodes: { type: 'string', default: '4' },
  port: { type: 'string', default: '8000' }
})
const count = Number(values.nodes)
const port = Number(values.port)
if (!Number.isInteger(count) || count < 1) {
  console.error(`demo: --nodes "${values.nodes}": expected a whole number of ring nodes, 1 or more`)
  process.exit(2)
}
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`demo: --port "${values.port}": expected a port, 1 to 65535`)
  process.exit(2)
}

const listen = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws']
const webSocketAddress = (node: ChordNode): string => node.getMultiaddrs().map(String).find(a => a.includes('/ws/')) ?? ''
const tcpAddress = (node: ChordNode): string => node.getMultiaddrs().map(String).find(a => !a.includes('/ws')) ?? ''

const nodes: ChordNode[] = [await createChordNode({ listen })]
for (let i = 1; i < count; i++) {
  nodes.push(await createChordNode({ listen, bootstrap: [tcpAddress(nodes[i - 1])] }))
}
for (const node of nodes) {
  console.log(`ring node ${node.peerId.toString()} on ${webSocketAddress(node)}`)
}

// two bootstrap addresses, so that a page still finds the ring when one of them is gone
const bootstrap = nodes.slice(0, 2).map(node => `bootstrap=${encodeURIComponent(webSocketAddress(node))}`).join('&')
const origin = await serveBrowserExample('127.0.0.1', port)
console.log(`
Open the chat in two browser windows (two profiles, or one private window):

  ${origin}?${bootstrap}

Each window makes its own identity. Copy one's link (or address) into the other's
"Add a contact", and chat. The terminal chat joins the same ring:

  npm run chat -- --bootstrap ${tcpAddress(nodes[0])}

Ctrl-C stops the ring.`)

let stopping = false
async function shutdown (): Promise<void> {
  if (stopping) {
    return
  }
  stopping = true
  console.log('stopping the ring…')
  await Promise.allSettled(nodes.map(async node => node.stop()))
  process.exit(0)
}
process.on('SIGINT', () => { void shutdown() })
process.on('SIGTERM', () => { void shutdown() })
