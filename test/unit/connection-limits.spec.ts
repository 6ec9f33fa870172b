/**
 * The caps on inbound connections per IP address and per subnet, as the connection gater applies
 * them before the handshake.
 */
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidOptionsError } from '../../src/errors.js'
import { InboundConnectionLimits, sourceOf, withConnectionLimits } from '../../src/node/connection-limits.js'
import { MAX_INBOUND_CONNECTIONS_PER_IP, MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET, MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET } from '../../src/node/constants.js'
import type { MultiaddrConnection } from '@libp2p/interface'

/** A socket from `address`, that the test closes */
function socketFrom (address: string): MultiaddrConnection & { hangUp(): void } {
  const target = new EventTarget()
  return Object.assign(target, {
    remoteAddr: multiaddr(address),
    hangUp: () => { target.dispatchEvent(new Event('close')) }
  }) as unknown as MultiaddrConnection & { hangUp(): void }
}

describe('inbound connection limits', () => {
  it(`refuses a connection past MAX_INBOUND_CONNECTIONS_PER_IP (${MAX_INBOUND_CONNECTIONS_PER_IP}) from one address, and takes one again once a socket closes`, () => {
    const limits = new InboundConnectionLimits({ uncapped: [] })
    const open = Array.from({ length: MAX_INBOUND_CONNECTIONS_PER_IP }, () => socketFrom('/ip4/203.0.113.7/tcp/4001'))
    assert.deepEqual(open.map(limits.denyInboundConnection), open.map(() => false))
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/203.0.113.7/tcp/4002')), true)
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/203.0.113.8/tcp/4001')), false)
    open[0].hangUp()
    assert.equal(limits.openFrom({ ip: '203.0.113.7' }), MAX_INBOUND_CONNECTIONS_PER_IP - 1)
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/203.0.113.7/tcp/4003')), false)
  })

  it(`refuses a connection past MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET (${MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET}) from one /24, whatever its address`, () => {
    const limits = new InboundConnectionLimits({ uncapped: [] })
    for (let i = 0; i < MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET; i++) {
      assert.equal(limits.denyInboundConnection(socketFrom(`/ip4/198.51.100.${i}/tcp/1`)), false)
    }
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/198.51.100.200/tcp/1')), true)
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/198.51.101.1/tcp/1')), false)
  })

  it(`refuses a connection past MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET (${MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET}) from one /48, and counts IPv4-mapped addresses as IPv4`, () => {
    const limits = new InboundConnectionLimits({ uncapped: [] })
    for (let i = 0; i < MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET; i++) {
      assert.equal(limits.denyInboundConnection(socketFrom(`/ip6/2001:db8:1:${i.toString(16)}::1/tcp/1`)), false)
    }
    assert.equal(limits.denyInboundConnection(socketFrom('/ip6/2001:db8:1:ffff::2/tcp/1')), true)
    assert.equal(limits.denyInboundConnection(socketFrom('/ip6/2001:db8:2::1/tcp/1')), false)
    assert.deepEqual(sourceOf(multiaddr('/ip6/::ffff:192.0.2.1/tcp/1')), { ip: '192.0.2.1', subnet: '192.0.2.0/24', v4: true })
  })

  it('does not count loopback by default, nor addresses the node leaves uncapped', () => {
    const limits = new InboundConnectionLimits()
    for (let i = 0; i < 2 * MAX_INBOUND_CONNECTIONS_PER_IP; i++) {
      assert.equal(limits.denyInboundConnection(socketFrom('/ip4/127.0.0.1/tcp/1')), false)
    }
    const office = new InboundConnectionLimits({ uncapped: ['10.0.0.0/8'] })
    for (let i = 0; i < 2 * MAX_INBOUND_CONNECTIONS_PER_IP; i++) {
      assert.equal(office.denyInboundConnection(socketFrom('/ip4/10.1.2.3/tcp/1')), false)
    }
    assert.throws(() => new InboundConnectionLimits({ uncapped: ['not a network'] }), InvalidOptionsError)
    assert.throws(() => new InboundConnectionLimits({ maxInboundPerIp: 0 }), InvalidOptionsError)
  })

  it('counts only what the application\'s own gater lets through', async () => {
    const limits = new InboundConnectionLimits({ uncapped: [], maxInboundPerIp: 1 })
    const gater = withConnectionLimits(limits, { denyInboundConnection: maConn => maConn.remoteAddr.toString().includes('4001') })
    assert.equal(await gater.denyInboundConnection?.(socketFrom('/ip4/203.0.113.9/tcp/4001')), true)
    assert.equal(limits.openFrom({ ip: '203.0.113.9' }), 0)
    assert.equal(await gater.denyInboundConnection?.(socketFrom('/ip4/203.0.113.9/tcp/4002')), false)
    assert.equal(await gater.denyInboundConnection?.(socketFrom('/ip4/203.0.113.9/tcp/4003')), true)
  })
})
