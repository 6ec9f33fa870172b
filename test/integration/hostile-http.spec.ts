/**
 * Strangers hold sockets to a node's metrics and health endpoint, and open new ones as soon as
 * theirs close; an honest scraper still gets every answer within a second. The strangers connect
 * from loopback addresses of their own (127.3.0.0/16, routed to the loopback interface on Linux
 * with no setup), the scraper from 127.0.0.1.
 */
import { strict as assert } from 'node:assert'
import { connect } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { startObservabilityServer } from '../../src/observability/http.js'
import { HTTP_MAX_CONNECTIONS, HTTP_MAX_SOCKETS_PER_IP } from '../../src/observability/constants.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ObservabilityServer, ObservedNode } from '../../src/observability/http.js'
import type { Socket } from 'node:net'

const STRANGERS = 200
/** how long the strangers keep at it, and the scraper scrapes */
const ATTACK_MS = 6_000
/** the longest an answer may take */
const ANSWER_WITHIN_MS = 1_000
/** ms between two scrapes of the test's scraper: ten a second, far more often than Prometheus asks */
const SCRAPE_EVERY_MS = 100

/**
 * The strangers' thread (plain JavaScript, run with `eval`): it reports how many sockets are
 * connected as they connect, and how many it opened in all once the attack is over.
 */
const STRANGERS_THREAD = `
const { connect } = require('node:net')
const { parentPort, workerData } = require('node:worker_threads')
const { port, sources, until } = workerData
let opened = 0
let connected = 0
const open = source => {
  if (Date.now() >= until) {
    return
  }
  opened++
  const socket = connect({ host: '127.0.0.1', port, localAddress: source })
  socket.on('connect', () => {
    parentPort.postMessage({ connected: ++connected })
    socket.write('GET /metrics HTTP/1.1\\r\\n')
  })
  socket.on('error', () => {})
  // re-open, but not in a tight loop
  socket.on('close', () => { setTimeout(() => { open(source) }, 50) })
}
sources.forEach(open)
setTimeout(() => {
  parentPort.postMessage({ opened })
  process.exit(0)
}, until - Date.now())
`

const node: ObservedNode = {
  metrics: async () => '# a few metrics\n',
  health: async () => ({ status: 'ok', checks: {} } as unknown as Awaited<ReturnType<ObservedNode['health']>>)
}

describe('the metrics and health endpoint while strangers hold its sockets', function () {
  this.timeout(60_000)
  let server: ObservabilityServer | undefined
  const sockets = new Set<Socket>()
  const strangers = new Set<Worker>()

  afterEach(async () => {
    for (const socket of sockets) {
      socket.destroy()
    }
    sockets.clear()
    await Promise.all([...strangers].map(async worker => worker.terminate()))
    strangers.clear()
    await server?.close()
  })

  /**
   * Each stranger holds a socket open, sending the start of a request head and nothing more, and
   * opens a new one as soon as it is closed, until `until`. The strangers run on a thread of their
   * own, as they would on hosts of their own: the node's event loop serves them, it does not also
   * play them. `done` resolves to how many sockets were opened; `connected()` tells how many
   * connected so far.
   */
  function hold (port: number, sources: string[], until: number): { done: Promise<number>, connected(): number } {
    const worker = new Worker(STRANGERS_THREAD, { eval: true, workerData: { port, sources, until } })
    strangers.add(worker)
    let connected = 0
    const done = new Promise<number>((resolve, reject) => {
      worker.on('message', (message: { connected?: number, opened?: number }) => {
        connected = message.connected ?? connected
        if (message.opened !== undefined) {
          resolve(message.opened)
        }
      })
      worker.once('error', reject)
    })
    return { done, connected: () => connected }
  }

  /** GET /health every SCRAPE_EVERY_MS until `until`; each answer's time, ms (Infinity for none) */
  async function scrape (url: string, until: number): Promise<number[]> {
    const times: number[] = []
    while (Date.now() < until) {
      const started = performance.now()
      const answered = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3 * ANSWER_WITHIN_MS) })
        .then(async response => { await response.text(); return response.status === 200 }, () => false)
      times.push(answered ? performance.now() - started : Infinity)
      // the scraper's own pace (a workload, not a wait for anything): Prometheus scrapes every few seconds
      await delay(SCRAPE_EVERY_MS)
    }
    return times
  }

  for (const [what, sourceOf] of [
    ['one address each', (i: number) => `127.3.${Math.floor(i / 250)}.${1 + (i % 250)}`],
    ['a few addresses', (i: number) => `127.3.9.${1 + (i % 5)}`]
  ] as const) {
    it(`answers a /health scraper within a second while ${STRANGERS} sockets are held by strangers from ${what}`, async () => {
      server = await startObservabilityServer(node, { host: '127.0.0.1', port: 0 })
      const port = Number(new URL(server.url).port)
      const until = Date.now() + ATTACK_MS
      const holding = hold(port, Array.from({ length: STRANGERS }, (_, i) => sourceOf(i)), until)
      await waitFor(() => holding.connected() >= STRANGERS, 'the strangers to hold their sockets', ATTACK_MS / 2)
      const times = await scrape(server.url, until)
      const opened = await holding.done
      const worst = Math.max(...times)
      console.log(`      strangers opened ${opened} sockets; ${times.length} scrapes, the slowest answered in ${worst.toFixed(1)} ms`)
      assert.ok(times.length >= 10)
      assert.ok(worst < ANSWER_WITHIN_MS, `a scrape took ${worst} ms`)
    })
  }

  /**
   * HTTP_MAX_CONNECTIONS sockets, from as few addresses as HTTP_MAX_SOCKETS_PER_IP allows, each
   * connected in turn (the server takes them in that order); `closed` holds those closed since
   */
  async function fill (port: number): Promise<{ held: Socket[], closed: Set<Socket> }> {
    const closed = new Set<Socket>()
    const held: Socket[] = []
    for (let i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
      const socket = await connected(port, `127.3.11.${1 + Math.floor(i / HTTP_MAX_SOCKETS_PER_IP)}`)
      socket.once('close', () => { closed.add(socket) })
      held.push(socket)
    }
    return { held, closed }
  }

  async function connected (port: number, localAddress: string): Promise<Socket> {
    const socket = connect({ host: '127.0.0.1', port, localAddress })
    sockets.add(socket)
    socket.on('error', () => {})
    await new Promise(resolve => socket.once('connect', resolve))
    return socket
  }

  /** The status line of the answer to a GET of `path` on `socket` */
  async function statusOf (socket: Socket, path: string): Promise<string> {
    return new Promise<string>(resolve => {
      socket.once('data', chunk => { resolve(String(chunk).split('\r\n')[0]) })
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`)
    })
  }

  it(`gives the socket past HTTP_MAX_CONNECTIONS (${HTTP_MAX_CONNECTIONS}) the place of the oldest idle one, and serves it`, async () => {
    server = await startObservabilityServer(node, { host: '127.0.0.1', port: 0 })
    const port = Number(new URL(server.url).port)
    const { held, closed } = await fill(port)
    assert.equal(closed.size, 0)

    const newcomer = await connected(port, '127.3.12.1')
    assert.equal(await statusOf(newcomer, '/health'), 'HTTP/1.1 200 OK')
    await waitFor(() => closed.has(held[0]), 'the oldest socket to be closed', 2000)
    assert.equal(closed.size, 1)
    // the others are still served
    assert.equal(await statusOf(held[held.length - 1], '/health'), 'HTTP/1.1 200 OK')
  })

  it(`closes the socket past HTTP_MAX_CONNECTIONS (${HTTP_MAX_CONNECTIONS}) unanswered while every one is being answered; they all get their answers`, async () => {
    let asked = 0
    let answer = (): void => {}
    const answered = new Promise<void>(resolve => { answer = resolve })
    const slow: ObservedNode = {
      ...node,
      health: async () => {
        asked++
        await answered
        return node.health()
      }
    }
    server = await startObservabilityServer(slow, { host: '127.0.0.1', port: 0 })
    const port = Number(new URL(server.url).port)
    const { held, closed } = await fill(port)
    const statuses = held.map(async socket => statusOf(socket, '/health'))
    await waitFor(() => asked === HTTP_MAX_CONNECTIONS, 'every socket\'s request to be under way', 2000)

    const newcomer = await connected(port, '127.3.12.1')
    let received = ''
    let refused = false
    newcomer.on('data', chunk => { received += String(chunk) })
    newcomer.once('close', () => { refused = true })
    newcomer.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    await waitFor(() => refused, 'the newcomer to be closed', 2000)
    assert.equal(received, '')

    answer()
    assert.deepEqual(await Promise.all(statuses), held.map(() => 'HTTP/1.1 200 OK'))
    assert.equal(closed.size, 0)
  })

  it(`refuses more than HTTP_MAX_SOCKETS_PER_IP (${HTTP_MAX_SOCKETS_PER_IP}) sockets from one address`, async () => {
    server = await startObservabilityServer(node, { host: '127.0.0.1', port: 0 })
    const port = Number(new URL(server.url).port)
    let closed = 0
    const mine = Array.from({ length: HTTP_MAX_SOCKETS_PER_IP + 2 }, () => {
      const socket = connect({ host: '127.0.0.1', port, localAddress: '127.3.10.1' })
      sockets.add(socket)
      socket.on('error', () => {})
      socket.once('close', () => { closed++ })
      return socket
    })
    await waitFor(() => closed === 2 && mine.every(socket => socket.readyState !== 'opening'), 'two sockets to be refused')
    // the others are served: a request on each is answered
    const open = mine.filter(socket => !socket.destroyed && socket.readyState === 'open')
    assert.equal(open.length, HTTP_MAX_SOCKETS_PER_IP)
    const answered = await Promise.all(open.map(async socket => new Promise<string>(resolve => {
      socket.once('data', chunk => { resolve(String(chunk).split('\r\n')[0]) })
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    })))
    assert.deepEqual(answered, open.map(() => 'HTTP/1.1 200 OK'))
  })
})
