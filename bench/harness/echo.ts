/**
 * The transport's floor: a 64-byte request echoed back on a stream that stays open, over the same
 * Noise + Yamux connections the ring uses. No protocol work happens on either side, so no
 * request/response protocol on these connections can be faster.
 */
import { lpStream } from '@libp2p/utils'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

export const ECHO_PROTOCOL = '/bench/echo/1.0.0'

/** Bytes per echo: the size of a small ring request */
const ECHO_BYTES = 64

/** Answer every message on every echo stream with itself, until the stream ends */
export async function serveEcho (libp2p: Libp2p): Promise<void> {
  await libp2p.handle(ECHO_PROTOCOL, async stream => {
    const framed = lpStream(stream)
    try {
      while (true) {
        await framed.write(await framed.read())
      }
    } catch {
      // the other side closed the stream, or the node is stopping
    }
  })
}

/** Echo round trips from one node, each peer's stream opened on first use and kept */
export class EchoClient {
  private readonly libp2p: Libp2p
  private readonly streams = new Map<string, LengthPrefixedStream>()
  private readonly payload = new Uint8Array(ECHO_BYTES).fill(7)

  constructor (libp2p: Libp2p) {
    this.libp2p = libp2p
  }

  async roundTrip (peer: PeerId): Promise<void> {
    const framed = this.streams.get(peer.toString()) ?? await this.open(peer)
    await framed.write(this.payload)
    await framed.read()
  }

  private async open (peer: PeerId): Promise<LengthPrefixedStream> {
    const stream = await this.libp2p.dialProtocol(peer, ECHO_PROTOCOL)
    const framed = lpStream(stream)
    this.streams.set(peer.toString(), framed)
    return framed
  }
}

/** Echo round trips from any node, each node's client made on first use */
export class EchoClients {
  private readonly clients = new Map<Libp2p, EchoClient>()

  async roundTrip (from: Libp2p, to: PeerId): Promise<void> {
    let client = this.clients.get(from)
    if (client == null) {
      client = new EchoClient(from)
      this.clients.set(from, client)
    }
    await client.roundTrip(to)
  }
}
