/**
 * Sockets an HTTP server holds at once, shared out so that nobody can hold them all by opening
 * sockets and saying nothing: a newcomer takes the place of the oldest socket on which no request
 * is being answered (so a silent or half-sent request never keeps one from a caller), and one
 * address holds at most its share.
 */
import { tally } from './tally.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * The server's sockets: at most `perIp` from one address, and at most `total` in all, a new one
 * taking the place of the oldest that is not being answered
 */
export class SocketSlots {
  /** open sockets, oldest first, with the requests being answered on each */
  private readonly open = new Map<Socket, { ip: string, answering: number }>()
  private readonly byIp = new Map<string, number>()

  constructor (private readonly total: number, private readonly perIp: number) {}

  /** Apply the slots to every socket `server` accepts */
  watch (server: Server): void {
    server.on('connection', (socket: Socket) => { this.admit(socket) })
    server.on('request', (request: IncomingMessage, response: ServerResponse) => { this.answering(request.socket, response) })
  }

  admit (socket: Socket): void {
    const ip = socket.remoteAddress ?? ''
    if ((this.byIp.get(ip) ?? 0) >= this.perIp) {
      socket.destroy()
      return
    }
    if (this.open.size >= this.total) {
      const idle = [...this.open].find(([, state]) => state.answering === 0)?.[0]
      if (idle == null) {
        // every socket is being answered: a newcomer waits for one of the answers to end
        socket.destroy()
        return
      }
      idle.destroy()
      this.forget(idle)
    }
    this.open.set(socket, { ip, answering: 0 })
    tally(this.byIp, ip, 1)
    socket.once('close', () => { this.forget(socket) })
  }

  /** A request on `socket` is being answered until `response` is done */
  answering (socket: Socket, response: ServerResponse): void {
    const state = this.open.get(socket)
    if (state == null) {
      return
    }
    state.answering++
    response.once('close', () => { state.answering-- })
  }

  private forget (socket: Socket): void {
    const state = this.open.get(socket)
    if (state == null) {
      return
    }
    this.open.delete(socket)
    tally(this.byIp, state.ip, -1)
  }
}
