/**
 * Protocol negotiations a peer cannot keep going. libp2p's multistream-select answers every repeat
 * of the negotiation header, every `ls` and every protocol it does not speak, each with a write,
 * for as long as the negotiation lasts (10 s): on an inbound connection, twice before the peer is
 * known (choosing the encrypter in the clear, then the muxer under Noise), and on every stream the
 * peer opens. None of it is a protocol yet, so no limit of ours saw it: four sockets repeating the
 * header in the clear held a node at 100% CPU and other peers' requests at 0.6–2.5 s, and headers
 * on a few streams slowed other peers' new streams from 6 ms to 1.5 s (docs/security.md).
 *
 * Here the writes of a negotiation are counted as it makes them: a connection's from the moment
 * the connection gater first sees it to the moment it is upgraded (`boundedUpgrades`), a stream's
 * while it has no protocol (`boundedNegotiation`; libp2p names the protocol before it hands the
 * stream to its handler). One write too many resets the connection or the stream. Streams are
 * reached as the muxer takes them from the peer, through `onRemoteStream` of `@libp2p/utils`'
 * muxers (yamux's among them); a muxer without it keeps libp2p's behaviour.
 */
import { InvalidMessageError } from '../errors.js'
import { aroundMuxing } from './around-muxing.js'
import { MAX_NEGOTIATION_ANSWERS, MAX_UPGRADE_WRITES } from './constants.js'
import { overridden } from './overridden.js'
import type { ConnectionGater, MessageStream, Stream, StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'

/** What a muxer of `@libp2p/utils` is expected to look like: each stream the peer opens handed to this */
interface RemoteStreamTaker {
  onRemoteStream: (stream: Stream) => void
}

/** `muxer` (e.g. `yamux()`), each stream its peer opens reset at its negotiation's MAX_NEGOTIATION_ANSWERS + 1st answer */
export function boundedNegotiation<Components, Muxer extends StreamMuxer> (muxer: (components: Components) => StreamMuxerFactory<Muxer>): (components: Components) => StreamMuxerFactory<Muxer> {
  return aroundMuxing(muxer, limitingNegotiations)
}

/**
 * `gater`, and each inbound connection it is asked about reset at its MAX_UPGRADE_WRITES + 1st
 * write before it is upgraded: two negotiations and Noise's handshake. Give libp2p this as its
 * gater, around any other: the count ends when libp2p asks it `denyInboundUpgradedConnection`.
 */
export function boundedUpgrades (gater: ConnectionGater = {}): ConnectionGater {
  const upgraded = new WeakSet<MessageStream>()
  return overridden(gater, {
    denyInboundConnection: async maConn => {
      counted(maConn, MAX_UPGRADE_WRITES, () => !upgraded.has(maConn), 'connection upgrade')
      return await gater.denyInboundConnection?.(maConn) ?? false
    },
    denyInboundUpgradedConnection: async (peer, maConn) => {
      upgraded.add(maConn)
      return await gater.denyInboundUpgradedConnection?.(peer, maConn) ?? false
    }
  })
}

function limitingNegotiations<Muxer> (muxer: Muxer): Muxer {
  const taker = muxer as Partial<RemoteStreamTaker>
  if (typeof taker.onRemoteStream === 'function') {
    const onRemoteStream = taker.onRemoteStream.bind(muxer)
    taker.onRemoteStream = stream => {
      onRemoteStream(counted(stream, MAX_NEGOTIATION_ANSWERS, () => stream.protocol === '', 'protocol negotiation'))
    }
  }
  return muxer
}

/** `stream`, reset (and the write refused) at its `most` + 1st write while `negotiating` */
function counted<S extends MessageStream> (stream: S, most: number, negotiating: () => boolean, what: string): S {
  const send = stream.send.bind(stream)
  let writes = 0
  stream.send = data => {
    if (negotiating() && ++writes > most) {
      const err = new InvalidMessageError(`the peer kept its ${what} going past ${most} writes of ours`)
      stream.abort(err)
      throw err
    }
    return send(data)
  }
  return stream
}
