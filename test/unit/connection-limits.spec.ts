/**
 * The caps on inbound connections per IP address and per subnet, open and still upgrading, as the
 * connection gater applies them before the handshake.
 */
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidOptionsError } from '../../src/errors.js'
import { InboundConnectionLimits, sourceOf, withConnectionLimits } from '../../src/node/connection-limits.js'
import {
  MAX_INBOUND_CONNECTIONS_PER_IP, MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET, MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET, MAX_PENDING_INBOUND_PER_IP,
  MAX_PENDING_INBOUND_PER_SUBNET
} from '../../src/node/constants.js'
import type { MultiaddrConnection, PeerId } from '@libp2p/interface'

/** A socket from `address`, that the test closes */
function socketFrom (address: string): MultiaddrConnection & { hangUp(): void } {
  const target = new EventTarget()
  const socket = Object.assign(target, {
    remoteAddr: multiaddr(address),
    status: 'open',
    hangUp: () => {
      socket.status = 'closed'
      target.dispatchEvent(new Event('close'))
    }
  })
  return socket as unknown as MultiaddrConnection & { hangUp(): void }
}

/** A peer id for the gater's upgraded hook, which does not look at it */
const PEER = {} as unknown as PeerId

/** Whether `limits` took `socket`, which then finishes its upgrade */
function upgraded (limits: InboundConnectionLimits, socket: MultiaddrConnection): boolean {
  const denied = limits.denyInboundConnection(socket)
  limits.denyInboundUpgradedConnection(PEER, socket)
  return denied
}

describe('inbound connection limits', () => {
  it(`refuses a connection past MAX_INBOUND_CONNECTIONS_PER_IP (${MAX_INBOUND_CONNECTIONS_PER_IP}) from one address, and takes one again once a socket closes`, () => {
    const limits = new InboundConnectionLimits({ uncapped: [] })
    const open = Array.from({ length: MAX_INBOUND_CONNECTIONS_PER_IP }, () => socketFrom('/ip4/203.0.113.7/tcp/4001'))
    assert.deepEqual(open.map(socket => upgraded(limits, socket)), open.map(() => false))
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/203.0.113.7/tcp/4002')), true)
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/203.0.113.8/tcp/4001')), false)
    open[0].hangUp()
    assert.equal(limits.openFrom({ ip: '203.0.113.7' }), MAX_INBOUND_CONNECTIONS_PER_IP - 1)
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/203.0.113.7/tcp/4003')), false)
  })

  it(`refuses a connection past MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET (${MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET}) from one /24, whatever its address`, () => {
    const limits = new InboundConnectionLimits({ uncapped: [] })
    for (let i = 0; i < MAX_INBOUND_CONNECTIONS_PER_IPV4_SUBNET; i++) {
      assert.equal(upgraded(limits, socketFrom(`/ip4/198.51.100.${i}/tcp/1`)), false)
    }
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/198.51.100.200/tcp/1')), true)
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/198.51.101.1/tcp/1')), false)
  })

  it(`refuses a connection past MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET (${MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET}) from one /48, and counts IPv4-mapped addresses as IPv4`, () => {
    const limits = new InboundConnectionLimits({ uncapped: [] })
    for (let i = 0; i < MAX_INBOUND_CONNECTIONS_PER_IPV6_SUBNET; i++) {
      assert.equal(upgraded(limits, socketFrom(`/ip6/2001:db8:1:${i.toString(16)}::1/tcp/1`)), false)
    }
    assert.equal(limits.denyInboundConnection(socketFrom('/ip6/2001:db8:1:ffff::2/tcp/1')), true)
    assert.equal(limits.denyInboundConnection(socketFrom('/ip6/2001:db8:2::1/tcp/1')), false)
    assert.deepEqual(sourceOf(multiaddr('/ip6/::ffff:192.0.2.1/tcp/1')), { ip: '192.0.2.1', subnet: '192.0.2.0/24', v4: true })
  })

  it(`refuses a connection past MAX_PENDING_INBOUND_PER_IP (${MAX_PENDING_INBOUND_PER_IP}) still upgrading from one address, and takes one again once one is upgraded or closes`, () => {
    const limits = new InboundConnectionLimits({ uncapped: [] })
    const upgrading = Array.from({ length: MAX_PENDING_INBOUND_PER_IP }, () => socketFrom('/ip4/203.0.113.7/tcp/4001'))
    assert.deepEqual(upgrading.map(limits.denyInboundConnection), upgrading.map(() => false))
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/203.0.113.7/tcp/4002')), true)
    assert.equal(limits.openFrom({ ip: '203.0.113.7' }, 'upgrading'), MAX_PENDING_INBOUND_PER_IP, 'the refused one is not counted')

    limits.denyInboundUpgradedConnection(PEER, upgrading[0])
    limits.denyInboundUpgradedConnection(PEER, upgrading[0])
    assert.equal(limits.openFrom({ ip: '203.0.113.7' }, 'upgrading'), MAX_PENDING_INBOUND_PER_IP - 1, 'an upgrade is uncounted once')
    assert.equal(limits.openFrom({ ip: '203.0.113.7' }), MAX_PENDING_INBOUND_PER_IP, 'and stays open')
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/203.0.113.7/tcp/4003')), false)
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/203.0.113.7/tcp/4004')), true)

    upgrading[1].hangUp()
    upgrading[0].hangUp()
    assert.equal(limits.openFrom({ ip: '203.0.113.7' }, 'upgrading'), MAX_PENDING_INBOUND_PER_IP - 1, 'a socket closed while upgrading is uncounted, an upgraded one is not twice')
    assert.equal(limits.openFrom({ ip: '203.0.113.7' }), MAX_PENDING_INBOUND_PER_IP - 1)
  })

  it(`refuses a connection past MAX_PENDING_INBOUND_PER_SUBNET (${MAX_PENDING_INBOUND_PER_SUBNET}) still upgrading from one subnet, whatever its address`, () => {
    const limits = new InboundConnectionLimits({ uncapped: [] })
    for (let i = 0; i < MAX_PENDING_INBOUND_PER_SUBNET; i++) {
      assert.equal(limits.denyInboundConnection(socketFrom(`/ip4/198.51.100.${i}/tcp/1`)), false)
    }
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/198.51.100.200/tcp/1')), true)
    assert.equal(limits.denyInboundConnection(socketFrom('/ip4/198.51.101.1/tcp/1')), false)
    assert.equal(limits.denyInboundConnection(socketFrom(`/ip6/2001:db8:1:${MAX_PENDING_INBOUND_PER_SUBNET}::1/tcp/1`)), false)
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
    assert.throws(() => new InboundConnectionLimits({ maxPendingInboundPerSubnet: 0.5 }), InvalidOptionsError)
  })

  it('counts only what the application\'s own gater lets through', async () => {
    const limits = new InboundConnectionLimits({ uncapped: [], maxInboundPerIp: 1 })
    const gater = withConnectionLimits(limits, { denyInboundConnection: maConn => maConn.remoteAddr.toString().includes('4001') })
    assert.equal(await gater.denyInboundConnection?.(socketFrom('/ip4/203.0.113.9/tcp/4001')), true)
    assert.equal(limits.openFrom({ ip: '203.0.113.9' }), 0)
    assert.equal(await gater.denyInboundConnection?.(socketFrom('/ip4/203.0.113.9/tcp/4002')), false)
    assert.equal(await gater.denyInboundConnection?.(socketFrom('/ip4/203.0.113.9/tcp/4003')), true)
  })

  it('counts no socket that closed while the application\'s own gater decided, whose close it would never see', async () => {
    const limits = new InboundConnectionLimits({ uncapped: [] })
    const gater = withConnectionLimits(limits, { denyInboundConnection: async () => { await Promise.resolve(); return false } })
    for (let i = 0; i <= MAX_PENDING_INBOUND_PER_IP; i++) {
      const socket = socketFrom(`/ip4/203.0.113.7/tcp/${4000 + i}`)
      const deciding = gater.denyInboundConnection?.(socket)
      socket.hangUp()
      assert.equal(await deciding, true)
    }
    assert.equal(limits.openFrom({ ip: '203.0.113.7' }), 0)
    assert.equal(limits.openFrom({ ip: '203.0.113.7' }, 'upgrading'), 0)
    assert.equal(await gater.denyInboundConnection?.(socketFrom('/ip4/203.0.113.7/tcp/5000')), false, 'the address is not shut out')
  })

  it('stops counting an upgrade through the combined gater, and still asks the application\'s own', async () => {
    const limits = new InboundConnectionLimits({ uncapped: [] })
    const asked: MultiaddrConnection[] = []
    const gater = withConnectionLimits(limits, { denyInboundUpgradedConnection: (_peer, maConn) => { asked.push(maConn); return true } })
    const socket = socketFrom('/ip4/203.0.113.9/tcp/4001')
    assert.equal(await gater.denyInboundConnection?.(socket), false)
    assert.equal(await gater.denyInboundUpgradedConnection?.(PEER, socket), true, 'the application refused it')
    assert.deepEqual(asked, [socket])
    assert.equal(limits.openFrom({ ip: '203.0.113.9' }, 'upgrading'), 0)
  })
})
