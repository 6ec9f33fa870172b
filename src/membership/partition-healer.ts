/**
 * Partition healing, the half that needs libp2p: every so often (a randomized interval) pick one
 * peer that the routing table does not hold, from the peer cache, the peers peer exchange named
 * lately or the bootstrap list, connect to it, and let the ring look itself up through it
 * (`ChordRing.healThrough`, which decides whether the rings had split). All three are bounded
 * lists: never the peer store, which anyone can fill with identities that claim the ring protocol.
 *
 * Two rings that formed apart hold none of each other's nodes in their tables, so once the
 * network lets them reach each other, every round has a fair chance of picking a node of the
 * other ring; across all the nodes of both rings, one of them soon does.
 */
import { minute, second } from '../units.js'
import { Periodic, adaptiveInterval } from '../chord/periodic.js'
import { randomOrder, shuffled } from '../random-order.js'
import { JOIN_ATTEMPT_TIMEOUT } from './join.js'
import { describeEntry, reachEntry } from './entry-candidate.js'
import type { EntryCandidate, EntryDialer } from './entry-candidate.js'
import type { ChordRing } from '../chord/ring.js'
import type { ComponentLogger, Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Mean time between two healing rounds after the ring around the node saw a failure (a split
 * shows itself as failures: nodes across it stop answering). A split ring keeps working on each
 * side, so merging within a minute or two is enough, and a round costs a connection to a peer off
 * the routing table and one lookup (about log2(N) requests).
 */
export const HEAL_INTERVAL = 1 * minute

/**
 * Mean time between rounds once the ring has seen no failure for a while: the interval doubles
 * after each round that merged nothing, up to this. Two rings that formed apart without any
 * failure (a node that started alone because its bootstrap list was down) still merge, within
 * minutes.
 */
export const HEAL_MAX_INTERVAL = 5 * minute

/**
 * Each interval is drawn from HEAL_INTERVAL ± this fraction of it: wide, so that the nodes of a
 * ring spread their rounds and the rings are probed all through the interval, not in bursts.
 */
export const HEAL_INTERVAL_JITTER = 0.5

/**
 * A client's first round after it finds itself knowing no ring node. Until one answers it can do
 * nothing at all (every lookup fails at once), so it does not wait a ring node's minute: its
 * rounds come at this interval, doubling after each round that found nobody, up to HEAL_INTERVAL.
 */
export const REJOIN_INTERVAL = 1 * second

/**
 * Candidates a client that knows no ring node tries in one round, one after the other until one
 * answers (a ring node tries one a round). Each costs at most the attempt timeout, so a round
 * through a list full of departed peers stays bounded.
 */
export const REJOIN_CANDIDATES_PER_ROUND = 8

/** What the healer needs from libp2p; a libp2p node satisfies it */
export interface PartitionHealerComponents extends EntryDialer {
  peerId: PeerId
  logger: ComponentLogger
}

/** How one healing round went: merged (a closer successor was found), unchanged, or failed */
export type HealingOutcome = 'merged' | 'unchanged' | 'failed'

export interface PartitionHealerInit {
  ring: Pick<ChordRing, 'healThrough' | 'table' | 'watchActivity'>
  bootstrap: Multiaddr[]
  cachedPeers(): PeerId[]
  /**
   * peers that peer exchange named lately, a bounded list. Not the peer store: anyone can fill
   * that with identities that claim the ring protocol, and crowd out the candidates that heal
   */
  learnedPeers(): PeerId[]
  /** mean ms between rounds after a failure; default HEAL_INTERVAL */
  intervalMs?: number
  /** mean ms between rounds once nothing fails; default the same multiple of `intervalMs` as HEAL_MAX_INTERVAL of HEAL_INTERVAL */
  maxIntervalMs?: number
  /** ms for one round's dial and lookup; default JOIN_ATTEMPT_TIMEOUT */
  attemptTimeout?: number
  /** told how each round went (metrics listen) */
  onRound?(outcome: HealingOutcome): void
  /**
   * a client's healer: it holds no position a split could cut off, so it looks for the ring only
   * once it knows no ring node at all (every one it knew failed), and then at once, through up to
   * REJOIN_CANDIDATES_PER_ROUND of the peers and bootstrap addresses it knows of until one
   * answers, a round every REJOIN_INTERVAL (backing off) until one does
   */
  onlyWhenAlone?: boolean
}

export class PartitionHealer {
  private readonly components: PartitionHealerComponents
  private readonly init: PartitionHealerInit
  private readonly log: Logger
  private readonly loop: Periodic
  private shutdown = new AbortController()
  private unwatch?: () => void
  /** a round is under way: the failures its own lookups report are not news of the ring */
  private inRound = false

  constructor (components: PartitionHealerComponents, init: PartitionHealerInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('libp2p-chord:healing')
    this.loop = new Periodic(async () => {
      try {
        // healed first: an optional call whose function is missing would not evaluate its argument
        const healed = await this.healOnce()
        this.init.onRound?.(healed ? 'merged' : 'unchanged')
        if (healed) {
          // a merge is under way: look again soon
          this.loop.wake()
        }
      } catch (err) {
        this.init.onRound?.('failed')
        throw err
      }
    }, {
      ...adaptiveInterval(init.intervalMs, init.maxIntervalMs, init.onlyWhenAlone === true
        ? { shortMs: REJOIN_INTERVAL, longMs: HEAL_INTERVAL }
        : { shortMs: HEAL_INTERVAL, longMs: HEAL_MAX_INTERVAL }),
      jitter: HEAL_INTERVAL_JITTER,
      // the peer picked is often down or cut off: that is what this loop is for
      onError: err => { this.log('healing round failed - %e', err) }
    })
  }

  start (): void {
    this.shutdown = new AbortController()
    this.loop.start()
    this.unwatch = this.init.ring.watchActivity(activity => {
      if (activity === 'failure' && !this.inRound) {
        // a client that just lost its last ring node looks for another at once
        this.loop.wake({ immediately: this.init.onlyWhenAlone === true && this.alone() })
      }
    })
  }

  stop (): void {
    this.unwatch?.()
    this.loop.stop()
    this.shutdown.abort()
  }

  /** ms between rounds at the moment (backed off while nothing fails) */
  get intervalMs (): number {
    return this.loop.intervalMs
  }

  /**
   * One round: through one random candidate, or for a client that knows no ring node, through up
   * to REJOIN_CANDIDATES_PER_ROUND of them until it knows one. Resolves to whether our successor
   * changed; rejects with the last failure when no candidate tried helped and one failed
   */
  async healOnce (): Promise<boolean> {
    const client = this.init.onlyWhenAlone === true
    if (client && !this.alone()) {
      return false
    }
    this.inRound = true
    try {
      const limit = client ? REJOIN_CANDIDATES_PER_ROUND : 1
      let tried = 0
      let failure: unknown
      for (const candidate of fairOrder(this.candidates())) {
        if (tried++ === limit) {
          break
        }
        try {
          const healed = await this.healThrough(candidate)
          if (healed || !client || !this.alone()) {
            return healed
          }
        } catch (err) {
          if (this.shutdown.signal.aborted) {
            throw err
          }
          if (failure != null) {
            // only the last failure is the round's, and reported as such
            this.log('could not find the ring through a candidate - %e', failure)
          }
          failure = err
        }
      }
      if (failure != null) {
        throw failure
      }
      return false
    } finally {
      this.inRound = false
    }
  }

  /** The routing table holds no ring node at all */
  private alone (): boolean {
    return this.init.ring.table.getSuccessors().length === 0
  }

  private async healThrough (candidate: EntryCandidate): Promise<boolean> {
    const options = { signal: AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.init.attemptTimeout ?? JOIN_ATTEMPT_TIMEOUT)]) }
    const entry = await reachEntry(this.components, candidate, options)
    if (entry.peer === this.components.peerId.toString()) {
      return false
    }
    const healed = await this.init.ring.healThrough(entry, options)
    if (healed) {
      this.log('%s knew a closer successor: the ring had split, merging', describeEntry(candidate))
    }
    return healed
  }

  /**
   * Peers and bootstrap addresses off our routing table, by where they come from: cached,
   * learned through peer exchange, configured (a peer appears in one list only, the configured
   * one first)
   */
  private candidates (): EntryCandidate[][] {
    const self = this.components.peerId.toString()
    const seen = new Set([self, ...this.init.ring.table.knownNodes().map(node => node.peer)])
    const fresh = (peerIds: PeerId[]): EntryCandidate[] => peerIds.filter(peerId => {
      const peer = peerId.toString()
      const isNew = !seen.has(peer)
      seen.add(peer)
      return isNew
    }).map(peerId => ({ peerId }))
    // the configured addresses first: a peer named in an answer too must not leave the bootstrap list's share
    const bootstrap = this.init.bootstrap.filter(address => {
      const peer = address.getComponents().findLast(c => c.name === 'p2p')?.value
      const isNew = peer == null || !seen.has(peer)
      if (peer != null) {
        seen.add(peer)
      }
      return isNew
    }).map(address => ({ address }))
    const cached = fresh(this.init.cachedPeers())
    const learned = fresh(this.init.learnedPeers())
    return [cached, learned, bootstrap]
  }
}

/**
 * The candidates of every source in random order, taking from each source in turn: anyone asked
 * can name hundreds of made-up peers to the learned list, and they must not crowd out the
 * bootstrap list and the cache, each of which gets an equal share of the picks
 */
function * fairOrder (sources: EntryCandidate[][]): Generator<EntryCandidate> {
  const orders = shuffled(sources.filter(source => source.length > 0)).map(source => randomOrder(source))
  while (orders.length > 0) {
    for (let i = 0; i < orders.length; i++) {
      const next = orders[i].next()
      if (next.done === true) {
        orders.splice(i--, 1)
      } else {
        yield next.value
      }
    }
  }
}
