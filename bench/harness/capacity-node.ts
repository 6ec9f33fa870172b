/**
 * The node under test of the capacity benchmark, in a process of its own so that the kernel's
 * CPU and resident-memory counts for the process are the node's alone: a chord node with the
 * mailbox, a ring of one (so it is responsible for every key), on 127.0.0.1, its records in
 * LevelDB in the given data directory. Started with
 * `fork()`; its settings come as one JSON argument. It says where it listens over IPC, answers
 * each 'count' with the live subscriptions it serves, and stops on 'stop' (or when its parent goes).
 */
import { createChordNode } from '../../src/index.js'
import { mailboxInternals } from '../../src/services/mailbox.js'
import { PRODUCTION_TIMERS } from './chord-ring.js'
import type { ChordNodeOptions } from '../../src/index.js'

/** What the parent sends */
export type CapacityNodeCommand = 'count' | 'stop'

/** What the node sends back */
export type CapacityNodeReply =
  | { type: 'started', peerId: string, address: string }
  | { type: 'count', subscriptions: number }

const settings = JSON.parse(process.argv[2] ?? '{}') as Pick<ChordNodeOptions, 'dataDir' | 'mailbox'>
const node = await createChordNode({
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: [],
  timers: PRODUCTION_TIMERS,
  ...settings
})

const reply = (message: CapacityNodeReply): void => { process.send?.(message) }

process.on('message', (command: CapacityNodeCommand) => {
  if (command === 'count') {
    reply({ type: 'count', subscriptions: node.mailbox[mailboxInternals].subscriptionCount })
  } else if (command === 'stop') {
    void node.stop().finally(() => process.exit(0))
  }
})
process.on('disconnect', () => { void node.stop().finally(() => process.exit(0)) })

reply({ type: 'started', peerId: node.libp2p.peerId.toString(), address: node.getMultiaddrs()[0].toString() })
