/**
 * The admin API's limits, gone over by clients on loopback: a request body a byte over its
 * largest, a socket more than it takes at once, and requests that do not arrive in time. The
 * server runs in this process, in front of a stand-in for the node; commands reach it as
 * `chord-node` does, through the data directory's admin file.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { AdminClient } from '../../src/cli/admin-client.js'
import { writeAdminFile } from '../../src/cli/admin-file.js'
import { startAdminServer } from '../../src/cli/admin-server.js'
import {
  ADMIN_HEADERS_TIMEOUT,
  ADMIN_MAX_BODY_BYTES,
  ADMIN_MAX_CONNECTIONS,
  ADMIN_REQUEST_TIMEOUT,
  ADMIN_TIMEOUT_CHECK_INTERVAL
} from '../../src/cli/constants.js'
import { NodeRefusedError, NodeUnreachableError } from '../../src/cli/errors.js'
import { slowClient } from '../helpers/slow-client.js'
import { waitFor } from '../helpers/wait-for.js'
import type { AdminNode, AdminServer, NodeStatusReport } from '../../src/cli/admin-server.js'
import type { Socket } from 'node:net'

const TOKEN = 'a-token-for-this-test'

const STATUS: NodeStatusReport = { state: 'running', pid: process.pid, uptimeSeconds: 1, version: '0.0.0' }

/** The body of a put whose JSON is exactly `bytes` long */
function putOf (bytes: number): { key: string, value: string } {
  const key = 'k'
  const around = JSON.stringify({ key, value: '' }).length
  return { key, value: 'A'.repeat(bytes - around) }
}

describe('the admin API at its limits', function () {
  this.timeout(30_000)
  let server: AdminServer
  let port: number
  let dir: string
  let client: AdminClient
  /** the values the stand-in node was asked to put, by length */
  let puts: number[]
  /** what the stand-in node's puts wait for before they answer */
  let putting: Promise<void>
  /** what the server logged at warn and above */
  let warnings: string[]
  const sockets = new Set<Socket>()

  beforeEach(async () => {
    puts = []
    putting = Promise.resolve()
    warnings = []
    const node = {
      put: async (_key: string, value: Uint8Array) => {
        puts.push(value.byteLength)
        await putting
        return { replicas: 1 }
      }
    } as unknown as AdminNode
    server = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      node: () => node,
      status: async () => STATUS,
      log: pino({ level: 'warn' }, { write: (line: string) => { warnings.push(line) } })
    })
    port = Number(new URL(server.url).port)
    dir = await mkdtemp(join(tmpdir(), 'chord-admin-'))
    await writeAdminFile(dir, { url: server.url, token: TOKEN, pid: process.pid })
    client = await AdminClient.forDataDir(dir)
  })

  afterEach(async () => {
    for (const socket of sockets) {
      socket.destroy()
    }
    sockets.clear()
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  /** A socket to the server, once connected */
  async function connected (): Promise<Socket> {
    const socket = connect(port, '127.0.0.1')
    sockets.add(socket)
    socket.on('error', () => {})
    await new Promise(resolve => socket.once('connect', resolve))
    return socket
  }

  it(`refuses a body of ADMIN_MAX_BODY_BYTES + 1 (${ADMIN_MAX_BODY_BYTES + 1}) bytes with 413, naming the limit, and puts nothing; takes one of ADMIN_MAX_BODY_BYTES`, async () => {
    const over = putOf(ADMIN_MAX_BODY_BYTES + 1)
    assert.equal(JSON.stringify(over).length, ADMIN_MAX_BODY_BYTES + 1)
    await assert.rejects(client.call('/v1/put', over), (err: Error) => {
      assert.ok(err instanceof NodeRefusedError, String(err))
      assert.equal(err.message, `the node refused: the request is larger than ${ADMIN_MAX_BODY_BYTES} bytes (BadRequest)`)
      return true
    })
    const refused = await fetch(`${server.url}/v1/put`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(over) })
    assert.equal(refused.status, 413)
    assert.deepEqual(puts, [])

    const within = putOf(ADMIN_MAX_BODY_BYTES)
    assert.deepEqual(await client.call('/v1/put', within), { replicas: 1 })
    assert.deepEqual(puts, [Buffer.from(within.value, 'base64').byteLength])
  })

  /** What `socket` is answered to a status request, or 'closed' */
  async function statusOver (socket: Socket): Promise<string> {
    return new Promise<string>(resolve => {
      if (socket.closed) {
        resolve('closed')
      }
      socket.once('data', chunk => { resolve(String(chunk).split('\r\n')[0]) })
      socket.once('close', () => { resolve('closed') })
      socket.write(`GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`)
    })
  }

  it(`holds ADMIN_MAX_CONNECTIONS (${ADMIN_MAX_CONNECTIONS}) sockets: a command takes the place of the oldest idle one, so silent sockets lock nobody out`, async () => {
    const held = await Promise.all(Array.from({ length: ADMIN_MAX_CONNECTIONS }, connected))
    assert.equal((await client.call('/v1/status')).state, 'running')
    await waitFor(() => held[0].closed, 'the oldest idle socket to make room')
    assert.deepEqual(await Promise.all(held.slice(1).map(statusOver)), held.slice(1).map(() => 'HTTP/1.1 200 OK'), 'the others are still held')
  })

  it('closes a socket past ADMIN_MAX_CONNECTIONS unanswered while every one is being answered, and the command says why; serves it once an answer ends', async () => {
    let finish = (): void => {}
    const finished = new Promise<void>(resolve => { finish = resolve })
    putting = finished
    const held = await Promise.all(Array.from({ length: ADMIN_MAX_CONNECTIONS }, connected))
    const answers = held.map(async socket => new Promise<string>(resolve => {
      socket.once('data', chunk => { resolve(String(chunk).split('\r\n')[0]) })
      socket.once('close', () => { resolve('closed') })
      const body = JSON.stringify(putOf(64))
      socket.write(`POST /v1/put HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
    }))
    await waitFor(() => puts.length === ADMIN_MAX_CONNECTIONS, 'every held socket to be answering a put')

    await assert.rejects(client.call('/v1/status'), (err: Error) => {
      assert.ok(err instanceof NodeUnreachableError, String(err))
      assert.match(err.message, /closed the connection unanswered/)
      assert.ok(err.message.includes(`takes ${ADMIN_MAX_CONNECTIONS} admin connections at once`), err.message)
      return true
    })
    finish()
    assert.deepEqual(await Promise.all(answers), held.map(() => 'HTTP/1.1 200 OK'))
    assert.equal((await client.call('/v1/status')).state, 'running')
  })

  it('drops with 408 a client whose head is not in within ADMIN_HEADERS_TIMEOUT, silent or slow, and one whose request is not in within ADMIN_REQUEST_TIMEOUT, none sooner and putting nothing; a command is served meanwhile', async function () {
    // the deadlines at their real length, waited out side by side; the server looks for requests
    // over them every ADMIN_TIMEOUT_CHECK_INTERVAL
    const late = 2 * ADMIN_TIMEOUT_CHECK_INTERVAL + 1000
    this.timeout(ADMIN_REQUEST_TIMEOUT + late + 5000)
    const started = Date.now()
    const left = (ms: number): number => started + ms - Date.now()
    const silent = slowClient(port, '')
    // one more header line now and then, never the blank line that ends the head
    const slowHead = slowClient(port, `POST /v1/put HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n`, 'X-Slow: 1\r\n')
    // a whole head at once, then a body that never completes
    const slowBody = slowClient(port, `POST /v1/put HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000\r\n\r\n`, ' ')
    try {
      for (const slow of [silent, slowHead]) {
        await waitFor(() => slow.closedAt !== undefined, 'the server to drop a client without a head', left(ADMIN_HEADERS_TIMEOUT + late))
        assert.ok(slow.closedAt! - started >= ADMIN_HEADERS_TIMEOUT, `dropped after ${slow.closedAt! - started} ms`)
        assert.match(slow.received, /^HTTP\/1\.1 408 /)
      }

      assert.equal(slowBody.closedAt, undefined, 'the slow body is within the request timeout')
      assert.equal((await client.call('/v1/status')).state, 'running')

      await waitFor(() => slowBody.closedAt !== undefined, 'the server to drop the slow body', left(ADMIN_REQUEST_TIMEOUT + late))
      assert.ok(slowBody.closedAt! - started >= ADMIN_REQUEST_TIMEOUT, `dropped after ${slowBody.closedAt! - started} ms`)
      assert.match(slowBody.received, /^HTTP\/1\.1 408 /)
      assert.deepEqual(puts, [])
      assert.deepEqual(warnings, [], 'a request cut off by its deadline is no failure of the node')
    } finally {
      for (const slow of [silent, slowHead, slowBody]) {
        slow.stop()
      }
    }
  })
})
