/**
 * The shape every /chord/1.0.0 request handler has, and what handlers are built from.
 */
import type { ServedNode } from './served-node.js'
import type { WorkDone } from '../request-limits.js'
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
  /**
   * The answer's fields (type and status are the server's); throws to answer with an ERROR.
   * A handler whose work the response does not show (bytes written, records read) tells it in
   * `done`, which the asker's budgets are charged with.
   */
  handle(from: Asker, request: Request, done: WorkDone): Promise<Partial<Response>>
}

export interface RequestHandlersInit {
  node: ServedNode
  wirePeers: WirePeers
}
