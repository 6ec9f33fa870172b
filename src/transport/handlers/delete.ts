/**
 * DELETE: records removed on their owner's signature, which the namespace checks itself. Only
 * namespaces with owners (the mailbox) take deletions; plain records only expire.
 */
import { ForbiddenError } from '../../errors.js'
import { namespaceHandler } from './served-node.js'
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { DeleteRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class DeleteHandler implements RequestHandler<DeleteRequest> {
  constructor (private readonly init: Pick<RequestHandlersInit, 'node'>) {}

  async handle (from: Asker, request: DeleteRequest): Promise<Partial<Response>> {
    const handler = namespaceHandler(this.init.node, request.namespace)
    if (handler.onDeleteRecords == null) {
      throw new ForbiddenError(`${request.namespace} are not deleted, they expire`)
    }
    await handler.onDeleteRecords(from.node, request.deletion)
    return {}
  }
}
