/**
 * A node's HTTP server put to listen (the observability endpoints, the CLI's admin API): where it
 * listens, and a close that cuts off kept-alive and unfinished requests, so that a node stopping
 * never waits on a client. Uses node:http: nothing a browser bundle imports may import it.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ListeningServer {
  /** where it listens, e.g. http://127.0.0.1:9464 (an IPv6 host in brackets) */
  readonly url: string
  /** Stop listening and drop every open socket */
  close(): Promise<void>
}

/** Listen on `host:port` (port 0: any free one); rejects with the server's error (the port is taken) */
export async function listenHttp (server: Server, host: string, port: number): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { address, port: bound } = server.address() as AddressInfo
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${bound}`,
    close: async () => {
      const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
      server.closeAllConnections()
      await closed
    }
  }
}
