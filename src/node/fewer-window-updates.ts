/**
 * A stream muxer whose yamux streams give the sender more window once half of it is used, rather
 * than after every data frame. `@chainsafe/libp2p-yamux` answers every data frame a stream reads
 * with a window update of its own: on a stream that carries a small request and its answer, one
 * extra Noise message each way, encrypted, written, read and decrypted. The reference
 * implementation the yamux specification comes from (hashicorp/yamux) leaves an update out while
 * it would grant less than half the window and carries no flags; this does the same. The sender
 * always has at least half the window (128 KiB or more) to send in. A conversation's mailbox
 * message takes half the socket writes and about a fifth less CPU on loopback (docs/benchmarks.md).
 *
 * The streams' window bookkeeping is not part of yamux's API. It is reached on each stream the
 * muxer makes, and the update left out only when the stream has the shape of yamux 8's streams;
 * any other stream keeps yamux's own behaviour. A test checks that the installed yamux still has
 * that shape and that transfers larger than the window complete.
 */
import { aroundMuxing } from './around-muxing.js'
import type { StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'

/** yamux 8's `StreamState.Established`: open both ways, so an update carries no SYN or ACK */
const ESTABLISHED = 3

/** What a yamux stream's window bookkeeping is expected to look like */
interface WindowedStream {
  state: number
  /** bytes the sender may send in a full window */
  recvWindow: number
  /** of those, bytes the sender may still send */
  recvWindowCapacity: number
  sendWindowUpdate: () => void
}

/** What a yamux muxer is expected to look like: every stream, either way, made by `_newStream` */
interface StreamMaker {
  _newStream: (...args: unknown[]) => unknown
}

/** `muxer` (e.g. `yamux()`), its streams sending a window update once half the window is used */
export function fewerWindowUpdates<Components, Muxer extends StreamMuxer> (muxer: (components: Components) => StreamMuxerFactory<Muxer>): (components: Components) => StreamMuxerFactory<Muxer> {
  return aroundMuxing(muxer, updatingLess)
}

function updatingLess<Muxer> (muxer: Muxer): Muxer {
  const maker = muxer as Partial<StreamMaker>
  if (typeof maker._newStream === 'function') {
    const newStream = maker._newStream.bind(muxer)
    maker._newStream = (...args) => withFewerUpdates(newStream(...args))
  }
  return muxer
}

function withFewerUpdates<Stream> (stream: Stream): Stream {
  if (isWindowed(stream)) {
    const sendWindowUpdate = stream.sendWindowUpdate.bind(stream)
    stream.sendWindowUpdate = () => {
      if (stream.state === ESTABLISHED && stream.recvWindowCapacity * 2 > stream.recvWindow) {
        return
      }
      sendWindowUpdate()
    }
  }
  return stream
}

function isWindowed (stream: unknown): stream is WindowedStream {
  if (typeof stream !== 'object' || stream == null) {
    return false
  }
  const { state, recvWindow, recvWindowCapacity, sendWindowUpdate } = stream as Partial<WindowedStream>
  return typeof state === 'number' && typeof recvWindow === 'number' && typeof recvWindowCapacity === 'number' && typeof sendWindowUpdate === 'function'
}
