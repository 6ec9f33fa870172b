/**
 * The end-to-end encrypted mailbox as a libp2p service: `chordMailbox()` goes into the same
 * `services` as `chord()`, which it builds on (its ring, its database, its RPC).
 *
 * Built when libp2p builds it, after the chord service: the mailbox store (apart from plain
 * records) and its tombstones, the subscription server, the mailbox namespace on the ring (its
 * replication, started, handed off and stopped with the ring's, and its access rules), and the
 * `send` / `subscribe` / `ack` that applications call.
 */
import { serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { InvalidOptionsError } from '../errors.js'
import { ChatClient } from '../chat/chat-client.js'
import { toAccount } from '../devices/account.js'
import { DeviceLists } from '../devices/device-lists.js'
import { DeviceFanOut } from '../devices/fan-out.js'
import { requestLink } from '../devices/linking.js'
import { SUBLEVELS } from '../storage/database.js'
import { LevelRecordStore } from '../storage/level-store.js'
import { Mailbox } from '../mailbox/mailbox.js'
import { DEFAULT_STAMP_DIFFICULTY, MAX_STAMP_DIFFICULTY } from '../mailbox/constants.js'
import { DEFAULT_MAILBOX_ACCEPTANCE, MailboxRules } from '../mailbox/namespace-rules.js'
import { MailboxServer } from '../mailbox/server.js'
import { MAX_SUBSCRIPTIONS, MAX_SUBSCRIPTIONS_PER_PEER, MAX_SUBSCRIPTIONS_PER_SUBNET } from '../mailbox/protocol-constants.js'
import { openMailboxSession } from '../mailbox/session.js'
import { KeptDeletions } from '../mailbox/kept-deletions.js'
import { Tombstones } from '../mailbox/tombstones.js'
import { publicKeyOf } from '../mailbox/public-key.js'
import { CHORD_CAPABILITY, chordInternals } from './internals.js'
import type { ChatOptions } from '../chat/chat-client.js'
import type { Account } from '../devices/account.js'
import type { DeviceInfo } from '../devices/device-list.js'
import type { LinkRequestOptions, PendingLink } from '../devices/linking.js'
import type { Identity } from '../mailbox/identity.js'
import type { SendOptions, SendResult, SubscribeOptions } from '../mailbox/mailbox.js'
import type { MailboxAcceptance } from '../mailbox/namespace-rules.js'
import type { PublicKey } from '../mailbox/public-key.js'
import type { MailboxMessage, Subscription } from '../mailbox/subscription.js'
import type { RecordStore } from '../chord/record.js'
import type { HasChordInternals } from './internals.js'
import type { NodeDatabase } from '../storage/database.js'
import type { Logger, Startable } from '@libp2p/interface'

/** Where tests find the mailbox's parts; `index.ts` does not export it */
export const mailboxInternals = Symbol('libp2p-chord:mailbox-internals')

/** What the mailbox service declares it provides (libp2p's `serviceCapabilities`) */
export const MAILBOX_CAPABILITY = '@libp2p-chord/mailbox'

export interface ChordMailboxInit {
  /** the name the chord service has in libp2p's `services`; default 'chord' */
  chordService?: string
  /** ms between checks that a subscription is with the node responsible for its mailbox */
  subscriptionCheckIntervalMs?: number
  /**
   * leading zero bits of the proof-of-work stamp this node asks of an envelope sent to a mailbox
   * past its acceptance rates, 0 to MAX_STAMP_DIFFICULTY; 0 (the default): it asks none and
   * refuses such envelopes until the window ends
   */
  stampDifficulty?: number
  /** how fast a mailbox takes new envelopes from senders; each left out is its default */
  acceptance?: Partial<MailboxAcceptance>
  /**
   * live subscriptions this node serves at once, local owners' included; default
   * MAX_SUBSCRIPTIONS (docs/operations.md: capacity planning)
   */
  maxSubscriptions?: number
  /**
   * live subscriptions one remote peer may hold here (each its own stream, so a connection may
   * open as many mailbox streams); default MAX_SUBSCRIPTIONS_PER_PEER. Raise it only for peers
   * that carry many users' subscriptions, such as a gateway: it is what keeps one stranger from
   * taking every slot
   */
  maxSubscriptionsPerPeer?: number
  /**
   * live subscriptions the remote peers of one subnet (IPv4 /24, IPv6 /48; loopback not counted)
   * may hold here; default MAX_SUBSCRIPTIONS_PER_SUBNET. Raise it for a node whose users share a
   * subnet in numbers (a campus, a gateway)
   */
  maxSubscriptionsPerSubnet?: number
}

/** The libp2p components the mailbox uses: the chord service, by its name among the services */
export type ChordMailboxComponents = Record<string, unknown>

export class ChordMailbox implements Startable {
  readonly [Symbol.toStringTag] = 'libp2p-chord:mailbox'
  readonly [serviceCapabilities]: string[] = [MAILBOX_CAPABILITY]
  readonly [serviceDependencies]: string[] = [CHORD_CAPABILITY]

  private readonly log: Logger
  private readonly store: LevelRecordStore
  private readonly tombstones: Tombstones
  private readonly kept: KeptDeletions
  private readonly server: MailboxServer
  private readonly mailbox: Mailbox
  private readonly lists: DeviceLists
  private readonly fanOut: DeviceFanOut
  /** chats open on this node, closed with it */
  private readonly chats = new Set<ChatClient>()

  constructor (components: ChordMailboxComponents, init: ChordMailboxInit = {}) {
    const { core, database, settings, view, metrics, limiter, owned } = chordServiceOf(components, init.chordService ?? 'chord')[chordInternals]
    const { stampDifficulty, acceptance, maxSubscriptions, maxSubscriptionsPerPeer, maxSubscriptionsPerSubnet } = checkedMailboxInit(init)
    this.log = view.logger.forComponent('libp2p-chord:mailbox')
    const self = core.self

    this.store = new LevelRecordStore(database.sublevel(SUBLEVELS.mailbox) as unknown as NodeDatabase, { limits: settings.storeLimits })
    this.tombstones = new Tombstones(database)
    this.kept = new KeptDeletions(database)
    this.server = new MailboxServer(view, {
      store: this.store,
      keeps: async key => replication.keeps(key),
      maxSubscriptions,
      maxSubscriptionsPerPeer,
      maxSubscriptionsPerSubnet,
      admitSignatureCheck: (peer, subnet) => { limiter.admitSignatureCheck(peer, subnet) },
      admitScan: (peer, subnet) => { limiter.admitScan(peer, subnet) },
      chargeScan: (peer, records, subnet) => { limiter.chargeScannedRecords(peer, records, subnet) },
      onPushed: count => { metrics.mailbox.pushed(count) },
      onRefused: code => { metrics.mailbox.refused(code) }
    })
    const { replication, handler: rules } = core.addNamespace('mailbox', {
      store: this.store,
      admit: async records => this.tombstones.admit(records),
      // an acknowledgement applied while a write was on its way: what it names goes at once
      readmit: records => this.tombstones.admit(records),
      onRecordsAdded: records => {
        metrics.mailbox.stored(records.length)
        this.server.deliver(records)
      },
      onSwept: count => {
        metrics.mailbox.expired(count)
        // an acknowledgement is kept only as long as the envelopes it names could come back
        void this.sweepAcknowledgements()
      },
      // acknowledgements reach the replicas that missed them with each repair
      deletionsIn: (from, until) => this.kept.inRange(from, until),
      takeDeletions: async deletions => { await rules.takeDeletions(deletions, 'answer') },
      rules: replication => new MailboxRules({
        self,
        replication,
        store: this.store,
        tombstones: this.tombstones,
        kept: this.kept,
        maxTtl: settings.ttl.maxTtl,
        onAcknowledged: count => { metrics.mailbox.acknowledged(count) },
        isNeighbour: peer => core.replicaRange.isNeighbour(peer),
        stampDifficulty,
        acceptance
      })
    })
    metrics.watchMailbox({ store: this.store, subscriptions: () => this.server.subscriptionCount })
    this.mailbox = new Mailbox({
      ring: core.ring,
      replication,
      deletions: core.namespaceRpc('mailbox'),
      openSession: async (node, identity, handlers) => node.peer === self.peer
        ? this.server.subscribeLocally(identity.publicKey, handlers)
        : openMailboxSession(view, node, identity, handlers),
      ttl: settings.ttl,
      subscriptionCheckIntervalMs: init.subscriptionCheckIntervalMs,
      onError: err => { this.log.error('mailbox task failed - %e', err) }
    })
    this.lists = new DeviceLists({
      resolve: async (person, name, options) => owned.resolve(person, name, options),
      publish: async (identity, name, value, options) => owned.publish(identity, name, value, options)
    })
    this.fanOut = new DeviceFanOut({
      lists: this.lists,
      sendSealed: async (sender, device, body, kind, options) => kind === 'frame'
        ? this.mailbox.sendFrame(sender, device, body, options)
        : this.mailbox.send(sender, device, body, options)
    })
  }

  /**
   * Seal `plaintext` for `recipient` and store it on the recipient's mailbox replicas; resolves
   * once it is durably stored there
   */
  async send (sender: Identity, recipient: string | PublicKey, plaintext: Uint8Array, options?: SendOptions): Promise<SendResult> {
    return this.mailbox.send(sender, recipient, plaintext, options)
  }

  /** Receive the messages waiting in `identity`'s mailbox, then each new one as it arrives */
  async subscribe (identity: Identity, onMessage: (message: MailboxMessage) => void | Promise<void>, options?: SubscribeOptions): Promise<Subscription> {
    return this.mailbox.subscribe(identity, onMessage, options)
  }

  /** Delete messages from every replica of `identity`'s mailbox (only its owner can) */
  async ack (identity: Identity, ids: Array<string | Uint8Array>): Promise<{ replicas: number }> {
    return this.mailbox.ack(identity, ids)
  }

  /**
   * Open a person's chat on this device: direct messages and groups, sent to every device of each
   * recipient (and copied to this person's other devices), delivery counted per device. Give the
   * identity on the device that holds it, or the account a link granted on a linked device.
   * Resolves once this device's mailbox is subscribed.
   */
  async chat (account: Identity | Account, options: ChatOptions): Promise<ChatClient> {
    const chat: ChatClient = new ChatClient({
      account: toAccount(account),
      mailbox: this.mailbox,
      lists: this.lists,
      fanOut: this.fanOut,
      options,
      onClose: () => this.chats.delete(chat)
    })
    await chat.start()
    this.chats.add(chat)
    return chat
  }

  /**
   * On a new device: ask to be linked to the person of a link offer (`chord-link:…`, shown by the
   * device that holds their identity). `account` resolves once that device confirmed; open the
   * chat with it.
   */
  async requestLink (link: string, options?: LinkRequestOptions): Promise<PendingLink> {
    return requestLink({
      subscribe: async (identity, onMessage, subscribeOptions) => this.mailbox.subscribe(identity, onMessage, subscribeOptions),
      sendFrame: async (sender, recipient, frame) => this.mailbox.sendFrame(sender, recipient, frame),
      ack: async (identity, ids) => this.mailbox.ack(identity, ids),
      lists: this.lists,
      onError: err => { this.log.error('device link failed - %e', err) }
    }, link, options)
  }

  /** A person's devices as the ring holds them now: their own key first */
  async devices (person: string | PublicKey): Promise<DeviceInfo[]> {
    return this.lists.of(publicKeyOf(person))
  }

  /** The envelopes this node holds for others (ciphertext) and the live subscriptions it serves, for tests; not public API */
  get [mailboxInternals] (): { store: RecordStore, subscriptionCount: number, acknowledgementsKept: number } {
    return { store: this.store, subscriptionCount: this.server.subscriptionCount, acknowledgementsKept: this.tombstones.size + this.kept.size }
  }

  async start (): Promise<void> {
    await this.store.open()
    await this.tombstones.open()
    await this.kept.open()
    await this.server.start()
    // a node stopped and started again serves its users again
    this.mailbox.reopen()
  }

  /** Close subscriptions while their connections are still open */
  async beforeStop (): Promise<void> {
    await Promise.all([...this.chats].map(async chat => chat.close()))
    await this.mailbox.close()
  }

  async stop (): Promise<void> {
    await this.server.stop()
    await this.sweepAcknowledgements()
    await this.store.close()
  }

  /** Forget the tombstones and kept deletions whose envelopes would all have expired by now */
  private async sweepAcknowledgements (): Promise<void> {
    const now = Date.now()
    await this.tombstones.sweep(now).catch(err => { this.log.error('sweeping tombstones failed - %e', err) })
    await this.kept.sweep(now).catch(err => { this.log.error('sweeping kept deletions failed - %e', err) })
  }
}

/**
 * @throws InvalidOptionsError naming the setting that is wrong
 */
function checkedMailboxInit (init: ChordMailboxInit): { stampDifficulty: number, acceptance: MailboxAcceptance, maxSubscriptions: number, maxSubscriptionsPerPeer: number, maxSubscriptionsPerSubnet: number } {
  const stampDifficulty = init.stampDifficulty ?? DEFAULT_STAMP_DIFFICULTY
  if (!Number.isInteger(stampDifficulty) || stampDifficulty < 0 || stampDifficulty > MAX_STAMP_DIFFICULTY) {
    throw new InvalidOptionsError(`stampDifficulty must be an integer from 0 to ${MAX_STAMP_DIFFICULTY}, got ${String(init.stampDifficulty)}`)
  }
  const acceptance = { ...DEFAULT_MAILBOX_ACCEPTANCE, ...init.acceptance }
  for (const [name, value] of Object.entries(acceptance)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidOptionsError(`acceptance.${name} must be a positive integer, got ${String(value)}`)
    }
  }
  const maxSubscriptions = init.maxSubscriptions ?? MAX_SUBSCRIPTIONS
  const maxSubscriptionsPerPeer = init.maxSubscriptionsPerPeer ?? MAX_SUBSCRIPTIONS_PER_PEER
  const maxSubscriptionsPerSubnet = init.maxSubscriptionsPerSubnet ?? MAX_SUBSCRIPTIONS_PER_SUBNET
  for (const [name, value] of Object.entries({ maxSubscriptions, maxSubscriptionsPerPeer, maxSubscriptionsPerSubnet })) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidOptionsError(`${name} must be a positive integer, got ${String(value)}`)
    }
  }
  return { stampDifficulty, acceptance, maxSubscriptions, maxSubscriptionsPerPeer, maxSubscriptionsPerSubnet }
}

function chordServiceOf (components: ChordMailboxComponents, name: string): HasChordInternals {
  let service: unknown
  try {
    service = components[name]
  } catch {
    // libp2p's components throw for a service that is not there
  }
  if (service == null || typeof service !== 'object' || !(chordInternals in service)) {
    throw new InvalidOptionsError(`chordMailbox() builds on the chord() service: add it to libp2p's services as "${name}" (or name it with chordService)`)
  }
  return service as HasChordInternals
}

/**
 * The mailbox as a libp2p service, next to `chord()`:
 *
 * ```ts
 * services: { identify: identify(), chord: chord({ bootstrap }), mailbox: chordMailbox() }
 * ```
 */
export function chordMailbox (init: ChordMailboxInit = {}): (components: ChordMailboxComponents) => ChordMailbox {
  return (components) => new ChordMailbox(components, init)
}
