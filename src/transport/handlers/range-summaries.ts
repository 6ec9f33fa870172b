/**
 * RANGE_SUMMARIES: the records in a ring interval without their values (anti-entropy lists them
 * where digests differ).
 */
import { toWireSummary } from '../wire-records.js'
import { namespaceHandler } from './served-node.js'
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { RangeSummariesRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class RangeSummariesHandler implements RequestHandler<RangeSummariesRequest> {
  constructor (private readonly init: Pick<RequestHandlersInit, 'node'>) {}

  async handle (from: Asker, request: RangeSummariesRequest): Promise<Partial<Response>> {
    const summaries = await namespaceHandler(this.init.node, request.namespace).onRangeSummaries(from.node, request.start, request.end)
    return { summaries: summaries.map(toWireSummary) }
  }
}
