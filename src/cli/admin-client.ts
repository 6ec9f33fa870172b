/**
 * How client commands reach a running node: its admin API, found through `admin.json` in the
 * node's data directory. Loads nothing of the library, so a one-shot command costs a process
 * start and one loopback request. It uses node:http rather than fetch: fetch's first use loads
 * undici, a twentieth of a second of a command that takes a quarter.
 */
import { request as httpRequest } from 'node:http'
import { text } from 'node:stream/consumers'
import { ADMIN_MAX_CONNECTIONS, CLIENT_TIMEOUT } from './constants.js'
import { NodeRefusedError, NodeUnreachableError, NotSupportedError, findCode } from './errors.js'
import { readAdminFile } from './admin-file.js'
import type { AdminEndpoint } from './admin-file.js'
import type { IncomingMessage } from 'node:http'

async function readJson (response: IncomingMessage): Promise<any> {
  try {
    return JSON.parse(await text(response))
  } catch {
    return {}
  }
}

export class AdminClient {
  readonly endpoint: AdminEndpoint
  private readonly dataDir: string

  private constructor (dataDir: string, endpoint: AdminEndpoint) {
    this.dataDir = dataDir
    this.endpoint = endpoint
  }

  /** @throws NodeUnreachableError when no node has left its address in `dataDir` */
  static async forDataDir (dataDir: string): Promise<AdminClient> {
    return new AdminClient(dataDir, await readAdminFile(dataDir))
  }

  /** A JSON request; resolves to the JSON answer */
  async call<T = any> (path: string, body?: unknown): Promise<T> {
    const response = await this.request(path, body, AbortSignal.timeout(CLIENT_TIMEOUT))
    const answer = await readJson(response)
    if (response.statusCode !== 200) {
      throw this.refusal(response.statusCode ?? 0, answer)
    }
    return answer
  }

  /** A request whose answer is read as a stream (a backup: it takes as long as it takes) */
  async stream (path: string): Promise<IncomingMessage> {
    const response = await this.request(path)
    if (response.statusCode !== 200) {
      throw this.refusal(response.statusCode ?? 0, await readJson(response))
    }
    return response
  }

  private async request (path: string, body?: unknown, signal?: AbortSignal): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    try {
      return await new Promise<IncomingMessage>((resolve, reject) => {
        const outgoing = httpRequest(`${this.endpoint.url}${path}`, {
          method: payload === undefined ? 'GET' : 'POST',
          headers: {
            authorization: `Bearer ${this.endpoint.token}`,
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.byteLength })
          },
          signal
        }, resolve)
        outgoing.once('error', reject)
        outgoing.end(payload)
      })
    } catch (err: any) {
      if (findCode(err, 'ECONNREFUSED') != null) {
        throw new NodeUnreachableError(`the node of --data-dir ${this.dataDir} does not answer at ${this.endpoint.url} (pid ${this.endpoint.pid}); it is not running, or stopped without cleaning up: start it again`, { cause: err })
      }
      // something listens there: the node, closing connections past its limit or stopping
      if (findCode(err, 'ECONNRESET') != null) {
        throw new NodeUnreachableError(`the node at ${this.endpoint.url} (pid ${this.endpoint.pid}) closed the connection unanswered: it takes ${ADMIN_MAX_CONNECTIONS} admin connections at once and that many are busy answering commands, or it is stopping; try again shortly`, { cause: err })
      }
      if (err?.name === 'AbortError' || err?.name === 'TimeoutError') {
        throw new NodeUnreachableError(`the node at ${this.endpoint.url} did not answer within ${CLIENT_TIMEOUT / 1000} s`, { cause: err })
      }
      throw err
    }
  }

  private refusal (status: number, answer: any): Error {
    const name: string = answer?.error?.name ?? `HTTP ${status}`
    const message: string = answer?.error?.message ?? `the node answered HTTP ${status}`
    if (status === 501) {
      return new NotSupportedError(message)
    }
    return new NodeRefusedError(name, `the node refused: ${message} (${name})`)
  }
}
