/**
 * What the owner cache costs a send at its fullest (chord/owner-cache.ts): a node that serves many
 * users keeps up to OWNER_CACHE_SIZE remembered ranges, reads them before every write and adds one
 * after every verified lookup. µs per `find` (about half of them hits) and per `remember` (each
 * replacing the range it overlaps), with the cache holding 32 entries and holding OWNER_CACHE_SIZE.
 */
import { OWNER_CACHE_SIZE } from '../src/chord/constants.js'
import { hashToRingId } from '../src/chord/id.js'
import { OwnerCache } from '../src/chord/owner-cache.js'
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js'
import type { RingId } from '../src/chord/id.js'

interface Plan {
  finds: number
  remembers: number
}

const FULL: Plan = { finds: 100_000, remembers: 10_000 }
const QUICK: Plan = { finds: 5_000, remembers: 500 }

const ENTRIES = [32, OWNER_CACHE_SIZE]

export const ownerCache: Benchmark = {
  name: 'owner-cache',
  description: 'µs per owner-cache find and remember, with 32 entries and with OWNER_CACHE_SIZE',
  async run ({ quick }: BenchmarkContext): Promise<BenchmarkReport> {
    const plan = quick ? QUICK : FULL
    const results = ENTRIES.map(entries => measure(entries, plan))
    return {
      tables: [{
        title: `Owner cache, µs per call, one thread (${plan.finds} finds, ${plan.remembers} remembers)`,
        columns: ['entries', 'find µs', 'find hits', 'remember µs'],
        rows: results.map(r => [r.entries, r.findMicros.toFixed(2), `${(100 * r.hitRate).toFixed(0)}%`, r.rememberMicros.toFixed(2)])
      }],
      results: { plan, runs: results }
    }
  }
}

/** A full cache of `entries` ranges, every other gap between 2 × entries sorted positions, then timed */
function measure (entries: number, plan: Plan): { entries: number, findMicros: number, hitRate: number, rememberMicros: number } {
  const ids = Array.from({ length: 2 * entries }, (_, i) => hashToRingId(new TextEncoder().encode(`node ${i}`))).sort((a, b) => (a < b ? -1 : 1))
  const cache = new OwnerCache({ maxEntries: entries })
  const rememberRange = (k: number): void => {
    const owner = 2 * (k % entries) + 1
    cache.remember(ids[owner], { id: ids[owner - 1], peer: `node ${owner - 1}` }, [{ id: ids[owner], peer: `node ${owner}` }])
  }
  for (let k = 0; k < entries; k++) {
    rememberRange(k)
  }
  const keys: RingId[] = Array.from({ length: plan.finds }, (_, i) => hashToRingId(new TextEncoder().encode(`key ${i}`)))
  let hits = 0
  let started = performance.now()
  for (const key of keys) {
    hits += cache.find(key) == null ? 0 : 1
  }
  const findMicros = (performance.now() - started) * 1000 / plan.finds
  started = performance.now()
  for (let k = 0; k < plan.remembers; k++) {
    rememberRange(k)
  }
  const rememberMicros = (performance.now() - started) * 1000 / plan.remembers
  return { entries, findMicros, hitRate: hits / plan.finds, rememberMicros }
}
