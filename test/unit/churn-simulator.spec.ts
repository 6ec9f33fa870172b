import assert from 'node:assert/strict'
import { buildSettledRing } from '../helpers/settled-ring.js'
import { ChurnProcess, emptyTally, failedLookups, judgeLookup, randomKey } from '../helpers/simulated-churn.js'
import { seededRandom } from '../helpers/simulator.js'

const NODES = 300

/**
 * Joins and failures per simulated second, each: a node's expected lifetime is NODES / RATE =
 * 1,000 s, and 9 nodes (3% of the ring) fail between two maintenance rounds of a node (every 30 s
 * on average), as at R = 0.5 in the Chord paper's 500-node experiment, beyond its highest rate
 */
const RATE = 0.3

/** Lookups per simulated second, from random live nodes to random keys */
const LOOKUPS_PER_SECOND = 4

const WARM_UP_S = 60
const MEASURED_S = 300

/**
 * A lookup under churn can meet nodes that failed since the last maintenance round of the node
 * before them. The Chord paper's own rough estimate for this churn (4 hops × 9 failures / 300
 * nodes) is 12% failed; this core, which routes around dead nodes and past a dead predecessor of
 * the key, fails 0–0.2% over seeds 1–7 and 11. The bound leaves room for other seeds without
 * letting a broken lookup or repair path through (without the way past a dead predecessor, 1–3%).
 */
const MAX_FAILED_FRACTION = 0.01

/** Maintenance rounds (every node once) the ring may take to be consistent once churn stops */
const MAX_ROUNDS_TO_CONSISTENT = 3

describe('ring core under continuous churn (simulated network)', function () {
  this.timeout(120_000)

  it(`keeps failed lookups under ${100 * MAX_FAILED_FRACTION}% while ${RATE} nodes/s join and ${RATE} fail, and is consistent within ${MAX_ROUNDS_TO_CONSISTENT} rounds once churn stops`, async () => {
    const random = seededRandom(11)
    const { sim } = await buildSettledRing(NODES, random)
    const churn = new ChurnProcess(sim, random)
    const rates = { joinsPerSecond: RATE, failuresPerSecond: RATE, lookupsPerSecond: LOOKUPS_PER_SECOND }
    await churn.run(WARM_UP_S, rates)
    const tally = emptyTally()
    const counts = await churn.run(MEASURED_S, rates, tally)

    const failed = failedLookups(tally) / tally.lookups
    console.log(`      ${counts.joins} joins, ${counts.failures} failures in ${MEASURED_S} s: ${failedLookups(tally)} of ${tally.lookups} lookups failed (${tally.wrongOwner} wrong owner, ${tally.unconfirmed} unconfirmed, ${tally.noRoute} no route), ${tally.corrected} corrected by the owner check`)
    // the churn was real: about RATE × MEASURED_S nodes came and went, and lookups met dead nodes
    assert.ok(counts.joins > RATE * MEASURED_S / 2 && counts.failures > RATE * MEASURED_S / 2, `too little churn: ${counts.joins} joins, ${counts.failures} failures`)
    assert.ok(tally.timeouts > 0, 'no lookup met a failed node')
    assert.ok(failed < MAX_FAILED_FRACTION, `${(100 * failed).toFixed(2)}% of lookups failed`)

    const rounds = await sim.roundsUntil(() => sim.isConsistent(), MAX_ROUNDS_TO_CONSISTENT)
    console.log(`      consistent ${rounds} rounds after churn stopped`)
    const after = emptyTally()
    const rings = sim.liveRings()
    for (let i = 0; i < 300; i++) {
      await judgeLookup(sim, rings[Math.floor(random() * rings.length)], randomKey(random), churn.truth, after)
    }
    assert.equal(failedLookups(after), 0)
  })
})
