/**
 * The browser build's version of `platform-defaults.ts` (swapped in through the package's
 * `browser` field): WebSockets is the only transport a page can dial ring nodes with, and a page
 * cannot accept connections, so it listens on nothing and uses the ring as a client.
 */
import { webSockets } from '@libp2p/websockets'
import type { Libp2pOptions } from 'libp2p'

/** A page cannot listen for connections */
export const DEFAULT_LISTEN_ADDRESSES: string[] = []

/** Nobody can dial a page, so it could not answer for a ring position: it uses the ring as a client */
export const DEFAULT_CLIENT_MODE: boolean = true

/** A certificate and its key (PEM) for serving WebSockets over TLS: a page serves nothing */
export interface TlsCredentials {
  cert: string | Uint8Array
  key: string | Uint8Array
}

export function defaultTransports (_tls?: TlsCredentials): NonNullable<Libp2pOptions['transports']> {
  return [webSockets()]
}
