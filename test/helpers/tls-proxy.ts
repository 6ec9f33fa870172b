/**
 * A TLS-terminating proxy on 127.0.0.1, as an operator puts nginx or Caddy in front of a node:
 * it accepts TLS with a certificate made for the test (localhost and 127.0.0.1, self-signed) and
 * passes the bytes inside on to a plain TCP port, here a node's WebSockets listener.
 */
import { connect } from 'node:net'
import { createServer } from 'node:tls'
import { generate } from 'selfsigned'
import type { AddressInfo, Socket } from 'node:net'

export interface TlsProxy {
  port: number
  /** the certificate the proxy serves, PEM */
  cert: string
  close(): Promise<void>
}

/** A self-signed certificate for localhost and 127.0.0.1 */
export async function selfSignedCertificate (): Promise<{ cert: string, key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }
    ]
  })
  return { cert: pems.cert, key: pems.private }
}

/** Listen for TLS on a free port and forward each connection to `target()` (read per connection) */
export async function startTlsProxy (target: () => number): Promise<TlsProxy> {
  const { cert, key } = await selfSignedCertificate()
  const open = new Set<Socket>()
  const server = createServer({ cert, key }, socket => {
    const upstream = connect(target(), '127.0.0.1')
    open.add(socket).add(upstream)
    socket.pipe(upstream).pipe(socket)
    const end = (): void => {
      socket.destroy()
      upstream.destroy()
      open.delete(socket)
      open.delete(upstream)
    }
    socket.on('error', end)
    upstream.on('error', end)
    socket.on('close', end)
    upstream.on('close', end)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    cert,
    close: async () => {
      // close() waits for every connection to end: end them (a page keeps its socket open)
      const closed = new Promise(resolve => server.close(resolve))
      for (const socket of open) {
        socket.destroy()
      }
      await closed
    }
  }
}
