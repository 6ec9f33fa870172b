/**
 * Over 300 attacker identities each open a connection to one node and hold it. An honest node
 * still joins the ring through that node within 10 s, and the node's connections to its ring
 * neighbours survive. The attackers come from loopback addresses of their own (127.1.0.0/16,
 * which Linux routes to the loopback interface with no setup), apart from the ring's 127.0.0.1:
 * once from a few addresses of one /24 (the per-address and per-subnet caps stop them before
 * the handshake), once from 320 addresses across ten /24s (the caps let them in, and the share
 * of connections strangers may hold, with the slots kept for ring peers, decides).
 *
 * And raw TCP sockets that never begin the handshake: a node holds MAX_INCOMING_PENDING_CONNECTIONS
 * of them and closes the next at once, while a peer connected before goes on being served.
 */
import { strict as assert } from 'node:assert'
import { connect } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { MAX_CONNECTIONS, MAX_PENDING_INBOUND_PER_IP, MAX_PENDING_INBOUND_PER_SUBNET, RESERVED_RING_SLOTS } from '../../src/node/constants.js'
import { MAX_INCOMING_PENDING_CONNECTIONS, createChordLibp2p } from '../../src/node/libp2p.js'
import { RING_PEER_TAG, RING_PEER_TAG_VALUE } from '../../src/membership/ring-peer-tags.js'
import { ringOf, startNode, startRing, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode, ChordNodeOptions } from '../../src/index.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { Socket } from 'node:net'
import type { TCPOptions } from '@libp2p/tcp'
import type { Connection, Libp2p } from '@libp2p/interface'

const ATTACKERS = 320
/** dials under way at once: the attack takes a few seconds, not one burst the kernel would queue */
const DIALS_AT_ONCE = 32
/** loopback connections count like any others on the victim (by default they are exempt) */
const VICTIM: ChordNodeOptions = { connectionLimits: { uncapped: [] } }

describe('300+ identities holding connections to one node', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []
  let attackers: Libp2p[] = []

  afterEach(async () => {
    await Promise.allSettled(attackers.map(async attacker => attacker.stop()))
    attackers = []
    await stopAll(nodes)
    nodes = []
  })

  /** A light libp2p node with an identity of its own, dialling from `source` */
  async function attacker (source: string): Promise<Libp2p> {
    const node = await createLibp2p({
      // the transport hands dialOpts to net.connect as they are; its type does not list localAddress
      transports: [tcp({ dialOpts: { localAddress: source } as unknown as TCPOptions['dialOpts'] })],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: { maxConnections: 2 }
    })
    attackers.push(node)
    return node
  }

  /** Every attacker dials the victim (DIALS_AT_ONCE at a time); resolves to how many dials completed */
  async function attack (victim: ChordNode, sources: string[]): Promise<number> {
    const target = victim.getMultiaddrs()[0]
    let dialled = 0
    for (let i = 0; i < sources.length; i += DIALS_AT_ONCE) {
      await Promise.all(sources.slice(i, i + DIALS_AT_ONCE).map(async source => {
        const node = await attacker(source)
        await node.dial(target, { signal: AbortSignal.timeout(10_000) }).then(() => { dialled++ }, () => {})
      }))
    }
    return dialled
  }

  /** The victim's open connections from the attackers */
  function attackerConnections (victim: ChordNode): Connection[] {
    const ids = new Set(attackers.map(a => a.peerId.toString()))
    return victim.libp2p.getConnections().filter(c => ids.has(c.remotePeer.toString()) && c.status === 'open')
  }

  /** The victim's connections to its ring neighbours, by id */
  function ringConnectionIds (victim: ChordNode): string[] {
    const neighbours = new Set(nodes.filter(n => n !== victim).map(n => n.peerId.toString()))
    return victim.libp2p.getConnections().filter(c => neighbours.has(c.remotePeer.toString())).map(c => c.id).sort()
  }

  async function scenario (sources: string[]): Promise<void> {
    nodes = await startRing(3, VICTIM)
    const victim = nodes[0]
    await waitFor(() => ringConnectionIds(victim).length >= 2, 'the victim to be connected to its ring neighbours')
    // its ring neighbours are tagged as such in its peer store
    await waitFor(async () => {
      const tags = await Promise.all(nodes.slice(1).map(async n => (await victim.libp2p.peerStore.get(n.peerId)).tags.get(RING_PEER_TAG)?.value))
      return tags.every(value => value === RING_PEER_TAG_VALUE)
    }, 'the victim to tag its ring neighbours')
    const ringBefore = ringConnectionIds(victim)

    const started = Date.now()
    const dialled = await attack(victim, sources)
    const held = attackerConnections(victim).length
    console.log(`      ${sources.length} identities from ${new Set(sources).size} addresses: ${dialled} dials completed in ${Date.now() - started} ms, the victim holds ${held} of them (${victim.libp2p.getConnections().length} connections in all)`)

    const joining = Date.now()
    const joiner = await startNode(victim, { joinTimeoutMs: 10_000 })
    nodes.push(joiner)
    const joinedIn = Date.now() - joining
    await waitForConsistentRing(nodes, 20_000)
    console.log(`      an honest node joined through the victim in ${joinedIn} ms; the ring is consistent`)
    assert.ok(joinedIn < 10_000)
    assert.ok(ringOf(joiner).table.getSuccessors().length > 0)

    // the connections to the ring neighbours it had are the ones it has
    assert.deepEqual(ringConnectionIds(victim).filter(id => ringBefore.includes(id)), ringBefore)
    assert.ok(attackerConnections(victim).length <= MAX_CONNECTIONS - RESERVED_RING_SLOTS)
  }

  it('from a few addresses of one /24: the per-address and per-subnet caps refuse most before the handshake', async () => {
    const sources = Array.from({ length: ATTACKERS }, (_, i) => `127.1.0.${1 + (i % 10)}`)
    await scenario(sources)
  })

  it('from 320 addresses across ten /24s: strangers hold at most their share, and a newcomer takes an idle one\'s place', async () => {
    const sources = Array.from({ length: ATTACKERS }, (_, i) => `127.1.${1 + Math.floor(i / 32)}.${1 + (i % 32)}`)
    await scenario(sources)
  })
})

describe('sockets that never finish the handshake', function () {
  this.timeout(30_000)
  /** what the test started, to stop after it */
  const started: Array<() => unknown> = []

  afterEach(async () => {
    await Promise.all(started.splice(0).map(async stop => stop()))
  })

  async function start (listen: string[], options: Pick<ChordNodeOptions, 'connectionLimits'> = {}): Promise<ChordLibp2p> {
    const node = await createChordLibp2p({ listen, peerExchange: false, ...options })
    started.push(async () => node.stop())
    return node
  }

  /**
   * A TCP connection to `port` from the loopback address `source`, which sends nothing; resolves
   * once connected, and adds it to `closed` once either end closes it
   */
  async function silentSocket (port: number, source: string, closed: Set<Socket>): Promise<Socket> {
    const socket = connect({ host: '127.0.0.1', port, localAddress: source })
    started.push(() => socket.destroy())
    socket.once('close', () => closed.add(socket))
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    socket.on('error', () => {})
    return socket
  }

  it(`holds MAX_INCOMING_PENDING_CONNECTIONS (${MAX_INCOMING_PENDING_CONNECTIONS}) of them and closes the one over at once; a connected peer is still served`, async () => {
    const victim = await start(['/ip4/127.0.0.1/tcp/0'])
    const friend = await start([])
    await friend.dial(victim.getMultiaddrs()[0])
    const port = Number(victim.getMultiaddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)

    const closed = new Set<Socket>()
    // each from another address: libp2p's per-address rate of new connections does not count them together
    const attack = await Promise.all(Array.from({ length: MAX_INCOMING_PENDING_CONNECTIONS + 1 }, async (_, i) => silentSocket(port, `127.3.${Math.floor(i / 250)}.${1 + (i % 250)}`, closed)))
    // well within libp2p's inbound upgrade timeout (10 s), after which it closes the others too
    await waitFor(() => closed.size > 0, 'the socket over the limit to be closed', 5_000)

    // every slot is held: a newcomer is refused too, while the peer connected before is answered
    const newcomer = await start([])
    // refused, not left waiting
    await assert.rejects(newcomer.dial(victim.getMultiaddrs()[0], { signal: AbortSignal.timeout(5_000) }), (err: Error) => err.name !== 'TimeoutError' && err.name !== 'AbortError')
    await friend.services.ping.ping(victim.peerId, { signal: AbortSignal.timeout(5_000) })
    assert.equal(closed.size, 1, 'only the socket over the limit was closed')

    // one held socket goes away: its slot is free for the newcomer
    attack.find(socket => !closed.has(socket))?.destroy()
    await waitFor(async () => newcomer.dial(victim.getMultiaddrs()[0], { signal: AbortSignal.timeout(5_000) }).then(() => true, () => false), 'the newcomer to connect', 5_000)
    assert.equal(closed.size, 2, 'the other held sockets are still open')
  })

  it(`lets one address hold MAX_PENDING_INBOUND_PER_IP (${MAX_PENDING_INBOUND_PER_IP}) of them and one subnet MAX_PENDING_INBOUND_PER_SUBNET (${MAX_PENDING_INBOUND_PER_SUBNET}), so a newcomer from elsewhere still gets in`, async () => {
    // loopback counted like any other network: the attack comes from two addresses of one /24
    const victim = await start(['/ip4/127.0.0.1/tcp/0'], { connectionLimits: { uncapped: [] } })
    const port = Number(victim.getMultiaddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)
    const closed = new Set<Socket>()
    const sources = Array.from({ length: MAX_INCOMING_PENDING_CONNECTIONS }, (_, i) => `127.4.0.${1 + (i % 2)}`)
    const attack = await Promise.all(sources.map(async source => silentSocket(port, source, closed)))
    const held = Math.min(2 * MAX_PENDING_INBOUND_PER_IP, MAX_PENDING_INBOUND_PER_SUBNET)
    await waitFor(() => closed.size === attack.length - held, `all but ${held} sockets to be closed`, 5_000)

    const newcomer = await start([])
    await newcomer.dial(victim.getMultiaddrs()[0], { signal: AbortSignal.timeout(5_000) })
    assert.equal(closed.size, attack.length - held, 'the sockets within the caps are still held, until the upgrade timeout')
  })
})
