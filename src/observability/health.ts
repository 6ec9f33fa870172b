/**
 * A deep health check: instead of "the process is up", each check asks whether one thing this
 * node owes the ring still works, and says what it found. The report is plain JSON.
 *
 * Each check is `ok`, `degraded` (working, but short of what the ring needs, usually while it
 * repairs itself) or `failing` (this node cannot do its part until someone acts); the node's
 * status is its worst check. docs/operations.md lists every check.
 */
import {
  STABILIZE_LATE_ROUNDS,
  STABILIZE_STALLED_ROUNDS,
  STORE_CHECK_TIMEOUT,
  SUCCESSOR_PING_TIMEOUT
} from './constants.js'
import type { ChordRing } from '../chord/ring.js'
import type { ChordRpc } from '../chord/rpc.js'
import type { NodeStatus } from '../membership/join.js'
import type { RecordStore, StoreStats } from '../chord/record.js'
import type { Libp2p } from '@libp2p/interface'

export type HealthStatus = 'ok' | 'degraded' | 'failing'

export interface CheckResult {
  status: HealthStatus
  /** what the check found, for a human */
  detail: string
}

export interface HealthChecks {
  /** libp2p is running and, unless a client, listening */
  libp2p: CheckResult & { addresses: number }
  /** the node's place in the ring: joined, still joining, alone, or stopped */
  join: CheckResult & { state: NodeStatus }
  /** the first successor answers a ping now */
  successor: CheckResult & { peer?: string, rttMs?: number }
  /** the predecessor is known, so the node knows which keys it owns */
  predecessor: CheckResult & { peer?: string }
  /** the successor list is as long as the nodes known to exist allow */
  successorList: CheckResult & { length: number, expected: number }
  /** the store takes writes */
  store: CheckResult & StoreStats
  /** the ring's repair loop is making rounds */
  stabilize: CheckResult & { sinceLastRoundMs?: number, intervalMs: number }
}

export interface HealthReport {
  status: HealthStatus
  /** ISO 8601 */
  checkedAt: string
  checks: HealthChecks
}

export interface HealthComponents {
  libp2p: Pick<Libp2p, 'status' | 'getMultiaddrs'>
  ring: Pick<ChordRing, 'table' | 'clientMode' | 'stabilizeIntervalMs' | 'lastStabilizedAt' | 'maintenanceStartedAt'>
  rpc: Pick<ChordRpc, 'ping'>
  store: Pick<RecordStore, 'stats' | 'put'>
  /** the node's join state */
  status(): NodeStatus
}

export interface HealthInit {
  /** ms; default SUCCESSOR_PING_TIMEOUT */
  successorTimeoutMs?: number
  /** ms; default STORE_CHECK_TIMEOUT */
  storeTimeoutMs?: number
}

const SEVERITY: Record<HealthStatus, number> = { ok: 0, degraded: 1, failing: 2 }

export class HealthCheck {
  private readonly components: HealthComponents
  private readonly successorTimeout: number
  private readonly storeTimeout: number
  private running?: Promise<HealthReport>

  constructor (components: HealthComponents, init: HealthInit = {}) {
    this.components = components
    this.successorTimeout = init.successorTimeoutMs ?? SUCCESSOR_PING_TIMEOUT
    this.storeTimeout = init.storeTimeoutMs ?? STORE_CHECK_TIMEOUT
  }

  /** Run every check. Callers that ask while a run is under way share it, so a flood of probes costs one ping. */
  async check (): Promise<HealthReport> {
    this.running ??= this.run().finally(() => { this.running = undefined })
    return this.running
  }

  private async run (): Promise<HealthReport> {
    const [successor, store] = await Promise.all([this.checkSuccessor(), this.checkStore()])
    const checks: HealthChecks = {
      libp2p: this.checkLibp2p(),
      join: this.checkJoin(),
      successor,
      predecessor: this.checkPredecessor(),
      successorList: this.checkSuccessorList(),
      store,
      stabilize: this.checkStabilize()
    }
    const status = Object.values(checks)
      .map((check: CheckResult) => check.status)
      .reduce<HealthStatus>((worst, next) => (SEVERITY[next] > SEVERITY[worst] ? next : worst), 'ok')
    return { status, checkedAt: new Date().toISOString(), checks }
  }

  private checkLibp2p (): HealthChecks['libp2p'] {
    const { libp2p, ring } = this.components
    const addresses = libp2p.getMultiaddrs().length
    if (libp2p.status !== 'started') {
      return { status: 'failing', detail: `libp2p is ${libp2p.status}`, addresses }
    }
    if (addresses === 0 && !ring.clientMode) {
      return { status: 'failing', detail: 'listening on no address: other nodes cannot reach this one', addresses }
    }
    return { status: 'ok', detail: `running, listening on ${addresses} address${addresses === 1 ? '' : 'es'}`, addresses }
  }

  private checkJoin (): HealthChecks['join'] {
    const state = this.components.status()
    switch (state) {
      case 'joined':
        return { status: 'ok', detail: 'part of a ring with other nodes', state }
      case 'joining':
        return { status: 'degraded', detail: 'still looking for the ring: reads and writes are refused until it joins', state }
      case 'alone':
        return { status: 'degraded', detail: 'a ring of one: no other node is known, so nothing is replicated', state }
      case 'stopped':
        return { status: 'failing', detail: 'the node has been stopped', state }
    }
  }

  private async checkSuccessor (): Promise<HealthChecks['successor']> {
    const { ring, rpc } = this.components
    const successor = ring.table.getSuccessors()[0]
    if (successor == null) {
      // a ring member alone still owns its keys; a client with nobody to ask can do nothing
      return { status: ring.clientMode ? 'failing' : 'degraded', detail: 'no successor known' }
    }
    const started = performance.now()
    try {
      await rpc.ping(successor, { signal: AbortSignal.timeout(this.successorTimeout) })
    } catch (err) {
      return {
        status: 'degraded',
        detail: `did not answer a ping within ${this.successorTimeout} ms (${describe(err)}); stabilize moves on to the next successor`,
        peer: successor.peer
      }
    }
    const rttMs = roundMs(performance.now() - started)
    return { status: 'ok', detail: `answered a ping in ${rttMs} ms`, peer: successor.peer, rttMs }
  }

  private checkPredecessor (): HealthChecks['predecessor'] {
    const { table, clientMode } = this.components.ring
    const predecessor = table.predecessor
    if (clientMode) {
      return { status: 'ok', detail: 'none needed: a client holds no ring position' }
    }
    if (predecessor != null) {
      return { status: 'ok', detail: 'known', peer: predecessor.peer }
    }
    if (table.getSuccessors().length === 0) {
      return { status: 'ok', detail: 'none needed: a ring of one owns every key' }
    }
    return { status: 'degraded', detail: 'unknown: until a node notifies this one, it cannot tell which keys it owns' }
  }

  private checkSuccessorList (): HealthChecks['successorList'] {
    const { table } = this.components.ring
    const length = table.getSuccessors().length
    // the ring has at least the other nodes we know of, so the list should reach that far
    const known = table.knownNodes().length
    const expected = Math.min(table.successorListLength, known)
    if (length < expected) {
      return {
        status: 'degraded',
        detail: `${length} of ${expected}: ${known} other node${known === 1 ? ' is' : 's are'} known, so stabilize has yet to refill the list`,
        length,
        expected
      }
    }
    return { status: 'ok', detail: `${length} of ${expected} (holds up to ${table.successorListLength})`, length, expected }
  }

  private async checkStore (): Promise<HealthChecks['store']> {
    const { store } = this.components
    const stats = store.stats()
    // an empty put goes through the store's write queue and writes nothing: a stuck queue or a
    // closed database shows here before a real write fails
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<'timed out'>(resolve => { timer = setTimeout(resolve, this.storeTimeout, 'timed out') })
    try {
      if (await Promise.race([store.put([]), timedOut]) === 'timed out') {
        return { status: 'failing', detail: `a no-op write did not get through within ${this.storeTimeout} ms: writes are stuck`, ...stats }
      }
    } catch (err) {
      return { status: 'failing', detail: `not writable: ${describe(err)}`, ...stats }
    } finally {
      clearTimeout(timer)
    }
    return { status: 'ok', detail: `takes writes; ${stats.records} record${stats.records === 1 ? '' : 's'}, ${stats.bytes} byte${stats.bytes === 1 ? '' : 's'}`, ...stats }
  }

  private checkStabilize (): HealthChecks['stabilize'] {
    const { ring } = this.components
    // adaptive maintenance stretches the interval by fractions of a millisecond
    const intervalMs = Math.round(ring.stabilizeIntervalMs)
    // the last sign of progress: a finished round, or the (re)start of the loop if that came later
    const since = Math.max(ring.lastStabilizedAt ?? -Infinity, ring.maintenanceStartedAt ?? -Infinity)
    if (since === -Infinity) {
      return { status: 'degraded', detail: 'maintenance has not started: it starts once the node has joined', intervalMs }
    }
    const sinceLastRoundMs = Date.now() - since
    if (sinceLastRoundMs > STABILIZE_STALLED_ROUNDS * intervalMs) {
      return { status: 'failing', detail: `no round for ${sinceLastRoundMs} ms (every ${intervalMs} ms): the ring's repair has stalled`, sinceLastRoundMs, intervalMs }
    }
    if (sinceLastRoundMs > STABILIZE_LATE_ROUNDS * intervalMs) {
      return { status: 'degraded', detail: `no round for ${sinceLastRoundMs} ms (every ${intervalMs} ms): rounds are slow, often waiting on dead nodes`, sinceLastRoundMs, intervalMs }
    }
    return { status: 'ok', detail: `last round ${sinceLastRoundMs} ms ago (every ${intervalMs} ms)`, sinceLastRoundMs, intervalMs }
  }
}

function describe (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

function roundMs (ms: number): number {
  return Math.round(ms * 100) / 100
}
