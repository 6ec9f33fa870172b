/**
 * Caps on the inbound connections one IP address, and one subnet (an IPv4 /24, an IPv6 /48), may
 * hold open at once, and on those of them still in their upgrade, applied by libp2p's connection
 * gater before the Noise handshake (so a refused connection costs us nothing but the accept).
 * Addresses in `uncapped` (by default the loopback networks) are not counted. Each connection is
 * counted while its socket is open, and as upgrading until libp2p hands it to the gater upgraded.
 */
import { IpNet } from '@chainsafe/netmask'
import { getNetConfig, isNetworkAddress } from '@libp2p/utils'
import { InvalidOptionsError } from '../errors.js'
import { tally } from '../limits/tally.js'
import { IPV4_SUBNET_BITS, IPV6_SUBNET_BITS, unmapped } from '../transport/subnet.js'
import { overridden } from './overridden.js'
import {
  DEFAULT_UNCAPPED_NETWORKS, MAX_INBOUND_CONNECTIONS_PER_IP,
  MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET, MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET, MAX_PENDING_INBOUND_PER_IP,
  MAX_PENDING_INBOUND_PER_SUBNET
} from './constants.js'
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface ConnectionLimits {
  /** inbound connections open at once from one IP address; default MAX_INBOUND_CONNECTIONS_PER_IP */
  maxInboundPerIp: number
  /** from one IPv4 /24; default MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET */
  maxInboundPerIpv4Subnet: number
  /** from one IPv6 /48; default MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET */
  maxInboundPerIpv6Subnet: number
  /** of those from one IP address, still upgrading at once; default MAX_PENDING_INBOUND_PER_IP */
  maxPendingInboundPerIp: number
  /** from one subnet, still upgrading at once; default MAX_PENDING_INBOUND_PER_SUBNET */
  maxPendingInboundPerSubnet: number
  /** networks (CIDR) not counted; default DEFAULT_UNCAPPED_NETWORKS (loopback) */
  uncapped: string[]
  /** connections that strangers (peers no ring neighbour) cannot take; default RESERVED_RING_SLOTS */
  reservedRingSlots: number
  /**
   * connections open at once, either direction; default MAX_CONNECTIONS. Each user whose mailbox
   * the node serves holds one, so a node meant for more users than that needs more
   * (docs/operations.md: capacity planning)
   */
  maxConnections: number
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<Omit<ConnectionLimits, 'reservedRingSlots' | 'maxConnections'>> = {
  maxInboundPerIp: MAX_INBOUND_CONNECTIONS_PER_IP,
  maxInboundPerIpv4Subnet: MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET,
  maxInboundPerIpv6Subnet: MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET,
  maxPendingInboundPerIp: MAX_PENDING_INBOUND_PER_IP,
  maxPendingInboundPerSubnet: MAX_PENDING_INBOUND_PER_SUBNET,
  uncapped: DEFAULT_UNCAPPED_NETWORKS
}

/** Where a connection comes from, as the caps count it: its address and its subnet; undefined for non-IP transports */
export function sourceOf (address: Multiaddr): { ip: string, subnet: string, v4: boolean } | undefined {
  if (!isNetworkAddress(address)) {
    return undefined
  }
  const { host, v4 } = unmapped(getNetConfig(address).host, getNetConfig(address).type === 'ip4')
  return { ip: host, subnet: new IpNet(host, v4 ? IPV4_SUBNET_BITS : IPV6_SUBNET_BITS).toString(), v4 }
}

/** The caps, as a connection gater; counts are kept per address and subnet while sockets are open */
export class InboundConnectionLimits implements Pick<ConnectionGater, 'denyInboundConnection' | 'denyInboundUpgradedConnection'> {
  private readonly limits: Omit<ConnectionLimits, 'reservedRingSlots' | 'maxConnections'>
  private readonly uncapped: IpNet[]
  private readonly open = new Map<string, number>()
  /** what to uncount once a counted connection is upgraded */
  private readonly upgrading = new WeakMap<MultiaddrConnection, () => void>()

  /** @throws InvalidOptionsError for a limit that is not a positive integer, or a network that is not a CIDR */
  constructor (limits: Partial<ConnectionLimits> = {}) {
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...limits }
    for (const name of ['maxInboundPerIp', 'maxInboundPerIpv4Subnet', 'maxInboundPerIpv6Subnet', 'maxPendingInboundPerIp', 'maxPendingInboundPerSubnet'] as const) {
      const value = this.limits[name]
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new InvalidOptionsError(`connectionLimits.${name} must be a positive integer, got ${String(value)}`)
      }
    }
    this.uncapped = this.limits.uncapped.map(cidr => {
      try {
        return new IpNet(cidr)
      } catch (err) {
        throw new InvalidOptionsError(`connectionLimits.uncapped: ${JSON.stringify(cidr)} is not a network in CIDR form (e.g. 10.0.0.0/8)`, { cause: err })
      }
    })
  }

  /**
   * Refuses a connection past its address's or subnet's cap, open or upgrading; counts it (open
   * until its socket closes, upgrading until it is upgraded or closes) otherwise
   */
  denyInboundConnection = (maConn: MultiaddrConnection): boolean => {
    const source = sourceOf(maConn.remoteAddr)
    if (source == null || this.uncapped.some(net => net.contains(source.ip))) {
      return false
    }
    if (maConn.status !== 'open') {
      // closed while another gater was asked: its close event has fired, and would never uncount it
      return true
    }
    const caps: Array<[string, number]> = [
      [`ip ${source.ip}`, this.limits.maxInboundPerIp],
      [`subnet ${source.subnet}`, source.v4 ? this.limits.maxInboundPerIpv4Subnet : this.limits.maxInboundPerIpv6Subnet],
      [`upgrading ip ${source.ip}`, this.limits.maxPendingInboundPerIp],
      [`upgrading subnet ${source.subnet}`, this.limits.maxPendingInboundPerSubnet]
    ]
    if (caps.some(([key, cap]) => (this.open.get(key) ?? 0) >= cap)) {
      return true
    }
    const [open, upgrading] = [caps.slice(0, 2), caps.slice(2)].map(keys => {
      keys.forEach(([key]) => { tally(this.open, key, 1) })
      let counted = true
      return () => {
        if (counted) {
          counted = false
          keys.forEach(([key]) => { tally(this.open, key, -1) })
        }
      }
    })
    this.upgrading.set(maConn, upgrading)
    maConn.addEventListener('close', () => {
      open()
      upgrading()
    }, { once: true })
    return false
  }

  /** Stops counting an upgraded connection as upgrading; never refuses */
  denyInboundUpgradedConnection = (_peer: PeerId, maConn: MultiaddrConnection): boolean => {
    this.upgrading.get(maConn)?.()
    this.upgrading.delete(maConn)
    return false
  }

  /** Inbound connections counted now, open or still upgrading, from one address or subnet (for tests and metrics) */
  openFrom (what: { ip: string } | { subnet: string }, state: 'open' | 'upgrading' = 'open'): number {
    const key = 'ip' in what ? `ip ${what.ip}` : `subnet ${what.subnet}`
    return this.open.get(state === 'open' ? key : `upgrading ${key}`) ?? 0
  }
}

/**
 * A gater that refuses what either refuses: `limits` for inbound connections, then whatever the
 * application's own gater says (which sees only what the limits let through)
 */
export function withConnectionLimits (limits: InboundConnectionLimits, gater: ConnectionGater = {}): ConnectionGater {
  return overridden(gater, {
    denyInboundConnection: async maConn => (await gater.denyInboundConnection?.(maConn)) === true || limits.denyInboundConnection(maConn),
    denyInboundUpgradedConnection: async (peer, maConn) => limits.denyInboundUpgradedConnection(peer, maConn) || (await gater.denyInboundUpgradedConnection?.(peer, maConn)) === true
  })
}
