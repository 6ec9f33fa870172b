/**
 * Joining the ring through bootstrap peers: dial each address in turn until one connects and
 * answers a lookup of our own position.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { BootstrapFailedError, InvalidOptionsError } from '../errors.js'
import { ringIdOf } from './ring-id.js'
import type { NodeRef } from '../chord/rpc.js'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface BootstrapInit {
  addresses: string[]
  /** joins the ring through an entry node; rejects if that node did not answer */
  join(entry: NodeRef): Promise<void>
  /** ms allowed for each dial */
  dialTimeout: number
}

/** Parse bootstrap addresses up front, so a typo is a clear error rather than a silent skip */
export function parseBootstrapAddresses (addresses: string[]): Multiaddr[] {
  return addresses.map(address => {
    try {
      return multiaddr(address)
    } catch (err) {
      throw new InvalidOptionsError(`invalid bootstrap address ${JSON.stringify(address)}`, { cause: err })
    }
  })
}

export async function joinThroughBootstrap (libp2p: Libp2p, init: BootstrapInit): Promise<NodeRef> {
  const failures: string[] = []
  for (const address of parseBootstrapAddresses(init.addresses)) {
    try {
      const connection = await libp2p.dial(address, { signal: AbortSignal.timeout(init.dialTimeout) })
      const entry: NodeRef = { id: ringIdOf(connection.remotePeer), peer: connection.remotePeer.toString() }
      await init.join(entry)
      return entry
    } catch (err) {
      failures.push(`${address.toString()}: ${(err as Error).message}`)
    }
  }
  throw new BootstrapFailedError(`could not join through any bootstrap peer (${failures.join('; ')})`)
}
