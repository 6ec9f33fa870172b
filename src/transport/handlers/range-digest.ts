/**
 * RANGE_DIGEST: a count and hash of the live records in a ring interval (anti-entropy's first step).
 */
import { wireBytes } from '../ring-id.js'
import { countedScan } from './counted-scan.js'
import { namespaceHandler } from './served-node.js'
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { WorkDone } from '../request-limits.js'
import type { RangeDigestRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class RangeDigestHandler implements RequestHandler<RangeDigestRequest> {
  constructor (private readonly init: Pick<RequestHandlersInit, 'node'>) {}

  async handle (from: Asker, request: RangeDigestRequest, done: WorkDone, scanLimit?: number): Promise<Partial<Response>> {
    const { count, hash } = await countedScan(done, scanLimit, async tally => namespaceHandler(this.init.node, request.namespace).onRangeDigest(from.node, request.start, request.end, { tally }))
    return { count, digest: wireBytes(hash) }
  }
}
