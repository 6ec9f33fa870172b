/**
 * The peer exchange service's life cycle, on stand-ins for the libp2p components it uses and on
 * fake timers, so that "nothing runs after stop" is checked exactly rather than waited for.
 */
import { strict as assert } from 'node:assert'
import { install as installFakeTimers } from '@sinonjs/fake-timers'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { NotFoundError } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { NotStartedError } from '../../src/errors.js'
import { frameStream } from '../../src/protocol/framing.js'
import { PxResponse } from '../../src/protocol/generated/px.js'
import { MAX_LEARNED_PEERS, MAX_PX_PEERS, MAX_PX_REQUEST_SIZE, PX_INTERVAL_JITTER, PX_PROTOCOL, PX_SERVE_TIMEOUT } from '../../src/peer-exchange/constants.js'
import { PeerExchange } from '../../src/peer-exchange/peer-exchange.js'
import { silentLogger } from '../helpers/logger.js'
import { madeUpPeerId } from '../helpers/made-up-peer.js'
import { withShortDeadlines } from '../helpers/short-deadlines.js'
import { waitFor } from '../helpers/wait-for.js'
import type { PeerExchangeComponents } from '../../src/peer-exchange/peer-exchange.js'
import type { PxPeer } from '../../src/protocol/generated/px.js'
import type { Clock } from '@sinonjs/fake-timers'
import type { AbortOptions, Connection, PeerId, PeerStore, Stream, StreamHandler, Topology } from '@libp2p/interface'

/** ms between rounds in these tests; what matters is how many intervals pass, not how long one is */
const INTERVAL = 1000
/** Long enough for several rounds whatever the jitter draws */
const SEVERAL_ROUNDS = 5 * INTERVAL * (1 + PX_INTERVAL_JITTER)

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** An entry for a ring node that exists only as a key and a record it signed about itself */
async function signedEntry (port: number): Promise<PxPeer> {
  const privateKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey)
  const record = new PeerRecord({ peerId, multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${port}`)] })
  const signedPeerRecord = (await RecordEnvelope.seal(record, privateKey)).marshal() as Uint8Array<ArrayBuffer>
  return { peerId: peerId.toMultihash().bytes, signedPeerRecord, addrs: [] }
}

/** An entry for a peer that the responder names with a plain address */
function plainEntry (peerId: PeerId): PxPeer {
  return { peerId: peerId.toMultihash().bytes, addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001').bytes] }
}

/**
 * How the remote answers: with these entries; never (opening a stream to it waits until the
 * asker gives up); or not at all (opening a stream to it fails at once)
 */
type Remote = PxPeer[] | 'silent' | 'unreachable'

/**
 * Stand-ins for libp2p's registrar, connection manager and peer store, around one remote peer
 * that speaks peer exchange. The registrar refuses a second handler for a protocol, as libp2p's
 * does.
 */
class FakeLibp2p {
  /** the stream handler registered for each protocol */
  readonly handlers = new Map<string, StreamHandler>()
  readonly topologies = new Map<string, Topology>()
  /** streams opened to the remote: one per exchange attempted */
  asked = 0
  /** times the connections were listed: once per round, to pick a peer to ask */
  looked = 0
  readonly components: PeerExchangeComponents

  constructor (readonly self: PeerId, readonly remote: PeerId, options: { connected: boolean, answers: Remote }) {
    const peerStore = {
      get: async (peerId: PeerId) => {
        if (peerId.equals(remote)) {
          return { id: remote, protocols: [PX_PROTOCOL], addresses: [] }
        }
        throw new NotFoundError('not in the peer store')
      },
      consumePeerRecord: async () => true,
      all: async () => []
    } as unknown as PeerStore
    let topologyIds = 0

    this.components = {
      peerId: self,
      peerStore,
      logger: silentLogger(),
      registrar: {
        handle: async (protocol, handler) => {
          if (this.handlers.has(protocol)) {
            throw Object.assign(new Error(`Handler already registered for protocol ${protocol}`), { name: 'DuplicateProtocolHandlerError' })
          }
          this.handlers.set(protocol, handler)
        },
        unhandle: async (protocol) => { this.handlers.delete(protocol) },
        register: async (_protocol, topology) => {
          const id = `topology-${++topologyIds}`
          this.topologies.set(id, topology)
          return id
        },
        unregister: (id) => { this.topologies.delete(id) }
      },
      connectionManager: {
        getConnections: () => {
          this.looked++
          return options.connected ? [{ remotePeer: remote } as unknown as Connection] : []
        },
        openConnection: async () => ({
          remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/4001'),
          newStream: async (_protocol: string, { signal }: AbortOptions = {}): Promise<Stream> => {
            this.asked++
            if (options.answers === 'unreachable') {
              throw new Error('no streams in this test')
            }
            if (options.answers === 'silent') {
              return new Promise((resolve, reject) => {
                signal?.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
              })
            }
            const [outbound, inbound] = await streamPair()
            void answer(inbound, options.answers)
            return outbound
          }
        }) as unknown as Connection
      }
    }
  }
}

/** Reads the request on `stream` and answers it with `entries` */
async function answer (stream: Stream, entries: PxPeer[]): Promise<void> {
  const framed = frameStream(stream, MAX_PX_REQUEST_SIZE)
  await framed.read()
  await framed.write(PxResponse.encode({ status: PxResponse.Status.OK, peers: entries }))
  await stream.close()
}

describe('PeerExchange life cycle', () => {
  let self: PeerId
  let remote: PeerId

  before(async () => {
    [self, remote] = await Promise.all([newPeerId(), newPeerId()])
  })

  describe('rounds, on fake timers', () => {
    let clock: Clock

    beforeEach(() => {
      clock = installFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    })

    afterEach(() => {
      clock.uninstall()
    })

    it('starting again while started changes nothing: one handler, one topology', async () => {
      const libp2p = new FakeLibp2p(self, remote, { connected: true, answers: 'unreachable' })
      const px = new PeerExchange(libp2p.components, { interval: INTERVAL })

      await px.start()
      await px.start()

      assert.deepEqual([...libp2p.handlers.keys()], [PX_PROTOCOL])
      assert.equal(libp2p.topologies.size, 1)
      await px.stop()
      assert.equal(libp2p.handlers.size, 0)
      assert.equal(libp2p.topologies.size, 0)
    })

    it('leaves no timer and no round behind after stop, even after a repeated start', async () => {
      // the first exchange is still waiting for its answer when stop comes
      const libp2p = new FakeLibp2p(self, remote, { connected: true, answers: 'silent' })
      const px = new PeerExchange(libp2p.components, { interval: INTERVAL, requestTimeout: 100 * SEVERAL_ROUNDS })

      await px.start()
      // whether or not a second start throws (the test above checks that), one stop must end it all
      await Promise.allSettled([px.start()])
      await clock.tickAsync(SEVERAL_ROUNDS)
      assert.equal(libp2p.asked, 1, 'one exchange in flight')
      await px.stop()

      assert.equal(clock.countTimers(), 0, 'timers left after stop')
      const { asked, looked } = libp2p
      await clock.tickAsync(10 * SEVERAL_ROUNDS)
      assert.equal(clock.countTimers(), 0, 'timers set after stop')
      assert.equal(libp2p.looked, looked, 'rounds after stop')
      assert.equal(libp2p.asked, asked, 'peers asked after stop')
    })

    it('runs again after a stop, and stops again', async () => {
      const libp2p = new FakeLibp2p(self, remote, { connected: true, answers: 'unreachable' })
      const px = new PeerExchange(libp2p.components, { interval: INTERVAL })
      await px.start()
      await px.stop()

      await px.start()
      const askedAtRestart = libp2p.asked
      await clock.tickAsync(SEVERAL_ROUNDS)
      assert.deepEqual([...libp2p.handlers.keys()], [PX_PROTOCOL])
      assert.ok(libp2p.asked >= askedAtRestart + 3, `asked ${libp2p.asked - askedAtRestart} times after the restart`)

      await px.stop()
      assert.equal(clock.countTimers(), 0, 'timers left after the second stop')
    })

    it('asks a peer that was connected before start at once, not an interval later', async () => {
      const libp2p = new FakeLibp2p(self, remote, { connected: true, answers: 'unreachable' })
      const px = new PeerExchange(libp2p.components, { interval: INTERVAL })

      await px.start()
      // no time passes: only the ask at start can have opened a stream
      await clock.tickAsync(0)
      assert.equal(libp2p.asked, 1)
      await px.stop()
    })
  })

  it('announces nothing after stop, not even the rest of an answer already in hand', async () => {
    const entries = await Promise.all([4001, 4002, 4003].map(signedEntry))
    const libp2p = new FakeLibp2p(self, remote, { connected: false, answers: entries })
    const px = new PeerExchange(libp2p.components)
    await px.start()

    const announced: string[] = []
    let stopped: Promise<void> | undefined
    px.addEventListener('peer', event => {
      announced.push(event.detail.id.toString())
      // stop as soon as the first peer of the answer is announced
      stopped ??= px.stop()
    })

    const outcome = await px.exchange(remote).then(peers => peers, (err: unknown) => err)
    await stopped

    assert.equal(announced.length, 1, `announced ${announced.length} of the answer's ${entries.length} peers`)
    // the caller hears that the exchange was cut short rather than getting the peers unannounced
    assert.ok(outcome instanceof NotStartedError, `the exchange ended with ${String(outcome)}`)
  })
  it(`remembers the MAX_LEARNED_PEERS (${MAX_LEARNED_PEERS}) peers answers named last, most recently named first`, async () => {
    const answer: PxPeer[] = []
    const libp2p = new FakeLibp2p(self, remote, { connected: false, answers: answer })
    const px = new PeerExchange(libp2p.components)
    await px.start()

    const named: string[] = []
    for (let i = 0; i < Math.ceil(MAX_LEARNED_PEERS / MAX_PX_PEERS) + 2; i++) {
      const peers = Array.from({ length: MAX_PX_PEERS }, () => madeUpPeerId())
      answer.splice(0, answer.length, ...peers.map(plainEntry))
      await px.exchange(remote)
      named.push(...peers.map(String))
    }
    assert.ok(named.length > MAX_LEARNED_PEERS)
    const kept = named.slice(-MAX_LEARNED_PEERS).reverse()
    assert.deepEqual(px.learnedPeers().map(String), kept)

    // a peer named again is the most recent, however long ago it was named first
    const oldest = kept.at(-1) ?? ''
    answer.splice(0, answer.length, plainEntry(peerIdFromString(oldest)))
    await px.exchange(remote, 1)
    assert.deepEqual(px.learnedPeers().map(String), [oldest, ...kept.slice(0, -1)])
    await px.stop()
  })

  it('resets an inbound stream that sends no request within PX_SERVE_TIMEOUT, the deadline it keeps when given none', async () => {
    const libp2p = new FakeLibp2p(self, remote, { connected: false, answers: 'unreachable' })
    const px = new PeerExchange(libp2p.components)
    await px.start()
    const serve = libp2p.handlers.get(PX_PROTOCOL)
    assert.ok(serve != null)
    const [asker, responder] = await streamPair()

    // the deadline armed at its real length would keep this test waiting; it passes sooner
    const { result: served, asked } = withShortDeadlines(100, () => serve(responder, { remotePeer: remote } as unknown as Connection))
    assert.deepEqual(asked, [PX_SERVE_TIMEOUT])
    await waitFor(() => asker.status !== 'open', 'the responder to give up on the silent asker', 2000)
    assert.equal(asker.status, 'reset')
    await served
    await px.stop()
  })
})
