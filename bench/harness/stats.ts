/**
 * Summaries of measured samples: mean and nearest-rank percentiles, as every table reports them.
 */

export interface Summary {
  count: number
  mean: number
  p50: number
  p90: number
  p99: number
  min: number
  max: number
}

/** The nearest-rank percentile `p` (0–100) of samples sorted ascending */
export function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN
  }
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

export function summarize (samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b)
  const total = sorted.reduce((sum, x) => sum + x, 0)
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN
  }
}

export function mean (samples: readonly number[]): number {
  return samples.reduce((sum, x) => sum + x, 0) / samples.length
}
