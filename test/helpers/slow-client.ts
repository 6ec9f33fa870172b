/**
 * A client that is slow to send its HTTP request, as a stranger holding a server's socket is:
 * for the tests of the servers' deadlines.
 */
import { connect } from 'node:net'

export interface SlowClient {
  /** everything the server sent */
  received: string
  /** when the socket closed (Date.now()); undefined while it is open */
  closedAt?: number
  /** stop sending, and close the socket */
  stop(): void
}

/**
 * Connects to `port` on 127.0.0.1 and sends `head` at once, then `drip` every quarter of a second
 * until the socket closes; with no `drip`, nothing more
 */
export function slowClient (port: number, head: string, drip?: string): SlowClient {
  const socket = connect(port, '127.0.0.1')
  const dripping = drip === undefined ? undefined : setInterval(() => { socket.write(drip) }, 250)
  const client: SlowClient = {
    received: '',
    stop: () => {
      clearInterval(dripping)
      socket.destroy()
    }
  }
  socket.on('data', chunk => { client.received += String(chunk) })
  socket.on('error', () => {})
  socket.on('close', () => {
    client.closedAt = Date.now()
    clearInterval(dripping)
  })
  if (head !== '') {
    socket.write(head)
  }
  return client
}
