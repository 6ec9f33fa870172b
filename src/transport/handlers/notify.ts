/**
 * NOTIFY: the asker believes it is our predecessor; the ring decides (Zave's rules).
 */
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { NotifyRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class NotifyHandler implements RequestHandler<NotifyRequest> {
  constructor (private readonly init: Pick<RequestHandlersInit, 'node'>) {}

  async handle (from: Asker, _request: NotifyRequest): Promise<Partial<Response>> {
    this.init.node.ringHandler.onNotify(from.node)
    return {}
  }
}
