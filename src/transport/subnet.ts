/**
 * The subnet an address is in, as the routing state's diversity cap counts it (chord/subnet-cap.ts):
 * an IPv4 /24 or an IPv6 /48, what one operator or one hosting block typically holds. Loopback is
 * one machine talking to itself (tests, a ring run on one host): it is not counted, nor are
 * addresses without an IP (DNS names, the memory transport).
 */
import { IpNet, iPv4FromIPv6, ipToString, isIPv4mappedIPv6 } from '@chainsafe/netmask'
import type { Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The IPv4 prefix one subnet covers */
export const IPV4_SUBNET_BITS = 24

/** The IPv6 prefix one subnet covers: a site, as registries assign them */
export const IPV6_SUBNET_BITS = 48

/** The subnet of the first counted address among `addresses`, as CIDR text; undefined when none is counted */
export function subnetOf (addresses: Iterable<Multiaddr>): string | undefined {
  for (const address of addresses) {
    const component = address.getComponents().find(component => component.name === 'ip4' || component.name === 'ip6')
    if (component?.value == null) {
      continue
    }
    try {
      const ip = unmapped(component.value, component.name === 'ip4')
      if (isLoopback(ip)) {
        continue
      }
      return new IpNet(ip.host, ip.v4 ? IPV4_SUBNET_BITS : IPV6_SUBNET_BITS).toString()
    } catch {
      // an address the multiaddr codec took but netmask cannot read is not counted
    }
  }
  return undefined
}

/** Whether `text` is a subnet as `subnetOf` writes one: an IPv4 /24 or IPv6 /48, its network address in canonical form */
export function isCanonicalSubnet (text: string): boolean {
  const [host, bits, ...rest] = text.split('/')
  const v4 = host.includes('.')
  if (rest.length > 0 || bits !== String(v4 ? IPV4_SUBNET_BITS : IPV6_SUBNET_BITS)) {
    return false
  }
  try {
    return new IpNet(host, Number(bits)).toString() === text
  } catch {
    return false
  }
}

/** The subnet of a connection's remote address, as CIDR text; undefined for loopback and addresses without an IP */
export function remoteSubnet (connection: Pick<Connection, 'remoteAddr'>): string | undefined {
  return subnetOf([connection.remoteAddr])
}

/**
 * An IP address as the caps count it: an IPv4 peer on a dual-stack socket shows as
 * ::ffff:a.b.c.d, and is that IPv4 address
 *
 * @throws when netmask cannot read the address
 */
export function unmapped (host: string, v4: boolean): { host: string, v4: boolean } {
  if (!v4 && isIPv4mappedIPv6(new IpNet(host, 128).network)) {
    return { host: ipToString(iPv4FromIPv6(new IpNet(host, 128).network)), v4: true }
  }
  return { host, v4 }
}

function isLoopback (ip: { host: string, v4: boolean }): boolean {
  return ip.v4 ? ip.host.startsWith('127.') : ip.host === '::1'
}
