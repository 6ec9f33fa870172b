/**
 * A long-lived ring node: `npm start -- --bootstrap <multiaddr> --data-dir <dir>`.
 *
 * Joins the ring through the bootstrap addresses (or starts a new ring without any), keeps its
 * identity and records in LevelDB under --data-dir, prints its PeerId and addresses, serves
 * /metrics and /health with --http, and leaves the ring gracefully on SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { createChordNode } from '../src/index.js'
import { parseHostPort, startObservabilityServer } from '../src/observability/http.js'
import type { ObservabilityServer } from '../src/observability/http.js'

const DEFAULT_DATA_DIR = './chord-data'

const usage = `usage: npm start -- [options]
  --listen <multiaddr>     address to listen on (repeatable; default: all interfaces, TCP and WebSockets)
  --bootstrap <multiaddr>  a ring node to join through (repeatable; none: start a new ring)
  --data-dir <dir>         where identity and records are kept (default: ${DEFAULT_DATA_DIR})
  --http <host:port>       serve /metrics and /health over HTTP, e.g. 127.0.0.1:9464
  --replicas <r>           replication factor (default: 3)
  --help                   this text`

const { values } = parseArgs({
  options: {
    listen: { type: 'string', multiple: true },
    bootstrap: { type: 'string', multiple: true },
    'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
    http: { type: 'string' },
    replicas: { type: 'string' },
    help: { type: 'boolean', default: false }
  },
  strict: true
})

if (values.help) {
  console.log(usage)
  process.exit(0)
}
const http = values.http == null ? undefined : parseHostPort(values.http)

const node = await createChordNode({
  listen: values.listen,
  bootstrap: values.bootstrap ?? [],
  dataDir: values['data-dir'],
  replicas: values.replicas == null ? undefined : Number(values.replicas)
})

console.log(`peer id:  ${node.peerId.toString()}`)
console.log(`ring id:  ${node.ringId}`)
console.log(`data dir: ${values['data-dir']}`)
for (const addr of node.getMultiaddrs()) {
  console.log(`listening on ${addr.toString()}`)
}

let server: ObservabilityServer | undefined
if (http != null) {
  // the process's own metrics (memory, CPU, event loop lag) next to the node's: one node per process here
  const processMetrics = new Registry()
  collectDefaultMetrics({ register: processMetrics })
  server = await startObservabilityServer({
    metrics: async () => `${await node.metrics()}\n${await processMetrics.metrics()}`,
    health: async () => node.health()
  }, http)
  console.log(`metrics:  ${server.url}/metrics`)
  console.log(`health:   ${server.url}/health`)
}

let stopping = false
async function shutdown (signal: string): Promise<void> {
  if (stopping) {
    return
  }
  stopping = true
  console.log(`${signal}: leaving the ring`)
  await server?.close()
  await node.stop()
  console.log('stopped')
  process.exit(0)
}
process.on('SIGINT', () => { void shutdown('SIGINT') })
process.on('SIGTERM', () => { void shutdown('SIGTERM') })
