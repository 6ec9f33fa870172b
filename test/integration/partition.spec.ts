import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ringIsConsistent, sortedByRingId, startNode, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { ConnectionGater, PeerId } from '@libp2p/interface'

/** Healing every ~300 ms: a test split ends and merges within a few seconds */
const TIMERS = { healIntervalMs: 300, peerCacheSaveIntervalMs: 500 }

/**
 * A network split the test switches on and off: while it is on, no connection forms between
 * peers on different sides. Each node gets a gater that asks it.
 */
class Partition {
  private readonly sideOf = new Map<string, string>()
  private on = false

  gaterFor (self: PeerId): ConnectionGater {
    const denied = (remote: PeerId): boolean => this.separates(self, remote)
    return {
      denyDialPeer: denied,
      denyInboundEncryptedConnection: denied,
      denyOutboundEncryptedConnection: denied
    }
  }

  /** Cut the network between the sides and drop the connections that cross it */
  async split (sides: ChordNode[][]): Promise<void> {
    sides.forEach((side, i) => { side.forEach(node => this.sideOf.set(node.peerId.toString(), String(i))) })
    this.on = true
    const everyone = sides.flat()
    await Promise.all(everyone.flatMap(node => everyone
      .filter(other => this.separates(node.peerId, other.peerId))
      .map(async other => node.libp2p.hangUp(other.peerId))))
  }

  heal (): void {
    this.on = false
  }

  private separates (a: PeerId, b: PeerId): boolean {
    const [sideA, sideB] = [this.sideOf.get(a.toString()), this.sideOf.get(b.toString())]
    return this.on && sideA != null && sideB != null && sideA !== sideB
  }
}

/** Whether every node reads back every value written (nodes ask in parallel) */
async function readableEverywhere (nodes: ChordNode[], written: Map<string, Uint8Array[]>): Promise<boolean> {
  const canRead = async (node: ChordNode): Promise<boolean> => {
    for (const [key, values] of written) {
      const found = await node.get(key).catch(() => [])
      if (!values.every(value => found.some(f => Buffer.from(f).equals(value)))) {
        return false
      }
    }
    return true
  }
  return (await Promise.all(nodes.map(canRead))).every(Boolean)
}

describe('healing a partitioned ring', function () {
  this.timeout(180_000)
  let nodes: ChordNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  /** Start 12 nodes, each with a gater that asks `partition` */
  async function startGatedRing (partition: Partition): Promise<ChordNode[]> {
    const ring: ChordNode[] = []
    nodes = ring
    for (let i = 0; i < 12; i++) {
      const privateKey = await generateKeyPair('Ed25519')
      const entry = i === 0 ? undefined : ring[(i * 7) % ring.length]
      ring.push(await startNode(entry, {
        privateKey,
        timers: TIMERS,
        libp2p: { connectionGater: partition.gaterFor(peerIdFromPrivateKey(privateKey)) }
      }))
    }
    await waitForConsistentRing(ring)
    return ring
  }

  const splits: Array<{ shape: string, sides: (sorted: ChordNode[]) => ChordNode[][] }> = [{
    // every node loses its successor and its predecessor
    shape: 'every other node in ring order',
    sides: sorted => [sorted.filter((_, i) => i % 2 === 0), sorted.filter((_, i) => i % 2 === 1)]
  }, {
    // a side's records under keys in the other side's arc end up on nodes that are, after the
    // merge, up to six nodes past the keys' new replicas
    shape: 'two arcs of six',
    sides: sorted => [sorted.slice(0, 6), sorted.slice(6)]
  }]

  for (const split of splits) {
    it(`merges halves split as ${split.shape} into one ring where every record written on either side during the split is readable`, async () => {
      const partition = new Partition()
      const ring = await startGatedRing(partition)
      const sorted = sortedByRingId(ring)
      const sides = split.sides(sorted)
      await partition.split(sides)
      const apart = await waitFor(() => sides.every(side => ringIsConsistent(side)), 'each half to be a ring of its own', 60_000)
      console.log(`      each half formed its own ring ${apart} ms after the split`)

      // both sides accept writes, under their own keys and under one key they share
      const written = new Map<string, Uint8Array[]>()
      for (const [s, side] of sides.entries()) {
        for (let i = 0; i < 8; i++) {
          const value = new TextEncoder().encode(`side ${s} record ${i}`)
          const { replicas } = await side[i % side.length].put(`side-${s}-${i}`, value)
          assert.equal(replicas, 3)
          written.set(`side-${s}-${i}`, [value])
        }
        const shared = new TextEncoder().encode(`shared, from side ${s}`)
        await side[5].put('shared', shared)
        written.set('shared', [...written.get('shared') ?? [], shared])
      }
      // still two rings: nothing crosses while the split lasts
      assert.ok(sides.every(side => ringIsConsistent(side)))

      partition.heal()
      const merged = await waitForConsistentRing(ring, 60_000)
      console.log(`      one consistent ring of 12 again ${merged} ms after the split ended`)
      assert.ok(ring.every(node => node.status === 'joined'))

      const reconciled = await waitFor(async () => readableEverywhere(ring, written), 'every record readable from every node', 60_000)
      console.log(`      every record written during the split readable from all 12 nodes ${reconciled} ms later`)
    })
  }
})
