/**
 * Plain-text tables for the terminal, with numbers rounded for reading (the JSON keeps them whole).
 */
import type { Table } from './benchmark.js'

/** A number rounded to what a reader can use: integers as they are, others to 3 significant digits and at most 2 decimals */
export function round (value: number): string {
  if (!Number.isFinite(value) || Number.isInteger(value)) {
    return String(value)
  }
  const magnitude = Math.abs(value)
  const decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2
  return value.toFixed(decimals)
}

export function formatTable (table: Table): string {
  const cells = [table.columns, ...table.rows.map(row => row.map(cell => typeof cell === 'number' ? round(cell) : cell))]
  const widths = table.columns.map((_, column) => Math.max(...cells.map(row => String(row[column] ?? '').length)))
  const line = (row: Array<string | number>): string =>
    row.map((cell, column) => String(cell ?? '').padEnd(widths[column])).join('  ').trimEnd()
  return [
    table.title,
    line(table.columns),
    widths.map(w => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
    ...(table.notes ?? []).map(note => `  ${note}`)
  ].join('\n')
}
