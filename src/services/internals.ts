/**
 * What the chord service shares with the services built on it (the mailbox) and with tests,
 * behind a symbol that `index.ts` does not export: none of it is public API.
 */
import type { ChordSettings } from './chord-init.js'
import type { NodeView } from './components.js'
import type { RecordStore } from '../chord/record.js'
import type { RingNode } from '../chord/ring-node.js'
import type { OwnedRecords } from '../owned/owned-records.js'
import type { NodeMetrics } from '../observability/metrics.js'
import type { NodeDatabase } from '../storage/database.js'
import type { RequestLimiter } from '../transport/request-limits.js'

export const chordInternals = Symbol('libp2p-chord:internals')

/** What the chord service declares it provides (libp2p's `serviceCapabilities`) */
export const CHORD_CAPABILITY = '@libp2p-chord/chord'

export interface ChordInternals {
  /** the ring core: routing, replication of each namespace, rehoming */
  core: RingNode
  /** the node's LevelDB, where services keep their own sublevels */
  database: NodeDatabase
  /** the store of plain records */
  store: RecordStore
  /** the store of owned records */
  ownedStore: RecordStore
  /** publish and resolve of owned records (the mailbox keeps device lists there) */
  owned: OwnedRecords
  settings: ChordSettings
  /** the libp2p components as the parts take them */
  view: NodeView
  metrics: NodeMetrics
  /** every remote peer's budgets: what a service charges costly work of another protocol to */
  limiter: RequestLimiter
}

export interface HasChordInternals {
  readonly [chordInternals]: ChordInternals
}
