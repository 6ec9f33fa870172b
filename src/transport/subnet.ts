/**
 * The subnet an address is in, as the routing state's diversity cap counts it (chord/subnet-cap.ts):
 * an IPv4 /24 or an IPv6 /48, what one operator or one hosting block typically holds. Loopback is
 * one machine talking to itself (tests, a ring run on one host): it is not counted, nor are
 * addresses without an IP (DNS names, the memory transport).
 */
import { IpNet } from '@chainsafe/netmask'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The IPv4 prefix one subnet covers */
export const IPV4_SUBNET_BITS = 24

/** The IPv6 prefix one subnet covers: a site, as registries assign them */
export const IPV6_SUBNET_BITS = 48

/** The subnet of the first counted address among `addresses`, as CIDR text; undefined when none is counted */
export function subnetOf (addresses: Iterable<Multiaddr>): string | undefined {
  for (const address of addresses) {
    const ip = address.getComponents().find(component => component.name === 'ip4' || component.name === 'ip6')
    if (ip?.value == null || isLoopback(ip.name, ip.value)) {
      continue
    }
    try {
      return new IpNet(ip.value, ip.name === 'ip4' ? IPV4_SUBNET_BITS : IPV6_SUBNET_BITS).toString()
    } catch {
      // an address the multiaddr codec took but netmask cannot read is not counted
    }
  }
  return undefined
}

function isLoopback (family: string, ip: string): boolean {
  return family === 'ip4' ? ip.startsWith('127.') : ip === '::1'
}
