/**
 * Reads samples out of a Prometheus text exposition, so tests assert on what a scraper would see.
 */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** The sum of every sample of `name` whose labels include `labels`; 0 when there is none */
export function metricSum (exposition: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const line of exposition.split('\n')) {
    const match = SAMPLE.exec(line)
    if (match?.[1] !== name) {
      continue
    }
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(LABEL)].map(([, key, value]) => [key, value]))
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) {
      sum += Number(match[3])
    }
  }
  return sum
}

/** Whether the exposition declares a metric called `name` */
export function hasMetric (exposition: string, name: string): boolean {
  return exposition.split('\n').some(line => line.startsWith(`# TYPE ${name} `))
}
