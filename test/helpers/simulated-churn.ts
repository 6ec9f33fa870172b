/**
 * Continuous churn on a simulated ring, in the time model of the Chord paper's "lookups during
 * stabilization" experiment: nodes join and fail as Poisson processes at given rates per second,
 * lookups arrive as a Poisson process, and each node runs its maintenance round (check the
 * predecessor, stabilize, fix a finger) at its own randomized interval averaging 30 s, instead of
 * the whole ring stepping in lockstep rounds. Simulated time advances in one-second ticks; the
 * events of a tick run one after another in the order of their times within it.
 *
 * Every lookup is judged against the true ring (the live members in id order), the way the paper
 * judges it: it succeeds only if it names the key's current successor.
 */
import { LookupFailedError, LookupVerificationError } from '../../src/errors.js'
import { hashToRingId } from '../../src/chord/id.js'
import type { RingId } from '../../src/chord/id.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { Simulator } from './simulator.js'

/** Seconds between two maintenance rounds of one node: uniform on this range, 30 s on average, as in the paper's simulation */
export const PAPER_MAINTENANCE_INTERVAL = { minS: 15, maxS: 45 }

export interface ChurnRates {
  /** nodes joining per simulated second, through a random live member */
  joinsPerSecond: number
  /** nodes failing per simulated second: a random live member stops answering, without a goodbye */
  failuresPerSecond: number
  /** lookups per simulated second, each of a random key from a random live member */
  lookupsPerSecond: number
}

/** How lookups went, judged against the true ring */
export interface LookupTally {
  lookups: number
  /** named the key's current successor */
  correct: number
  /** confirmed an owner that is not the key's current successor */
  wrongOwner: number
  /** failed typed because the owner could not be confirmed (LookupVerificationError) */
  unconfirmed: number
  /** failed typed because no route reached the owner (LookupFailedError) */
  noRoute: number
  /** correct only because the owner check replaced the owner the route named */
  corrected: number
  /** hops of the lookups that answered */
  hops: number[]
  /** calls to nodes that were down, over all lookups (each a timeout on a real network) */
  timeouts: number
}

export function emptyTally (): LookupTally {
  return { lookups: 0, correct: 0, wrongOwner: 0, unconfirmed: 0, noRoute: 0, corrected: 0, hops: [], timeouts: 0 }
}

/** Lookups that did not reach the key's current successor: the paper's failed lookups */
export function failedLookups (tally: LookupTally): number {
  return tally.wrongOwner + tally.unconfirmed + tally.noRoute
}

/** The live ring members in id order, kept up to date as nodes join and fail: who truly owns a key */
export class TrueRing {
  private readonly sorted: NodeRef[]

  constructor (members: NodeRef[]) {
    this.sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  get size (): number {
    return this.sorted.length
  }

  add (node: NodeRef): void {
    this.sorted.splice(this.firstAtOrAfter(node.id), 0, node)
  }

  remove (node: NodeRef): void {
    const at = this.firstAtOrAfter(node.id)
    if (this.sorted[at]?.peer === node.peer) {
      this.sorted.splice(at, 1)
    }
  }

  /** The key's successor and the `count - 1` members after it (its replica set) */
  successorsOf (id: RingId, count = 1): NodeRef[] {
    const at = this.firstAtOrAfter(id)
    return Array.from({ length: Math.min(count, this.sorted.length) }, (_, i) => this.sorted[(at + i) % this.sorted.length])
  }

  private firstAtOrAfter (id: RingId): number {
    let low = 0
    let high = this.sorted.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.sorted[middle].id < id) {
        low = middle + 1
      } else {
        high = middle
      }
    }
    return low
  }
}

/** One lookup of `id` from `from`, judged against `truth` and added to `tally` */
export async function judgeLookup (sim: Simulator, from: ChordRing, id: RingId, truth: TrueRing, tally: LookupTally): Promise<void> {
  const timeoutsBefore = sim.timeouts
  tally.lookups++
  try {
    const result = await from.lookup(id)
    tally.hops.push(result.hops)
    if (result.successors[0].peer === truth.successorsOf(id)[0].peer) {
      tally.correct++
      if (result.correctedFrom != null) {
        tally.corrected++
      }
    } else {
      tally.wrongOwner++
    }
  } catch (err) {
    if (err instanceof LookupVerificationError) {
      tally.unconfirmed++
    } else if (err instanceof LookupFailedError) {
      tally.noRoute++
    } else {
      throw err
    }
  } finally {
    tally.timeouts += sim.timeouts - timeoutsBefore
  }
}

/** A random key's ring position */
export function randomKey (random: () => number): RingId {
  return hashToRingId(new TextEncoder().encode(`key-${random()}`))
}

/** What one stretch of churn did to the ring */
export interface ChurnCounts {
  seconds: number
  joins: number
  /** joins that failed (no live successor found): the node is dropped again */
  failedJoins: number
  failures: number
  maintenanceRounds: number
}

interface ChurnEvent {
  at: number
  run: () => Promise<void>
}

/**
 * Drives a simulated ring through continuous churn in simulated seconds. Each `run` is bounded by
 * the seconds it is given; the ring keeps its state between runs, so a warm-up run can come
 * before a measured one.
 */
export class ChurnProcess {
  readonly truth: TrueRing
  private readonly sim: Simulator
  private readonly random: () => number
  private readonly interval: { minS: number, maxS: number }
  /** when each live member runs its next maintenance round, in simulated seconds */
  private readonly nextRound = new Map<string, number>()
  /** live members, for picking one at random */
  private readonly members: string[] = []
  private readonly memberIndex = new Map<string, number>()
  private now = 0
  private joined = 0

  constructor (sim: Simulator, random: () => number, interval = PAPER_MAINTENANCE_INTERVAL) {
    this.sim = sim
    this.random = random
    this.interval = interval
    const live = sim.liveRings().filter(ring => !ring.clientMode)
    this.truth = new TrueRing(live.map(ring => ring.self))
    for (const ring of live) {
      this.addMember(ring.self.peer)
      // the ring's rounds start out of step, as independent nodes' timers would be
      this.nextRound.set(ring.self.peer, this.random() * this.meanInterval())
    }
  }

  get size (): number {
    return this.members.length
  }

  /** Run `seconds` of churn, tallying lookups into `tally` */
  async run (seconds: number, rates: ChurnRates, tally: LookupTally = emptyTally()): Promise<ChurnCounts> {
    const counts: ChurnCounts = { seconds, joins: 0, failedJoins: 0, failures: 0, maintenanceRounds: 0 }
    const end = this.now + seconds
    for (; this.now < end; this.now++) {
      const events: ChurnEvent[] = [
        ...this.arrivals(rates.joinsPerSecond).map(at => ({ at, run: async () => { await this.join(at, counts) } })),
        ...this.arrivals(rates.failuresPerSecond).map(at => ({ at, run: async () => { this.fail(counts) } })),
        ...this.arrivals(rates.lookupsPerSecond).map(at => ({ at, run: async () => { await this.lookup(tally) } }))
      ]
      for (const [name, at] of this.nextRound) {
        if (at < this.now + 1) {
          events.push({ at, run: async () => { await this.maintain(name, at, counts) } })
        }
      }
      events.sort((a, b) => a.at - b.at)
      for (const event of events) {
        await event.run()
      }
    }
    return counts
  }

  /** The times within the current second at which a Poisson process of `rate` per second fires */
  private arrivals (rate: number): number[] {
    const times: number[] = []
    if (rate <= 0) {
      return times
    }
    for (let at = this.now + this.exponential(rate); at < this.now + 1; at += this.exponential(rate)) {
      times.push(at)
    }
    return times
  }

  private exponential (rate: number): number {
    return -Math.log(1 - this.random()) / rate
  }

  private meanInterval (): number {
    return (this.interval.minS + this.interval.maxS) / 2
  }

  private async maintain (name: string, at: number, counts: ChurnCounts): Promise<void> {
    if (!this.sim.alive.has(name)) {
      return
    }
    await this.sim.ringOf(name).maintain().catch(() => {})
    counts.maintenanceRounds++
    this.nextRound.set(name, at + this.interval.minS + this.random() * (this.interval.maxS - this.interval.minS))
  }

  private async join (at: number, counts: ChurnCounts): Promise<void> {
    const entry = this.sim.ringOf(this.randomMember())
    const ring = await this.sim.addNode(`joiner-${this.joined++}`)
    counts.joins++
    try {
      await ring.join(entry.self)
    } catch {
      counts.failedJoins++
      this.sim.kill(ring.self.peer)
      return
    }
    this.truth.add(ring.self)
    this.addMember(ring.self.peer)
    this.nextRound.set(ring.self.peer, at + this.interval.minS + this.random() * (this.interval.maxS - this.interval.minS))
  }

  private fail (counts: ChurnCounts): void {
    // the ring is never emptied: its last two nodes stay
    if (this.members.length <= 2) {
      return
    }
    const name = this.randomMember()
    this.sim.kill(name)
    this.truth.remove(this.sim.ringOf(name).self)
    this.removeMember(name)
    this.nextRound.delete(name)
    counts.failures++
  }

  private async lookup (tally: LookupTally): Promise<void> {
    await judgeLookup(this.sim, this.sim.ringOf(this.randomMember()), randomKey(this.random), this.truth, tally)
  }

  private randomMember (): string {
    return this.members[Math.floor(this.random() * this.members.length)]
  }

  private addMember (name: string): void {
    this.memberIndex.set(name, this.members.length)
    this.members.push(name)
  }

  private removeMember (name: string): void {
    const at = this.memberIndex.get(name)
    if (at == null) {
      return
    }
    const last = this.members.pop() as string
    if (last !== name) {
      this.members[at] = last
      this.memberIndex.set(last, at)
    }
    this.memberIndex.delete(name)
  }
}
