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

export function defaultTransports (): NonNullable<Libp2pOptions['transports']> {
  return [webSockets()]
}
