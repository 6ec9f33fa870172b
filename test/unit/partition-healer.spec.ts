import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { HEAL_INTERVAL_JITTER, PartitionHealer, REJOIN_CANDIDATES_PER_ROUND, REJOIN_INTERVAL } from '../../src/membership/partition-healer.js'
import { ringIdOf } from '../../src/transport/ring-id.js'
import { silentLogger } from '../helpers/logger.js'
import { madeUpPeerId } from '../helpers/made-up-peer.js'
import { waitFor } from '../helpers/wait-for.js'
import type { RingActivityListener } from '../../src/chord/ring.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { PartitionHealerComponents, PartitionHealerInit } from '../../src/membership/partition-healer.js'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function nodeRef (peerId: PeerId): NodeRef {
  return { id: ringIdOf(peerId), peer: peerId.toString() }
}

/** A node that knows some peers; every dial reaches the peer named (or the one behind an address) */
class World {
  readonly self: PeerId
  readonly behindAddress = new Map<string, PeerId>()
  readonly healedThrough: string[] = []
  /** peers whose dials are refused */
  readonly refusing = new Set<string>()
  /** every peer dialled, in order */
  readonly dialled: string[] = []
  readonly activityListeners = new Set<RingActivityListener>()
  tableNodes: PeerId[] = []
  cached: PeerId[] = []
  /** peers that peer exchange named */
  learned: PeerId[] = []
  /** each healing lookup fails, telling the ring's listeners of the failure as a real lookup would */
  lookupsFail = false
  /** peers whose healing lookup puts them in the routing table (a client that finds the ring through them) */
  readonly joinedThrough = new Set<PeerId>()
  bootstrap: Multiaddr[] = []
  hang = false

  constructor (self: PeerId) {
    this.self = self
  }

  /** the healer's components */
  components (): PartitionHealerComponents {
    return {
      peerId: this.self,
      logger: silentLogger(),
      dial: async (target: Multiaddr | PeerId, options: AbortOptions = {}) => {
        if (this.hang) {
          return new Promise((_resolve, reject) => {
            options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }, { once: true })
          })
        }
        const remotePeer = 'getComponents' in target ? this.behindAddress.get(target.toString()) : target
        this.dialled.push(String(remotePeer))
        if (remotePeer == null || this.refusing.has(remotePeer.toString())) {
          throw new Error('ECONNREFUSED')
        }
        return { remotePeer }
      }
    }
  }

  init (overrides: Partial<PartitionHealerInit> = {}): PartitionHealerInit {
    return {
      ring: {
        table: { knownNodes: () => this.tableNodes.map(nodeRef), getSuccessors: () => this.tableNodes.map(nodeRef) },
        healThrough: async (entry: NodeRef) => {
          this.healedThrough.push(entry.peer)
          if (this.lookupsFail) {
            this.activityListeners.forEach(listener => { listener('failure') })
            throw new Error('the entry did not answer the lookup')
          }
          const joined = [...this.joinedThrough].find(peer => peer.toString() === entry.peer)
          if (joined != null) {
            this.tableNodes.push(joined)
          }
          return false
        },
        watchActivity: (listener: RingActivityListener) => {
          this.activityListeners.add(listener)
          return () => { this.activityListeners.delete(listener) }
        }
      } as unknown as PartitionHealerInit['ring'],
      bootstrap: this.bootstrap,
      cachedPeers: () => this.cached,
      learnedPeers: () => this.learned,
      ...overrides
    }
  }
}

describe('the partition healer', function () {
  this.timeout(30_000)
  let healer: PartitionHealer | undefined

  afterEach(() => {
    healer?.stop()
    healer = undefined
  })

  it('looks itself up only through peers off its routing table: cached, learned through peer exchange, or bootstrap', async () => {
    const world = new World(await newPeerId())
    const [successor, finger, cached, exchanged, behindBootstrap, bootstrapInTable] =
      await Promise.all(Array.from({ length: 6 }, newPeerId))
    world.tableNodes = [successor, finger, bootstrapInTable]
    world.cached = [cached, successor, world.self]
    world.learned = [exchanged, finger, cached]
    const unnamed = multiaddr('/ip4/127.0.0.1/tcp/4001')
    world.behindAddress.set(unnamed.toString(), behindBootstrap)
    world.bootstrap = [unnamed, multiaddr(`/ip4/127.0.0.1/tcp/4002/p2p/${bootstrapInTable}`)]

    healer = new PartitionHealer(world.components(), world.init())
    for (let i = 0; i < 100; i++) {
      await healer.healOnce()
    }
    const expected = [cached, exchanged, behindBootstrap].map(String).sort()
    assert.deepEqual([...new Set(world.healedThrough)].sort(), expected)
  })

  it('gives the cache and the bootstrap list each an equal share of the picks, however many peers exchanges named', async () => {
    const world = new World(await newPeerId())
    const [cached, behindBootstrap] = await Promise.all([newPeerId(), newPeerId()])
    world.cached = [cached]
    // what a hostile peer asked for peers names: made-up peers, as many as the list holds
    world.learned = Array.from({ length: 256 }, () => madeUpPeerId())
    // the bootstrap node named in an answer too: it stays a bootstrap candidate
    world.learned.push(behindBootstrap)
    const address = multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${behindBootstrap}`)
    world.behindAddress.set(address.toString(), behindBootstrap)
    world.bootstrap = [address]

    healer = new PartitionHealer(world.components(), world.init())
    const rounds = 300
    for (let i = 0; i < rounds; i++) {
      await healer.healOnce()
    }
    const picks = (peer: PeerId): number => world.healedThrough.filter(p => p === peer.toString()).length
    // a third each on average; below a fifth is five standard deviations away
    assert.ok(picks(cached) > rounds / 5, `the cached peer picked ${picks(cached)} times of ${rounds}`)
    assert.ok(picks(behindBootstrap) > rounds / 5, `the bootstrap address picked ${picks(behindBootstrap)} times of ${rounds}`)
  })

  it('does nothing when every peer it knows is in its routing table', async () => {
    const world = new World(await newPeerId())
    const successor = await newPeerId()
    world.tableNodes = [successor]
    world.cached = [successor]
    healer = new PartitionHealer(world.components(), world.init())
    assert.equal(await healer.healOnce(), false)
    assert.deepEqual(world.healedThrough, [])
  })

  it('for a client, looks only once it knows no ring node, then through the peers it knew', async () => {
    const world = new World(await newPeerId())
    const [successor, cached] = await Promise.all([newPeerId(), newPeerId()])
    world.tableNodes = [successor]
    world.cached = [cached]
    healer = new PartitionHealer(world.components(), world.init({ onlyWhenAlone: true }))
    assert.equal(await healer.healOnce(), false)
    assert.deepEqual(world.healedThrough, [], 'a client that knows a ring node dials nobody')
    world.tableNodes = []
    await healer.healOnce()
    assert.deepEqual(world.healedThrough, [cached.toString()])
  })

  it('as a ring node, tries one peer a round', async () => {
    const world = new World(await newPeerId())
    world.cached = await Promise.all(Array.from({ length: 3 }, newPeerId))
    world.cached.forEach(peer => world.refusing.add(peer.toString()))
    healer = new PartitionHealer(world.components(), world.init())
    await assert.rejects(healer.healOnce(), /ECONNREFUSED/)
    assert.equal(world.dialled.length, 1)
  })

  it(`as a client that knows no ring node, tries peers one after the other until one answers, at most ${REJOIN_CANDIDATES_PER_ROUND} a round`, async () => {
    const world = new World(await newPeerId())
    world.cached = await Promise.all(Array.from({ length: REJOIN_CANDIDATES_PER_ROUND + 4 }, newPeerId))
    world.cached.forEach(peer => world.refusing.add(peer.toString()))
    healer = new PartitionHealer(world.components(), world.init({ onlyWhenAlone: true }))
    await assert.rejects(healer.healOnce(), /ECONNREFUSED/, 'the round fails with the last refusal')
    assert.equal(new Set(world.dialled).size, REJOIN_CANDIDATES_PER_ROUND, 'a round stops at the limit')
    assert.deepEqual(world.healedThrough, [])

    // one of a few peers answers: the round goes on until it does, and stops there
    world.dialled.length = 0
    world.cached = world.cached.slice(0, 4)
    const answering = world.cached[2]
    world.refusing.delete(answering.toString())
    world.joinedThrough.add(answering)
    await healer.healOnce()
    assert.deepEqual(world.healedThrough, [answering.toString()])
    assert.equal(world.dialled.at(-1), answering.toString())
  })

  it('as a client, goes on to the next peer when one answers but leaves it knowing no ring node', async () => {
    const world = new World(await newPeerId())
    world.cached = await Promise.all(Array.from({ length: 4 }, newPeerId))
    const joining = world.cached[3]
    world.joinedThrough.add(joining)
    healer = new PartitionHealer(world.components(), world.init({ onlyWhenAlone: true }))
    // in random order: in all but one order in four, peers that answer in vain come first
    for (let round = 0; round < 10; round++) {
      world.tableNodes = []
      world.healedThrough.length = 0
      await healer.healOnce()
      assert.equal(world.healedThrough.at(-1), joining.toString(), `round ${round} ended at ${world.healedThrough.at(-1)}`)
      assert.deepEqual(world.tableNodes, [joining])
    }
  })

  it('as a client, looks for the ring at once when it loses its last ring node', async () => {
    const world = new World(await newPeerId())
    const [successor, cached] = await Promise.all([newPeerId(), newPeerId()])
    world.tableNodes = [successor]
    world.cached = [cached]
    // without the wake at once, the first round would wait this interval (± jitter)
    const intervalMs = 60_000
    healer = new PartitionHealer(world.components(), world.init({ onlyWhenAlone: true, intervalMs }))
    healer.start()

    world.tableNodes = []
    for (const listener of world.activityListeners) {
      listener('failure')
    }
    await waitFor(() => world.healedThrough.length >= 1, 'a round at once', intervalMs * (1 - HEAL_INTERVAL_JITTER) / 10)
  })

  it('as a client that knows no ring node, backs off from REJOIN_INTERVAL, its own rounds\' failures no reason to hurry', async () => {
    const world = new World(await newPeerId())
    const [successor, cached] = await Promise.all([newPeerId(), newPeerId()])
    world.tableNodes = [successor]
    world.cached = [cached]
    world.lookupsFail = true
    // the defaults a deployed client runs with
    const client = new PartitionHealer(world.components(), world.init({ onlyWhenAlone: true }))
    healer = client
    client.start()
    assert.equal(client.intervalMs, REJOIN_INTERVAL)

    world.tableNodes = []
    for (const listener of world.activityListeners) {
      listener('failure')
    }
    await waitFor(() => client.intervalMs === 4 * REJOIN_INTERVAL, 'two rounds that found nobody', 15_000)
    assert.equal(world.healedThrough.length, 2, 'one round at once, the next a backed-off interval later')
  })

  it('gives up on a peer that does not answer within the attempt timeout', async () => {
    const world = new World(await newPeerId())
    world.cached = [await newPeerId()]
    world.hang = true
    healer = new PartitionHealer(world.components(), world.init({ attemptTimeout: 200 }))
    const started = Date.now()
    await assert.rejects(healer.healOnce())
    const took = Date.now() - started
    assert.ok(took >= 190 && took < 2_500, `gave up after ${took} ms`)
  })

  it('runs a round every interval ± HEAL_INTERVAL_JITTER once started', async () => {
    const world = new World(await newPeerId())
    world.cached = [await newPeerId()]
    const intervalMs = 40
    healer = new PartitionHealer(world.components(), world.init({ intervalMs }))
    healer.start()
    const took = await waitFor(() => world.healedThrough.length >= 5, 'five rounds', 10_000)
    // jitter never brings a round sooner than this; how much later a busy machine runs it is not
    // the healer's doing, so only the lower bound is asserted
    const shortest = intervalMs * (1 - HEAL_INTERVAL_JITTER)
    assert.ok(took >= 5 * shortest - 5, `five rounds took ${took} ms`)
  })

  it('backs off while the ring sees no failure, and is back at the short interval as soon as it sees one', async () => {
    const world = new World(await newPeerId())
    world.cached = [await newPeerId()]
    const intervalMs = 10
    const maxIntervalMs = 2_000
    healer = new PartitionHealer(world.components(), world.init({ intervalMs, maxIntervalMs }))
    healer.start()
    const backedOff = healer
    await waitFor(() => backedOff.intervalMs === maxIntervalMs, 'the long interval', 20_000)
    const rounds = world.healedThrough.length

    // a neighbour change is no reason to look for another ring; a failure is
    for (const listener of world.activityListeners) {
      listener('neighbours')
    }
    assert.equal(healer.intervalMs, maxIntervalMs)
    for (const listener of world.activityListeners) {
      listener('failure')
    }
    assert.equal(healer.intervalMs, intervalMs)
    const took = await waitFor(() => world.healedThrough.length > rounds, 'a round after the failure', 10_000)
    // the backed-off wait would have lasted at least this long
    assert.ok(took < maxIntervalMs * (1 - HEAL_INTERVAL_JITTER), `the next round came ${took} ms after the failure`)
  })
})
