/**
 * Even load by choosing a position (`idChoices`, chord/position-choice.ts): keys per node in rings
 * of 1,000 and 10,000 nodes holding 100,000 keys, when each node joins at its one position (today)
 * and when it takes the best of k candidates, scored as a joining node scores them: it looks each
 * candidate up (its successor) and asks that node for its predecessor. The ring is consistent at
 * every join, so each lookup answers what it would in a settled ring; hop counts do not change
 * (a position is a position), and the cost is k lookups and k GET_NEIGHBOURS, once, at a node's
 * first join.
 *
 * The Chord paper (Stoica et al., ToN 2003, Fig. 8) reports the 99th percentile of keys per node
 * at ~4.8× the mean with one position per node, and ~1.6× with log N virtual nodes each.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { RING_SIZE, distance, keyPosition, ringIdFromBytes } from '../src/chord/id.js'
import { choosePosition } from '../src/chord/position-choice.js'
import { candidatePositions } from '../src/chord/ring-position.js'
import { summarize } from './harness/stats.js'
import type { NodeRef } from '../src/chord/rpc.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'

interface Plan {
  sizes: number[]
  keys: number
  choices: number[]
}

const FULL: Plan = { sizes: [1000, 10_000], keys: 1_000_000, choices: [1, 2, 4, 8, 16, 32] }
const QUICK: Plan = { sizes: [300], keys: 20_000, choices: [1, 4, 16] }

/** A ring as a consistent lookup sees it: nodes sorted by position */
class SortedRing {
  readonly nodes: NodeRef[] = []

  /** index of the first node at or after `id` (wrapping to 0) */
  successorIndex (id: bigint): number {
    let low = 0
    let high = this.nodes.length
    while (low < high) {
      const mid = (low + high) >> 1
      if (this.nodes[mid].id < id) {
        low = mid + 1
      } else {
        high = mid
      }
    }
    return low === this.nodes.length ? 0 : low
  }

  insert (node: NodeRef): void {
    const i = this.nodes.length === 0 ? 0 : this.successorIndex(node.id)
    const at = i === 0 && this.nodes.length > 0 && node.id > this.nodes[this.nodes.length - 1].id ? this.nodes.length : i
    this.nodes.splice(at, 0, node)
  }

  predecessorOf (node: NodeRef): NodeRef | undefined {
    const i = this.successorIndex(node.id)
    return this.nodes.length < 2 ? undefined : this.nodes[(i - 1 + this.nodes.length) % this.nodes.length]
  }
}

/** p99 ÷ mean of keys per node, with every node at the best of `choices` candidates */
async function loadSpread (identities: Uint8Array[], keys: bigint[], choices: number): Promise<{ p99OverMean: number, maxOverMean: number, p50OverMean: number, arcP99OverMean: number }> {
  const ring = new SortedRing()
  const nonce = new Uint8Array(8)
  for (const [i, identity] of identities.entries()) {
    const candidates = candidatePositions(identity, nonce, choices).map(({ id, proof }) => ({ id, peer: `n${i}`, proof }))
    const chosen = ring.nodes.length === 0
      ? candidates[0]
      : await choosePosition({
        candidates,
        successorsOf: async id => [ring.nodes[ring.successorIndex(id)]],
        predecessorOf: async node => ring.predecessorOf(node)
      })
    ring.insert(chosen)
  }
  const counts = new Map<string, number>(ring.nodes.map(n => [n.peer, 0]))
  for (const key of keys) {
    const owner = ring.nodes[ring.successorIndex(key)].peer
    counts.set(owner, (counts.get(owner) ?? 0) + 1)
  }
  const summary = summarize([...counts.values()])
  // the share of the ring each node owns: what its keys tend to as keys grow (free of the keys' own sampling noise)
  const arcs = ring.nodes.map((node, i) => Number(distance(ring.nodes[(i - 1 + ring.nodes.length) % ring.nodes.length].id, node.id) * 1_000_000n / RING_SIZE))
  const arcSummary = summarize(arcs)
  return { p99OverMean: summary.p99 / summary.mean, maxOverMean: summary.max / summary.mean, p50OverMean: summary.p50 / summary.mean, arcP99OverMean: arcSummary.p99 / arcSummary.mean }
}

export const evenLoad: Benchmark = {
  name: 'even-load',
  description: 'keys per node with one position per node and with the best of k candidate positions',
  async run ({ quick, progress }: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = quick ? QUICK : FULL
    const keys = Array.from({ length: plan.keys }, (_, i) => ringIdFromBytes(keyPosition(`key-${i}`)))
    const rows: Table['rows'] = []
    const results: Array<Record<string, unknown>> = []
    for (const size of plan.sizes) {
      progress(`${size} identities`)
      const identities = await Promise.all(Array.from({ length: size }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes))
      for (const choices of plan.choices) {
        progress(`${size} nodes, ${choices} choices`)
        const spread = await loadSpread(identities, keys, choices)
        results.push({ nodes: size, keys: plan.keys, choices, ...spread })
        rows.push([size, plan.keys, choices, spread.p50OverMean.toFixed(2), spread.p99OverMean.toFixed(2), spread.maxOverMean.toFixed(2), spread.arcP99OverMean.toFixed(2), choices === 1 ? 0 : choices])
      }
    }
    return {
      tables: [{
        title: 'Keys per node ÷ mean (Chord paper: p99 ≈ 4.8 with one position per node, ≈ 1.6 with log N virtual nodes)',
        columns: ['nodes', 'keys', 'choices k', 'p50', 'p99', 'max', 'p99 of ring share', 'extra lookups at first join'],
        rows,
        notes: ['keys per node carry the keys\' own sampling noise (Poisson: at 100 keys per node, a perfectly even ring shows p99 ≈ 1.24); the ring share is their limit as keys grow']
      }],
      results: { runs: results }
    }
  }
}
