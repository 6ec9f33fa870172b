import assert from 'node:assert/strict'
import { hashToRingId } from '../../src/chord/id.js'
import { PositionRules } from '../../src/chord/position-rules.js'
import { choosePosition } from '../../src/chord/position-choice.js'
import { LookupFailedError } from '../../src/errors.js'
import { Simulator, seededRandom } from '../helpers/simulator.js'
import type { NodeRef } from '../../src/chord/rpc.js'

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Rules of a network of difficulty 0 whose nodes choose among `choices` positions; a simulated node's identity is its name */
function rulesWith (choices: number): PositionRules {
  return new PositionRules({ difficulty: 0, choices, identityOf: utf8 })
}

describe('choosing a ring position', () => {
  it('takes the candidate that splits the widest gap, near its middle', async () => {
    // a ring of 0, 100 and 1000: the gap (100, 1000] is widest
    const ring: NodeRef[] = [{ id: 0n, peer: 'a' }, { id: 100n, peer: 'b' }, { id: 1000n, peer: 'c' }]
    const successorOf = (id: bigint): NodeRef => ring.find(n => n.id >= id) ?? ring[0]
    const predecessorOf = (node: NodeRef): NodeRef => ring[(ring.indexOf(node) - 1 + ring.length) % ring.length]
    const candidates = [50n, 150n, 550n, 990n].map(id => ({ id, peer: 'me' }))
    const chosen = await choosePosition({ candidates, successorsOf: async id => [successorOf(id)], predecessorOf: async node => predecessorOf(node) })
    assert.equal(chosen.id, 550n)
  })

  it('leaves out a candidate whose lookup fails, and fails only when every one does', async () => {
    const other: NodeRef = { id: 1000n, peer: 'other' }
    const candidates = [10n, 500n].map(id => ({ id, peer: 'me' }))
    const chosen = await choosePosition({
      candidates,
      successorsOf: async id => { if (id === 500n) { throw new Error('down') } return [other] },
      predecessorOf: async () => undefined
    })
    assert.equal(chosen.id, 10n)
    await assert.rejects(choosePosition({ candidates, successorsOf: async () => { throw new Error('down') }, predecessorOf: async () => undefined }), LookupFailedError)
  })

  it('keeps a simulated ring consistent and its lookups right under churn, nodes choosing among 8 positions', async function () {
    this.timeout(120_000)
    const rules = rulesWith(8)
    const random = seededRandom(7)
    const sim = new Simulator({ replicas: 3, positions: rules })
    await sim.grow(24, random)
    await sim.roundsUntil(() => sim.isConsistent(), 200)
    const chose = sim.liveRings().filter(ring => (ring.self.proof?.choice ?? 0) > 0).length
    assert.ok(chose > 0, 'nodes took other choices than their first')
    assert.ok(sim.liveRings().every(ring => rules.admits(ring.self)), 'every position is one the rules admit')

    // churn: three rounds of two nodes failing and three joining, each choosing its position
    for (let wave = 0; wave < 3; wave++) {
      const names = [...sim.alive]
      for (let i = 0; i < 2; i++) {
        sim.kill(names[Math.floor(random() * names.length)])
      }
      await sim.grow(3, random, `wave${wave}`)
      await sim.roundsUntil(() => sim.isConsistent(), 200)
    }
    for (let i = 0; i < 10; i++) {
      await sim.round()
    }
    const rings = sim.liveRings()
    for (let k = 0; k < 100; k++) {
      const id = hashToRingId(utf8(`key-${k}`))
      const from = rings[Math.floor(random() * rings.length)]
      assert.equal((await from.lookup(id)).successors[0].peer, sim.expectedOwner(id).peer)
    }
  })
})
