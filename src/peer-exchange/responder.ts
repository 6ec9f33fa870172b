/**
 * The listening side of /chord/px/1.0.0: answers one request per stream with a uniform random
 * sample of the ring nodes this node knows, so that a requester learns of nodes all around the
 * ring rather than only this node's neighbours.
 *
 * The sample is drawn from a bounded list of candidates (on a ring node, its routing table and
 * peer cache: see `PeerExchange.answerFrom`), never from the whole peer store: anyone can fill
 * that with identities that connected once, and a scan of it per request would cost the node more
 * with each of them, and pass them on. Each candidate drawn is looked up in the peer store, up to
 * MAX_PX_PEER_READS an answer, and named if identify saw it speak /chord/1.0.0 and it has
 * addresses.
 *
 * A peer's signed record travels as it was signed, so the requester can check it did not come
 * from us; peers without one travel with the addresses our peer store holds. Each remote peer
 * is answered at most `requestsPerMinute` times a minute; beyond that a request is refused with
 * RATE_LIMITED, at the cost of reading a few bytes and writing two.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { RateLimitError, RateLimiter } from '@libp2p/utils'
import { MAX_ADDR_BYTES, MAX_ADDRS_PER_PEER, MAX_PEER_ID_BYTES, PROTOCOL as CHORD_PROTOCOL } from '../transport/constants.js'
import { frameStream } from '../protocol/framing.js'
import { PxResponse } from '../protocol/generated/px.js'
import { randomOrder } from '../random-order.js'
import { knownPeer } from '../transport/known-peer.js'
import { MAX_PX_PEER_READS, MAX_PX_REQUEST_SIZE, MAX_SIGNED_PEER_RECORD_BYTES } from './constants.js'
import { decodePxRequest } from './validate.js'
import type { PxPeer } from '../protocol/generated/px.js'
import type { AbortOptions, ComponentLogger, Connection, Logger, Peer, PeerId, PeerStore, Stream } from '@libp2p/interface'

export interface PxResponderComponents {
  peerId: PeerId
  peerStore: PeerStore
  logger: ComponentLogger
}

export interface PxResponderInit {
  /** requests answered per remote peer per minute */
  requestsPerMinute: number
  /** ms an inbound stream has to deliver its request and take its answer */
  serveTimeout: number
  /** the peers an answer may name, as PeerId strings: a bounded list, read for every answer */
  candidates(): string[]
}

export class PxResponder {
  private readonly components: PxResponderComponents
  private readonly init: PxResponderInit
  private readonly log: Logger
  private readonly limiter: RateLimiter

  constructor (components: PxResponderComponents, init: PxResponderInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('libp2p-chord:px:responder')
    this.limiter = new RateLimiter({ points: init.requestsPerMinute, duration: 60 })
  }

  /**
   * Answer the one request on `stream`, then close it; a stream that breaks the protocol, or is
   * still unanswered when `options.signal` aborts (the service stopped), is reset
   */
  async serve (stream: Stream, connection: Connection, options: AbortOptions = {}): Promise<void> {
    const requester = connection.remotePeer
    const framed = frameStream(stream, MAX_PX_REQUEST_SIZE)
    const signal = AbortSignal.any([AbortSignal.timeout(this.init.serveTimeout), ...(options.signal == null ? [] : [options.signal])])

    try {
      const numPeers = decodePxRequest(await framed.read({ signal }))
      if (!this.allow(requester)) {
        this.log('refused a request from %p: over %d a minute', requester, this.init.requestsPerMinute)
        await framed.write(PxResponse.encode({ status: PxResponse.Status.RATE_LIMITED }), { signal })
      } else {
        const peers = await this.sample(requester, numPeers)
        this.log('answering %p with %d of the %d peers it asked for', requester, peers.length, numPeers)
        await framed.write(PxResponse.encode({ status: PxResponse.Status.OK, peers }), { signal })
      }
      await stream.close({ signal })
    } catch (err: any) {
      this.log('resetting stream %s from %p - %e', stream.id, requester, err)
      stream.abort(err)
    }
  }

  private allow (requester: PeerId): boolean {
    try {
      this.limiter.consume(requester.toString())
      return true
    } catch (err) {
      if (err instanceof RateLimitError) {
        return false
      }
      throw err
    }
  }

  /** Up to `count` ring nodes among the candidates, other than the requester and us, each equally likely */
  private async sample (requester: PeerId, count: number): Promise<PxPeer[]> {
    const candidates = new Set(this.init.candidates())
    candidates.delete(requester.toString())
    candidates.delete(this.components.peerId.toString())

    const entries: PxPeer[] = []
    let reads = 0
    for (const candidate of randomOrder([...candidates])) {
      if (entries.length === count || reads === MAX_PX_PEER_READS) {
        break
      }
      reads++
      const peer = await this.stored(candidate)
      const entry = peer?.protocols.includes(CHORD_PROTOCOL) === true ? toWire(peer) : undefined
      if (entry != null) {
        entries.push(entry)
      }
    }
    return entries
  }

  /** What the peer store holds of a candidate; undefined when nothing, or it cannot be read */
  private async stored (candidate: string): Promise<Peer | undefined> {
    try {
      return await knownPeer(this.components.peerStore, peerIdFromString(candidate))
    } catch (err) {
      this.log('could not read candidate %s - %e', candidate, err)
      return undefined
    }
  }
}

/**
 * A peer as an entry: its signed record if we hold one that fits, else the addresses we know
 * that fit. Undefined when nothing fits, since an entry without addresses is of no use.
 */
function toWire (peer: Peer): PxPeer | undefined {
  const peerId = peer.id.toMultihash().bytes
  if (peerId.byteLength > MAX_PEER_ID_BYTES) {
    return undefined
  }

  const envelope = peer.peerRecordEnvelope
  if (envelope != null && envelope.byteLength <= MAX_SIGNED_PEER_RECORD_BYTES) {
    return { peerId, signedPeerRecord: envelope as Uint8Array<ArrayBuffer>, addrs: [] }
  }

  const addrs = peer.addresses
    .map(address => address.multiaddr.bytes)
    .filter(bytes => bytes.byteLength <= MAX_ADDR_BYTES)
    .slice(0, MAX_ADDRS_PER_PEER)
  return addrs.length === 0 ? undefined : { peerId, addrs }
}
