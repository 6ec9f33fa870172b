/**
 * A network of real nodes with paid, chosen positions (`idDifficulty`, `idChoices`): each node
 * mints its nonce, a joining node takes the best of its candidates, and a restart from the same
 * data directory sits where the node sat, without minting or choosing again.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PositionRules } from '../../src/chord/position-rules.js'
import { createChordNode } from '../../src/index.js'
import { loadPositionChoice } from '../../src/storage/position-nonce.js'
import { internalsOf } from '../../src/testing.js'
import { positionIdentityOf } from '../../src/transport/ring-id.js'
import { addressOf, nodeOptions, ringOf, startRing, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import type { ChordNode } from '../../src/index.js'

const NETWORK = { idDifficulty: 6, idChoices: 8 }

describe('paid and chosen ring positions on real nodes', function () {
  this.timeout(180_000)
  let nodes: ChordNode[] = []
  let dir: string | undefined

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
    if (dir != null) {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('joins at an admitted position of its choice and keeps it across a restart', async () => {
    const rules = new PositionRules({ difficulty: NETWORK.idDifficulty, choices: NETWORK.idChoices, identityOf: positionIdentityOf })
    nodes = await startRing(4, NETWORK)
    for (const node of nodes) {
      assert.ok(rules.admits(ringOf(node).self), 'every node sits at a position the network admits')
    }

    dir = await mkdtemp(join(tmpdir(), 'chord-positions-'))
    const options = nodeOptions({ ...NETWORK, dataDir: dir, bootstrap: [addressOf(nodes[0])] })
    const first = await createChordNode(options)
    const position = ringOf(first).self
    assert.ok(position.proof != null && rules.admits(position))
    await first.stop()

    const again = await createChordNode(options)
    nodes.push(again)
    assert.equal(ringOf(again).self.id, position.id, 'the same position after a restart')
    assert.deepEqual(ringOf(again).self.proof, position.proof)
    assert.equal(await loadPositionChoice(internalsOf(again).database), position.proof.choice, 'the choice was kept, not made again')
    await waitForConsistentRing(nodes)
  })
})
