/**
 * The connection gater a browser node runs with, made explicit so it can be widened on purpose.
 *
 * libp2p's browser build refuses to dial insecure WebSockets (`/ws`) and private or loopback
 * addresses: a page on the public web has no business reaching into the user's network, and
 * browsers log every refused insecure socket. Developing against a node on one's own machine
 * needs exactly what that forbids (`ws://127.0.0.1`), so `allowLoopback` opens this machine's
 * loopback addresses and nothing else. libp2p only applies its own rule when no rule is given,
 * so this gater restates it for every other address.
 */
import { isLoopback, isPrivate } from '@libp2p/utils'
import type { ConnectionGater } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface BrowserConnectionGaterInit {
  /** let the node dial 127.0.0.0/8 and ::1, over /ws too: for a page and a node on one machine */
  allowLoopback?: boolean
}

export function browserConnectionGater (init: BrowserConnectionGaterInit = {}): ConnectionGater {
  const allowLoopback = init.allowLoopback ?? false
  return {
    denyDialMultiaddr: (address: Multiaddr): boolean => {
      if (allowLoopback && isLoopback(address)) {
        return false
      }
      return isInsecureWebSocket(address) || isPrivate(address)
    }
  }
}

/** `/ws` without TLS under it (`/tls/ws` and `/wss` are secure) */
function isInsecureWebSocket (address: Multiaddr): boolean {
  const names = address.getComponents().map(component => component.name)
  return names.includes('ws') && !names.includes('tls')
}
