/**
 * What a node listens on and dials with when the caller does not say: TCP and WebSockets, the
 * transports of a standalone node. A browser has no TCP (its transport throws when built), so a
 * browser build replaces this module with `platform-defaults.browser.ts` (the package's
 * `browser` field), which must export the same names.
 */
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import type { Libp2pOptions } from 'libp2p'

/** Every IPv4 interface, ports chosen by the OS */
export const DEFAULT_LISTEN_ADDRESSES = ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws']

/** A process that can listen can hold a ring position */
export const DEFAULT_CLIENT_MODE: boolean = false

/** A certificate and its key (PEM) for serving WebSockets over TLS (`/tls/ws`, `/wss`) */
export interface TlsCredentials {
  cert: string | Uint8Array
  key: string | Uint8Array
}

export function defaultTransports (tls?: TlsCredentials): NonNullable<Libp2pOptions['transports']> {
  return [tcp(), webSockets(tls == null ? {} : { https: { cert: toPem(tls.cert), key: toPem(tls.key) } })]
}

function toPem (value: string | Uint8Array): string | Buffer {
  return typeof value === 'string' ? value : Buffer.from(value)
}
