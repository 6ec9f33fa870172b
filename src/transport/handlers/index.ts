/**
 * What answers each /chord/1.0.0 request, one handler per message type (one file each). Requests
 * in a record namespace are answered by that namespace's own rules (see `served-node.ts`).
 */
import { MessageType } from '../../protocol/generated/chord.js'
import { DeleteHandler } from './delete.js'
import { FetchHandler } from './fetch.js'
import { FindOwnerHandler } from './find-owner.js'
import { FindSuccessorHandler } from './find-successor.js'
import { GetNeighboursHandler } from './get-neighbours.js'
import { LeavingHandler } from './leaving.js'
import { LookupHandler } from './lookup.js'
import { NotifyHandler } from './notify.js'
import { PingHandler } from './ping.js'
import { RangeDigestHandler } from './range-digest.js'
import { RangeSummariesHandler } from './range-summaries.js'
import { StoreHandler } from './store.js'
import type { RequestHandler, RequestHandlersInit } from './handler.js'
import type { ValidRequest } from '../validate.js'

export type RequestHandlers = {
  [Type in ValidRequest['type']]: RequestHandler<Extract<ValidRequest, { type: Type }>>
}

export function createRequestHandlers (init: RequestHandlersInit): RequestHandlers {
  return {
    [MessageType.PING]: new PingHandler(init),
    [MessageType.GET_NEIGHBOURS]: new GetNeighboursHandler(init),
    [MessageType.NOTIFY]: new NotifyHandler(init),
    [MessageType.FIND_SUCCESSOR]: new FindSuccessorHandler(init),
    [MessageType.LOOKUP]: new LookupHandler(init),
    [MessageType.FIND_OWNER]: new FindOwnerHandler(init),
    [MessageType.LEAVING]: new LeavingHandler(init),
    [MessageType.STORE]: new StoreHandler(init),
    [MessageType.FETCH]: new FetchHandler(init),
    [MessageType.RANGE_DIGEST]: new RangeDigestHandler(init),
    [MessageType.RANGE_SUMMARIES]: new RangeSummariesHandler(init),
    [MessageType.DELETE]: new DeleteHandler(init)
  }
}
