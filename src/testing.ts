/**
 * A test-only entry point: the parts of a running node that tests and benchmarks inspect (its
 * ring, its stores). `index.ts` does not export it, and nothing here is public API.
 */
import { mailboxInternals } from './services/mailbox.js'
import { chordInternals } from './services/internals.js'
import type { RecordStore } from './chord/record.js'
import type { RingNode } from './chord/ring-node.js'
import type { ChordRing } from './chord/ring.js'
import type { ChordMailbox } from './services/mailbox.js'
import type { ChordService } from './services/chord.js'
import type { ChordInternals } from './services/internals.js'

export interface NodeInternals extends ChordInternals {
  ring: ChordRing
  /** the envelopes the node holds for others, when it runs the mailbox */
  mailboxStore: RecordStore
  /** tombstones and kept deletions of acknowledged envelopes the node holds, when it runs the mailbox */
  acknowledgementsKept: number
}

/** Anything that runs the ring's services: a `ChordNode`, or a libp2p node with them */
interface WithServices {
  libp2p?: { services: { chord: ChordService, mailbox?: ChordMailbox } }
  services?: { chord: ChordService, mailbox?: ChordMailbox }
}

export function internalsOf (node: WithServices): NodeInternals {
  const services = node.services ?? node.libp2p?.services
  if (services == null) {
    throw new Error('not a node with the chord service')
  }
  const internals = services.chord[chordInternals]
  return {
    ...internals,
    ring: internals.core.ring,
    get mailboxStore (): RecordStore {
      return mailboxOf(services).store
    },
    get acknowledgementsKept (): number {
      return mailboxOf(services).acknowledgementsKept
    }
  }
}

function mailboxOf (services: NonNullable<WithServices['services']>): ChordMailbox[typeof mailboxInternals] {
  if (services.mailbox == null) {
    throw new Error('the node runs no mailbox service')
  }
  return services.mailbox[mailboxInternals]
}

export type { RingNode }
