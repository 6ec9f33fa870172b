import assert from 'node:assert/strict'
import fc from 'fast-check'
import { OWNER_CACHE_SIZE, OWNER_CACHE_TTL } from '../../src/chord/constants.js'
import { RING_SIZE, hashToRingId, inHalfOpenInterval, ringIdFromBytes, ringIdToBytes } from '../../src/chord/id.js'
import { answerFindSuccessor } from '../../src/chord/lookup.js'
import { OwnerCache } from '../../src/chord/owner-cache.js'
import { createRecord } from '../../src/chord/record.js'
import { Simulator, seededRandom } from '../helpers/simulator.js'
import type { RingId } from '../../src/chord/id.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { NodeRef } from '../../src/chord/rpc.js'

const node = (id: RingId, peer = `n${id}`): NodeRef => ({ id, peer })

/** The owner cache as a scan of every entry: what the indexed one must answer alike */
class ScanningOwnerCache {
  private readonly entries = new Map<string, { from: RingId, successors: NodeRef[], expiresAt: number }>()

  constructor (private readonly maxEntries: number) {}

  find (id: RingId, now: number): NodeRef[] | undefined {
    for (const [peer, entry] of this.entries) {
      if (inHalfOpenInterval(id, entry.from, entry.successors[0].id)) {
        this.entries.delete(peer)
        if (entry.expiresAt <= now) {
          return undefined
        }
        this.entries.set(peer, entry)
        return [...entry.successors]
      }
    }
    return undefined
  }

  remember (id: RingId, predecessor: NodeRef, successors: NodeRef[], now: number): void {
    const owner = successors[0]
    if (predecessor.peer === owner.peer || !inHalfOpenInterval(id, predecessor.id, owner.id)) {
      return
    }
    const overlaps = (a: RingId, b: RingId): boolean => inHalfOpenInterval(b, predecessor.id, owner.id) || inHalfOpenInterval(owner.id, a, b)
    for (const [peer, entry] of this.entries) {
      if (peer === owner.peer || overlaps(entry.from, entry.successors[0].id)) {
        this.entries.delete(peer)
      }
    }
    this.entries.set(owner.peer, { from: predecessor.id, successors: [...successors], expiresAt: now + OWNER_CACHE_TTL })
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string)
    }
  }

  forget (id: RingId): void {
    for (const [peer, entry] of this.entries) {
      if (inHalfOpenInterval(id, entry.from, entry.successors[0].id)) {
        this.entries.delete(peer)
      }
    }
  }
}

describe('owner cache', () => {
  describe('ranges', () => {
    it('answers the ids of (predecessor, owner] with the owner and its followers, and nothing else', () => {
      const cache = new OwnerCache()
      const successors = [node(200n), node(300n), node(400n)]
      cache.remember(150n, node(100n), successors)
      assert.deepEqual(cache.find(150n), successors)
      assert.deepEqual(cache.find(200n), successors, 'the owner owns its own id')
      assert.deepEqual(cache.find(101n), successors)
      assert.equal(cache.find(100n), undefined, 'the predecessor owns its own id')
      assert.equal(cache.find(201n), undefined)
      assert.equal(cache.find(50n), undefined)
    })

    it('handles a range that wraps round zero', () => {
      const cache = new OwnerCache()
      const successors = [node(10n), node(20n)]
      cache.remember(RING_SIZE - 5n, node(RING_SIZE - 100n), successors)
      assert.deepEqual(cache.find(0n), successors)
      assert.deepEqual(cache.find(RING_SIZE - 1n), successors)
      assert.deepEqual(cache.find(10n), successors)
      assert.equal(cache.find(11n), undefined)
      assert.equal(cache.find(RING_SIZE - 100n), undefined)
    })

    it('ignores an answer whose range does not hold the id looked up, and an owner that is its own predecessor', () => {
      const cache = new OwnerCache()
      cache.remember(50n, node(100n), [node(200n)])
      cache.remember(50n, node(100n, 'alone'), [node(100n, 'alone')])
      assert.equal(cache.size, 0)
    })

    it('a newer answer replaces the entries whose ranges overlap it', () => {
      const cache = new OwnerCache()
      cache.remember(150n, node(100n), [node(200n), node(300n)])
      // a node joined at 180: it owns (100, 180]
      cache.remember(150n, node(100n), [node(180n), node(200n)])
      assert.equal(cache.size, 1)
      assert.equal(cache.find(150n)?.[0].peer, 'n180')
      assert.equal(cache.find(190n), undefined, 'the old, wider range is gone')
    })
  })

  describe('lookups among many entries', () => {
    it('a range that spans several remembered ones replaces them all', () => {
      const cache = new OwnerCache()
      cache.remember(150n, node(100n), [node(200n)])
      cache.remember(250n, node(200n), [node(300n)])
      cache.remember(350n, node(300n), [node(400n)])
      cache.remember(450n, node(400n), [node(500n)])
      // the nodes at 200 and 300 left: 400 owns (100, 400]
      cache.remember(150n, node(100n), [node(400n, 'n400 again')])
      assert.equal(cache.size, 2)
      assert.equal(cache.find(250n)?.[0].peer, 'n400 again')
      assert.equal(cache.find(450n)?.[0].peer, 'n500')
    })

    it('answers as a scan of every entry would, whatever is remembered, found and forgotten', () => {
      // ids on a small stretch of the ring and past its top, so that ranges wrap round zero
      const ids = [...Array.from({ length: 12 }, (_, i) => BigInt(i * 10)), ...Array.from({ length: 4 }, (_, i) => RING_SIZE - BigInt(40 - i * 10))]
      const id = fc.constantFrom(...ids)
      const operation = fc.oneof(
        fc.record({ op: fc.constant('remember' as const), from: id, owner: id, offset: fc.nat(9) }),
        fc.record({ op: fc.constant('find' as const), at: id, offset: fc.nat(9) }),
        fc.record({ op: fc.constant('forget' as const), at: id }),
        fc.record({ op: fc.constant('tick' as const), ms: fc.nat(OWNER_CACHE_TTL) })
      )
      fc.assert(fc.property(fc.array(operation, { maxLength: 60 }), operations => {
        let now = 0
        const cache = new OwnerCache({ maxEntries: 4, now: () => now })
        const model = new ScanningOwnerCache(4)
        for (const step of operations) {
          if (step.op === 'remember') {
            const key = (step.from + 1n + BigInt(step.offset)) % RING_SIZE
            cache.remember(key, node(step.from), [node(step.owner)])
            model.remember(key, node(step.from), [node(step.owner)], now)
          } else if (step.op === 'find') {
            const key = (step.at + BigInt(step.offset)) % RING_SIZE
            assert.deepEqual(cache.find(key), model.find(key, now))
          } else if (step.op === 'forget') {
            cache.forget(step.at)
            model.forget(step.at)
          } else {
            now += step.ms
          }
        }
      }), { seed: 0x0c4c4e, numRuns: 500 })
    })
  })

  describe('limits', () => {
    it(`forgets an entry OWNER_CACHE_TTL (${OWNER_CACHE_TTL} ms) after the lookup that found it`, () => {
      let now = 1_000_000
      const cache = new OwnerCache({ now: () => now })
      cache.remember(150n, node(100n), [node(200n)])
      now += OWNER_CACHE_TTL - 1
      assert.equal(cache.find(150n)?.[0].peer, 'n200', 'used until its time is up, however often')
      now += 1
      assert.equal(cache.find(150n), undefined)
      assert.equal(cache.size, 0)
    })

    it(`keeps at most OWNER_CACHE_SIZE (${OWNER_CACHE_SIZE}) entries, dropping the least recently used`, () => {
      const cache = new OwnerCache()
      const at = (i: number): RingId => BigInt(i) * 1000n
      for (let i = 0; i < OWNER_CACHE_SIZE; i++) {
        cache.remember(at(i) + 500n, node(at(i)), [node(at(i) + 1000n - 1n)])
      }
      assert.equal(cache.size, OWNER_CACHE_SIZE)
      // the first is used: the second is now the least recently used
      assert.notEqual(cache.find(500n), undefined)
      cache.remember(at(OWNER_CACHE_SIZE) + 500n, node(at(OWNER_CACHE_SIZE)), [node(at(OWNER_CACHE_SIZE) + 999n)])
      assert.equal(cache.size, OWNER_CACHE_SIZE)
      assert.notEqual(cache.find(500n), undefined)
      assert.equal(cache.find(at(1) + 500n), undefined)
      assert.notEqual(cache.find(at(OWNER_CACHE_SIZE) + 500n), undefined)
    })

    it('forgets the range of an id on request', () => {
      const cache = new OwnerCache()
      cache.remember(150n, node(100n), [node(200n)])
      cache.remember(250n, node(200n), [node(300n)])
      cache.forget(199n)
      assert.equal(cache.find(150n), undefined)
      assert.notEqual(cache.find(250n), undefined)
    })
  })

  describe('in a ring (simulated)', function () {
    this.timeout(120_000)

    /** A converged ring of `size`, a key owned by `owner`-th node after it, and a writer whose own table does not answer for the key */
    async function ringWithWriter (size: number, options: { verifyLookups?: boolean } = {}): Promise<{ sim: Simulator, writer: ChordRing, sorted: NodeRef[] }> {
      const sim = new Simulator({ replicas: 3, verifyLookups: options.verifyLookups })
      await sim.grow(size, seededRandom(7))
      await sim.roundsUntil(() => sim.isConsistent(), 300)
      for (let i = 0; i < 20; i++) {
        await sim.round()
      }
      return { sim, writer: sim.ringOf('node-0'), sorted: sim.sortedLiveIds() }
    }

    /** A key whose lookup from `writer` goes through the ring (its own table does not answer it) */
    function remoteKey (writer: ChordRing, sorted: NodeRef[]): Uint8Array {
      const id = sorted.map(n => n.id - 1n).find(id => !answerFindSuccessor(writer.table, id).done)
      assert.ok(id != null, 'a key the writer must look up')
      return ringIdToBytes(id)
    }

    const lookupMessages = (sim: Simulator): number => (sim.messagesByKind.get('findSuccessor') ?? 0) + (sim.messagesByKind.get('getNeighbours') ?? 0)
    const put = async (sim: Simulator, writer: ChordRing, key: Uint8Array, text: string): Promise<number> =>
      (await sim.recordsOf(writer.self.peer).replication.put([createRecord(key, new TextEncoder().encode(text), Date.now() + 60_000)])).replicas
    const holds = async (sim: Simulator, peer: string, key: Uint8Array, text: string): Promise<boolean> =>
      (await sim.recordsOf(peer).store.get(key, { now: Date.now() })).some(r => new TextDecoder().decode(r.value) === text)

    it('a second write to the same key asks no node for a lookup, and reaches the same replicas', async () => {
      const { sim, writer, sorted } = await ringWithWriter(16)
      const key = remoteKey(writer, sorted)
      assert.equal(await put(sim, writer, key, 'first'), 3)
      assert.equal(writer.owners.size, 1, 'the verified lookup was remembered')
      sim.messagesByKind.clear()
      assert.equal(await put(sim, writer, key, 'second'), 3)
      assert.equal(lookupMessages(sim), 0)
      assert.equal(sim.messagesByKind.get('storeRecords'), 3)
      const owner = sim.expectedOwner(ringIdFromBytes(key))
      assert.ok(await holds(sim, owner.peer, key, 'second'))
    })

    it('a lookup that does not ask for the cache goes to the ring, and says so by its hops', async () => {
      const { sim, writer, sorted } = await ringWithWriter(16)
      const key = remoteKey(writer, sorted)
      await put(sim, writer, key, 'first')
      sim.messagesByKind.clear()
      const plain = await writer.lookup(ringIdFromBytes(key))
      assert.ok(lookupMessages(sim) > 0)
      assert.equal(plain.cached, undefined)
      const cached = await writer.lookup(ringIdFromBytes(key), { useOwnerCache: true })
      assert.equal(cached.cached, true)
      assert.equal(cached.hops, 0)
      assert.equal(cached.successors[0].peer, plain.successors[0].peer)
    })

    it('remembers only verified answers', async () => {
      const { sim, writer, sorted } = await ringWithWriter(16, { verifyLookups: false })
      const key = remoteKey(writer, sorted)
      await put(sim, writer, key, 'first')
      assert.equal(writer.owners.size, 0)
      sim.messagesByKind.clear()
      await put(sim, writer, key, 'second')
      assert.ok((sim.messagesByKind.get('findSuccessor') ?? 0) > 0, 'the second write looked the key up again')
    })

    it('a cached owner that died: the write goes to the true replicas after a real lookup', async () => {
      const { sim, writer, sorted } = await ringWithWriter(16)
      const key = remoteKey(writer, sorted)
      const id = ringIdFromBytes(key)
      await put(sim, writer, key, 'first')
      const dead = sim.expectedOwner(id)
      assert.notEqual(dead.peer, writer.self.peer)
      sim.kill(dead.peer)
      await sim.roundsUntil(() => sim.isConsistent(), 300)
      const owner = sim.expectedOwner(id)
      sim.messagesByKind.clear()
      assert.equal(await put(sim, writer, key, 'after the crash'), 3)
      assert.ok((sim.messagesByKind.get('findSuccessor') ?? 0) + (sim.messagesByKind.get('getNeighbours') ?? 0) > 0, 'looked up again')
      assert.ok(await holds(sim, owner.peer, key, 'after the crash'))
      assert.equal(writer.owners.find(id)?.[0].peer, owner.peer, 'the entry names the new owner')
    })

    it('a node that joined inside the cached range gets the next write, though the old owner still takes it', async () => {
      const { sim } = await ringWithWriter(12)
      // the key sits at the newcomer's position: the newcomer owns it once it joins
      const id = hashToRingId(new TextEncoder().encode('newcomer'))
      const key = ringIdToBytes(id)
      const writer = sim.liveRings().find(ring => !answerFindSuccessor(ring.table, id).done)
      assert.ok(writer != null)
      const oldOwner = sim.expectedOwner(id)
      await put(sim, writer, key, 'before')
      assert.equal(writer.owners.find(id)?.[0].peer, oldOwner.peer)

      const newcomer = await sim.addNode('newcomer')
      await newcomer.join(sim.ringOf(oldOwner.peer).self)
      await sim.roundsUntil(() => sim.isConsistent(), 300)
      assert.equal(sim.expectedOwner(id).peer, 'newcomer')

      sim.messagesByKind.clear()
      assert.equal(await put(sim, writer, key, 'after the join'), 3)
      assert.ok(lookupMessages(sim) > 0, 'the old owner\'s answer sent the writer to look the key up again')
      assert.ok(await holds(sim, 'newcomer', key, 'after the join'), 'the new owner took the write at once, not from a repair')
      assert.equal(writer.owners.find(id)?.[0].peer, 'newcomer')
    })

    it('a cached node that refuses the key as not its own: the entry goes and the write reaches the true replicas', async () => {
      const { sim, writer, sorted } = await ringWithWriter(16)
      await sim.rehomeRound()
      const key = remoteKey(writer, sorted)
      const id = ringIdFromBytes(key)
      const owner = sim.expectedOwner(id)
      const at = sorted.findIndex(n => n.peer === owner.peer)
      const far = [8, 9, 10].map(k => sorted[(at + k) % sorted.length])
      // a wrong entry, as if the ring had changed: nodes far past the key, which keep none of it
      writer.owners.remember(id, sorted[(at - 1 + sorted.length) % sorted.length], far)
      assert.equal(await put(sim, writer, key, 'misdirected'), 3)
      assert.ok(await holds(sim, owner.peer, key, 'misdirected'))
      assert.equal(writer.owners.find(id)?.[0].peer, owner.peer)
    })

    it('a replica set remembered shorter than the ring now gives is looked up again: the write reaches every replica', async () => {
      const { sim, writer, sorted } = await ringWithWriter(16)
      const key = remoteKey(writer, sorted)
      const id = ringIdFromBytes(key)
      const owner = sim.expectedOwner(id)
      const at = sorted.findIndex(n => n.peer === owner.peer)
      // what a write remembered while the ring was forming: an owner that knew no successor yet
      writer.owners.remember(id, sorted[(at - 1 + sorted.length) % sorted.length], [owner])
      assert.equal(await put(sim, writer, key, 'to all three'), 3)
      for (let k = 0; k < 3; k++) {
        assert.ok(await holds(sim, sorted[(at + k) % sorted.length].peer, key, 'to all three'))
      }
      assert.ok((writer.owners.find(id)?.length ?? 0) >= 3, 'the whole set is remembered now')
    })

    it('a ring smaller than the replica set keeps its remembered owners: a write asks no node for a lookup', async () => {
      const { sim, writer, sorted } = await ringWithWriter(2)
      const [owner, other] = sorted[0].peer === writer.self.peer ? [sorted[1], sorted[0]] : sorted
      const key = ringIdToBytes(owner.id)
      // the whole ring, as a lookup through another node would find it (our own table answers here)
      writer.owners.remember(owner.id, other, [owner, other])
      sim.messagesByKind.clear()
      assert.equal(await put(sim, writer, key, 'kept'), 2)
      assert.equal(lookupMessages(sim), 0)
      assert.equal(writer.owners.find(owner.id)?.length, 2, 'the entry stays')
    })

    it('a get looks the key up though its owner is remembered: a FETCH answer cannot tell a stale set', async () => {
      const { sim, writer, sorted } = await ringWithWriter(16)
      const key = remoteKey(writer, sorted)
      await put(sim, writer, key, 'kept')
      assert.notEqual(writer.owners.find(ringIdFromBytes(key)), undefined)
      sim.messagesByKind.clear()
      const values = await sim.recordsOf(writer.self.peer).replication.get(key)
      assert.deepEqual(values.map(r => new TextDecoder().decode(r.value)), ['kept'])
      assert.ok(lookupMessages(sim) > 0)
    })
  })
})
