/**
 * A transport whose WebSockets connections close their socket when they are reset.
 * `@libp2p/websockets` resets a connection with `websocket.close(1006)`, a code the `ws` library
 * refuses to send (1006 only reports an abnormal closure, it is never sent); libp2p swallows the
 * error and takes the connection as closed, and the socket stays open for as long as the peer
 * likes, no longer counted by any connection limit. Every reset took that path: a negotiation
 * past its bound (src/node/bounded-negotiation.ts), an invalid frame, a timed-out upgrade. Here
 * a reset terminates the socket, as a reset of a TCP connection destroys it.
 *
 * The connection is reached as the transport hands it to the upgrader, either way; a connection
 * without a `ws` socket (`terminate`) keeps its transport's own reset.
 */
import { overridden } from './overridden.js'
import type { MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'

/** What a connection of `@libp2p/websockets` over the `ws` library is expected to look like */
interface TerminableWebSocketConnection {
  websocket: { terminate: () => void }
  sendReset: () => void
}

/** `transport` (e.g. `webSockets()`), its connections' resets closing their socket */
export function closingWebSocketResets<Components> (transport: (components: Components) => Transport): (components: Components) => Transport {
  return components => {
    const inner = transport(components)
    const dial = inner.dial.bind(inner)
    const createListener = inner.createListener.bind(inner)
    // passed straight through, without an async wrapper's extra turn: the connection comes back
    // when the transport's would, and a peer's first streams go out as they did
    inner.dial = (address, options) => dial(address, { ...options, upgrader: terminatingResets(options.upgrader) })
    inner.createListener = options => createListener({ ...options, upgrader: terminatingResets(options.upgrader) })
    return inner
  }
}

function terminatingResets (upgrader: Upgrader): Upgrader {
  return overridden(upgrader, {
    upgradeInbound: (maConn, options) => upgrader.upgradeInbound(terminating(maConn), options),
    upgradeOutbound: (maConn, options) => upgrader.upgradeOutbound(terminating(maConn), options)
  })
}

function terminating (maConn: MultiaddrConnection): MultiaddrConnection {
  const connection = maConn as Partial<TerminableWebSocketConnection>
  const websocket = connection.websocket
  if (typeof websocket?.terminate === 'function' && typeof connection.sendReset === 'function') {
    connection.sendReset = () => { websocket.terminate() }
  }
  return maConn
}
