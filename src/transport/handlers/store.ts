/**
 * STORE: records (and, in the mailbox, owner-signed deletions) for the namespace's store, taken
 * under its rules (quotas, validity, tombstones). The answer says which records were turned away,
 * hands back the deletions of those dropped as deleted, and names the node's predecessor (where
 * the keys it owns begin).
 */
import { ringIdToWire } from '../ring-id.js'
import { toWireDeletion } from '../wire-records.js'
import { namespaceHandler } from './served-node.js'
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { WorkDone } from '../request-limits.js'
import type { StoreRequest } from '../validate.js'
import type { StoreFromOptions } from '../../chord/rpc.js'
import type { Response } from '../../protocol/generated/chord.js'

/** Where the records of a STORE come from: the asker, their writer (a relay of carried records too), and its subnet */
function storeFrom (from: Asker, request: StoreRequest): StoreFromOptions {
  return { subnet: from.subnet, ...(request.carriedFor == null ? {} : { carriedFor: request.carriedFor }) }
}

export class StoreHandler implements RequestHandler<StoreRequest> {
  constructor (private readonly init: Pick<RequestHandlersInit, 'node'>) {}

  async handle (from: Asker, request: StoreRequest, done: WorkDone): Promise<Partial<Response>> {
    const receipt = await namespaceHandler(this.init.node, request.namespace).onStoreRecords(from.node, request.records, request.deletions, storeFrom(from, request))
    done.writtenBytes = receipt?.writtenBytes ?? 0
    done.signatureChecks = receipt?.signatureChecks ?? 0
    if (receipt == null) {
      return {}
    }
    const predecessor = receipt.predecessor == null ? {} : { predecessor: ringIdToWire(receipt.predecessor) }
    return { stored: { declined: receipt.declined, deletions: (receipt.deletions ?? []).map(toWireDeletion), ...predecessor } }
  }
}
