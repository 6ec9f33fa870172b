/**
 * A transport whose WebSockets connections close their socket when they are reset, or when their
 * upgrade fails, as a TCP connection's are. `@libp2p/websockets` resets a connection with
 * `websocket.close(1006)`, a code no WebSocket may send (1006 only reports an abnormal closure):
 * the call throws, libp2p swallows the error and takes the connection as closed, and the socket
 * stays open for as long as the peer likes, no longer counted by any connection limit. Every reset
 * took that path: a negotiation past its bound (src/node/bounded-negotiation.ts), an invalid frame,
 * a connection closed by a limit. A failed upgrade fared no better: an outbound one was never
 * closed, an inbound one (denied by a gater, or timed out) closed with a handshake the peer need
 * never answer, holding the socket 30 s more.
 *
 * Here a failed upgrade aborts its connection, and a reset closes the socket: a `ws` socket (every
 * inbound connection) is terminated, as a reset TCP connection is destroyed; a WebSocket without
 * `terminate` (Node's own, which dials, and a browser's) gets the one close it may send, a close
 * frame, and ends when the peer answers it.
 */
import { overridden } from './overridden.js'
import type { MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'

/** What a connection of `@libp2p/websockets` over the `ws` library is expected to look like */
interface WebSocketConnection {
  websocket: { terminate?: () => void, close: () => void }
  sendReset: () => void
  onRemoteReset: () => void
}

/** `transport` (e.g. `webSockets()`), its connections' resets and failed upgrades closing their socket */
export function closingWebSocketResets<Components> (transport: (components: Components) => Transport): (components: Components) => Transport {
  return components => {
    const inner = transport(components)
    const dial = inner.dial.bind(inner)
    const createListener = inner.createListener.bind(inner)
    // passed straight through, without an async wrapper's extra turn: the connection comes back
    // when the transport's would, and a peer's first streams go out as they did
    inner.dial = (address, options) => dial(address, { ...options, upgrader: closingUpgrader(options.upgrader) })
    inner.createListener = options => createListener({ ...options, upgrader: closingUpgrader(options.upgrader) })
    return inner
  }
}

/** `upgrader`, each connection it upgrades closing its socket on a reset, and aborted if its upgrade fails (TCP's already are) */
function closingUpgrader (upgrader: Upgrader): Upgrader {
  return overridden(upgrader, {
    upgradeInbound: (maConn, options) => abortedOnFailure(maConn, upgrader.upgradeInbound(resetting(maConn), options)),
    upgradeOutbound: (maConn, options) => abortedOnFailure(maConn, upgrader.upgradeOutbound(resetting(maConn), options))
  })
}

/** `upgrading`, as it is: the connection comes back in the same turn it would have */
function abortedOnFailure<T> (maConn: MultiaddrConnection, upgrading: Promise<T>): Promise<T> {
  upgrading.catch(err => { maConn.abort(err) })
  return upgrading
}

/** `maConn`, its reset closing its WebSocket if it has one */
function resetting (maConn: MultiaddrConnection): MultiaddrConnection {
  const connection = maConn as Partial<WebSocketConnection>
  const websocket = connection.websocket
  if (typeof websocket?.close !== 'function' || typeof connection.sendReset !== 'function' || typeof connection.onRemoteReset !== 'function') {
    return maConn
  }
  connection.sendReset = typeof websocket.terminate === 'function' ? websocket.terminate.bind(websocket) : () => { websocket.close() }
  // a socket closed after the connection's own reset reports an abnormal closure when it is
  // terminated, or when the peer drops it rather than answer the close frame; the connection
  // would take it for a second, remote reset, and tell libp2p of its close twice
  const onRemoteReset = connection.onRemoteReset.bind(maConn)
  connection.onRemoteReset = () => {
    if (maConn.status === 'open' || maConn.status === 'closing') {
      onRemoteReset()
    }
  }
  return maConn
}
