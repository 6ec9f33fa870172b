/**
 * FETCH: one page of a key's live records, in id order after `after`, within the page budget.
 */
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { FETCH_PAGE_BYTES, MAX_RECORDS_PER_MESSAGE } from '../constants.js'
import { toStoredWireRecord } from '../wire-records.js'
import { namespaceHandler } from './served-node.js'
import type { Asker, RequestHandler, RequestHandlersInit } from './handler.js'
import type { WorkDone } from '../request-limits.js'
import type { FetchRequest } from '../validate.js'
import type { ChordRecord } from '../../chord/record.js'
import type { Response } from '../../protocol/generated/chord.js'

export class FetchHandler implements RequestHandler<FetchRequest> {
  constructor (private readonly init: Pick<RequestHandlersInit, 'node'>) {}

  async handle (from: Asker, request: FetchRequest, done: WorkDone): Promise<Partial<Response>> {
    const records = await namespaceHandler(this.init.node, request.namespace).onFetchRecords(from.node, request.key)
    done.scannedRecords = records.length
    return fetchPage(records, request.after)
  }
}

function fetchPage (records: ChordRecord[], after?: Uint8Array): Partial<Response> {
  const afterHex = after == null ? '' : toHex(after)
  const remaining = records
    .map(record => ({ record, hex: toHex(record.id) }))
    .filter(({ hex }) => hex > afterHex)
    .sort((a, b) => (a.hex < b.hex ? -1 : 1))
  const page: ChordRecord[] = []
  let bytes = 0
  for (const { record } of remaining) {
    if (page.length === MAX_RECORDS_PER_MESSAGE || (page.length > 0 && bytes + record.value.byteLength > FETCH_PAGE_BYTES)) {
      break
    }
    page.push(record)
    bytes += record.value.byteLength
  }
  return {
    // the namespace gave writers only to a ring neighbour
    records: page.map(toStoredWireRecord),
    more: page.length < remaining.length
  }
}

function toHex (bytes: Uint8Array): string {
  return uint8ArrayToString(bytes, 'base16')
}
