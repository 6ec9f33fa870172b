/**
 * Nodes that answer lookups with wrong owners. A lookup asks node after node and believes the
 * last: a node that answers FIND_SUCCESSOR (or a client's delegated lookup) with a live ring
 * member that does not own the key would, unchecked, send the asker's writes and reads to the
 * wrong nodes. Every lookup checks the owner it was told with the owner itself and with every
 * node nearer the key it can find (chord/lookup.ts `verifyOwner`): it names the true owner, or
 * fails with LookupVerificationError, and never names a wrong one.
 */
import assert from 'node:assert/strict'
import { keyPosition, ringIdFromBytes } from '../../src/chord/id.js'
import { LookupVerificationError } from '../../src/errors.js'
import { internalsOf } from '../../src/testing.js'
import { addressOf, expectedOwner, expectedReplicas, lookupsAllCorrect, ringOf, sortedByRingId, startNode, startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { RingId } from '../../src/chord/id.js'
import type { FindSuccessorReply, NodeRef } from '../../src/chord/rpc.js'
import type { ChordNode } from '../../src/index.js'

const RING_SIZE = 16
const KEYS = 40

/**
 * Make `liar` answer every lookup step, every delegated lookup and every recursive lookup that
 * reaches it with a wrong owner: the live ring member `offset` places after the true one (an owner
 * on the right side of the key, as an honest answer's is), followed by the nodes after it. Its
 * recursive answer names that owner with a predecessor before the key, signed with the liar's
 * own key (the only one it has)
 */
function makeLiar (liar: ChordNode, ring: NodeRef[], offset: number): void {
  const wrongOwnerOf = (id: RingId): NodeRef[] => {
    const owner = ring.findIndex(node => node.id >= id)
    const at = ((owner === -1 ? 0 : owner) + offset) % ring.length
    return [0, 1, 2].map(k => ring[(at + k) % ring.length])
  }
  const core = ringOf(liar)
  core.onFindSuccessor = (_from, id): FindSuccessorReply => ({ done: true, successors: wrongOwnerOf(id) })
  core.onDelegatedLookup = async (_from, id) => wrongOwnerOf(id)
  core.onFindOwner = (_from, id) => {
    const [owner, ...after] = wrongOwnerOf(id)
    return { owner, neighbours: { predecessor: ring.findLast(node => node.id < id) ?? ring[ring.length - 1], successors: after } }
  }
}

describe('nodes that answer lookups with wrong owners', function () {
  this.timeout(240_000)
  let nodes: ChordNode[] = []
  let client: ChordNode | undefined

  afterEach(async () => {
    await stopAll([...nodes, ...(client == null ? [] : [client])])
    nodes = []
    client = undefined
  })

  it('3 liars of 16: every lookup names the true owner or fails typed, none a wrong owner; puts land on the true replicas', async () => {
    nodes = await startRing(RING_SIZE)
    await waitFor(async () => lookupsAllCorrect(nodes, 2), 'every lookup correct before the liars start', 90_000)
    const sorted = sortedByRingId(nodes)
    const ring = sorted.map(node => ringOf(node).self)
    const liars = [sorted[1], sorted[6], sorted[11]]
    liars.forEach((liar, i) => { makeLiar(liar, ring, i + 1) })
    const honest = nodes.filter(node => !liars.includes(node))

    let right = 0
    let refused = 0
    const wrong: string[] = []
    for (let k = 0; k < KEYS; k++) {
      const key = `hostile-lookup-${k}`
      const owner = expectedOwner(nodes, ringIdFromBytes(keyPosition(key)))
      // from every honest node: a lookup from far away goes through a liar often enough to matter
      for (const from of honest) {
        try {
          const answer = await from.lookup(key)
          if (answer.peerId.equals(owner.peerId)) {
            right++
          } else {
            wrong.push(`${key} from ${from.peerId.toString()}`)
          }
        } catch (err) {
          assert.ok(err instanceof LookupVerificationError, `a lookup failed with ${String(err)}`)
          refused++
        }
      }
    }
    assert.deepEqual(wrong, [])
    assert.ok(right >= 0.95 * KEYS * honest.length, `${right} lookups found their owner, ${refused} refused`)

    // puts from honest nodes, through lookups the liars answer too, land on each key's true replica set
    for (let k = 0; k < 6; k++) {
      const key = `hostile-lookup-put-${k}`
      await honest[k % honest.length].put(key, new TextEncoder().encode('where it belongs'))
      for (const replica of expectedReplicas(nodes, ringIdFromBytes(keyPosition(key)), 3)) {
        const held = await internalsOf(replica).store.get(keyPosition(key))
        assert.equal(held.length, 1, `${key} is not on its replica ${replica.peerId.toString()}`)
      }
    }
  })

  it('a client whose delegate lies: its lookups name the true owner or fail typed, never a wrong owner', async () => {
    nodes = await startRing(8)
    await waitFor(async () => lookupsAllCorrect(nodes, 2), 'every lookup correct', 60_000)
    client = await startNode(undefined, { clientMode: true, bootstrap: [addressOf(nodes[0])] })
    const ring = sortedByRingId(nodes).map(node => ringOf(node).self)
    // every node the client may delegate to lies
    const delegates = ringOf(client).table.getSuccessors()
    assert.ok(delegates.length > 0, 'the client knows ring nodes')
    for (const delegate of delegates) {
      const node = nodes.find(n => n.peerId.toString() === delegate.peer)
      assert.ok(node != null)
      makeLiar(node, ring, 2)
    }
    let right = 0
    for (let k = 0; k < KEYS; k++) {
      const key = `client-lookup-${k}`
      const owner = expectedOwner(nodes, ringIdFromBytes(keyPosition(key)))
      try {
        const answer = await client.lookup(key)
        assert.ok(answer.peerId.equals(owner.peerId), `${key}: a wrong owner`)
        right++
      } catch (err) {
        assert.ok(err instanceof LookupVerificationError, `a lookup failed with ${String(err)}`)
      }
    }
    assert.ok(right >= 0.9 * KEYS, `only ${right} of ${KEYS} lookups found their owner`)
  })
})
