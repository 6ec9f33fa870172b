/**
 * What every benchmark file exports, and what it hands back: tables for people and a plain object
 * for the JSON file.
 */

export interface BenchmarkContext {
  /** a smoke run: smaller networks and fewer samples, for checking that the benchmark works */
  quick: boolean
  /** network sizes to build, for the benchmarks that take them (`--sizes`) */
  sizes?: number[]
  /** samples per measured operation, for the benchmarks that take them (`--samples`) */
  samples?: number
  /** a progress line on stderr; tables go to stdout */
  progress(message: string): void
}

export interface Table {
  title: string
  columns: string[]
  rows: Array<Array<string | number>>
  /** lines printed under the table */
  notes?: string[]
}

export interface BenchmarkReport {
  tables: Table[]
  /** every measured number, written to bench/results/<name>.json */
  results: Record<string, unknown>
}

export interface Benchmark {
  name: string
  /** one line: what is measured */
  description: string
  run(context: BenchmarkContext): Promise<BenchmarkReport>
}
