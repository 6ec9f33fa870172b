/**
 * How client commands reach a running node: its admin API, found through `admin.json` in the
 * node's data directory. Loads nothing of the library, so a one-shot command costs a process
 * start and one loopback request.
 */
import { CLIENT_TIMEOUT } from './constants.js'
import { NodeRefusedError, NodeUnreachableError, NotSupportedError, findCode } from './errors.js'
import { readAdminFile } from './admin-file.js'
import type { AdminEndpoint } from './admin-file.js'

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
    const response = await this.request(path, body)
    const answer: any = await response.json().catch(() => ({}))
    if (!response.ok) {
      throw this.refusal(response.status, answer)
    }
    return answer
  }

  /** A request whose answer is read as a stream of text */
  async stream (path: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.request(path, undefined, signal)
    if (!response.ok || response.body == null) {
      throw this.refusal(response.status, await response.json().catch(() => ({})))
    }
    return response.body
  }

  private async request (path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(`${this.endpoint.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${this.endpoint.token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        // a stream (a backup) may take as long as it takes; a request gets the client's deadline
        signal: signal ?? AbortSignal.timeout(CLIENT_TIMEOUT)
      })
    } catch (err: any) {
      if (findCode(err, 'ECONNREFUSED', 'ECONNRESET') != null) {
        throw new NodeUnreachableError(`the node of --data-dir ${this.dataDir} does not answer at ${this.endpoint.url} (pid ${this.endpoint.pid}); it is not running, or stopped without cleaning up: start it again`, { cause: err })
      }
      if (err?.name === 'TimeoutError') {
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
