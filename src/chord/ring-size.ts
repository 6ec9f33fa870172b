/**
 * How many nodes the ring has, as one node can tell: exactly, when its successor list holds the
 * whole rest of the ring; otherwise from how densely its successors sit after it.
 * k successors spread over a fraction d / 2^256 of the ring put about k · 2^256 / d nodes on it.
 */
import { RING_SIZE } from './id.js'
import type { NodeRef } from './rpc.js'

export function estimateRingSize (self: bigint, successors: readonly NodeRef[], holdsWholeRing: boolean): number {
  const others = new Set(successors.map(s => s.peer)).size
  if (holdsWholeRing || others === 0) {
    return others + 1
  }
  const last = successors[successors.length - 1].id
  const span = ((last - self) % RING_SIZE + RING_SIZE) % RING_SIZE
  if (span === 0n) {
    return others + 1
  }
  return Math.max(others + 1, Math.round(Number((BigInt(others) * RING_SIZE * 1000n) / span) / 1000))
}
