/**
 * NOTIFY: the asker believes it is our predecessor; the ring decides (Zave's rules, and the
 * network's rules for positions). The asker sits where its authenticated PeerId and the proof it
 * sent put it.
 */
import { isPlain } from '../../chord/ring-position.js'
import { positionOf } from '../ring-id.js'
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { NotifyRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class NotifyHandler implements RequestHandler<NotifyRequest> {
  constructor (private readonly init: Pick<RequestHandlersInit, 'node'>) {}

  async handle (from: Asker, request: NotifyRequest): Promise<Partial<Response>> {
    const { proof } = request
    const node = isPlain(proof) ? from.node : { id: positionOf(from.peerId, proof), peer: from.node.peer, proof }
    this.init.node.ringHandler.onNotify(node)
    return {}
  }
}
