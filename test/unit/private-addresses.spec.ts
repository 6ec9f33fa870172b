import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { addressesTaken, isPrivateAddress, isPrivateConnection } from '../../src/transport/private-addresses.js'
import { connectionFrom } from '../helpers/named-addresses.js'

const RELAY = '12D3KooWAAgrH35qmQq1qQ3SVQ6wnPzNhRy3pvCjRRQfXrtKsACG'
const PEER = '12D3KooWFGGzerbMYT6ocTaYj9WCA3Xojim5D8vhYMv3feghuRf8'

/** Addresses that reach only the node's own host or networks, by kind */
const PRIVATE: Array<[string, string]> = [
  ['RFC 1918 10/8', '/ip4/10.0.0.1/tcp/4001'],
  ['RFC 1918 172.16/12', '/ip4/172.31.255.1/tcp/4001'],
  ['RFC 1918 192.168/16', '/ip4/192.168.0.10/tcp/4001'],
  ['IPv4 loopback', '/ip4/127.0.0.1/tcp/4001'],
  ['IPv4 loopback beyond .1', '/ip4/127.8.9.10/tcp/4001'],
  ['unspecified IPv4 (dialled, it reaches this host)', '/ip4/0.0.0.0/tcp/4001'],
  ['carrier-grade NAT', '/ip4/100.64.1.1/tcp/4001'],
  ['IPv4 link-local', '/ip4/169.254.169.254/tcp/80'],
  ['IPv6 loopback', '/ip6/::1/tcp/4001'],
  ['unspecified IPv6', '/ip6/::/tcp/4001'],
  ['IPv6 unique-local fc00::/7', '/ip6/fd00:1:2::3/tcp/4001'],
  ['IPv6 link-local', '/ip6/fe80::1/tcp/4001'],
  ['IPv6 link-local with its zone', '/ip6zone/eth0/ip6/fe80::1/tcp/4001'],
  ['IPv4-mapped loopback', '/ip6/::ffff:127.0.0.1/tcp/4001'],
  ['IPv4-mapped RFC 1918', '/ip6/::ffff:10.0.0.1/tcp/4001'],
  ['localhost by name', '/dns4/localhost/tcp/4001'],
  ['localhost in capitals', '/dns4/LOCALHOST/tcp/4001'],
  ['localhost with the root\'s dot', '/dns6/localhost./tcp/4001'],
  ['a subdomain of localhost', '/dnsaddr/ring.localhost'],
  ['a Unix socket', '/unix/%2Fvar%2Frun%2Fdocker.sock'],
  ['the in-process memory transport', '/memory/ring-node'],
  ['WebSockets on a private address', '/ip4/192.168.0.10/tcp/80/ws'],
  ['a circuit through a relay on a private address', `/ip4/10.0.0.1/tcp/4001/p2p/${RELAY}/p2p-circuit`]
]

/** Addresses a public peer may name: none reaches only the node's host or networks as far as can be told now */
const PUBLIC: Array<[string, string]> = [
  ['global IPv4', '/ip4/1.2.3.4/tcp/4001'],
  ['global IPv6', '/ip6/2606:4700::1/tcp/4001'],
  ['IPv4-mapped global IPv4', '/ip6/::ffff:1.2.3.4/tcp/4001'],
  ['a DNS name, resolved only when dialled', '/dns4/ring.example.org/tcp/443/tls/ws'],
  ['a DNS name that only contains localhost', '/dns4/localhost.example.org/tcp/443'],
  ['a circuit through a relay on a public address', `/ip4/1.2.3.4/tcp/4001/p2p/${RELAY}/p2p-circuit`],
  ['a circuit through a relay named by its peer id (its own addresses are judged when learned)', `/p2p/${RELAY}/p2p-circuit`]
]

describe('private addresses', () => {
  for (const [kind, address] of PRIVATE) {
    it(`counts ${kind} as private: ${address}`, () => {
      assert.equal(isPrivateAddress(multiaddr(address)), true)
    })
  }

  for (const [kind, address] of PUBLIC) {
    it(`does not count ${kind} as private: ${address}`, () => {
      assert.equal(isPrivateAddress(multiaddr(address)), false)
    })
  }

  it('takes a peer to be on the node\'s own networks by its connection\'s remote address, unless the connection is relayed', () => {
    assert.equal(isPrivateConnection(connectionFrom('/ip4/127.0.0.1/tcp/50123')), true)
    assert.equal(isPrivateConnection(connectionFrom('/ip4/192.168.0.10/tcp/50123')), true)
    assert.equal(isPrivateConnection(connectionFrom('/ip6/::ffff:10.1.2.3/tcp/50123')), true)
    assert.equal(isPrivateConnection(connectionFrom('/memory/ring-node')), true)
    assert.equal(isPrivateConnection(connectionFrom('/ip4/1.2.3.4/tcp/50123')), false)
    // the relay is on our network; the peer behind it need not be
    assert.equal(isPrivateConnection(connectionFrom(`/ip4/127.0.0.1/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`)), false)
  })

  it('takes every address from a peer on the node\'s own networks, and only the public ones, in order, from any other', () => {
    const addresses = [...PRIVATE, ...PUBLIC].map(([, address]) => multiaddr(address))
    assert.deepEqual(addressesTaken(addresses, true), addresses)
    assert.deepEqual(addressesTaken(addresses, false).map(String), PUBLIC.map(([, address]) => multiaddr(address).toString()))
  })
})
