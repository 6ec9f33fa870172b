/**
 * The shape every /chord/1.0.0 request handler has, and what handlers are built from.
 */
import type { ServedNode } from './served-node.js'
import type { ValidRequest } from '../validate.js'
import type { WirePeers } from '../wire-peers.js'
import type { NodeRef } from '../../chord/rpc.js'
import type { Response } from '../../protocol/generated/chord.js'
import type { PeerId } from '@libp2p/interface'

/** Who asked: the ring node of the connection's Noise-authenticated peer */
export interface Asker {
  node: NodeRef
  peerId: PeerId
}

export interface RequestHandler<Request extends ValidRequest = ValidRequest> {
  /** The answer's fields (type and status are the server's); throws to answer with an ERROR */
  handle(from: Asker, request: Request): Promise<Partial<Response>>
}

export interface RequestHandlersInit {
  node: ServedNode
  wirePeers: WirePeers
}
