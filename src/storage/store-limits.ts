/**
 * The quotas of a record store: what one value, one key and the whole store may hold, and what
 * one writer (a remote peer the records were stored for) may take of a key and of the store, and
 * the writers of one subnet together of the store.
 */
import { InvalidOptionsError } from '../errors.js'
import {
  MAX_BYTES_PER_KEY, MAX_RECORDS_PER_KEY, MAX_TOTAL_BYTES, MAX_VALUE_SIZE,
  MIN_WRITER_BYTES, MIN_WRITER_BYTES_PER_KEY, MIN_WRITER_RECORDS_PER_KEY, SUBNET_SHARE, WRITER_SHARE
} from './constants.js'

export interface StoreLimits {
  /** largest value, bytes */
  maxValueSize: number
  /** most live records under one key */
  maxRecordsPerKey: number
  /** most bytes (values + overhead) under one key */
  maxBytesPerKey: number
  /** most bytes (values + overhead) in the whole store */
  maxTotalBytes: number
  /** most live records one writer may hold under one key; default WRITER_SHARE of maxRecordsPerKey */
  maxRecordsPerWriterPerKey: number
  /** most bytes one writer may hold under one key; default WRITER_SHARE of maxBytesPerKey */
  maxBytesPerWriterPerKey: number
  /** most bytes one writer may hold in the whole store; default WRITER_SHARE of maxTotalBytes */
  maxBytesPerWriter: number
  /**
   * most bytes the writers of one subnet (IPv4 /24, IPv6 /48) may hold in the whole store; default
   * SUBNET_SHARE of maxTotalBytes, never less than maxBytesPerWriter
   */
  maxBytesPerSubnet: number
}

export const DEFAULT_STORE_LIMITS: Readonly<StoreLimits> = writerShares({
  maxValueSize: MAX_VALUE_SIZE,
  maxRecordsPerKey: MAX_RECORDS_PER_KEY,
  maxBytesPerKey: MAX_BYTES_PER_KEY,
  maxTotalBytes: MAX_TOTAL_BYTES
})

/** The defaults with the given overrides, each checked to be a positive integer */
export function resolveStoreLimits (given: Partial<StoreLimits> = {}): StoreLimits {
  const quotas = {
    maxValueSize: given.maxValueSize ?? DEFAULT_STORE_LIMITS.maxValueSize,
    maxRecordsPerKey: given.maxRecordsPerKey ?? DEFAULT_STORE_LIMITS.maxRecordsPerKey,
    maxBytesPerKey: given.maxBytesPerKey ?? DEFAULT_STORE_LIMITS.maxBytesPerKey,
    maxTotalBytes: given.maxTotalBytes ?? DEFAULT_STORE_LIMITS.maxTotalBytes
  }
  const shares = writerShares(quotas)
  const limits: StoreLimits = {
    ...shares,
    maxRecordsPerWriterPerKey: given.maxRecordsPerWriterPerKey ?? shares.maxRecordsPerWriterPerKey,
    maxBytesPerWriterPerKey: given.maxBytesPerWriterPerKey ?? shares.maxBytesPerWriterPerKey,
    maxBytesPerWriter: given.maxBytesPerWriter ?? shares.maxBytesPerWriter,
    maxBytesPerSubnet: given.maxBytesPerSubnet ?? Math.max(shares.maxBytesPerSubnet, given.maxBytesPerWriter ?? 0)
  }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidOptionsError(`storeLimits.${name} must be a positive integer, got ${value}`)
    }
  }
  return limits
}

/**
 * A writer's share of each quota: WRITER_SHARE of it, but never less than the minimums, so that a
 * small store (a test's, a browser's) still takes a useful amount from one writer; a subnet's,
 * SUBNET_SHARE of the store and never less than one writer's
 */
function writerShares (quotas: Pick<StoreLimits, 'maxValueSize' | 'maxRecordsPerKey' | 'maxBytesPerKey' | 'maxTotalBytes'>): StoreLimits {
  const maxBytesPerWriter = Math.max(Math.ceil(quotas.maxTotalBytes * WRITER_SHARE), MIN_WRITER_BYTES)
  return {
    ...quotas,
    maxRecordsPerWriterPerKey: Math.max(Math.ceil(quotas.maxRecordsPerKey * WRITER_SHARE), MIN_WRITER_RECORDS_PER_KEY),
    maxBytesPerWriterPerKey: Math.max(Math.ceil(quotas.maxBytesPerKey * WRITER_SHARE), MIN_WRITER_BYTES_PER_KEY),
    maxBytesPerWriter,
    maxBytesPerSubnet: Math.max(Math.ceil(quotas.maxTotalBytes * SUBNET_SHARE), maxBytesPerWriter)
  }
}
