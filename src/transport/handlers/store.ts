/**
 * STORE: records for the namespace's store, taken under its rules (quotas, validity, tombstones).
 */
import { namespaceHandler } from './served-node.js'
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { WorkDone } from '../request-limits.js'
import type { StoreRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class StoreHandler implements RequestHandler<StoreRequest> {
  constructor (private readonly init: Pick<RequestHandlersInit, 'node'>) {}

  async handle (from: Asker, request: StoreRequest, done: WorkDone): Promise<Partial<Response>> {
    const receipt = await namespaceHandler(this.init.node, request.namespace).onStoreRecords(from.node, request.records)
    done.writtenBytes = receipt?.writtenBytes ?? 0
    return {}
  }
}
