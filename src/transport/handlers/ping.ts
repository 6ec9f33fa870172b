/**
 * PING: a liveness check, answered with an empty OK.
 */
import type { Asker, RequestHandler } from './handler.js'
import type { PingRequest } from '../validate.js'
import type { Response } from '../../protocol/generated/chord.js'

export class PingHandler implements RequestHandler<PingRequest> {
  async handle (_from: Asker, _request: PingRequest): Promise<Partial<Response>> {
    return {}
  }
}
