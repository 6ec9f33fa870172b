/**
 * What adaptive maintenance rests on, round by round in the simulator: a quiet round costs one
 * small exchange per node, changes are noticed by the nodes they concern (and reported as
 * activity, which speeds the loops up), and Zave's rules still decide every change.
 */
import assert from 'node:assert/strict'
import { Simulator, seededRandom } from '../helpers/simulator.js'
import type { RingActivity } from '../../src/chord/maintenance.js'
import type { ChordRing } from '../../src/chord/ring.js'

async function settledRing (size: number, seed: number): Promise<Simulator> {
  const sim = new Simulator()
  await sim.grow(size, seededRandom(seed))
  await sim.roundsUntil(() => sim.isConsistent(), 100)
  // fingers settle, and every node has heard from its predecessor once
  for (let i = 0; i < 3 * Math.ceil(Math.log2(size)); i++) {
    await sim.round()
  }
  return sim
}

/** Messages of each kind sent while `body` ran */
async function messagesDuring (sim: Simulator, body: () => Promise<void>): Promise<Record<string, number>> {
  sim.messagesByKind.clear()
  await body()
  return Object.fromEntries(sim.messagesByKind)
}

function watch (ring: ChordRing): RingActivity[] {
  const seen: RingActivity[] = []
  ring.watchActivity(activity => { seen.push(activity) })
  return seen
}

describe('adaptive maintenance (simulated network)', function () {
  this.timeout(60_000)

  it('in a quiet round each node asks its successor once, notifies nobody and pings no predecessor', async () => {
    const sim = await settledRing(20, 41)
    const sent = await messagesDuring(sim, async () => { await sim.round() })
    assert.equal(sent.getNeighbours, 20)
    assert.equal(sent.notify ?? 0, 0, 'a successor that counts us as its predecessor is not notified')
    assert.equal(sent.ping ?? 0, 0, 'a predecessor that asked us something since the last check is not pinged')
    assert.ok(sim.isConsistent())
  })

  it('still finds a dead predecessor: once it stops asking, it is pinged', async () => {
    const sim = await settledRing(12, 42)
    const sorted = sim.sortedLiveIds()
    const [victim, next] = [sorted[3], sorted[4]]
    sim.kill(victim.peer)
    const ring = sim.ringOf(next.peer)
    // the round after the failure still counts the victim's last request; the one after pings it
    await ring.maintain()
    await ring.maintain()
    assert.notEqual(ring.table.predecessor?.peer, victim.peer)
    await sim.roundsUntil(() => sim.isConsistent(), 10)
  })

  it('checks its successor with one ping, only when no stabilize round heard from it since the last check', async () => {
    const sim = await settledRing(12, 43)
    const ring = sim.ringOf(sim.sortedLiveIds()[0].peer)
    const activity = watch(ring)

    // the last round's stabilize heard from the successor
    assert.deepEqual(await messagesDuring(sim, async () => { await ring.checkSuccessor() }), {})
    assert.deepEqual(await messagesDuring(sim, async () => { await ring.checkSuccessor() }), { ping: 1 })
    assert.deepEqual(activity, [], 'an unchanged successor is no news')
  })

  it('drops a successor that does not answer its check, as stabilize would, and reports the failure', async () => {
    const sim = await settledRing(12, 44)
    const sorted = sim.sortedLiveIds()
    const ring = sim.ringOf(sorted[0].peer)
    const activity = watch(ring)
    await ring.checkSuccessor()
    sim.kill(sorted[1].peer)

    await ring.checkSuccessor()
    assert.equal(ring.table.successor.peer, sorted[2].peer)
    assert.ok(activity.includes('failure'))
    assert.ok(activity.includes('neighbours'))
  })

  it('reports a successor whose neighbours changed since it copied them, and copies them at the next stabilize', async () => {
    const sim = await settledRing(12, 45)
    const sorted = sim.sortedLiveIds()
    const [ringA, ringB, c] = [sim.ringOf(sorted[0].peer), sim.ringOf(sorted[1].peer), sorted[2]]
    const activity = watch(ringA)
    await ringA.checkSuccessor()

    // b's successor dies and b moves past it: a's copy of b's list is now stale
    sim.kill(c.peer)
    await ringB.stabilize()
    assert.equal(ringA.table.getSuccessors()[1].peer, c.peer)
    await ringA.checkSuccessor()
    assert.deepEqual(activity, ['successor-changed'])

    await ringA.stabilize()
    assert.ok(ringA.table.getSuccessors().every(node => node.peer !== c.peer))
  })

  it('gives its neighbours a digest that changes exactly when they do', async () => {
    const sim = await settledRing(12, 46)
    const sorted = sim.sortedLiveIds()
    const ring = sim.ringOf(sorted[5].peer)
    const asker = sorted[4]
    const before = ring.onPing(asker).neighboursDigest
    assert.equal(ring.onGetNeighbours(asker).digest, before)
    await sim.round()
    assert.equal(ring.onPing(asker).neighboursDigest, before, 'a quiet round changes nothing')

    const victim = sorted[7].peer
    sim.kill(victim)
    await sim.roundsUntil(() => ring.table.getSuccessors().every(node => node.peer !== victim), 10)
    assert.notEqual(ring.onPing(asker).neighboursDigest, before, 'the successor list lost a node')
  })

  it('is told, once, of a node between it and its successor that asks it something: a node joining there', async () => {
    const sim = await settledRing(12, 47)
    const random = seededRandom(48)
    let joiner: ChordRing | undefined
    let predecessor: ChordRing | undefined
    // a node whose lookup of its own id ends with one of the ring's nodes
    for (let i = 0; joiner == null; i++) {
      const candidate = await sim.addNode(`late-${i}`)
      const owner = sim.expectedOwner(candidate.self.id)
      const sorted = sim.sortedLiveIds()
      const before = sorted[(sorted.findIndex(node => node.peer === owner.peer) - 1 + sorted.length) % sorted.length]
      if (before.peer !== candidate.self.peer) {
        joiner = candidate
        predecessor = sim.ringOf(before.peer)
      }
    }
    assert.ok(predecessor != null)
    const activity = watch(predecessor)

    const members = sim.liveRings().filter(ring => ring !== joiner)
    await joiner.join(members[Math.floor(random() * members.length)].self)
    assert.deepEqual(activity.filter(a => a === 'closer-node'), ['closer-node'])
    await joiner.lookup(joiner.self.id + 1n)
    assert.deepEqual(activity.filter(a => a === 'closer-node'), ['closer-node'], 'the same node wakes it once')

    await sim.roundsUntil(() => sim.isConsistent(), 10)
    assert.equal(predecessor.table.successor.peer, joiner.self.peer)
  })

  it('reports finger changes, and nothing once the fingers are exact', async () => {
    const sim = await settledRing(16, 49)
    const ring = sim.ringOf(sim.sortedLiveIds()[0].peer)
    const activity = watch(ring)
    for (let i = 0; i < ring.table.fingerCount; i++) {
      await ring.fixFingers()
    }
    assert.equal(activity.length, 0, `nothing to report once exact, but reported ${activity.join(', ')}`)

    const finger = ring.table.getFinger(ring.table.fingerCount - 1)
    assert.ok(finger != null)
    ring.table.setFinger(ring.table.fingerCount - 1, undefined)
    for (let i = 0; i < ring.table.fingerCount && ring.table.getFinger(ring.table.fingerCount - 1) == null; i++) {
      await ring.fixFingers()
    }
    assert.equal(ring.table.getFinger(ring.table.fingerCount - 1)?.peer, finger.peer)
    assert.ok(activity.includes('fingers'))
  })
})
