/**
 * The admin API of a running node: what `chord-node put|get|lookup|publish|resolve|send|status|
 * backup` ask of it. JSON over HTTP on a loopback address, each request carrying the node's
 * token (`Authorization: Bearer …`, from `admin.json` in the data directory).
 *
 *   GET  /v1/status                                   the node, its ring and its health
 *   POST /v1/put      {key, value, ttlMs?}            → {replicas}
 *   POST /v1/get      {key}                           → {values}
 *   POST /v1/lookup   {key}                           → {peerId, ringId, hops}
 *   POST /v1/publish  {identity, name, value, ttlMs?} → {seq, replicas}
 *   POST /v1/resolve  {address, name}                 → {value, seq, publishedAt} | {}
 *   POST /v1/send     {identity, to, message, ttlMs?} → {id, replicas}
 *   GET  /v1/backup                                   the backup's lines (storage/backup.ts), streamed
 *
 * Keys and names are strings; values, messages and identities (an identity's export) are base64.
 * Errors answer `{error: {name, message}}`: 400 for a bad request, 401 without the token, 501 for
 * what this node's library cannot do, 503 while the node is starting or stopping, 500 otherwise.
 *
 * Using the API is operating the node: the token is the whole of its access control, so it
 * listens on loopback only, and identities sent for `send` and `publish` are used for that one
 * call and kept nowhere.
 */
import { timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { importIdentity } from '../index.js'
import { SocketSlots } from '../limits/socket-slots.js'
import { listenHttp } from '../observability/listen-http.js'
import {
  ADMIN_HEADERS_TIMEOUT, ADMIN_MAX_BODY_BYTES, ADMIN_MAX_CONNECTIONS, ADMIN_REQUEST_TIMEOUT, ADMIN_TIMEOUT_CHECK_INTERVAL
} from './constants.js'
import type { ChordNode, HealthReport, Identity } from '../index.js'
import type { Logger } from './log.js'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** What the admin API uses of a node */
export type AdminNode = Pick<ChordNode, 'put' | 'get' | 'lookup' | 'mailbox' | 'backup' | 'publish' | 'resolve'>

export interface AdminServerInit {
  host: string
  port: number
  token: string
  /** the node once it has joined; until then requests are answered 503 */
  node(): AdminNode | undefined
  /** the status report, also while starting */
  status(): Promise<NodeStatusReport>
  log: Logger
}

export interface NodeStatusReport {
  state: string
  peerId?: string
  ringId?: string
  addresses?: string[]
  /** estimated nodes in the ring */
  ringSize?: number
  health?: HealthReport
  pid: number
  uptimeSeconds: number
  version: string
}

export interface AdminServer {
  readonly url: string
  /** Stop taking requests; those under way are cut off */
  close(): Promise<void>
}

/** A request the API cannot take as it is */
class BadRequest extends Error {
  static name = 'BadRequest'
  readonly status: number
  constructor (message: string, status = 400) {
    super(message)
    this.name = BadRequest.name
    this.status = status
  }
}

export async function startAdminServer (init: AdminServerInit): Promise<AdminServer> {
  const expected = Buffer.from(`Bearer ${init.token}`)
  const server = createServer({
    headersTimeout: ADMIN_HEADERS_TIMEOUT,
    requestTimeout: ADMIN_REQUEST_TIMEOUT,
    connectionsCheckingInterval: ADMIN_TIMEOUT_CHECK_INTERVAL
  }, (request, response) => {
    void handle(init, expected, request, response)
  })
  // every caller is on this host: no share per address
  new SocketSlots(ADMIN_MAX_CONNECTIONS, Number.POSITIVE_INFINITY).watch(server)
  return listenHttp(server, init.host, init.port)
}

function authorized (expected: Buffer, header: string | undefined): boolean {
  const given = Buffer.from(header ?? '')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

async function handle (init: AdminServerInit, expected: Buffer, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://admin').pathname
  try {
    if (!authorized(expected, request.headers.authorization)) {
      throw new BadRequest('the admin token is missing or wrong (it is in admin.json in the data dir, and changes at every start)', 401)
    }
    if (path === '/v1/status' && request.method === 'GET') {
      answer(response, 200, await init.status())
      return
    }
    const route = ROUTES[path]
    if (route == null && path !== '/v1/backup') {
      throw new BadRequest(`no such request: ${request.method ?? ''} ${path}`, 404)
    }
    const node = init.node()
    if (node == null) {
      throw new BadRequest('the node is still joining the ring (or is stopping); try again shortly', 503)
    }
    if (path === '/v1/backup' && request.method === 'GET') {
      await sendBackup(init, node, response)
      return
    }
    if (request.method !== 'POST') {
      throw new BadRequest(`${path} takes POST`, 405)
    }
    answer(response, 200, await route(node, await readJson(request)))
  } catch (err: any) {
    const status = err instanceof BadRequest ? err.status : statusOf(err)
    // a request its client gave up on (or the request timeout cut off) is no failure of the node
    if (status >= 500 && !request.destroyed) {
      init.log.warn({ request: path, errorName: err?.name }, `admin ${path} failed: ${err?.message ?? String(err)}`)
    }
    if (!response.headersSent) {
      answer(response, status, { error: { name: err?.name ?? 'Error', message: err?.message ?? String(err) } })
    } else {
      response.destroy()
    }
  }
}

/** The errors a caller could fix: their request was wrong, not the node */
const CALLER_ERRORS = ['InvalidOptionsError', 'InvalidRecordError', 'TooLargeError', 'VerificationError', 'ForbiddenError', 'QuotaExceededError']

function statusOf (err: any): number {
  if (CALLER_ERRORS.includes(err?.name)) {
    return 400
  }
  if (err?.name === 'NotJoinedError' || err?.name === 'NotStartedError') {
    return 503
  }
  return 500
}

function answer (response: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(`${JSON.stringify(body)}\n`)
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.byteLength, 'Cache-Control': 'no-store' })
  response.end(bytes)
}

async function readJson (request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of request) {
    length += (chunk as Buffer).byteLength
    if (length > ADMIN_MAX_BODY_BYTES) {
      throw new BadRequest(`the request is larger than ${ADMIN_MAX_BODY_BYTES} bytes`, 413)
    }
    chunks.push(chunk as Buffer)
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    if (body != null && typeof body === 'object' && !Array.isArray(body)) {
      return body
    }
  } catch {}
  throw new BadRequest('the request body must be a JSON object')
}

function text (body: Record<string, unknown>, field: string): string {
  const value = body[field]
  if (typeof value !== 'string' || value === '') {
    throw new BadRequest(`"${field}" must be a non-empty string`)
  }
  return value
}

function base64 (body: Record<string, unknown>, field: string): Uint8Array {
  const value = body[field]
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new BadRequest(`"${field}" must be base64`)
  }
  return new Uint8Array(Buffer.from(value, 'base64'))
}

function optionalTtl (body: Record<string, unknown>): { ttlMs?: number } {
  const ttlMs = body.ttlMs
  if (ttlMs == null) {
    return {}
  }
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new BadRequest('"ttlMs" must be a positive integer')
  }
  return { ttlMs }
}

async function identity (body: Record<string, unknown>): Promise<Identity> {
  try {
    return await importIdentity(base64(body, 'identity'))
  } catch (err: any) {
    throw new BadRequest(`"identity" is not an exported identity: ${err.message}`)
  }
}

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

type Route = (node: AdminNode, body: Record<string, unknown>) => Promise<unknown>

const ROUTES: Record<string, Route> = {
  '/v1/put': async (node, body) => node.put(text(body, 'key'), base64(body, 'value'), optionalTtl(body)),
  '/v1/get': async (node, body) => ({ values: (await node.get(text(body, 'key'))).map(toBase64) }),
  '/v1/lookup': async (node, body) => {
    const { peerId, ringId, hops } = await node.lookup(text(body, 'key'))
    return { peerId: peerId.toString(), ringId, hops }
  },
  '/v1/send': async (node, body) => node.mailbox.send(await identity(body), text(body, 'to'), base64(body, 'message'), optionalTtl(body)),
  '/v1/publish': async (node, body) => {
    const { seq, replicas } = await node.publish(await identity(body), text(body, 'name'), base64(body, 'value'), optionalTtl(body))
    return { seq, replicas }
  },
  '/v1/resolve': async (node, body) => {
    const found = await node.resolve(text(body, 'address'), text(body, 'name'))
    return found == null ? {} : { value: toBase64(found.value), seq: found.seq, publishedAt: found.publishedAt }
  }
}

async function sendBackup (init: AdminServerInit, node: AdminNode, response: ServerResponse): Promise<void> {
  const cancelled = new AbortController()
  response.once('close', () => { cancelled.abort() })
  const lines = node.backup({ signal: cancelled.signal })
  // the first read takes the snapshot: before any byte is sent, so a failure still gets a status
  const first = await lines.next()
  response.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store' })
  init.log.info('backup started')
  const rest = async function * (): AsyncGenerator<string> {
    if (first.done !== true) {
      yield first.value
    }
    yield * lines
  }
  await pipeline(Readable.from(rest()), response)
  init.log.info('backup sent')
}
