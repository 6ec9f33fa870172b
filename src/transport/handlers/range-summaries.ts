/**
 * RANGE_SUMMARIES: the records in a ring interval without their values (anti-entropy lists them
 * where digests differ).
 */
import { toWireSummary } from '../wire-records.js'
import { countedScan } from './counted-scan.js'
import { namespaceHandler } from './served-node.js'
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { WorkDone } from '../request-limits.js'
import type { RangeSummariesRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class RangeSummariesHandler implements RequestHandler<RangeSummariesRequest> {
  constructor (private readonly init: Pick<RequestHandlersInit, 'node'>) {}

  async handle (from: Asker, request: RangeSummariesRequest, done: WorkDone, scanLimit?: number): Promise<Partial<Response>> {
    // refused, a range too large to list has been read up to its limit; one the namespace lists
    // for nobody but its primary, not at all
    const summaries = await countedScan(done, scanLimit, async tally => namespaceHandler(this.init.node, request.namespace).onRangeSummaries(from.node, request.start, request.end, { tally }))
    return { summaries: summaries.map(toWireSummary) }
  }
}
