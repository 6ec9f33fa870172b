/**
 * The quotas of a record store: what one value, one key and the whole store may hold.
 */
import { InvalidOptionsError } from '../errors.js'
import { MAX_BYTES_PER_KEY, MAX_RECORDS_PER_KEY, MAX_TOTAL_BYTES, MAX_VALUE_SIZE } from './constants.js'

export interface StoreLimits {
  /** largest value, bytes */
  maxValueSize: number
  /** most live records under one key */
  maxRecordsPerKey: number
  /** most bytes (values + overhead) under one key */
  maxBytesPerKey: number
  /** most bytes (values + overhead) in the whole store */
  maxTotalBytes: number
}

export const DEFAULT_STORE_LIMITS: Readonly<StoreLimits> = {
  maxValueSize: MAX_VALUE_SIZE,
  maxRecordsPerKey: MAX_RECORDS_PER_KEY,
  maxBytesPerKey: MAX_BYTES_PER_KEY,
  maxTotalBytes: MAX_TOTAL_BYTES
}

/** The defaults with the given overrides, each checked to be a positive integer */
export function resolveStoreLimits (given: Partial<StoreLimits> = {}): StoreLimits {
  const limits: StoreLimits = {
    maxValueSize: given.maxValueSize ?? DEFAULT_STORE_LIMITS.maxValueSize,
    maxRecordsPerKey: given.maxRecordsPerKey ?? DEFAULT_STORE_LIMITS.maxRecordsPerKey,
    maxBytesPerKey: given.maxBytesPerKey ?? DEFAULT_STORE_LIMITS.maxBytesPerKey,
    maxTotalBytes: given.maxTotalBytes ?? DEFAULT_STORE_LIMITS.maxTotalBytes
  }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidOptionsError(`storeLimits.${name} must be a positive integer, got ${value}`)
    }
  }
  return limits
}
