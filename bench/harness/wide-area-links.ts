/**
 * Wide-area links between libp2p nodes of one process: a transport like `@libp2p/memory`, except
 * that every buffer reaches the other end a fixed one-way delay after it was sent, and that delay
 * belongs to the pair of nodes. `@libp2p/memory`'s own `latency` option cannot stand in for it: it
 * is one value per listener (every peer dialling a node sees the same delay) and each buffer
 * waits for the one before it to be delayed first, so a burst of n frames arrives n delays late.
 * Here each direction of a connection is a pipe: buffers are pipelined, arrive in order, and none
 * waits for another.
 *
 * Where the delays come from: each node gets a place on a plane (seeded), and the one-way delay
 * between two places grows with their distance, from MIN_ONE_WAY_MS for neighbours to
 * MAX_ONE_WAY_MS across the plane. A plane keeps the triangle inequality that real networks
 * roughly have (a detour through a third node is not shorter than the direct link), which is
 * what any choice of nearby nodes relies on; independent random delays per pair would not.
 */
import { ConnectionFailedError, StreamResetError, serviceCapabilities, transportSymbol } from '@libp2p/interface'
import { AbstractMultiaddrConnection } from '@libp2p/utils'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import type { SendResult } from '@libp2p/utils'
import type {
  ComponentLogger, Connection, CreateListenerOptions, DialTransportOptions, Listener, ListenerEvents, Logger, PeerId,
  Transport, Upgrader
} from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'

/** One-way delay between the two closest places, ms: a link inside one metropolitan area */
export const MIN_ONE_WAY_MS = 10

/** One-way delay between the two farthest places, ms: about half the way round the world */
export const MAX_ONE_WAY_MS = 150

/** The address prefix of the transport: `/memory/<network>-<node index>` */
const ADDRESS_PREFIX = '/memory/'

interface Place { x: number, y: number }

/**
 * The places of `size` nodes and the one-way delay between any two. Node i of one DHT and node i
 * of another have the same place, so two DHTs built on one network run on identical links.
 */
export class WideAreaNetwork {
  readonly name: string
  private readonly places: Place[]
  /** listening nodes, by address */
  readonly listeners = new Map<string, WideAreaListener>()

  constructor (name: string, size: number, random: () => number) {
    this.name = name
    this.places = Array.from({ length: size }, () => ({ x: random(), y: random() }))
  }

  get size (): number {
    return this.places.length
  }

  /** ms a buffer from node `a` takes to reach node `b` (the same both ways) */
  oneWayMs (a: number, b: number): number {
    const pa = this.places[a]
    const pb = this.places[b]
    const distance = Math.hypot(pa.x - pb.x, pa.y - pb.y) / Math.SQRT2
    return Math.round(MIN_ONE_WAY_MS + (MAX_ONE_WAY_MS - MIN_ONE_WAY_MS) * distance)
  }

  /** Every pair's one-way delay, each pair once */
  pairDelays (): number[] {
    const delays: number[] = []
    for (let a = 0; a < this.size; a++) {
      for (let b = a + 1; b < this.size; b++) {
        delays.push(this.oneWayMs(a, b))
      }
    }
    return delays
  }

  /** The address node `index` listens on, for a DHT named `dht` */
  addressOf (dht: string, index: number): string {
    return `${ADDRESS_PREFIX}${this.name}-${dht}-${index}`
  }

  /** The transport of node `index`: put it in that node's libp2p `transports` */
  transport (index: number): (components: WideAreaComponents) => Transport {
    return components => new WideAreaTransport(components, this, index)
  }
}

interface WideAreaComponents {
  peerId: PeerId
  logger: ComponentLogger
}

class WideAreaTransport implements Transport {
  readonly [transportSymbol] = true
  readonly [Symbol.toStringTag] = 'wide-area-links'
  readonly [serviceCapabilities] = ['@libp2p/transport']

  constructor (
    private readonly components: WideAreaComponents,
    private readonly network: WideAreaNetwork,
    private readonly index: number
  ) {}

  async dial (ma: Multiaddr, options: DialTransportOptions): Promise<Connection> {
    options.signal.throwIfAborted()
    const listener = this.network.listeners.get(ma.decapsulateCode(CODE_P2P).toString())
    if (listener == null) {
      throw new ConnectionFailedError(`nobody listens on ${ma.toString()}`)
    }
    const delay = this.network.oneWayMs(this.index, listener.index)
    const log = this.components.logger.forComponent('bench:wide-area-links')
    const local = new DelayedConnection({ remoteAddr: ma, direction: 'outbound', log }, delay)
    const remote = new DelayedConnection({
      remoteAddr: multiaddr(`${listener.address}-from-${this.index}/p2p/${this.components.peerId.toString()}`),
      direction: 'inbound',
      log
    }, delay)
    local.remote = remote
    remote.remote = local
    // a TCP handshake: the connection is there one round trip after the dial
    await new Promise(resolve => setTimeout(resolve, 2 * delay))
    options.signal.throwIfAborted()
    listener.accept(remote)
    try {
      return await options.upgrader.upgradeOutbound(local, options)
    } catch (err: any) {
      local.abort(err)
      throw err
    }
  }

  createListener (options: CreateListenerOptions): Listener {
    return new WideAreaListener(this.network, this.index, options.upgrader)
  }

  listenFilter (multiaddrs: Multiaddr[]): Multiaddr[] {
    return multiaddrs.filter(ma => ma.toString().startsWith(`${ADDRESS_PREFIX}${this.network.name}-`))
  }

  dialFilter (multiaddrs: Multiaddr[]): Multiaddr[] {
    return this.listenFilter(multiaddrs)
  }
}

class WideAreaListener extends TypedEventEmitter<ListenerEvents> implements Listener {
  address = ''
  private readonly shutdown = new AbortController()

  constructor (
    private readonly network: WideAreaNetwork,
    readonly index: number,
    private readonly upgrader: Upgrader
  ) {
    super()
  }

  async listen (ma: Multiaddr): Promise<void> {
    this.address = ma.toString()
    if (this.network.listeners.has(this.address)) {
      throw new ConnectionFailedError(`${this.address} is taken`)
    }
    this.network.listeners.set(this.address, this)
    queueMicrotask(() => { this.safeDispatchEvent('listening') })
  }

  accept (connection: DelayedConnection): void {
    this.upgrader.upgradeInbound(connection, { signal: this.shutdown.signal }).catch(err => { connection.abort(err) })
  }

  getAddrs (): Multiaddr[] {
    return this.address === '' ? [] : [multiaddr(this.address)]
  }

  updateAnnounceAddrs (): void {}

  async close (): Promise<void> {
    this.network.listeners.delete(this.address)
    this.shutdown.abort()
    queueMicrotask(() => { this.safeDispatchEvent('close') })
  }
}

/**
 * One end of a link. What it sends reaches the other end `delayMs` later; one timer per buffer,
 * all of the same length, so buffers keep their order.
 */
class DelayedConnection extends AbstractMultiaddrConnection {
  remote?: DelayedConnection

  constructor (init: { remoteAddr: Multiaddr, direction: 'inbound' | 'outbound', log: Logger }, private readonly delayMs: number) {
    super(init)
  }

  private later (deliver: (remote: DelayedConnection) => void): void {
    const remote = this.remote
    if (remote != null) {
      setTimeout(() => { deliver(remote) }, this.delayMs)
    }
  }

  sendData (data: Uint8ArrayList): SendResult {
    this.later(remote => { remote.onData(data) })
    return { sentBytes: data.byteLength, canSendMore: true }
  }

  sendReset (): void {
    this.later(remote => { remote.abort(new StreamResetError('the other end reset the link')) })
  }

  async sendClose (): Promise<void> {
    this.later(remote => { remote.onTransportClosed() })
  }

  sendPause (): void {
    // a pipe with no flow control, as @libp2p/memory
  }

  sendResume (): void {}
}
