/**
 * Which stranger's connection the guard closes to make room: never a ring neighbour's, one with
 * no stream open before one in use, from the most crowded subnet, the oldest, and not one younger
 * than NEWCOMER_GRACE while an older one can go.
 */
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { RING_PEER_TAG } from '../../src/membership/ring-peer-tags.js'
import { ConnectionGuard } from '../../src/node/connection-guard.js'
import { NEWCOMER_GRACE } from '../../src/node/constants.js'
import { silentLogger } from '../helpers/logger.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ConnectionGuardComponents } from '../../src/node/connection-guard.js'
import type { Connection, PeerId } from '@libp2p/interface'

const MAX = 10
const RESERVED = 4

interface FakeConnection extends Connection {
  closed: boolean
}

describe('the connection guard', () => {
  const events = new EventTarget()
  const ringPeers = new Set<string>()
  let guard: ConnectionGuard
  let opened = 0

  beforeEach(() => {
    ringPeers.clear()
    const components = {
      connectionManager: { getMaxConnections: () => MAX },
      peerStore: { get: async (peer: PeerId) => ({ tags: new Map(ringPeers.has(peer.toString()) ? [[RING_PEER_TAG, { value: 100 }]] : []) }) },
      events,
      logger: silentLogger()
    } as unknown as ConnectionGuardComponents
    guard = new ConnectionGuard(components, { reservedRingSlots: RESERVED })
    guard.start()
  })

  afterEach(() => { guard.stop() })

  /** A connection from `ip`, opened `ageMs` ago, with `streams` streams open */
  function connection (ip: string, ageMs: number, streams = 0): FakeConnection {
    const peer = `peer-${++opened}`
    const conn = {
      id: `conn-${opened}`,
      remotePeer: { toString: () => peer } as unknown as PeerId,
      remoteAddr: multiaddr(`/ip4/${ip}/tcp/4001`),
      status: 'open',
      streams: Array.from({ length: streams }),
      timeline: { open: Date.now() - ageMs },
      closed: false,
      close: async () => { conn.closed = true; conn.status = 'closed' },
      abort: () => { conn.closed = true; conn.status = 'closed' }
    }
    return conn as unknown as FakeConnection
  }

  function open (conn: FakeConnection): void {
    events.dispatchEvent(new CustomEvent('connection:open', { detail: conn }))
  }

  it('keeps strangers to maxConnections − reservedRingSlots, closing the idle one of the most crowded subnet, oldest first', async () => {
    const old = 2 * NEWCOMER_GRACE
    const crowded = [connection('198.51.100.1', old + 3), connection('198.51.100.2', old + 2), connection('198.51.100.3', old + 1, 2)]
    const other = [connection('203.0.113.1', old + 10), connection('203.0.113.2', old + 9)]
    const ring = connection('192.0.2.1', old + 100)
    ringPeers.add(ring.remotePeer.toString())
    for (const conn of [ring, ...crowded, ...other, connection('192.0.2.77', old)]) {
      open(conn)
    }
    // the guard reads the peer store before it counts a connection
    await waitFor(() => guard.strangerConnections === 6, 'six strangers to be counted')
    assert.equal(guard.strangerLimit, MAX - RESERVED)

    const newcomer = connection('192.0.2.200', 0)
    open(newcomer)
    await waitFor(() => guard.evicted === 1, 'one connection to be closed')
    // the oldest idle one of the /24 with the most (not the older ones elsewhere, nor the busy one)
    assert.deepEqual([...crowded, ...other, ring, newcomer].map(c => c.closed), [true, false, false, false, false, false, false])
  })

  it('spares a connection younger than NEWCOMER_GRACE while an older one can go, and never a ring neighbour\'s', async () => {
    const young = Array.from({ length: 5 }, (_, i) => connection(`198.51.100.${i}`, 1000))
    const settled = connection('203.0.113.9', 2 * NEWCOMER_GRACE, 3)
    const ring = Array.from({ length: 3 }, (_, i) => connection(`192.0.2.${i}`, 3 * NEWCOMER_GRACE))
    ring.forEach(conn => ringPeers.add(conn.remotePeer.toString()))
    for (const conn of [...ring, settled, ...young]) {
      open(conn)
    }
    await waitFor(() => guard.strangerConnections === 6, 'six strangers to be counted')
    open(connection('198.51.100.99', 0))
    await waitFor(() => guard.evicted === 1, 'one connection to be closed')
    // the only settled stranger goes, busy as it is: the young are spared
    assert.equal(settled.closed, true)
    assert.ok(young.every(c => !c.closed) && ring.every(c => !c.closed))
  })
})
