/**
 * Peer exchange, /chord/px/1.0.0, as a libp2p service: it answers other nodes' requests (see
 * `PxResponder`) and, as a `PeerDiscovery` module, asks a connected peer for ring nodes it knows,
 * once as soon as there is a peer to ask (one already connected at start, else the first that
 * connects) and then every PX_INTERVAL or so. Each valid peer that is news (unknown, or with
 * addresses we did not have) is announced as a `peer` event; libp2p keeps its addresses. Nothing
 * here dials a discovered peer: the ring decides whom to connect to. An answer's private addresses
 * are taken only from a responder on our own networks (transport/private-addresses.ts): from
 * anyone else a peer keeps its public addresses, or is dropped when it has none.
 *
 * It behaves as libp2p's peer-discovery compliance suite asks: `start()` on a started service and
 * `stop()` on a stopped one change nothing, and once `stop()` has returned no round, timer or
 * exchange of the run it ended is left, and no `peer` event comes.
 *
 * Modelled on Waku's peer exchange (RFC 34), with libp2p signed peer records in place of ENRs.
 */
import { peerDiscoverySymbol, serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { InvalidDataLengthError, InvalidDataLengthLengthError, InvalidMessageLengthError } from '@libp2p/utils'
import { LRUCache } from 'lru-cache'
import { TypedEventEmitter } from 'main-event'
import { InvalidMessageError, InvalidOptionsError, NotStartedError, RateLimitedError, RequestTimeoutError } from '../errors.js'
import { frameStream } from '../protocol/framing.js'
import { PxRequest, PxResponse } from '../protocol/generated/px.js'
import { knownPeer } from '../transport/known-peer.js'
import { addressesTaken, isPrivateConnection } from '../transport/private-addresses.js'
import {
  MAX_LEARNED_PEERS,
  MAX_PX_PEERS,
  MAX_PX_RESPONSE_SIZE,
  PX_INTERVAL,
  PX_INTERVAL_JITTER,
  PX_MAX_STREAMS_PER_CONNECTION,
  PX_PROTOCOL,
  PX_REQUEST_TIMEOUT,
  PX_REQUESTS_PER_MINUTE,
  PX_SERVE_TIMEOUT
} from './constants.js'
import { decodePxResponse, validatePxPeer } from './validate.js'
import { PxResponder } from './responder.js'
import type { ExchangedPeer } from './validate.js'
import type { PxPeer } from '../protocol/generated/px.js'
import type { PxResponderComponents } from './responder.js'
import type {
  AbortOptions,
  Connection,
  Logger,
  PeerDiscovery,
  PeerDiscoveryEvents,
  PeerId,
  Startable,
  Stream,
  StreamHandler,
  StreamHandlerOptions,
  Topology
} from '@libp2p/interface'

export type { ExchangedPeer } from './validate.js'

/** What the service needs from libp2p; libp2p's components satisfy it */
export interface PeerExchangeComponents extends PxResponderComponents {
  registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
    register(protocol: string, topology: Topology): Promise<string>
    unregister(id: string): void
  }
  connectionManager: {
    getConnections(peerId?: PeerId): Connection[]
    openConnection(peer: PeerId, options?: AbortOptions): Promise<Connection>
  }
}

export interface PeerExchangeInit {
  /** ms between two rounds, each drawn within ± PX_INTERVAL_JITTER of it; default PX_INTERVAL */
  interval?: number
  /** ms, default PX_REQUEST_TIMEOUT */
  requestTimeout?: number
  /** ms, default PX_SERVE_TIMEOUT */
  serveTimeout?: number
  /** requests answered per remote peer per minute; default PX_REQUESTS_PER_MINUTE */
  requestsPerMinute?: number
  /**
   * whether the responder at the other end of `connection` is on this node's own networks, so
   * that the private addresses it names are taken; default: its remote address is private or
   * loopback, and not relayed (tests take a loopback peer for a public one with it)
   */
  isPrivateConnection?(connection: Connection): boolean
}

/** How one round of asking went: the `exchange` event, for whoever counts them (metrics) */
export interface ExchangeRound {
  peer: PeerId
  /** the peer answered with a valid response */
  ok: boolean
  /** peers that were news: announced as `peer` events */
  learned: number
}

export interface PeerExchangeEvents extends PeerDiscoveryEvents {
  exchange: CustomEvent<ExchangeRound>
}

export class PeerExchange extends TypedEventEmitter<PeerExchangeEvents> implements PeerDiscovery, Startable {
  readonly [peerDiscoverySymbol] = this
  readonly [serviceCapabilities]: string[] = ['@libp2p/peer-discovery']
  // which peers speak which protocols, both for sampling and for choosing whom to ask
  readonly [serviceDependencies]: string[] = ['@libp2p/identify']
  readonly [Symbol.toStringTag] = 'libp2p-chord:peer-exchange'

  private readonly components: PeerExchangeComponents
  private readonly log: Logger
  private readonly responder: PxResponder
  private readonly interval: number
  private readonly requestTimeout: number
  private readonly isPrivateConnection: (connection: Connection) => boolean
  /** set from start() to stop() */
  private run?: Run
  private hasLearnedPeers = false
  /** what answers may name; until the ring gives its own, the connected peers */
  private candidates: () => string[] = () => this.connectedPeers()
  /** the peers valid answers named, most recently first */
  private readonly learned = new LRUCache<string, PeerId>({ max: MAX_LEARNED_PEERS })

  constructor (components: PeerExchangeComponents, init: PeerExchangeInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('libp2p-chord:px')
    this.responder = new PxResponder(components, {
      requestsPerMinute: init.requestsPerMinute ?? PX_REQUESTS_PER_MINUTE,
      serveTimeout: init.serveTimeout ?? PX_SERVE_TIMEOUT,
      candidates: () => this.candidates()
    })
    this.interval = init.interval ?? PX_INTERVAL
    this.requestTimeout = init.requestTimeout ?? PX_REQUEST_TIMEOUT
    this.isPrivateConnection = init.isPrivateConnection ?? isPrivateConnection
  }

  /**
   * Answer requests with peers drawn from `candidates`, as PeerId strings: a bounded list of peers
   * the ring vouches for (its routing table). Without it, answers draw from the
   * connected peers, the bounded list a node without a ring has.
   */
  answerFrom (candidates: () => string[]): void {
    this.candidates = candidates
  }

  /**
   * The peers valid answers named, most recently named first; at most MAX_LEARNED_PEERS. Each
   * peer was named by someone we asked and has an address, nothing more: a list to try, bounded
   * however many peers the peer store holds.
   */
  learnedPeers (): PeerId[] {
    return [...this.learned.values()]
  }

  async start (): Promise<void> {
    if (this.run != null) {
      // started already (or starting): a second handler would be refused, a second loop leak
      await this.run.registered
      return
    }
    const run = new Run()
    this.run = run
    run.registered = this.register(run)
    try {
      await run.registered
    } catch (err) {
      if (this.run === run) {
        this.run = undefined
      }
      await this.unregister(run)
      throw err
    }
    if (run.shutdown.signal.aborted) {
      return
    }
    this.scheduleRound(run)
    // the registrar reports only connections opened from now on: a peer we are already connected
    // to is asked now, not a whole interval later
    this.startRound(run)
  }

  async stop (): Promise<void> {
    const run = this.run
    if (run == null) {
      return
    }
    this.run = undefined
    // from here on nothing of this run announces a peer, schedules a round or asks anyone
    run.shutdown.abort(new NotStartedError('peer exchange stopped'))
    clearTimeout(run.roundTimer)
    // a start still under way finishes registering, so that everything it registered is undone
    await run.registered.catch(() => {})
    await this.unregister(run)
    // the round under way, aborted above, has wound down once this resolves
    await run.round
  }

  private async register (run: Run): Promise<void> {
    const { registrar } = this.components
    await registrar.handle(PX_PROTOCOL, async (stream, connection) => this.responder.serve(stream, connection, { signal: run.shutdown.signal }), {
      maxInboundStreams: PX_MAX_STREAMS_PER_CONNECTION,
      // libp2p applies the registered handler's outbound limit to the streams we open
      maxOutboundStreams: PX_MAX_STREAMS_PER_CONNECTION
    })
    run.handled = true
    run.topologyId = await registrar.register(PX_PROTOCOL, {
      onConnect: (peerId) => {
        // a node that knows nobody yet asks the first peer that can tell it, not minutes later
        if (!this.hasLearnedPeers) {
          this.startRound(run, peerId)
        }
      }
    })
  }

  /** Undoes what `register` did, as far as it got */
  private async unregister (run: Run): Promise<void> {
    if (run.topologyId != null) {
      this.components.registrar.unregister(run.topologyId)
      run.topologyId = undefined
    }
    if (run.handled) {
      run.handled = false
      await this.components.registrar.unhandle(PX_PROTOCOL)
    }
  }

  /**
   * Asks `peerId` for up to `count` ring nodes and returns the ones that passed validation, with the
   * addresses taken from it (its private ones only if it is on our own networks). Those that are
   * news are announced as `peer` events (and their signed records kept) before it returns. Opens a
   * connection if there is none: the caller chose this peer.
   *
   * @throws InvalidOptionsError if count is not an integer in 1..MAX_PX_PEERS
   * @throws RateLimitedError if the peer refused because we asked too often
   * @throws RequestTimeoutError if the peer did not answer within the request timeout
   * @throws InvalidMessageError if the answer as a whole broke the protocol
   * @throws NotStartedError if the service is not started, or stops before the exchange ends (then
   *   nothing more of the answer is announced)
   */
  async exchange (peerId: PeerId, count: number = MAX_PX_PEERS, options: AbortOptions = {}): Promise<ExchangedPeer[]> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_PX_PEERS) {
      throw new InvalidOptionsError(`count must be an integer from 1 to ${MAX_PX_PEERS}`)
    }
    if (this.run == null) {
      throw new NotStartedError('peer exchange is not started')
    }
    return (await this.exchangeWithin(this.run.shutdown.signal, peerId, count, options)).peers
  }

  /** The valid peers of one answer, and how many of them were news; cut short by `shutdown`, it rejects with the reason and announces nothing more */
  private async exchangeWithin (shutdown: AbortSignal, peerId: PeerId, count: number, options: AbortOptions = {}): Promise<{ peers: ExchangedPeer[], learned: number }> {
    const { response, connection } = await this.request(peerId, count, shutdown, options)
    if (response.status === PxResponse.Status.RATE_LIMITED) {
      throw new RateLimitedError(`${peerId} refused to answer: asked too often`)
    }

    const peers = await this.validEntries(response.peers, peerId, connection)
    for (const peer of peers) {
      this.learned.set(peer.id.toString(), peer.id)
    }
    return { peers, learned: await this.announce(peers, shutdown) }
  }

  /** One request and its answer on a new stream, within the request timeout, and the connection it came over */
  private async request (peerId: PeerId, count: number, shutdown: AbortSignal, options: AbortOptions): Promise<{ response: PxResponse, connection: Connection }> {
    const deadline = new AbortController()
    const timer = setTimeout(() => {
      deadline.abort(new RequestTimeoutError(`${peerId} sent no peer exchange answer within ${this.requestTimeout} ms`))
    }, this.requestTimeout)
    const signal = AbortSignal.any([deadline.signal, shutdown, ...(options.signal == null ? [] : [options.signal])])

    let stream: Stream | undefined
    try {
      const connection = await this.components.connectionManager.openConnection(peerId, { signal })
      stream = await connection.newStream(PX_PROTOCOL, { signal })
      const framed = frameStream(stream, MAX_PX_RESPONSE_SIZE)
      await framed.write(PxRequest.encode({ numPeers: count }), { signal })
      const response = decodePxResponse(await framed.read({ signal }), count)
      await stream.close({ signal })
      return { response, connection }
    } catch (err: any) {
      stream?.abort(err)
      // whatever form the abort took on its way up, a missed deadline is a RequestTimeoutError
      if (deadline.signal.aborted) {
        throw deadline.signal.reason
      }
      if (isFramingError(err)) {
        throw new InvalidMessageError(`${peerId} sent a frame that is not a peer exchange answer`, { cause: err })
      }
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * The entries that check out, each peer once, never us or the responder itself, with what we
   * may take of their addresses from a responder reached over `via`
   */
  private async validEntries (entries: PxPeer[], responder: PeerId, via: Connection): Promise<ExchangedPeer[]> {
    const seen = new Set([this.components.peerId.toString(), responder.toString()])
    const fromPrivatePeer = this.isPrivateConnection(via)
    const peers: ExchangedPeer[] = []
    let dropped = 0

    for (const entry of entries) {
      try {
        const peer = await validatePxPeer(entry)
        const key = peer.id.toString()
        if (seen.has(key)) {
          this.log('skipped an entry for %p from %p: ourselves, the responder or a repeat', peer.id, responder)
          continue
        }
        seen.add(key)
        const taken = takenOf(peer, fromPrivatePeer)
        dropped += peer.multiaddrs.length - (taken?.multiaddrs.length ?? 0)
        if (taken != null) {
          peers.push(taken)
        }
      } catch (err) {
        this.log('dropped a peer entry from %p - %e', responder, err)
      }
    }
    if (dropped > 0) {
      this.log.trace('dropped %d private addresses named by %p over %a, not a connection on our networks', dropped, responder, via.remoteAddr)
    }
    return peers
  }

  /** Announce the peers that are news; resolves to how many were */
  private async announce (peers: ExchangedPeer[], shutdown: AbortSignal): Promise<number> {
    let announced = 0
    for (const peer of peers) {
      // stop() may come at any await of this loop: after it, nothing is stored or announced
      shutdown.throwIfAborted()
      if (!await this.keepIfNews(peer)) {
        continue
      }
      shutdown.throwIfAborted()
      this.safeDispatchEvent('peer', { detail: { id: peer.id, multiaddrs: peer.multiaddrs } })
      announced++
    }
    return announced
  }

  /** Whether `peer` is news; if so, its signed record is kept */
  private async keepIfNews (peer: ExchangedPeer): Promise<boolean> {
    try {
      if (!await this.isNews(peer)) {
        return false
      }
      if (peer.signedPeerRecord != null) {
        // kept as signed, so that our own answers pass it on with its provenance intact
        await this.components.peerStore.consumePeerRecord(peer.signedPeerRecord, { expectedPeer: peer.id })
      }
      return true
    } catch (err) {
      this.log.error('could not announce %p - %e', peer.id, err)
      return false
    }
  }

  /** Unknown to the peer store, or known without some of these addresses */
  private async isNews (peer: ExchangedPeer): Promise<boolean> {
    const record = await knownPeer(this.components.peerStore, peer.id)
    if (record == null) {
      return true
    }
    const known = new Set(record.addresses.map(address => address.multiaddr.toString()))
    return peer.multiaddrs.some(ma => !known.has(ma.toString()))
  }

  private scheduleRound (run: Run): void {
    const spread = this.interval * PX_INTERVAL_JITTER
    const delay = this.interval - spread + Math.random() * 2 * spread
    run.roundTimer = setTimeout(() => {
      this.startRound(run)
      // the next interval counts from the end of this round (or of the one that was under way)
      void (run.round ?? Promise.resolve()).then(() => {
        if (!run.shutdown.signal.aborted) {
          this.scheduleRound(run)
        }
      })
    }, delay)
  }

  /** Starts a round unless one is under way or the run is over */
  private startRound (run: Run, peerId?: PeerId): void {
    if (run.round != null || run.shutdown.signal.aborted) {
      return
    }
    run.round = this.runRound(run.shutdown.signal, peerId).finally(() => { run.round = undefined })
  }

  /** One exchange with `peerId`, or with a random connected peer that speaks peer exchange; never rejects */
  private async runRound (shutdown: AbortSignal, peerId?: PeerId): Promise<void> {
    try {
      const peer = peerId ?? await this.pickConnectedPeer()
      if (peer == null) {
        this.log('no connected peer speaks %s; nobody to ask this round', PX_PROTOCOL)
        return
      }
      try {
        const { peers, learned } = await this.exchangeWithin(shutdown, peer, MAX_PX_PEERS)
        this.log('%p told us of %d peers', peer, peers.length)
        this.hasLearnedPeers ||= peers.length > 0
        this.safeDispatchEvent('exchange', { detail: { peer, ok: true, learned } })
      } catch (err) {
        if (!shutdown.aborted) {
          this.safeDispatchEvent('exchange', { detail: { peer, ok: false, learned: 0 } })
        }
        throw err
      }
    } catch (err) {
      this.log('peer exchange round failed - %e', err)
    }
  }

  private connectedPeers (): string[] {
    return this.components.connectionManager.getConnections().map(connection => connection.remotePeer.toString())
  }

  private async pickConnectedPeer (): Promise<PeerId | undefined> {
    const candidates = new Map<string, PeerId>()
    for (const connection of this.components.connectionManager.getConnections()) {
      // a limited (relayed) connection is not for protocols like this one
      if (connection.limits == null) {
        candidates.set(connection.remotePeer.toString(), connection.remotePeer)
      }
    }

    const speakers: PeerId[] = []
    for (const peerId of candidates.values()) {
      const protocols = await this.components.peerStore.get(peerId).then(peer => peer.protocols, (): string[] => [])
      if (protocols.includes(PX_PROTOCOL)) {
        speakers.push(peerId)
      }
    }
    return speakers[Math.floor(Math.random() * speakers.length)]
  }
}

/** What one run of the service, from `start()` to `stop()`, registered and has under way */
class Run {
  /** aborted by stop(): ends this run's rounds, exchanges and answers */
  readonly shutdown = new AbortController()
  /** settles once start() has registered the handler and the topology */
  registered: Promise<void> = Promise.resolve()
  handled = false
  topologyId?: string
  roundTimer?: ReturnType<typeof setTimeout>
  /** the round under way, at most one at a time */
  round?: Promise<void>
}

/**
 * What we may take of `peer`: the addresses `addressesTaken` leaves, with its signed record only
 * if it leaves them all (a record kept would hand the others to the peer store and to whoever we
 * answer); undefined when none is left, since a peer without an address is of no use here
 */
function takenOf (peer: ExchangedPeer, fromPrivatePeer: boolean): ExchangedPeer | undefined {
  const multiaddrs = addressesTaken(peer.multiaddrs, fromPrivatePeer)
  if (multiaddrs.length === peer.multiaddrs.length) {
    return peer
  }
  return multiaddrs.length === 0 ? undefined : { id: peer.id, multiaddrs }
}

/** A length prefix that is malformed or announces more than MAX_PX_RESPONSE_SIZE */
function isFramingError (err: unknown): boolean {
  return err instanceof InvalidDataLengthError || err instanceof InvalidDataLengthLengthError || err instanceof InvalidMessageLengthError
}

/** The service factory for libp2p's `services` */
export function peerExchange (init: PeerExchangeInit = {}): (components: PeerExchangeComponents) => PeerExchange {
  return (components) => new PeerExchange(components, init)
}
