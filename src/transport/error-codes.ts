/**
 * Typed errors across the wire: a handler's error becomes an ERROR status with a code, and the
 * caller gets the same class back, so a full remote store is a `QuotaExceededError` to the writer
 * as it would be locally.
 */
import { ForbiddenError, InvalidMessageError, InvalidRecordError, LookupFailedError, QuotaExceededError, RateLimitedError, RemoteError, StaleRecordError, TooLargeError, VerificationError } from '../errors.js'
import { ErrorCode } from './constants.js'

const CLASSES = [
  [ErrorCode.QUOTA_EXCEEDED, QuotaExceededError],
  [ErrorCode.INVALID_RECORD, InvalidRecordError],
  [ErrorCode.RATE_LIMITED, RateLimitedError],
  [ErrorCode.TOO_LARGE, TooLargeError],
  [ErrorCode.FORBIDDEN, ForbiddenError],
  [ErrorCode.BAD_SIGNATURE, VerificationError],
  // the request broke the protocol's rules: the caller gets the error it would get for a bad answer
  [ErrorCode.INVALID_ARGUMENT, InvalidMessageError],
  [ErrorCode.STALE, StaleRecordError],
  [ErrorCode.NO_ROUTE, LookupFailedError]
] as const

/** The code that tells the caller what went wrong, without leaking internal details */
export function errorCodeOf (err: unknown): string {
  for (const [code, ErrorClass] of CLASSES) {
    if (err instanceof ErrorClass) {
      return code
    }
  }
  return ErrorCode.INTERNAL
}

/**
 * The error a caller sees for an ERROR answer; unknown codes are a plain `RemoteError`. A
 * `RATE_LIMITED` answer's `retryAfterMs` and `stampDifficulty` come with its `RateLimitedError`.
 */
export function errorFromCode (code: string, message: string, details: { retryAfterMs?: number, stampDifficulty?: number } = {}): Error {
  if (code === ErrorCode.RATE_LIMITED) {
    return new RateLimitedError(`${message}: ${code}`, details)
  }
  const ErrorClass = CLASSES.find(([known]) => known === code)?.[1] ?? RemoteError
  return new ErrorClass(`${message}: ${code}`)
}
