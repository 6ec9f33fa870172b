/**
 * A node is part of its own replica sets, and a lookup may name it: a call the core addresses to
 * itself is answered by its own handlers, never sent to the transport (a libp2p node cannot dial
 * itself). Answers are copied, as if they had crossed the wire, so caller and callee never share
 * state.
 */
import { storeAckOf } from './rpc.js'
import type {
  ChordRpcHandler, DeletionRpc, FindOwnerOptions, FindSuccessorOptions, FindSuccessorReply, NamespaceHandler, NamespaceName, Neighbours, NeighboursReply, NodeRef, OwnerStatement, PingOptions, PingReply, RecordRpc,
  RingRpc, RpcOptions, StoreAck, StoreOptions
} from './rpc.js'
import type { RingId } from './id.js'
import type { ChordRecord, RangeDigest, RecordSummary } from './record.js'

/** The node's own answers: its ring, and the namespaces it keeps */
export interface LocalNode {
  /** the node, at its current position */
  readonly self: NodeRef
  readonly ringHandler: ChordRpcHandler
  handlerOf(name: NamespaceName): NamespaceHandler | undefined
}

export class SelfShortcut implements RingRpc {
  private readonly namespaces = new Map<NamespaceName, RecordRpc & DeletionRpc>()

  constructor (private readonly rpc: RingRpc, private readonly local: LocalNode) {}

  private get self (): NodeRef {
    return this.local.self
  }

  async getNeighbours (to: NodeRef, options?: RpcOptions): Promise<NeighboursReply> {
    return this.isSelf(to) ? structuredClone(this.local.ringHandler.onGetNeighbours(this.self)) : this.rpc.getNeighbours(to, options)
  }

  async notify (to: NodeRef, self: NodeRef, options?: RpcOptions): Promise<void> {
    if (this.isSelf(to)) {
      this.local.ringHandler.onNotify(self)
      return
    }
    await this.rpc.notify(to, self, options)
  }

  async findSuccessor (to: NodeRef, id: RingId, options?: FindSuccessorOptions): Promise<FindSuccessorReply> {
    return this.isSelf(to) ? structuredClone(this.local.ringHandler.onFindSuccessor(this.self, id)) : this.rpc.findSuccessor(to, id, options)
  }

  async leaving (to: NodeRef, neighbours: Neighbours, options?: RpcOptions): Promise<void> {
    if (this.isSelf(to)) {
      this.local.ringHandler.onLeaving(this.self, structuredClone(neighbours))
      return
    }
    await this.rpc.leaving(to, neighbours, options)
  }

  async ping (to: NodeRef, options?: PingOptions): Promise<PingReply> {
    return this.isSelf(to) ? this.local.ringHandler.onPing(this.self, options?.neighboursDigest) : this.rpc.ping(to, options)
  }

  async delegateLookup (to: NodeRef, id: RingId, options?: RpcOptions): Promise<NodeRef[]> {
    return this.isSelf(to) ? structuredClone(await this.local.ringHandler.onDelegatedLookup(this.self, id)) : this.rpc.delegateLookup(to, id, options)
  }

  /**
   * Never addressed to us: a recursive lookup starts from our own table at the nearest node before
   * the id, which is another node (one our table answers for itself is not sent at all)
   */
  async findOwner (to: NodeRef, id: RingId, options?: FindOwnerOptions): Promise<OwnerStatement> {
    return this.rpc.findOwner(to, id, options)
  }

  namespace (name: NamespaceName): RecordRpc & DeletionRpc {
    let rpc = this.namespaces.get(name)
    if (rpc == null) {
      rpc = this.namespaceRpc(name)
      this.namespaces.set(name, rpc)
    }
    return rpc
  }

  private namespaceRpc (name: NamespaceName): RecordRpc & DeletionRpc {
    const remote = this.rpc.namespace(name)
    const local = (): NamespaceHandler => {
      const handler = this.local.handlerOf(name)
      if (handler == null) {
        throw new Error(`this node keeps no ${name}`)
      }
      return handler
    }
    return {
      storeRecords: async (to: NodeRef, records: ChordRecord[], options?: StoreOptions): Promise<StoreAck> => this.isSelf(to)
        ? structuredClone(storeAckOf(await local().onStoreRecords(this.self, structuredClone(records), structuredClone(options?.deletions))))
        : remote.storeRecords(to, records, options),
      fetchRecords: async (to: NodeRef, key: Uint8Array, options?: RpcOptions): Promise<ChordRecord[]> =>
        this.isSelf(to) ? structuredClone(await local().onFetchRecords(this.self, key)) : remote.fetchRecords(to, key, options),
      rangeDigest: async (to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RangeDigest> =>
        this.isSelf(to) ? local().onRangeDigest(this.self, from, until) : remote.rangeDigest(to, from, until, options),
      rangeSummaries: async (to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RecordSummary[]> =>
        this.isSelf(to) ? local().onRangeSummaries(this.self, from, until) : remote.rangeSummaries(to, from, until, options),
      deleteRecords: async (to, deletion, options) => {
        if (!this.isSelf(to)) {
          await remote.deleteRecords(to, deletion, options)
          return
        }
        const handler = local()
        if (handler.onDeleteRecords == null) {
          throw new Error(`${name} are not deleted, they expire`)
        }
        await handler.onDeleteRecords(this.self, structuredClone(deletion))
      }
    }
  }

  private isSelf (node: NodeRef): boolean {
    return node.peer === this.self.peer
  }
}
