/**
 * A ring position that costs nothing. A node's ring id is the hash of its PeerId, and a PeerId
 * is a key anyone can make in microseconds: an attacker makes keys until one lands just before
 * its victim, joins, NOTIFYs, and is adopted as the victim's predecessor at once, which hands it
 * every record the victim holds outside its new, narrower range.
 *
 * In a network with `idDifficulty`, the same cheap position is refused everywhere: never a
 * successor, the predecessor or a finger, never a neighbour whose handoffs are taken as a replica's.
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { distance, inOpenInterval } from '../../src/chord/id.js'
import { PositionRules } from '../../src/chord/position-rules.js'
import { internalsOf } from '../../src/testing.js'
import { positionIdentityOf, ringIdOf } from '../../src/transport/ring-id.js'
import { ringOf, sortedByRingId, startNode, startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Keys the attacker makes, at most, looking for a position before its victim */
const MAX_KEYS_TRIED = 10_000

/** A key whose plain ring id lands between `after` and `before`, and how many keys it took */
async function keyBetween (after: bigint, before: bigint): Promise<{ privateKey: PrivateKey, tries: number }> {
  for (let tries = 1; tries <= MAX_KEYS_TRIED; tries++) {
    const privateKey = await generateKeyPair('Ed25519')
    if (inOpenInterval(ringIdOf(peerIdFromPrivateKey(privateKey)), after, before)) {
      return { privateKey, tries }
    }
  }
  throw new Error(`no key of ${MAX_KEYS_TRIED} landed in the interval`)
}

/**
 * The victim whose gap before it is the ring's widest, and the node before that gap: a quarter of
 * the ring or more in a ring of four, so a few keys land there (the narrowest gap of four random
 * positions can be too small for MAX_KEYS_TRIED keys)
 */
/**
 * Records `honest` nodes send `attacker` from now on, as they would send a replica: what the
 * attacker's own node reads of its own accord (records are public) is no handover
 */
function countHandedOver (attacker: ChordNode, honest: ChordNode[]): () => number {
  const peers = new Set(honest.map(node => node.peerId.toString()))
  const { records } = internalsOf(attacker).core
  const onStoreRecords = records.onStoreRecords.bind(records)
  let handedOver = 0
  records.onStoreRecords = async (from, stored, ...rest) => {
    handedOver += peers.has(from.peer) ? stored.length : 0
    return onStoreRecords(from, stored, ...rest)
  }
  return () => handedOver
}

function widestGap (nodes: ChordNode[]): [before: ChordNode, victim: ChordNode] {
  const sorted = sortedByRingId(nodes)
  const gaps = sorted.map((victim, i) => {
    const before = sorted[(i - 1 + sorted.length) % sorted.length]
    return { before, victim, width: distance(ringOf(before).self.id, ringOf(victim).self.id) }
  })
  const widest = gaps.reduce((a, b) => (b.width > a.width ? b : a))
  return [widest.before, widest.victim]
}

describe('a ring position chosen by making keys', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('is adopted as the victim\'s predecessor and receives its records', async () => {
    nodes = await startRing(4, { replicas: 2 })
    const keys = Array.from({ length: 40 }, (_, i) => `record-${i}`)
    for (const key of keys) {
      await nodes[0].put(key, text(`value of ${key}`))
    }
    const [before, victim] = widestGap(nodes)
    const victimRecords = internalsOf(victim).store.stats().records

    const { privateKey, tries } = await keyBetween(ringOf(before).self.id, ringOf(victim).self.id)
    const attacker = await startNode(victim, { privateKey, replicas: 2 })
    const handedOver = countHandedOver(attacker, nodes)
    nodes.push(attacker)

    await waitFor(() => ringOf(victim).table.predecessor?.peer === attacker.peerId.toString(), 'the victim to adopt the attacker as its predecessor')
    await waitFor(() => handedOver() > 0, 'the victim to hand the attacker records')
    const taken = handedOver()
    console.log(`      ${tries} keys made; adopted as predecessor; ${taken} of the victim's ${victimRecords} records handed over`)
    assert.ok(taken > 0)
  })

  it('is refused everywhere in a network whose positions cost work', async () => {
    const idDifficulty = 8
    nodes = await startRing(4, { replicas: 2, idDifficulty })
    const rules = new PositionRules({ difficulty: idDifficulty, identityOf: positionIdentityOf })
    for (const node of nodes) {
      assert.ok(ringOf(node).self.proof != null && rules.admits(ringOf(node).self), 'every honest node sits at a paid position')
    }
    const keys = Array.from({ length: 40 }, (_, i) => `record-${i}`)
    for (const key of keys) {
      await nodes[0].put(key, text(`value of ${key}`))
    }
    const [before, victim] = widestGap(nodes)
    const { privateKey } = await keyBetween(ringOf(before).self.id, ringOf(victim).self.id)
    // the attacker's own settings charge nothing: it sits at its plain position and NOTIFYs from
    // there. It joins through the node before its place, which names the victim as its successor
    const attacker = await startNode(before, { privateKey, replicas: 2 })
    nodes.push(attacker)
    const attackerPeer = attacker.peerId.toString()
    const handedOver = countHandedOver(attacker, nodes.slice(0, 4))
    assert.ok(!rules.admits(ringOf(attacker).self))

    // every honest node's routing state, looked at again at each poll while the attacker NOTIFYs
    const adopted = new Set<string>()
    const watch = (): void => {
      for (const node of nodes.slice(0, 4)) {
        const { table } = ringOf(node)
        if (table.predecessor?.peer === attackerPeer) {
          adopted.add('predecessor')
        }
        if (table.getSuccessors().some(s => s.peer === attackerPeer)) {
          adopted.add('successor')
        }
        if (Array.from({ length: table.fingerCount }, (_, i) => table.getFinger(i)).some(f => f?.peer === attackerPeer)) {
          adopted.add('finger')
        }
        if (internalsOf(node).core.replicaRange.isNeighbour(attackerPeer)) {
          adopted.add('replica neighbour')
        }
      }
    }
    // the attacker has found its place before the victim and NOTIFYed it through several stabilize rounds
    await waitFor(() => { watch(); return ringOf(attacker).table.successor.peer === victim.peerId.toString() }, 'the attacker to take the victim as its successor', 60_000)
    const since = Date.now()
    await waitFor(() => { watch(); return (ringOf(attacker).lastStabilizedAt ?? 0) > since + 5 * ringOf(attacker).stabilizeIntervalMs }, 'several stabilize rounds of the attacker', 60_000)
    await waitFor(() => { watch(); return ringOf(victim).table.predecessor?.peer === before.peerId.toString() }, 'the victim to keep its true predecessor', 60_000)
    assert.deepEqual([...adopted], [], 'never adopted anywhere')
    assert.equal(handedOver(), 0, 'no record was handed over')
  })
})
