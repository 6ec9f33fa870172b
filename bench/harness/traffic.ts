/**
 * Bytes on every TCP socket of this process, as the kernel was handed them and handed them back:
 * everything a node sends and receives over TCP (Noise, Yamux and protocol framing included, TCP
 * and IP headers not). The process runs every node of a benchmark network, so these are the whole
 * network's bytes; on loopback each byte one node sends another receives, so sent and received
 * totals match and a node's share is the total over the node count.
 *
 * Sockets are seen through Node's `net` diagnostics channels, which announce each socket a
 * client opens or a server accepts; counting starts with `start()`.
 */
import diagnostics from 'node:diagnostics_channel'
import type { Socket } from 'node:net'

export interface TrafficReading {
  sentBytes: number
  receivedBytes: number
}

const CHANNELS = ['net.client.socket', 'net.server.socket']

export class SocketTraffic {
  private readonly live = new Set<Socket>()
  /** bytes of sockets that closed since `start()` */
  private closed: TrafficReading = { sentBytes: 0, receivedBytes: 0 }
  private readonly onSocket = (message: unknown): void => {
    const socket = (message as { socket: Socket }).socket
    this.live.add(socket)
    socket.once('close', () => {
      if (this.live.delete(socket)) {
        this.closed = {
          sentBytes: this.closed.sentBytes + socket.bytesWritten,
          receivedBytes: this.closed.receivedBytes + socket.bytesRead
        }
      }
    })
  }

  start (): void {
    for (const channel of CHANNELS) {
      diagnostics.subscribe(channel, this.onSocket)
    }
  }

  stop (): void {
    for (const channel of CHANNELS) {
      diagnostics.unsubscribe(channel, this.onSocket)
    }
    this.live.clear()
  }

  /** Bytes sent and received on every socket seen since `start()`, up to now */
  read (): TrafficReading {
    let { sentBytes, receivedBytes } = this.closed
    for (const socket of this.live) {
      sentBytes += socket.bytesWritten
      receivedBytes += socket.bytesRead
    }
    return { sentBytes, receivedBytes }
  }
}
