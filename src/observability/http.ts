/**
 * Serves a node's metrics and health over HTTP, for Prometheus and for probes:
 *
 *   GET /metrics   the Prometheus text exposition
 *   GET /health    the health report as JSON: 200 when ok or degraded, 503 when failing
 *
 * HEAD is answered like GET without a body; other methods get 405, other paths 404. Node only (it
 * uses node:http): nothing a browser bundle imports may import it.
 *
 * It listens where operators point it, possibly beyond loopback, so it keeps the limits every
 * listener of a node keeps: small request heads, a deadline for the head (a client that trickles
 * headers is cut off) and for the whole request, and few sockets. Sockets are counted by the
 * server itself rather than refused past a total (Node's `maxConnections`), so that strangers
 * holding them cannot lock a scraper out: one address holds at most HTTP_MAX_SOCKETS_PER_IP, and
 * when HTTP_MAX_CONNECTIONS are open a new socket takes the place of the oldest one that is not
 * being answered (an idle or trickling one), so a scraper that sends its request at once is
 * always served.
 */
import { createServer } from 'node:http'
import { prometheusContentType } from 'prom-client'
import { InvalidOptionsError } from '../errors.js'
import { SocketSlots } from '../limits/socket-slots.js'
import { listenHttp } from './listen-http.js'
import {
  HTTP_HEADERS_TIMEOUT,
  HTTP_KEEP_ALIVE_TIMEOUT,
  HTTP_MAX_CONNECTIONS,
  HTTP_MAX_HEADER_SIZE,
  HTTP_MAX_SOCKETS_PER_IP,
  HTTP_REQUEST_TIMEOUT,
  HTTP_TIMEOUT_CHECK_INTERVAL
} from './constants.js'
import type { HealthReport } from './health.js'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** What the server reads on each request; a `ChordNode` is one */
export interface ObservedNode {
  metrics(): Promise<string>
  health(): Promise<HealthReport>
}

export interface ObservabilityServerInit {
  /** the interface to listen on, e.g. 127.0.0.1 */
  host: string
  /** 0: any free port */
  port: number
  /** ms the request head may take to arrive; default HTTP_HEADERS_TIMEOUT */
  headersTimeoutMs?: number
  /** ms the whole request may take to arrive; default HTTP_REQUEST_TIMEOUT, never below the headers timeout */
  requestTimeoutMs?: number
}

export interface ObservabilityServer {
  /** where it listens, e.g. http://127.0.0.1:9464 */
  readonly url: string
  /** Stop listening and drop every open socket */
  close(): Promise<void>
}

const TEXT = 'text/plain; charset=utf-8'
const JSON_TYPE = 'application/json; charset=utf-8'

export async function startObservabilityServer (node: ObservedNode, init: ObservabilityServerInit): Promise<ObservabilityServer> {
  const headersTimeout = init.headersTimeoutMs ?? HTTP_HEADERS_TIMEOUT
  const server = createServer({
    headersTimeout,
    // Node refuses a request timeout shorter than the headers timeout
    requestTimeout: Math.max(init.requestTimeoutMs ?? HTTP_REQUEST_TIMEOUT, headersTimeout),
    connectionsCheckingInterval: Math.min(HTTP_TIMEOUT_CHECK_INTERVAL, headersTimeout),
    maxHeaderSize: HTTP_MAX_HEADER_SIZE
  }, (request, response) => { void respond(node, request, response) })
  server.keepAliveTimeout = HTTP_KEEP_ALIVE_TIMEOUT
  new SocketSlots(HTTP_MAX_CONNECTIONS, HTTP_MAX_SOCKETS_PER_IP).watch(server)

  return listenHttp(server, init.host, init.port)
}

/** `host:port` (an IPv6 host in brackets: `[::1]:9464`) as the server's listen options */
export function parseHostPort (value: string): Pick<ObservabilityServerInit, 'host' | 'port'> {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value)
  const port = Number(match?.[3])
  if (match == null || port > 65535) {
    throw new InvalidOptionsError(`expected host:port (e.g. 127.0.0.1:9464 or [::1]:9464), got "${value}"`)
  }
  return { host: match[1] ?? match[2], port }
}

async function respond (node: ObservedNode, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]
  const withBody = request.method !== 'HEAD'
  if (path !== '/metrics' && path !== '/health') {
    send(response, 404, TEXT, 'not found\n', withBody)
    return
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD')
    send(response, 405, TEXT, 'only GET and HEAD\n', withBody)
    return
  }
  try {
    if (path === '/metrics') {
      send(response, 200, prometheusContentType, await node.metrics(), withBody)
    } else {
      const report = await node.health()
      send(response, report.status === 'failing' ? 503 : 200, JSON_TYPE, `${JSON.stringify(report, null, 2)}\n`, withBody)
    }
  } catch (err) {
    send(response, 500, TEXT, `${err instanceof Error ? err.name : 'Error'}\n`, withBody)
  }
}

function send (response: ServerResponse, status: number, contentType: string, body: string, withBody: boolean): void {
  const bytes = Buffer.from(body)
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': bytes.byteLength,
    // every answer describes this moment: a cache in between must not replay it
    'Cache-Control': 'no-store'
  })
  response.end(withBody ? bytes : undefined)
}
