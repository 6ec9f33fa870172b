/**
 * The /chord/1.0.0 transport alone, for tests: an RPC client and a request server on one libp2p
 * node, answering through handlers the test supplies instead of a ring.
 */
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { RequestServer } from '../../src/transport/request-server.js'
import { RpcClient } from '../../src/transport/rpc-client.js'
import { WirePeers } from '../../src/transport/wire-peers.js'
import type { RingId } from '../../src/chord/id.js'
import type { ChordRecord, RangeDigest, RecordSummary } from '../../src/chord/record.js'
import type {
  ChordRpcHandler, DeletionRpc, FindOwnerOptions, FindSuccessorOptions, FindSuccessorReply, NamespaceHandler, NamespaceName, Neighbours, NeighboursReply, NodeRef, PingOptions, PingReply, RecordRpc,
  OwnerStatement, RecordRpcHandler, RpcOptions, StoreAck, StoreOptions
} from '../../src/chord/rpc.js'
import type { FindOwnerInit } from '../../src/transport/handlers/handler.js'
import type { RequestServerInit } from '../../src/transport/request-server.js'
import type { RpcClientInit } from '../../src/transport/rpc-client.js'
import type { WirePeersInit } from '../../src/transport/wire-peers.js'
import type { ChordLibp2p, ChordLibp2pOptions } from '../../src/node/libp2p.js'
import type { PrivateKey } from '@libp2p/interface'

export interface TransportInit extends Omit<RpcClientInit, 'wirePeers'>, Pick<RequestServerInit, 'maxInboundStreams' | 'maxOutboundStreams' | 'maxDelegatedPerWindow' | 'maxDelegatedPerAskerPerWindow' | 'maxPendingAnswerBytesPerPeer' | 'maxTotalPendingAnswerBytes' |
  'maxPendingAnswerBytesPerSubnet' | 'smallAnswerReserveBytes' | 'subnetOf' | 'isNeighbour' | 'onServed'>, Pick<WirePeersInit, 'isPrivateConnection'> {
  /** answers ring requests and plain-record requests */
  handler: ChordRpcHandler & RecordRpcHandler
  /** answers requests in the mailbox namespace; without it they are refused */
  mailbox?: NamespaceHandler
  /** answers requests in the owned namespace; without it they are refused */
  owned?: NamespaceHandler
  /** ms, the server's idle timeout */
  streamIdleTimeout?: number
  /** ms, the server's deadline for a begun request to arrive whole */
  requestReadTimeout?: number
  /** ms, the server's answer timeout */
  answerTimeout?: number
  requestLimits?: RequestServerInit['limits']
  /** the budgets the server charges, in place of its own by `requestLimits` (one that tells ring neighbours) */
  limiter?: RequestServerInit['limiter']
  /** the node's libp2p key: with it, the node takes part in recursive lookups (signs as an owner, passes requests on) */
  privateKey?: PrivateKey
  /** how the node passes FIND_OWNERs on, given the real way (a hostile relay); default the real way */
  relay?(forwarder: FindOwnerInit['forwarder']): FindOwnerInit['forwarder']
  /** FIND_OWNERs the node passes on per window; default MAX_FORWARDED_LOOKUPS_PER_WINDOW */
  maxForwardedPerWindow?: number
  /** FIND_OWNERs the node passes on per window for one asker; default MAX_FORWARDED_LOOKUPS_PER_ASKER_PER_WINDOW */
  maxForwardedPerAskerPerWindow?: number
  /** ms an owner holds its answer for a carried record's write (FindOwnerInit) */
  carriedStoreWait?: number
  /** ms a request waits for a place among those in flight to the next node (FindOwnerInit) */
  passOnQueueWait?: number
}

/**
 * Answers of a peer that is no ring node: it knows nobody, and refuses whatever would need more;
 * `overrides` give the answers a test cares about
 */
export function strangerHandler (overrides: Partial<ChordRpcHandler & RecordRpcHandler> = {}): ChordRpcHandler & RecordRpcHandler {
  const refuse = async (): Promise<never> => { throw new Error('not a ring node') }
  return {
    onPing: () => ({}),
    onGetNeighbours: () => ({ successors: [] }),
    onNotify: () => {},
    onFindSuccessor: () => ({ done: false, closer: [] }),
    onLeaving: () => {},
    isNeighbour: () => false,
    onDelegatedLookup: refuse,
    onFindOwner: () => { throw new Error('not a ring node') },
    onPassedOnUnanswered: () => {},
    onStoreRecords: refuse,
    onFetchRecords: refuse,
    onRangeDigest: refuse,
    onRangeSummaries: refuse,
    ...overrides
  }
}

/** The handler of a node that only sends: it answers nobody anything (a stranger that attacks) */
export const ANSWERS_NOTHING: ChordRpcHandler & RecordRpcHandler = {
  onGetNeighbours: () => ({ successors: [] }),
  onNotify: () => {},
  onFindSuccessor: () => ({ done: false, closer: [] }),
  onDelegatedLookup: async () => [],
  onFindOwner: () => { throw new Error('this node passes no lookups on') },
  onPassedOnUnanswered: () => {},
  onLeaving: () => {},
  isNeighbour: () => false,
  onPing: () => ({}),
  onStoreRecords: async () => {},
  onFetchRecords: async () => [],
  onRangeDigest: async () => ({ count: 0, hash: new Uint8Array(32) }),
  onRangeSummaries: async () => []
}

export class TransportUnderTest {
  private readonly client: RpcClient
  private readonly server: RequestServer

  constructor (libp2p: ChordLibp2p, init: TransportInit) {
    const wirePeers = new WirePeers(libp2p, { isPrivateConnection: init.isPrivateConnection })
    this.client = new RpcClient(libp2p, { ...init, wirePeers })
    const namespaces: Partial<Record<NamespaceName, NamespaceHandler>> = { records: init.handler, mailbox: init.mailbox, owned: init.owned }
    this.server = new RequestServer(libp2p, {
      node: { ringHandler: init.handler, handlerOf: name => namespaces[name] },
      wirePeers,
      limiter: init.limiter,
      idleTimeout: init.streamIdleTimeout,
      readTimeout: init.requestReadTimeout,
      answerTimeout: init.answerTimeout,
      maxInboundStreams: init.maxInboundStreams,
      maxOutboundStreams: init.maxOutboundStreams,
      maxPendingAnswerBytesPerPeer: init.maxPendingAnswerBytesPerPeer,
      maxTotalPendingAnswerBytes: init.maxTotalPendingAnswerBytes,
      maxPendingAnswerBytesPerSubnet: init.maxPendingAnswerBytesPerSubnet,
      smallAnswerReserveBytes: init.smallAnswerReserveBytes,
      subnetOf: init.subnetOf,
      isNeighbour: init.isNeighbour,
      onServed: init.onServed,
      limits: init.requestLimits,
      maxDelegatedPerWindow: init.maxDelegatedPerWindow,
      maxDelegatedPerAskerPerWindow: init.maxDelegatedPerAskerPerWindow,
      findOwner: init.privateKey == null
        ? undefined
        : {
            privateKey: init.privateKey,
            forwarder: init.relay?.(this.client) ?? this.client,
            maxForwardedPerWindow: init.maxForwardedPerWindow,
            maxForwardedPerAskerPerWindow: init.maxForwardedPerAskerPerWindow,
            requestTimeout: init.requestTimeout,
            carriedStoreWait: init.carriedStoreWait,
            passOnQueueWait: init.passOnQueueWait
          }
    })
  }

  async start (): Promise<void> {
    await this.client.start()
    await this.server.start()
  }

  async stop (): Promise<void> {
    await this.server.stop()
    await this.client.stop()
  }

  /** Bytes of the server's answers `peer` (or, without it, every peer) has not taken yet */
  pendingAnswerBytes (peer?: string): number {
    return this.server.pendingAnswerBytes(peer)
  }

  async getNeighbours (to: NodeRef, options?: RpcOptions): Promise<NeighboursReply> {
    return this.client.getNeighbours(to, options)
  }

  async notify (to: NodeRef, self: NodeRef, options?: RpcOptions): Promise<void> {
    await this.client.notify(to, self, options)
  }

  async findSuccessor (to: NodeRef, id: RingId, options?: FindSuccessorOptions): Promise<FindSuccessorReply> {
    return this.client.findSuccessor(to, id, options)
  }

  async findOwner (to: NodeRef, id: RingId, options?: FindOwnerOptions): Promise<OwnerStatement> {
    return this.client.findOwner(to, id, options)
  }

  async delegateLookup (to: NodeRef, id: RingId, options?: RpcOptions): Promise<NodeRef[]> {
    return this.client.delegateLookup(to, id, options)
  }

  async leaving (to: NodeRef, neighbours: Neighbours, options?: RpcOptions): Promise<void> {
    await this.client.leaving(to, neighbours, options)
  }

  async ping (to: NodeRef, options?: PingOptions): Promise<PingReply> {
    return this.client.ping(to, options)
  }

  async storeRecords (to: NodeRef, records: ChordRecord[], options?: StoreOptions): Promise<StoreAck> {
    return this.client.namespace('records').storeRecords(to, records, options)
  }

  async fetchRecords (to: NodeRef, key: Uint8Array, options?: RpcOptions): Promise<ChordRecord[]> {
    return this.client.namespace('records').fetchRecords(to, key, options)
  }

  async rangeDigest (to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RangeDigest> {
    return this.client.namespace('records').rangeDigest(to, from, until, options)
  }

  async rangeSummaries (to: NodeRef, from: RingId, until: RingId, options?: RpcOptions): Promise<RecordSummary[]> {
    return this.client.namespace('records').rangeSummaries(to, from, until, options)
  }

  /** The record messages addressed to other nodes' stores of a namespace */
  namespaceRpc (name: NamespaceName): RecordRpc & DeletionRpc {
    return this.client.namespace(name)
  }

  /** The record messages addressed to other nodes' mailbox stores, with owner-signed deletes */
  mailboxRpc (): RecordRpc & DeletionRpc {
    return this.client.namespace('mailbox')
  }
}

/**
 * libp2p nodes on 127.0.0.1, with `options` (and each node's own), and the transports they serve,
 * all stopped after each test of the suite it is called in (it registers the afterEach)
 */
export function nodesStoppedAfterEach (options: ChordLibp2pOptions = {}): {
  startLibp2p(own?: ChordLibp2pOptions): Promise<ChordLibp2p>
  serve(node: ChordLibp2p, init: TransportInit): Promise<TransportUnderTest>
} {
  let libp2ps: ChordLibp2p[] = []
  let services: TransportUnderTest[] = []
  afterEach(async () => {
    await Promise.all(services.map(async service => service.stop()))
    await Promise.all(libp2ps.map(async libp2p => libp2p.stop()))
    libp2ps = []
    services = []
  })
  return {
    async startLibp2p (own = {}) {
      const libp2p = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'], peerExchange: false, ...options, ...own })
      libp2ps.push(libp2p)
      return libp2p
    },
    async serve (node, init) {
      const service = new TransportUnderTest(node, init)
      await service.start()
      services.push(service)
      return service
    }
  }
}
