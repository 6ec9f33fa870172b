/**
 * A ring position that costs nothing. A node's ring id is the hash of its PeerId, and a PeerId
 * is a key anyone can make in microseconds: an attacker makes keys until one lands just before
 * its victim, joins, NOTIFYs, and is adopted as the victim's predecessor at once, which hands it
 * every record the victim holds outside its new, narrower range.
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { inOpenInterval } from '../../src/chord/id.js'
import { internalsOf } from '../../src/testing.js'
import { ringIdOf } from '../../src/transport/ring-id.js'
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
    const [before, victim] = sortedByRingId(nodes)
    const victimRecords = internalsOf(victim).store.stats().records

    const { privateKey, tries } = await keyBetween(ringOf(before).self.id, ringOf(victim).self.id)
    const attacker = await startNode(victim, { privateKey, replicas: 2 })
    nodes.push(attacker)

    await waitFor(() => ringOf(victim).table.predecessor?.peer === attacker.peerId.toString(), 'the victim to adopt the attacker as its predecessor')
    await waitFor(() => internalsOf(attacker).store.stats().records > 0, 'the victim to hand the attacker records')
    const taken = internalsOf(attacker).store.stats().records
    console.log(`      ${tries} keys made; adopted as predecessor; ${taken} of the victim's ${victimRecords} records handed over`)
    assert.ok(taken > 0)
  })
})
