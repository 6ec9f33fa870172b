/**
 * Record lifetimes. The store only enforces expiry; these decide it: a writer's requested TTL
 * (or the default) for local writes, and a cap on what remote peers ask a node to keep.
 */
import { InvalidOptionsError } from '../errors.js'
import { DEFAULT_TTL, MAX_TTL } from './constants.js'

export interface TtlPolicy {
  /** ms a record lives when its writer asks for no TTL */
  defaultTtl: number
  /** most ms any record may live, counted from when this node receives it */
  maxTtl: number
}

export const DEFAULT_TTL_POLICY: Readonly<TtlPolicy> = { defaultTtl: DEFAULT_TTL, maxTtl: MAX_TTL }

/** When a record written at `now` with the requested TTL expires: longer requests are cut to the maximum */
export function expiresAtFor (ttlMs: number | undefined, now: number, policy: TtlPolicy = DEFAULT_TTL_POLICY): number {
  if (ttlMs != null && !(Number.isSafeInteger(ttlMs) && ttlMs > 0)) {
    throw new InvalidOptionsError(`ttlMs must be a positive integer, got ${ttlMs}`)
  }
  return now + Math.min(ttlMs ?? policy.defaultTtl, policy.maxTtl)
}

/** A received record's expiry, cut so that it lives at most the maximum TTL from `now` */
export function capExpiresAt (expiresAt: number, now: number, policy: TtlPolicy = DEFAULT_TTL_POLICY): number {
  return Math.min(expiresAt, now + policy.maxTtl)
}

/** The default policy with the given overrides, each checked */
export function resolveTtlPolicy (given: Partial<TtlPolicy> = {}): TtlPolicy {
  const ttl = { ...DEFAULT_TTL_POLICY, ...given }
  for (const [name, value] of Object.entries(ttl)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidOptionsError(`ttl.${name} must be a positive integer number of ms`)
    }
  }
  if (ttl.defaultTtl > ttl.maxTtl) {
    throw new InvalidOptionsError('ttl.defaultTtl must not exceed ttl.maxTtl')
  }
  return ttl
}
