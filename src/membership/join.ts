/**
 * Joining the ring through whatever is still reachable.
 *
 * A round tries the bootstrap addresses in a new random order (so that nodes started together
 * spread over the list instead of all asking its first entry), then the peers remembered from
 * earlier runs, most recently seen first. Each attempt (dial, then find our successor through
 * that peer and stabilize) has its own deadline, so an address that swallows packets costs no
 * more than that. When a whole round fails, the next one starts after an exponential backoff
 * with jitter; at the join's deadline it gives up with a `BootstrapFailedError`. It never ends
 * in a ring of one: the join succeeds only when we hold a live successor.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import pRetry from 'p-retry'
import { minute, second } from '../units.js'
import { BootstrapFailedError, InvalidOptionsError, asError } from '../errors.js'
import { shuffled } from '../random-order.js'
import { describeEntry, reachEntry } from './entry-candidate.js'
import type { EntryCandidate, EntryDialer } from './entry-candidate.js'
import type { NodeRef } from '../chord/rpc.js'
import type { AbortOptions, Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** How long `createChordNode` keeps trying before it rejects: a few rounds through a short list */
export const JOIN_TIMEOUT = 1 * minute

/**
 * One attempt: dial (Noise and Yamux included), one lookup and one stabilize round. A live peer
 * answers all of that in well under a second even across continents; an address that accepts
 * and then stays silent is abandoned after this long.
 */
export const JOIN_ATTEMPT_TIMEOUT = 5 * second

/** Pause after the first failed round; each later pause doubles (JOIN_RETRY_FACTOR) */
export const JOIN_RETRY_MIN_DELAY = 1 * second

/** Longest pause between rounds, reached when a node keeps trying in the background */
export const JOIN_RETRY_MAX_DELAY = 1 * minute

/** Growth of the pause from one round to the next */
export const JOIN_RETRY_FACTOR = 2

/**
 * Parse bootstrap addresses up front, so a typo is a clear error rather than a silent skip, or
 * (a peer id that is none) a join that retries until its deadline
 */
export function parseBootstrapAddresses (addresses: string[]): Multiaddr[] {
  return addresses.map(address => {
    let parsed: Multiaddr
    try {
      parsed = multiaddr(address)
    } catch (err) {
      throw new InvalidOptionsError(`invalid bootstrap address ${JSON.stringify(address)}`, { cause: err })
    }
    const notAPeerId = badPeerIdIn(parsed)
    if (notAPeerId != null) {
      throw new InvalidOptionsError(`invalid bootstrap address ${JSON.stringify(address)}: ${JSON.stringify(notAPeerId)} after /p2p/ is no peer id`)
    }
    return parsed
  })
}

/** The first text after a /p2p/ of `address` that is no peer id (multiaddr takes any); undefined when there is none */
export function badPeerIdIn (address: Multiaddr): string | undefined {
  for (const { name, value } of address.getComponents()) {
    if (name === 'p2p') {
      try {
        peerIdFromString(value ?? '')
      } catch {
        return value ?? ''
      }
    }
  }
  return undefined
}

/**
 * The addresses that do not name us: operators often give every seed node the same list, and
 * a seed cannot join through itself.
 */
export function addressesOfOthers (addresses: Multiaddr[], self: PeerId): Multiaddr[] {
  return addresses.filter(address => address.getComponents().findLast(c => c.name === 'p2p')?.value !== self.toString())
}

/**
 * What joining is doing, for people watching a node start (e.g. `trying <addr> (2/5)…`):
 *
 * - `attempt`: trying `candidate`, the `index`-th (from 1) of `total` in round `round`
 * - `attempt-failed`: that attempt failed with `error`
 * - `round-failed`: no candidate of round `round` answered; the next round starts in `retryInMs`
 * - `joined`: joined through `candidate`
 */
export type JoinProgressEvent =
  | { type: 'attempt', candidate: string, index: number, total: number, round: number }
  | { type: 'attempt-failed', candidate: string, index: number, total: number, round: number, error: Error }
  | { type: 'round-failed', round: number, retryInMs: number }
  | { type: 'joined', candidate: string }

export interface JoinInit {
  /** tried first in every round, each round in a new random order */
  bootstrap: Multiaddr[]
  /** tried after the bootstrap list, in this order (most recently seen first) */
  cachedPeers: PeerId[]
  /** join through the node that answered; rejects when the join did not take */
  join(entry: NodeRef, options: AbortOptions): Promise<void>
  /** ms for one attempt, dial and join; default JOIN_ATTEMPT_TIMEOUT */
  attemptTimeout?: number
  /** ms before giving up, Infinity to keep trying until `signal` aborts; default JOIN_TIMEOUT */
  timeout?: number
  /** rounds before giving up; default: as many as the timeout allows */
  rounds?: number
  /** ms of the pause after the first failed round; default JOIN_RETRY_MIN_DELAY */
  minRetryDelay?: number
  /** ms of the longest pause; default JOIN_RETRY_MAX_DELAY */
  maxRetryDelay?: number
  /** aborts the join: the node is stopping */
  signal?: AbortSignal
  log?: Logger
  /** told about each attempt and round as it happens */
  onProgress?(event: JoinProgressEvent): void
}

/**
 * Join through the first candidate that answers; resolves to that entry node.
 *
 * @throws BootstrapFailedError when no candidate answered before the deadline or the last round
 * @throws the reason of `signal` when it aborted
 */
export async function joinRing (dialer: EntryDialer, init: JoinInit): Promise<NodeRef> {
  const attemptTimeout = init.attemptTimeout ?? JOIN_ATTEMPT_TIMEOUT
  const timeout = init.timeout ?? JOIN_TIMEOUT
  const rounds = init.rounds ?? Infinity
  const log = init.log
  if (init.bootstrap.length + init.cachedPeers.length === 0) {
    throw new BootstrapFailedError('no bootstrap address and no cached peer to join through')
  }

  const signals = [init.signal, Number.isFinite(timeout) ? AbortSignal.timeout(timeout) : undefined]
  const signal = AbortSignal.any(signals.filter(s => s != null))
  // the last error of each candidate, for the message when all of them failed
  const failures = new Map<string, string>()

  const attempt = async (candidate: EntryCandidate): Promise<NodeRef> => {
    const options = { signal: AbortSignal.any([signal, AbortSignal.timeout(attemptTimeout)]) }
    const entry = await reachEntry(dialer, candidate, options)
    await init.join(entry, options)
    return entry
  }

  let roundNumber = 0
  const round = async (): Promise<NodeRef> => {
    const current = ++roundNumber
    const candidates: EntryCandidate[] = [
      ...shuffled(init.bootstrap).map(address => ({ address })),
      ...init.cachedPeers.map(peerId => ({ peerId }))
    ]
    for (const [i, candidate] of candidates.entries()) {
      signal.throwIfAborted()
      const step = { candidate: describeEntry(candidate), index: i + 1, total: candidates.length, round: current }
      init.onProgress?.({ type: 'attempt', ...step })
      try {
        const entry = await attempt(candidate)
        log?.('joined the ring through %s', describeEntry(candidate))
        init.onProgress?.({ type: 'joined', candidate: step.candidate })
        return entry
      } catch (err: any) {
        failures.set(describeEntry(candidate), err.message ?? String(err))
        log?.('could not join through %s - %e', describeEntry(candidate), err)
        init.onProgress?.({ type: 'attempt-failed', ...step, error: asError(err) })
      }
    }
    throw new BootstrapFailedError(`none of ${candidates.length} candidates answered`)
  }

  try {
    return await pRetry(round, {
      retries: rounds - 1,
      minTimeout: init.minRetryDelay ?? JOIN_RETRY_MIN_DELAY,
      maxTimeout: init.maxRetryDelay ?? JOIN_RETRY_MAX_DELAY,
      factor: JOIN_RETRY_FACTOR,
      // each pause is drawn from [delay, 2·delay), so nodes that failed together retry apart
      randomize: true,
      signal,
      onFailedAttempt: ({ attemptNumber, retryDelay }) => {
        log?.('join round %d failed; next round in %d ms', attemptNumber, retryDelay)
        init.onProgress?.({ type: 'round-failed', round: attemptNumber, retryInMs: retryDelay })
      }
    })
  } catch (err) {
    if (init.signal?.aborted === true) {
      throw init.signal.reason
    }
    const within = Number.isFinite(timeout) ? ` within ${timeout} ms` : ''
    const tried = [...failures].map(([candidate, reason]) => `${candidate}: ${reason}`).join('; ')
    throw new BootstrapFailedError(`could not join the ring${within} through ${init.bootstrap.length} bootstrap address${init.bootstrap.length === 1 ? '' : 'es'} and ${init.cachedPeers.length} cached peer${init.cachedPeers.length === 1 ? '' : 's'} (${tried})`, { cause: err })
  }
}

/**
 * Where a node stands with its ring:
 * - `joining`: still trying to reach the ring; reads and writes throw `NotJoinedError`
 * - `joined`: part of a ring with other nodes
 * - `alone`: a ring of one: started without anyone to join, or every other node is gone
 * - `stopped`: not started, or stopped
 */
export type NodeStatus = 'joining' | 'joined' | 'alone' | 'stopped'

/** How a node finds its ring: whom to try, for how long, and whether failing is fatal */
export interface JoinPlan extends Omit<JoinInit, 'join' | 'signal' | 'log'> {
  /** a ring must be found (bootstrap addresses were given); otherwise a failure starts a new ring */
  required: boolean
}

/**
 * With bootstrap addresses, joining is required: they are tried first, then the cached peers.
 * Without, a node that knows peers from an earlier run tries them once, and otherwise starts a
 * new ring; a node that knows nobody starts one at once (undefined).
 */
export function joinPlan (bootstrap: Multiaddr[], cachedPeers: PeerId[], limits: Pick<JoinPlan, 'timeout' | 'attemptTimeout' | 'onProgress'>): JoinPlan | undefined {
  if (bootstrap.length > 0) {
    return { bootstrap, cachedPeers, required: true, ...limits }
  }
  if (cachedPeers.length > 0) {
    return { bootstrap, cachedPeers, required: false, rounds: 1, ...limits }
  }
  return undefined
}
