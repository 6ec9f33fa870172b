/**
 * An in-process network of ring nodes with no libp2p: each node is the same composition a real
 * node runs (`RingNode`: ring, replication, rehoming), and its `RingRpc` calls the target's
 * handlers directly. Thousands of nodes fit in one process, so properties that need a large ring
 * (O(log N) routing, healing after mass failure) can be shown exactly. Rounds are driven by hand,
 * so a test reads "after k rounds", not "after k seconds".
 */
import { hashToRingId, inHalfOpenInterval } from '../../src/chord/id.js'
import { RingNode } from '../../src/chord/ring-node.js'
import { statedNeighbours, storeAckOf } from '../../src/chord/rpc.js'
import { candidatePositions } from '../../src/chord/ring-position.js'
import { DEFAULT_TTL_POLICY } from '../../src/chord/ttl.js'
import { LookupFailedError, RemoteError, RequestTimeoutError } from '../../src/errors.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import { MAX_OWNER_ROUTE_HOPS } from '../../src/transport/constants.js'
import type { RingId } from '../../src/chord/id.js'
import type { StoreLimits } from '../../src/storage/store-limits.js'
import type { PositionRules } from '../../src/chord/position-rules.js'
import type { RecordStore } from '../../src/chord/record.js'
import type { Replication } from '../../src/chord/replication.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { CarriedRecord, DeletionRpc, FindSuccessorReply, NamespaceName, NeighboursReply, NodeRef, OwnerStatement, PingReply, RecordRpc, RingRpc } from '../../src/chord/rpc.js'

export class NodeDownError extends Error {
  name = 'NodeDownError'
}

export interface SimulatorInit {
  replicas?: number
  /**
   * the network's rules for positions: nodes are admitted by them, and a node that joins through
   * `grow` chooses among the `choices` candidates of its name (an empty nonce: difficulty 0)
   */
  positions?: PositionRules
  /** told of every remote call, before it is made (tests watch who sends what) */
  onMessage?(from: NodeRef, to: NodeRef, kind: string): void
  /** every node confirms its lookups' owners (the library's default); false shows what an unchecked lookup returns */
  verifyLookups?: boolean
  /**
   * verified lookups are tried recursively first (the library's default). Off unless asked for:
   * the simulator's scenarios measure the iterative lookup and what maintenance makes of it
   */
  recursiveLookups?: boolean
  /** each node's record store's quotas; default the store's own */
  storeLimits?: Partial<StoreLimits>
}

export interface SimNodeOptions {
  /** use the ring without holding a position in it */
  clientMode?: boolean
  /** a client asks a ring node to run its lookups (the default) or walks the ring itself */
  delegateLookups?: boolean
}

export interface SimRecords {
  store: RecordStore
  replication: Replication
}

export class Simulator {
  readonly nodes = new Map<string, RingNode>()
  readonly rings = new Map<string, ChordRing>()
  readonly alive = new Set<string>()
  readonly records = new Map<string, SimRecords>()
  /** remote calls made, of every kind (for cost measurements) */
  messages = 0
  /** remote calls made, by method */
  readonly messagesByKind = new Map<string, number>()
  /** remote calls whose target was down: each would be a timeout on a real network */
  timeouts = 0
  private readonly replicas?: number
  private readonly positions?: PositionRules
  private readonly verifyLookups?: boolean
  private readonly recursiveLookups: boolean
  private readonly storeLimits?: Partial<StoreLimits>
  private readonly onMessage: (from: NodeRef, to: NodeRef, kind: string) => void

  constructor (init: SimulatorInit = {}) {
    this.replicas = init.replicas
    this.positions = init.positions
    this.verifyLookups = init.verifyLookups
    this.recursiveLookups = init.recursiveLookups ?? false
    this.storeLimits = init.storeLimits
    this.onMessage = init.onMessage ?? (() => {})
  }

  /** Add a node named `name`; it is not part of any ring until it joins */
  async addNode (name: string, options: SimNodeOptions = {}): Promise<ChordRing> {
    const self: NodeRef = { id: hashToRingId(new TextEncoder().encode(name)), peer: name }
    const store = await openLevelStore({ limits: this.storeLimits })
    const node = new RingNode({
      self,
      rpc: this.rpcFor(self),
      store,
      ttl: DEFAULT_TTL_POLICY,
      replicas: this.replicas,
      clientMode: options.clientMode,
      delegateLookups: options.delegateLookups,
      positions: this.positions,
      verifyLookups: this.verifyLookups,
      recursiveLookups: this.recursiveLookups
    })
    this.nodes.set(name, node)
    this.records.set(name, { store, replication: node.records })
    this.rings.set(name, node.ring)
    this.alive.add(name)
    return node.ring
  }

  recordsOf (name: string): SimRecords {
    const records = this.records.get(name)
    if (records == null) {
      throw new Error(`no records on ${name}`)
    }
    return records
  }

  /** Create `count` nodes that join one after another through a random earlier node */
  async grow (count: number, random: () => number, prefix = 'node'): Promise<void> {
    const start = this.rings.size
    for (let i = 0; i < count; i++) {
      const members = this.liveRings()
      const ring = await this.addNode(`${prefix}-${start + i}`)
      if (members.length > 0) {
        const entry = members[Math.floor(random() * members.length)]
        await ring.join(entry.self, { candidates: this.candidatesOf(ring.self.peer) })
      }
    }
  }

  /** The positions a node named `name` may choose among, when the network lets it choose */
  private candidatesOf (name: string): NodeRef[] | undefined {
    if (this.positions == null || this.positions.choices === 1) {
      return undefined
    }
    return candidatePositions(new TextEncoder().encode(name), new Uint8Array(0), this.positions.choices)
      .map(({ id, proof }) => ({ id, peer: name, proof }))
  }

  /** Kill a node: it stops answering, without a goodbye */
  kill (name: string): void {
    this.alive.delete(name)
  }

  /** A killed node answers again, with the state it had when it was killed (a partition heals) */
  revive (name: string): void {
    if (this.nodes.has(name)) {
      this.alive.add(name)
    }
  }

  /** A graceful leave: the node hands its records over, tells its neighbours, then stops answering */
  async leave (name: string): Promise<void> {
    await this.nodes.get(name)?.leave(LEAVE_HANDOFF_TIMEOUT)
    this.alive.delete(name)
  }

  liveRings (): ChordRing[] {
    return [...this.alive].map(name => this.ringOf(name))
  }

  ringOf (name: string): ChordRing {
    const ring = this.rings.get(name)
    if (ring == null) {
      throw new Error(`no node ${name}`)
    }
    return ring
  }

  /** One maintenance round on every live node */
  async round (): Promise<void> {
    await Promise.all(this.liveRings().map(async ring => ring.maintain().catch(() => {})))
  }

  /** One anti-entropy round on every live node */
  async antiEntropyRound (): Promise<void> {
    await Promise.all(this.liveRings().map(async ring => this.recordsOf(ring.self.peer).replication.antiEntropy().catch(() => {})))
  }

  /**
   * One rehoming round on every live ring member, each after walking its predecessor chain (the
   * walk a real node runs on its own timer); resolves to how many records moved
   */
  async rehomeRound (): Promise<number> {
    const members = this.liveRings().filter(ring => !ring.clientMode).map(ring => this.nodes.get(ring.self.peer))
    const moved = await Promise.all(members.map(async node => {
      await node?.replicaRange.refresh().catch(() => {})
      return node?.rehome().catch(() => 0) ?? 0
    }))
    return moved.reduce((sum, count) => sum + count, 0)
  }

  /** Run rounds until `condition` holds; fail after `maxRounds` */
  async roundsUntil (condition: () => boolean, maxRounds: number): Promise<number> {
    for (let rounds = 0; rounds <= maxRounds; rounds++) {
      if (condition()) {
        return rounds
      }
      await this.round()
    }
    throw new Error(`condition not reached within ${maxRounds} rounds`)
  }

  /** Live ring members' ids in ring order (clients hold no position): the oracle every answer is checked against */
  sortedLiveIds (): NodeRef[] {
    return this.liveRings().filter(r => !r.clientMode).map(r => r.self).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** The live node that owns `id` according to the sorted list of ring ids */
  expectedOwner (id: RingId): NodeRef {
    const sorted = this.sortedLiveIds()
    return sorted.find(n => n.id >= id) ?? sorted[0]
  }

  /** Every live node's successor and predecessor are its true ring neighbours */
  isConsistent (): boolean {
    const sorted = this.sortedLiveIds()
    return sorted.every((node, i) => {
      const ring = this.ringOf(node.peer)
      const next = sorted[(i + 1) % sorted.length]
      const prev = sorted[(i - 1 + sorted.length) % sorted.length]
      const successorOk = sorted.length === 1 ? ring.table.getSuccessors().length === 0 : ring.table.successor.peer === next.peer
      const predecessorOk = sorted.length === 1 || ring.table.predecessor?.peer === prev.peer
      return successorOk && predecessorOk
    })
  }

  /** Whether `node` lies in the key's owner interval (a cross-check independent of expectedOwner) */
  owns (node: NodeRef, id: RingId): boolean {
    const predecessor = this.ringOf(node.peer).table.predecessor
    return predecessor == null || inHalfOpenInterval(id, predecessor.id, node.id)
  }

  private reach (self: NodeRef, to: NodeRef, kind: string): void {
    this.messages++
    this.messagesByKind.set(kind, (this.messagesByKind.get(kind) ?? 0) + 1)
    this.onMessage(self, to, kind)
    if (!this.alive.has(to.peer)) {
      this.timeouts++
    }
    if (!this.alive.has(self.peer) || !this.alive.has(to.peer)) {
      throw new NodeDownError(`${to.peer} is down`)
    }
  }

  private namespaceRpcFor (self: NodeRef, name: NamespaceName): RecordRpc & DeletionRpc {
    const target = (to: NodeRef, kind: string): NonNullable<ReturnType<RingNode['handlerOf']>> => {
      this.reach(self, to, kind)
      const handler = this.nodes.get(to.peer)?.handlerOf(name)
      if (handler == null) {
        throw new Error(`${to.peer} keeps no ${name}`)
      }
      return handler
    }
    return {
      storeRecords: async (to, records, options) => copy(storeAckOf(await target(to, 'storeRecords').onStoreRecords(self, copy(records), copy(options?.deletions)))),
      fetchRecords: async (to, key) => copy(await target(to, 'fetchRecords').onFetchRecords(self, key)),
      rangeDigest: async (to, from, until) => copy(await target(to, 'rangeDigest').onRangeDigest(self, from, until)),
      rangeSummaries: async (to, from, until) => copy(await target(to, 'rangeSummaries').onRangeSummaries(self, from, until)),
      deleteRecords: async (to, deletion) => { await target(to, 'deleteRecords').onDeleteRecords?.(self, copy(deletion)) }
    }
  }

  private rpcFor (self: NodeRef): RingRpc {
    const target = (to: NodeRef, kind: string): ChordRing => {
      this.reach(self, to, kind)
      return this.ringOf(to.peer)
    }
    const namespaces = {
      records: this.namespaceRpcFor(self, 'records'),
      mailbox: this.namespaceRpcFor(self, 'mailbox'),
      owned: this.namespaceRpcFor(self, 'owned')
    }
    return {
      namespace: name => namespaces[name],
      getNeighbours: async (to): Promise<NeighboursReply> => copy(target(to, 'getNeighbours').onGetNeighbours(self)),
      notify: async (to, from): Promise<void> => { target(to, 'notify').onNotify(copy(from)) },
      findSuccessor: async (to, id): Promise<FindSuccessorReply> => copy(target(to, 'findSuccessor').onFindSuccessor(self, id)),
      leaving: async (to, neighbours): Promise<void> => { target(to, 'leaving').onLeaving(self, copy(neighbours)) },
      ping: async (to, options): Promise<PingReply> => copy(target(to, 'ping').onPing(self, options?.neighboursDigest)),
      delegateLookup: async (to, id) => copy(await target(to, 'delegateLookup').onDelegatedLookup(self, id)),
      findOwner: async (to, id, options) => this.findOwner(self, to, id, options?.successorCount, options?.carry)
    }
  }

  /**
   * A recursive lookup passed from node to node, each one reached from the one before it, as
   * FIND_OWNER goes on libp2p. The statement speaks for the node that made it, whatever that node
   * names as the owner: on libp2p it is signed with that node's key. A carried record is stored
   * by the owner as a STORE from the node that handed it the request (on libp2p, signed by the
   * asker so that no relay can change it)
   */
  private async findOwner (self: NodeRef, to: NodeRef, id: RingId, successorCount?: number, carry?: CarriedRecord): Promise<OwnerStatement> {
    let from = self
    let at = to
    let hopsLeft = MAX_OWNER_ROUTE_HOPS
    for (let hops = 1; ; hops++) {
      try {
        this.reach(from, at, 'findOwner')
      } catch (err) {
        if (from === self) {
          // on a network, a node that is down is a request that times out
          throw new RequestTimeoutError(`${at.peer} is down`, { cause: err })
        }
        // the node before the silent one stops routing through it, and answers its asker with an error
        this.ringOf(from.peer).onPassedOnUnanswered(at)
        throw new RemoteError(`${from.peer} got no answer from ${at.peer}`, { cause: err })
      }
      const step = this.ringOf(at.peer).onFindOwner(from, id)
      if ('owner' in step) {
        const stored = carry == null ? false : await this.storeCarried(self, from, at, carry)
        return copy({ owner: at, neighbours: statedNeighbours(step.neighbours, successorCount), hops, ...(stored ? { stored: true } : {}) })
      }
      if (hopsLeft === 0) {
        throw new LookupFailedError(`a recursive lookup of ${id.toString(16)} reached ${at.peer}, not its owner, with no hops left`)
      }
      hopsLeft = step.lastHop === true ? 0 : hopsLeft - 1
      from = at
      at = step.next
    }
  }

  /**
   * Whether `owner` took the record carried to it, as a STORE from `from`, the node that handed it
   * the request, and one whose answer would have said no more (no deletions naming it)
   */
  private async storeCarried (origin: NodeRef, from: NodeRef, owner: NodeRef, { namespace, record }: CarriedRecord): Promise<boolean> {
    try {
      const ack = storeAckOf(await this.nodes.get(owner.peer)?.handlerOf(namespace)?.onStoreRecords(from, copy([record]), [], { carriedFor: origin.peer }))
      return ack.declined?.length === 0 && ack.deletions.length === 0
    } catch {
      return false
    }
  }
}

/** ms a leaving node may spend handing each namespace over (in memory, it never needs long) */
const LEAVE_HANDOFF_TIMEOUT = 10_000

/** Replies cross a "network": the caller must never share the callee's arrays */
function copy<T> (value: T): T {
  return structuredClone(value)
}

/** A seeded pseudo-random generator (mulberry32), so every simulated scenario can be replayed */
/** A simulated ring of `size` nodes, grown from `seed`, consistent and then settled for a few rounds more (fingers filled) */
export async function settledSimulation (size: number, seed: number, init: SimulatorInit = {}): Promise<{ sim: Simulator, random: () => number }> {
  const random = seededRandom(seed)
  const sim = new Simulator(init)
  await sim.grow(size, random)
  await sim.roundsUntil(() => sim.isConsistent(), 300)
  for (let i = 0; i < 3 * Math.ceil(Math.log2(size)); i++) {
    await sim.round()
  }
  return { sim, random }
}

export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
