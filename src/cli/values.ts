/**
 * Turning the text of a flag, an environment variable or a config-file entry into the value a
 * setting needs. Each converter throws an `InvalidValue` that says what was expected, with an
 * example; the caller names where the text came from.
 */
import bytes from 'bytes'
import ms from 'ms'

/** The text cannot be the value the setting needs */
export class InvalidValue extends Error {
  static name = 'InvalidValue'
  /** e.g. "a positive integer, e.g. 3" */
  readonly expected: string
  constructor (expected: string) {
    super(`expected ${expected}`)
    this.name = InvalidValue.name
    this.expected = expected
  }
}

export function positiveInteger (text: string): number {
  const value = Number(text.trim())
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidValue('a positive integer, e.g. 3')
  }
  return value
}

/** A whole number, 0 included (a number of bits, say) */
export function nonNegativeInteger (text: string): number {
  const value = Number(text.trim())
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new InvalidValue('a whole number, e.g. 0 or 16')
  }
  return value
}

/** A duration: `500ms`, `5s`, `10m`, `2h`, `14d`, or a bare number of milliseconds; resolves to ms */
export function duration (text: string): number {
  const trimmed = text.trim()
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : ms(trimmed as ms.StringValue)
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidValue('a duration such as 500ms, 5s, 10m, 2h or 14d (a bare number is milliseconds)')
  }
  return value
}

/**
 * A size in bytes: `65536`, `64KiB`, `256MiB`, `1GiB` (KB, MB and GB mean the same, 1024-based).
 * The pattern is checked first: `bytes` alone reads an unknown unit such as `64KiB` as 64.
 */
export function size (text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i.exec(text.trim())
  const value = match == null ? null : bytes.parse(`${match[1]}${(match[2] ?? 'B').replace(/iB$/i, 'B')}`)
  if (value == null || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidValue('a size such as 65536, 64KiB or 256MiB')
  }
  return value
}

export interface HostPort {
  host: string
  port: number
}

/** `host:port`, an IPv6 host in brackets (`[::1]:9464`); port 0 lets the system choose */
export function hostPort (text: string): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[3])
  if (match == null || port > 65535) {
    throw new InvalidValue('host:port, e.g. 127.0.0.1:9464 or [::1]:9464')
  }
  return { host: match[1] ?? match[2], port }
}

export function oneOf<T extends string> (choices: readonly T[]): (text: string) => T {
  return (text: string) => {
    const value = text.trim() as T
    if (!choices.includes(value)) {
      throw new InvalidValue(`one of ${choices.join(', ')}`)
    }
    return value
  }
}

/** `true`/`false` (also 1/0, yes/no), for switches set from the environment or a config file */
export function boolean (text: string): boolean {
  const value = text.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(value)) {
    return true
  }
  if (['false', '0', 'no', 'off', ''].includes(value)) {
    return false
  }
  throw new InvalidValue('true or false')
}
