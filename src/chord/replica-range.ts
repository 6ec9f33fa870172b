/**
 * Which keys this node keeps, by its own knowledge of the ring: what it takes a STORE for, and
 * which peers are its ring neighbours (whose repairs and handoffs it takes on trust).
 *
 * A node is one of the r replicas of every key in (p_r, self], where p_r is its r-th
 * predecessor. It learns its predecessors by asking each predecessor for its own (rehoming reads
 * the chain from here), `REPLICA_RANGE_GRACE_NODES` further than r: the grace margin. A node that joined in
 * front of us, or one that died and is not noticed yet, shifts our view of the chain by a node
 * for a while, and handoffs and repairs under way then must still land; so we keep
 * (p_(r+g), self]. Each predecessor a peer names is checked against the nodes our own routing
 * table knows: a node we know of between the named one and the one before it is taken instead,
 * so a predecessor that lies about its own predecessor widens our range only as far as the gap
 * in our knowledge.
 *
 * Until the chain has been walked (a node that has just joined, or lost its predecessor), and in
 * a ring of r + g nodes or fewer (where every node keeps every key), every key is taken. A
 * client keeps nobody's keys.
 */
import { TIMER_JITTER, DEFAULT_ANTI_ENTROPY_INTERVAL, REPLICA_RANGE_GRACE_NODES, REPLICA_RANGE_RECHECK_INTERVAL } from './constants.js'
import { distance, inHalfOpenInterval, inOpenInterval, ringIdFromBytes } from './id.js'
import { Periodic } from './periodic.js'
import type { RingId } from './id.js'
import type { ChordRing } from './ring.js'
import type { ChordRpc, NodeRef } from './rpc.js'

export interface ReplicaRangeInit {
  ring: ChordRing
  rpc: Pick<ChordRpc, 'getNeighbours'>
  /** predecessors beyond r whose keys are still taken; default REPLICA_RANGE_GRACE_NODES */
  graceNodes?: number
  /** ms between walks of the predecessor chain; default DEFAULT_ANTI_ENTROPY_INTERVAL */
  intervalMs?: number
  /** least ms between two walks that `recheck` asks for; default REPLICA_RANGE_RECHECK_INTERVAL */
  recheckIntervalMs?: number
  onError?(err: unknown): void
}

export class ReplicaRange {
  private readonly ring: ChordRing
  private readonly rpc: Pick<ChordRpc, 'getNeighbours'>
  private readonly length: number
  private readonly loop: Periodic
  /** our predecessors, nearest first, as last walked; undefined until walked */
  private chain?: NodeRef[]
  /** the lower end of the keys we take: (from, self]; undefined with a known chain means every key */
  private from?: RingId
  private walking?: Promise<void>
  private running = false
  /** walks after a change of neighbours under way */
  private settling = 0
  private readonly recheckInterval: number
  /** when `recheck` last walked the chain, ms since the epoch */
  private recheckedAt = Number.NEGATIVE_INFINITY

  constructor (init: ReplicaRangeInit) {
    this.ring = init.ring
    this.rpc = init.rpc
    this.length = init.ring.replicas + (init.graceNodes ?? REPLICA_RANGE_GRACE_NODES)
    this.recheckInterval = init.recheckIntervalMs ?? REPLICA_RANGE_RECHECK_INTERVAL
    this.loop = new Periodic(async () => { await this.refresh() }, {
      intervalMs: init.intervalMs ?? DEFAULT_ANTI_ENTROPY_INTERVAL,
      jitter: TIMER_JITTER,
      onError: init.onError
    })
  }

  /** Whether the chain has been walked: until then every key is taken */
  get known (): boolean {
    return this.chain != null
  }

  start (): void {
    this.running = true
    this.loop.start()
    this.refreshSoon()
  }

  stop (): void {
    this.running = false
    this.loop.stop()
  }

  /**
   * The neighbours changed: walk the chain again (once at a time), if running. Until that walk
   * ends every key is taken: the chain walked before the change may name nodes that are gone or
   * cut off (after a split, the other side's), and writes to the replica sets lookups name now
   * must land meanwhile.
   */
  refreshSoon (): void {
    if (this.running) {
      this.settling++
      // a walk under way began before the change: what it learns may be stale, so walk again after it
      const settle = async (): Promise<void> => {
        await this.walking?.catch(() => {})
        await this.refresh()
      }
      void settle().catch(() => {}).finally(() => { this.settling-- })
    }
  }

  /** Whether a STORE of `key` (a 32-byte ring position) is one this node takes */
  admits (key: Uint8Array): boolean {
    if (this.ring.clientMode) {
      return false
    }
    if (this.chain == null || this.from == null || this.settling > 0) {
      return true
    }
    return inHalfOpenInterval(ringIdFromBytes(key), this.from, this.ring.self.id)
  }

  /**
   * A STORE brings a key outside the range as last walked: walk the chain again first, unless a
   * recheck walked it less than the recheck interval ago. The chain can be stale where none of our
   * own neighbours changed: after a split, a node whose predecessor stayed put but whose r-th
   * predecessor was cut off keeps that node for its range's lower end, and turned away writes for
   * keys it now replicates until its next periodic walk. Resolves to whether it walked.
   */
  async recheck (): Promise<boolean> {
    if (!this.running || Date.now() - this.recheckedAt < this.recheckInterval) {
      return false
    }
    this.recheckedAt = Date.now()
    await this.refresh().catch(() => {})
    return true
  }

  /**
   * Our k-th predecessor (k ≥ 1) as last walked, each checked against our own routing table;
   * undefined until the chain has been walked, past the r + g it walks, or when the ring holds no
   * more than k nodes besides us
   */
  predecessor (k: number): NodeRef | undefined {
    return k >= 1 ? this.chain?.[k - 1] : undefined
  }

  /**
   * Whether `peer` is one of our ring neighbours, whose handoffs and repairs we take as theirs to
   * give: a predecessor of the chain, or one of our first r + g successors (our own table's)
   */
  isNeighbour (peer: string): boolean {
    const { table } = this.ring
    if (table.predecessor?.peer === peer || this.chain?.some(node => node.peer === peer) === true) {
      return true
    }
    return table.getSuccessors().slice(0, this.length).some(node => node.peer === peer)
  }

  /**
   * The keys `peer` is the primary of and we replicate, (its predecessor, peer], when it is one
   * of our predecessors as last walked (and not the farthest, whose own predecessor we have not
   * walked); undefined for any other peer and until the chain has been walked
   */
  rangeReplicatedFor (peer: string): { from: RingId, until: RingId } | undefined {
    const chain = this.chain ?? []
    const index = chain.findIndex(node => node.peer === peer)
    if (index < 0) {
      return undefined
    }
    // round the ring in fewer than r + g steps: the chain's farthest node precedes us as well
    const before = chain[index + 1] ?? (this.from == null ? this.ring.self : undefined)
    return before == null ? undefined : { from: before.id, until: chain[index].id }
  }

  /** Walk the predecessor chain now; one walk at a time */
  async refresh (): Promise<void> {
    this.walking ??= this.walk().finally(() => { this.walking = undefined })
    await this.walking
  }

  private async walk (): Promise<void> {
    const self = this.ring.self
    const first = this.ring.table.predecessor
    if (this.ring.clientMode || first == null) {
      // nobody in front of us (yet): every key may be ours
      this.chain = undefined
      this.from = undefined
      return
    }
    const chain: NodeRef[] = [first]
    const seen = new Set([self.peer, first.peer])
    /** the node named before the last one of the chain, when our table put another in its place */
    let namedInstead: NodeRef | undefined
    while (chain.length < this.length) {
      const last = chain[chain.length - 1]
      let named: NodeRef | undefined
      try {
        named = (await this.rpc.getNeighbours(last)).predecessor
      } catch (err) {
        if (namedInstead == null || seen.has(namedInstead.peer)) {
          throw err
        }
        // the node our table knew between does not answer (dead, or cut off by a partition, as
        // fingers across it are until they are next fixed): the one its successor named stands
        seen.delete(last.peer)
        chain[chain.length - 1] = namedInstead
        seen.add(namedInstead.peer)
        namedInstead = undefined
        continue
      }
      if (named == null || (named.peer !== self.peer && !this.ring.table.admits(named))) {
        // a gap we cannot see past (or a position the network's rules refuse, which is no ring
        // member): keep the walk we had, or take every key until the next one
        return
      }
      const next = this.closestKnownBefore(last, named)
      namedInstead = next === named ? undefined : named
      if (seen.has(next.peer)) {
        // round the ring in fewer than r + g steps: we keep every key
        this.chain = chain
        this.from = undefined
        return
      }
      seen.add(next.peer)
      chain.push(next)
    }
    this.chain = chain
    this.from = chain[chain.length - 1].id
  }

  /**
   * The predecessor of `node`: the one it named, unless our routing table knows a node between
   * the two, in which case the nearest such node before `node`
   */
  private closestKnownBefore (node: NodeRef, named: NodeRef): NodeRef {
    let best = named
    for (const known of this.ring.table.knownNodes()) {
      if (known.peer !== node.peer && inOpenInterval(known.id, best.id, node.id) && distance(known.id, node.id) < distance(best.id, node.id)) {
        best = known
      }
    }
    return best
  }
}
