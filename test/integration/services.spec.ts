/**
 * The ring embedded the libp2p way: an application's own libp2p node, with kad-dht of its own,
 * adds `chord()` and `chordMailbox()` to its services and joins a ring of `createChordNode` nodes.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, removePublicAddressesMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { MAX_ID_CHOICES, MAX_ID_DIFFICULTY, MAX_SUCCESSORS } from '../../src/chord/constants.js'
import { InvalidOptionsError, NotStartedError, chord, chordMailbox, createChordNode, createIdentity } from '../../src/index.js'
import { RESERVED_RING_SLOTS } from '../../src/node/constants.js'
import { addressOf, nodeOptions, startRing, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordMailbox, ChordNode, ChordService, MailboxMessage } from '../../src/index.js'
import type { Identify } from '@libp2p/identify'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from '@libp2p/interface'
import type { AddressInfo } from 'node:net'

type AppNode = Libp2p<{ identify: Identify, dht: KadDHT, chord: ChordService, mailbox: ChordMailbox }>

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value)

/** An application's node: its own transports and kad-dht, with the ring's services added */
async function startAppNode (bootstrap: string): Promise<AppNode> {
  const { timers, requestTimeoutMs } = nodeOptions()
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: 100 },
    services: {
      identify: identify(),
      ping: ping(),
      // on loopback kad-dht needs server mode and a mapper that keeps private addresses
      dht: kadDHT({ clientMode: false, peerInfoMapper: removePublicAddressesMapper }),
      chord: chord({ bootstrap: [bootstrap], timers, requestTimeoutMs }),
      mailbox: chordMailbox({ subscriptionCheckIntervalMs: timers?.subscriptionCheckIntervalMs })
    }
  })
}

/** The peers one getClosestPeers query names, as strings */
async function closestPeers (app: AppNode, key: Uint8Array): Promise<string[]> {
  const found: string[] = []
  for await (const event of app.services.dht.getClosestPeers(key, { signal: AbortSignal.timeout(10_000) })) {
    if (event.name === 'PEER_RESPONSE') {
      found.push(event.from.toString(), ...event.closer.map(peer => peer.id.toString()))
    } else if (event.name === 'FINAL_PEER') {
      found.push(event.peer.id.toString())
    }
  }
  return found
}

describe('chord() and chordMailbox() as services in an application\'s libp2p node', function () {
  this.timeout(60_000)

  let ring: ChordNode[] = []
  let apps: AppNode[] = []

  before(async () => {
    ring = await startRing(3)
    apps = [await startAppNode(addressOf(ring[0])), await startAppNode(addressOf(ring[1]))]
    await Promise.all(apps.map(async app => app.services.chord.joined()))
  })

  after(async () => {
    await Promise.allSettled(apps.map(async app => app.stop()))
    await stopAll(ring)
  })

  it('joins the ring of createChordNode nodes and takes its place in it', async () => {
    assert.equal(apps[0].services.chord.status, 'joined')
    assert.match(apps[0].services.chord.ringId, /^[0-9a-f]{64}$/)
    // the ring helpers see the embedded nodes as ring members like any other
    await waitForConsistentRing([...ring, ...apps.map(app => ({ libp2p: app }) as unknown as ChordNode)])
  })

  it('writes through the service what a createChordNode node reads, and the reverse', async () => {
    const { replicas } = await apps[0].services.chord.put('from-the-app', bytes('hello ring'), { ttlMs: 60_000 })
    assert.equal(replicas, 3)
    assert.deepEqual((await ring[2].get('from-the-app')).map(text), ['hello ring'])

    await ring[1].put('from-the-ring', bytes('hello app'))
    assert.deepEqual((await apps[0].services.chord.get('from-the-ring')).map(text), ['hello app'])

    const owner = await apps[1].services.chord.lookup('from-the-ring')
    assert.equal(owner.peerId.toString(), (await ring[0].lookup('from-the-ring')).peerId.toString())
  })

  it('keeps kad-dht working beside it: getClosestPeers finds the other application node', async () => {
    await apps[0].dial(apps[1].getMultiaddrs()[0])
    const target = apps[1].peerId.toString()
    // kad-dht adds a peer to its routing table once identify has told it the peer speaks kad
    await waitFor(async () => (await closestPeers(apps[0], apps[1].peerId.toMultihash().bytes)).includes(target),
      'getClosestPeers to find the other application node')
  })

  it('sends a mailbox message from the service that a subscriber on a createChordNode node receives', async () => {
    const [alice, bob] = await Promise.all([createIdentity(), createIdentity()])
    const received: MailboxMessage[] = []
    const subscription = await ring[2].mailbox.subscribe(bob, async message => {
      received.push(message)
      await ring[2].mailbox.ack(bob, [message.id])
    })
    try {
      const { id } = await apps[0].services.mailbox.send(alice, bob.address, bytes('hi Bob, from an app'))
      await waitFor(() => received.length > 0, 'the message to reach Bob')
      assert.equal(received[0].id, id)
      assert.equal(received[0].from, alice.address)
      assert.equal(text(received[0].plaintext), 'hi Bob, from an app')
    } finally {
      await subscription.close()
    }
  })

  it('leaves the ring gracefully when the application stops its libp2p node', async () => {
    const leaving = apps.pop() as AppNode
    await leaving.services.chord.put('handed-over', bytes('still here'))
    await leaving.stop()
    assert.equal(leaving.services.chord.status, 'stopped')
    await waitForConsistentRing([...ring, ...apps.map(app => ({ libp2p: app }) as unknown as ChordNode)])
    assert.deepEqual((await ring[0].get('handed-over')).map(text), ['still here'])
  })
})

describe('chord() options', () => {
  it('refuses invalid options with InvalidOptionsError naming the option, before anything is built', () => {
    assert.throws(() => chord({ replicas: 0 }), (err: Error) => err instanceof InvalidOptionsError && /replicas/.test(err.message))
    assert.throws(() => chord({ replicas: MAX_SUCCESSORS + 1 }), (err: Error) => err instanceof InvalidOptionsError && /replicas/.test(err.message) && err.message.includes(`${MAX_SUCCESSORS}`))
    assert.equal(typeof chord({ replicas: MAX_SUCCESSORS }), 'function')
    assert.throws(() => chord({ bootstrap: ['not a multiaddr'] }), (err: Error) => err instanceof InvalidOptionsError && /bootstrap/.test(err.message))
    assert.throws(() => chord({ bootstrap: ['/ip4/127.0.0.1/tcp/4001/p2p/notapeerid'] }), (err: Error) => err instanceof InvalidOptionsError && /bootstrap.*no peer id/.test(err.message))
    assert.throws(() => chord({ requestTimeoutMs: -1 }), (err: Error) => err instanceof InvalidOptionsError && /requestTimeoutMs/.test(err.message))
    assert.throws(() => chord({ timers: { stabilizeIntervalMs: 0 } }), (err: Error) => err instanceof InvalidOptionsError && /timers\.stabilizeIntervalMs/.test(err.message))
    assert.throws(() => chord({ storeLimits: { maxValueSize: 0 } }), (err: Error) => err instanceof InvalidOptionsError && /maxValueSize/.test(err.message))
    assert.throws(() => chord({ clientMode: true }), (err: Error) => err instanceof InvalidOptionsError && /bootstrap/.test(err.message))
    assert.throws(() => chord({ idDifficulty: MAX_ID_DIFFICULTY + 1 }), (err: Error) => err instanceof InvalidOptionsError && /idDifficulty/.test(err.message))
    assert.throws(() => chord({ idDifficulty: 1.5 }), (err: Error) => err instanceof InvalidOptionsError && /idDifficulty/.test(err.message))
    assert.equal(typeof chord({ idDifficulty: MAX_ID_DIFFICULTY }), 'function')
    assert.throws(() => chord({ idChoices: 0 }), (err: Error) => err instanceof InvalidOptionsError && /idChoices/.test(err.message))
    assert.throws(() => chord({ idChoices: MAX_ID_CHOICES + 1 }), (err: Error) => err instanceof InvalidOptionsError && /idChoices/.test(err.message))
    assert.equal(typeof chord({ idChoices: MAX_ID_CHOICES }), 'function')
    assert.throws(() => chord({ ringPeersPerSubnet: 0 }), (err: Error) => err instanceof InvalidOptionsError && /ringPeersPerSubnet/.test(err.message))
    assert.equal(typeof chord({ ringPeersPerSubnet: Infinity }), 'function')
  })

  it('takes a timer left undefined as its default, as one left out', () => {
    assert.equal(typeof chord({ timers: { stabilizeIntervalMs: undefined, fixFingersIntervalMs: 500 } }), 'function')
  })

  it('refuses a mailbox without the chord service, naming what to add', async () => {
    await assert.rejects(createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), mailbox: chordMailbox() }
    }), (err: Error) => err instanceof InvalidOptionsError && /chord\(\)/.test(err.message))
  })
})

describe('createChordNode options', () => {
  it('takes connectionLimits.maxConnections for strangers past the reserved ring slots, and refuses one that leaves none', async () => {
    await assert.rejects(createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], connectionLimits: { maxConnections: RESERVED_RING_SLOTS } }),
      (err: Error) => err instanceof InvalidOptionsError && /reservedRingSlots/.test(err.message))
    await assert.rejects(createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], connectionLimits: { maxConnections: 1.5 } }),
      (err: Error) => err instanceof InvalidOptionsError && /maxConnections/.test(err.message))
    const node = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], connectionLimits: { maxConnections: 1200 } })
    try {
      assert.equal(node.libp2p.services.connectionGuard.strangerLimit, 1200 - RESERVED_RING_SLOTS)
    } finally {
      await node.stop()
    }
  })

  it('refuses mailbox subscription limits that are not positive integers, naming them', async () => {
    for (const mailbox of [{ maxSubscriptions: 0 }, { maxSubscriptionsPerPeer: 1.5 }, { maxSubscriptionsPerSubnet: -1 }]) {
      await assert.rejects(createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], mailbox }),
        (err: Error) => err instanceof InvalidOptionsError && new RegExp(Object.keys(mailbox)[0]).test(err.message))
    }
  })

  it('refuses a dataDir it cannot create with InvalidOptionsError naming it, as a node and as a service', async function () {
    // Node's own recursive mkdir never returns for such a path: a hang shows here as this timeout
    this.timeout(15_000)
    const dataDir = '/proc/libp2p-chord-cannot-be-made/data'
    const namesIt = (err: Error): boolean => err instanceof InvalidOptionsError && err.message.includes(`dataDir ${dataDir}`)
    await assert.rejects(createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], dataDir }), namesIt)
    await assert.rejects(createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), chord: chord({ dataDir }) }
    }), namesIt)
  })

  it('refuses a dataDir another running node holds with InvalidOptionsError saying so, as a node and as a service', async () => {
    const base = await mkdtemp(join(tmpdir(), 'chord-data-'))
    const first = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], dataDir: base })
    try {
      const inUse = (err: Error): boolean => err instanceof InvalidOptionsError && err.message.startsWith(`dataDir ${base} is in use by another running node`)
      await assert.rejects(createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], dataDir: base }), inUse)
      await assert.rejects(createLibp2p({
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { identify: identify(), chord: chord({ dataDir: base }) }
      }), inUse)
    } finally {
      await first.stop()
      await rm(base, { recursive: true, force: true })
    }
  })

  it('makes a dataDir that does not exist yet, every level of it', async () => {
    const base = await mkdtemp(join(tmpdir(), 'chord-data-'))
    const dataDir = join(base, 'a', 'b', 'c')
    try {
      const node = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], dataDir })
      await node.stop()
      assert.ok((await stat(dataDir)).isDirectory())
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })

  it('backs up only while it runs: before start and after stop, NotStartedError saying what to do', async () => {
    const base = await mkdtemp(join(tmpdir(), 'chord-data-'))
    const dataDir = join(base, 'fresh')
    const app = await createLibp2p({
      start: false,
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), chord: chord({ dataDir }) }
    })
    const notRunning = (err: Error): boolean => err instanceof NotStartedError && err.message.includes('chord-node backup')
    const firstLine = async (): Promise<string | undefined> => {
      const lines = app.services.chord.backup({ signal: AbortSignal.timeout(5_000) })
      const { value } = await lines.next()
      await lines.return(undefined)
      return value ?? undefined
    }
    try {
      await assert.rejects(firstLine(), notRunning)
      await app.start()
      assert.match(await firstLine() ?? '', /"format"/)
      // asked for while it runs, read after it stopped: the check is at the first read
      const late = app.services.chord.backup()
      await app.stop()
      await assert.rejects(firstLine(), notRunning)
      await assert.rejects(late.next(), notRunning)
    } finally {
      await app.stop()
      await rm(base, { recursive: true, force: true })
    }
  })

  it('refuses replicas: 0 with InvalidOptionsError before it listens on anything', async () => {
    const probe = createServer()
    await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise(resolve => probe.close(resolve))

    await assert.rejects(createChordNode({ listen: [`/ip4/127.0.0.1/tcp/${port}`], replicas: 0 }),
      (err: Error) => err instanceof InvalidOptionsError && /replicas/.test(err.message))
    // the port is still free: nothing was started
    const again = createServer()
    await new Promise<void>((resolve, reject) => { again.once('error', reject); again.listen(port, '127.0.0.1', resolve) })
    await new Promise(resolve => again.close(resolve))
  })
})
