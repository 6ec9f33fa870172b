/**
 * What a ring position costs (`idDifficulty`, chord/ring-position.ts): the time one node takes to
 * mint its nonce at each difficulty, on one core, for fresh Ed25519 identities; and what checking
 * a position costs every node that meets it (two hashes, before the check is cached).
 *
 * Difficulties beyond those measured are extrapolated from the measured hash rate: the expected
 * work is 2^d hashes, and the time to mint varies as an exponential distribution does (the 99th
 * percentile is about 4.6× the mean). There is no kad-dht counterpart: its ids cost nothing.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MAX_ID_DIFFICULTY } from '../src/chord/constants.js'
import { PositionRules } from '../src/chord/position-rules.js'
import { mintNonce, positionId } from '../src/chord/ring-position.js'
import { positionIdentityOf } from '../src/transport/ring-id.js'
import { summarize } from './harness/stats.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport, Table } from './harness/benchmark.js'

interface Plan {
  /** difficulty → identities minted for */
  measured: Array<[number, number]>
  extrapolated: number[]
  checks: number
}

const FULL: Plan = { measured: [[0, 20], [8, 20], [12, 20], [16, 12], [20, 6]], extrapolated: [24, 28, MAX_ID_DIFFICULTY], checks: 2000 }
const QUICK: Plan = { measured: [[0, 5], [8, 5], [12, 3]], extrapolated: [16, 20, 24], checks: 200 }

async function freshIdentity (): Promise<{ peer: string, identity: Uint8Array }> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  return { peer: peerId.toString(), identity: peerId.toMultihash().bytes }
}

/** The hashes a minted nonce took: it is a big-endian counter from 0 */
function hashesTried (nonce: Uint8Array): number {
  const view = new DataView(nonce.buffer, nonce.byteOffset, nonce.byteLength)
  return nonce.byteLength === 0 ? 0 : view.getUint32(0) * 2 ** 32 + view.getUint32(4) + 1
}

const seconds = (ms: number): string => ms < 1000 ? `${ms.toFixed(1)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`

export const idMint: Benchmark = {
  name: 'id-mint',
  description: 'time to mint a ring position at each idDifficulty, and to check one',
  async run ({ quick, progress }: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = quick ? QUICK : FULL
    const rows: Table['rows'] = []
    const measured: Array<Record<string, unknown>> = []
    let hashes = 0
    let hashingMs = 0
    for (const [difficulty, identities] of plan.measured) {
      progress(`difficulty ${difficulty}: ${identities} identities`)
      const times: number[] = []
      for (let i = 0; i < identities; i++) {
        const { identity } = await freshIdentity()
        const started = performance.now()
        const nonce = await mintNonce(identity, difficulty)
        const ms = performance.now() - started
        times.push(ms)
        if (difficulty > 0) {
          hashes += hashesTried(nonce)
          hashingMs += ms
        }
      }
      const summary = summarize(times)
      measured.push({ difficulty, ...summary })
      rows.push([difficulty, 'measured', identities, seconds(summary.mean), seconds(summary.p50), seconds(summary.max)])
    }
    const hashesPerSecond = hashes / (hashingMs / 1000)
    const extrapolated = plan.extrapolated.map(difficulty => ({ difficulty, meanMs: 2 ** difficulty / hashesPerSecond * 1000 }))
    for (const { difficulty, meanMs } of extrapolated) {
      rows.push([difficulty, 'from the hash rate', '-', seconds(meanMs), seconds(meanMs * Math.LN2), `p99 ≈ ${seconds(meanMs * Math.log(100))}`])
    }

    progress(`checking ${plan.checks} positions`)
    const rules = new PositionRules({ difficulty: 8, identityOf: positionIdentityOf })
    const nodes = await Promise.all(Array.from({ length: plan.checks }, async () => {
      const { peer, identity } = await freshIdentity()
      const proof = { nonce: await mintNonce(identity, 8), choice: 0 }
      return { id: positionId(identity, proof), peer, proof }
    }))
    const started = performance.now()
    for (const node of nodes) {
      if (!rules.admits(node)) {
        throw new Error('a minted position was refused')
      }
    }
    const checkUs = (performance.now() - started) * 1000 / plan.checks

    return {
      tables: [{
        title: 'Minting a ring position (one core; the nonce is kept in the data dir, so only a new identity pays)',
        columns: ['idDifficulty', 'how', 'identities', 'mean', 'median', 'max'],
        rows,
        notes: [
          `hash rate: ${Math.round(hashesPerSecond).toLocaleString('en')} puzzle hashes/s`,
          `checking a position another node claims (first time; then cached): ${checkUs.toFixed(1)} µs`
        ]
      }],
      results: { measured, hashesPerSecond, extrapolated, checkMicroseconds: checkUs }
    }
  }
}
