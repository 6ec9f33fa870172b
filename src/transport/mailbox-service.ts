/**
 * Everything a node runs for the mailbox, in one place: the mailbox record store (apart from
 * plain records), the tombstones of acknowledged envelopes, replication in the mailbox
 * namespace, the namespace's access rules, the subscription server, and the public `Mailbox`.
 */
import { Replication } from '../chord/replication.js'
import { Mailbox } from '../mailbox/mailbox.js'
import { MailboxRecords } from '../mailbox/mailbox-records.js'
import { Tombstones } from '../mailbox/tombstones.js'
import { SUBLEVELS } from '../storage/database.js'
import { openLevelStore } from '../storage/level-store.js'
import { MailboxServer } from './mailbox-server.js'
import { openMailboxSession } from './mailbox-session.js'
import type { MailboxServerComponents } from './mailbox-server.js'
import type { MailboxSessionComponents } from './mailbox-session.js'
import type { ChordRing } from '../chord/ring.js'
import type { DeletionRpc, RecordRpc } from '../chord/rpc.js'
import type { NodeDatabase } from '../storage/database.js'
import type { RecordStore, StoreLimits } from '../storage/store.js'
import type { TtlPolicy } from '../storage/ttl.js'

export interface MailboxServiceInit {
  database: NodeDatabase
  ring: ChordRing
  /** record messages to other nodes' mailbox stores */
  rpc: RecordRpc & DeletionRpc
  ttl: TtlPolicy
  storeLimits?: Partial<StoreLimits>
  antiEntropyIntervalMs?: number
  sweepIntervalMs?: number
  subscriptionCheckIntervalMs?: number
  onError?(err: unknown): void
}

export class MailboxService {
  readonly mailbox: Mailbox
  /** answers other nodes' requests in the mailbox namespace */
  readonly records: MailboxRecords
  readonly store: RecordStore
  private readonly replication: Replication
  private readonly server: MailboxServer
  private readonly tombstones: Tombstones

  private constructor (components: MailboxServerComponents & MailboxSessionComponents, init: MailboxServiceInit, store: RecordStore, tombstones: Tombstones) {
    this.store = store
    this.tombstones = tombstones
    this.server = new MailboxServer(components, { store })
    this.replication = new Replication({
      ring: init.ring,
      rpc: init.rpc,
      store,
      ttl: init.ttl,
      admit: async records => tombstones.admit(records),
      onRecordsAdded: records => { this.server.deliver(records) },
      // nobody may list a node's mailboxes, so repairs only ever send
      antiEntropyMode: 'push',
      antiEntropyIntervalMs: init.antiEntropyIntervalMs,
      sweepIntervalMs: init.sweepIntervalMs,
      onError: init.onError
    })
    this.records = new MailboxRecords({ self: init.ring.self, replication: this.replication, store, tombstones, maxTtl: init.ttl.maxTtl })
    this.mailbox = new Mailbox({
      ring: init.ring,
      replication: this.replication,
      deletions: init.rpc,
      openSession: async (node, identity, handlers) => node.peer === init.ring.self.peer
        ? this.server.subscribeLocally(identity.publicKey, handlers)
        : openMailboxSession(components, node, identity, handlers),
      ttl: init.ttl,
      subscriptionCheckIntervalMs: init.subscriptionCheckIntervalMs,
      onError: init.onError
    })
  }

  static async create (components: MailboxServerComponents & MailboxSessionComponents, init: MailboxServiceInit): Promise<MailboxService> {
    const database = init.database.sublevel(SUBLEVELS.mailbox) as unknown as NodeDatabase
    const store = await openLevelStore({ database, limits: init.storeLimits })
    const tombstones = await Tombstones.open(init.database)
    return new MailboxService(components, init, store, tombstones)
  }

  /** The ring changed: hand envelopes to a new predecessor, as for plain records */
  async neighboursChanged (): Promise<void> {
    await this.replication.neighboursChanged()
  }

  /** Serve subscriptions; `replicate` also starts anti-entropy (ring members only) */
  async start (replicate: boolean): Promise<void> {
    await this.server.start()
    if (replicate) {
      this.replication.start()
    }
  }

  /** Before leaving the ring: envelopes go to the successor, like plain records */
  async handoffOnLeave (options: { signal?: AbortSignal }): Promise<void> {
    await this.replication.handoffOnLeave(options)
  }

  async stop (): Promise<void> {
    this.replication.stop()
    await this.mailbox.close()
    await this.server.stop()
    await this.tombstones.sweep(Date.now()).catch(() => {})
    await this.store.close()
  }
}
