/**
 * A static HTTP server on 127.0.0.1 for browser tests: serves a fixed set of files by URL path
 * and nothing else. Loopback is a secure context, so the page gets WebCrypto and IndexedDB.
 */
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname } from 'node:path'
import type { AddressInfo } from 'node:net'

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json'
}

export interface PageServer {
  /** e.g. http://127.0.0.1:41234 */
  origin: string
  close(): Promise<void>
}

/** Serve `files` (URL path → file on disk) until closed */
export async function servePages (files: Record<string, string>): Promise<PageServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname
    const file = files[path]
    if (file == null) {
      response.writeHead(404).end()
      return
    }
    readFile(file).then(body => {
      response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(body)
    }, () => {
      response.writeHead(500).end()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}
