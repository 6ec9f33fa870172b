/**
 * A stranger negotiates without end: instead of naming one protocol, it repeats the negotiation
 * header (or `ls`, or names it made up) over and over, on a new connection in the clear, under
 * Noise while the muxer is chosen, or on a stream. libp2p's multistream-select answers each one
 * with a write of its own until the negotiation times out (10 s), before any protocol and so before
 * any budget of ours: four sockets held a node at 100% CPU, and headers on a few streams slowed
 * other peers' new streams from 6 ms to 1.5 s. The node resets a stream whose negotiation takes
 * more than MAX_NEGOTIATION_ANSWERS answers, and a connection whose upgrade takes more than
 * MAX_UPGRADE_WRITES writes.
 */
import { strict as assert } from 'node:assert'
import { connect } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { MAX_NEGOTIATION_ANSWERS, MAX_UPGRADE_WRITES } from '../../src/node/constants.js'
import { PROTOCOL } from '../../src/transport/constants.js'
import { startNode, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { ConnectionEncrypter, Libp2p, Stream, StreamMuxerFactory } from '@libp2p/interface'

const HEADER = '/multistream/1.0.0'
/** far more proposals than any honest dialer makes */
const PROPOSALS = 2_000
/** well under libp2p's 10 s negotiation timeout, which reset the stream before */
const RESET_DEADLINE_MS = 3_000

/** `line` as multistream-select frames it: a varint length, the line, a newline */
function frame (line: string): Uint8Array {
  const bytes = new TextEncoder().encode(`${line}\n`)
  return new Uint8Array([bytes.length, ...bytes])
}

function repeated (part: Uint8Array, times: number): Uint8Array {
  const whole = new Uint8Array(part.length * times)
  for (let i = 0; i < times; i++) {
    whole.set(part, i * part.length)
  }
  return whole
}

/** `count` protocol names no node speaks */
function unspoken (count: number, kind: string): string[] {
  return Array.from({ length: count }, (_, i) => `/not-spoken/${kind}/${i}`)
}

/** an encrypter a dialer offers first and never gets to use */
function unspokenEncrypter (protocol: string): () => ConnectionEncrypter {
  const never = async (): Promise<never> => { throw new Error('not spoken') }
  return () => ({ protocol, secureInbound: never, secureOutbound: never })
}

/** a muxer a dialer offers first and never gets to use */
function unspokenMuxer (protocol: string): () => StreamMuxerFactory {
  return () => ({ protocol, createStreamMuxer: () => { throw new Error('not spoken') } })
}

/**
 * `encrypter`, its outbound handshakes naming no muxers: Noise then leaves the muxer to be chosen
 * by a negotiation under it, as a dialer without Noise's early muxer negotiation does
 */
function withoutEarlyMuxers (encrypter: (components: any) => ConnectionEncrypter): (components: any) => ConnectionEncrypter {
  return components => {
    const inner = encrypter(components)
    const secureOutbound = inner.secureOutbound.bind(inner)
    inner.secureOutbound = async (connection, options) => secureOutbound(connection, { ...options, skipStreamMuxerNegotiation: true })
    return inner
  }
}

describe('a stranger that negotiates without end', function () {
  this.timeout(60_000)
  let nodes: ChordNode[] = []
  let stranger: Libp2p | undefined

  afterEach(async () => {
    await stranger?.stop()
    stranger = undefined
    await stopAll(nodes)
    nodes = []
  })

  /** a raw stream to `victim`, with no protocol negotiated: what the stranger sends is all it sends */
  async function rawStream (victim: ChordNode): Promise<Stream> {
    stranger = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    const connection = await stranger.dial(victim.getMultiaddrs()[0])
    const muxer = (connection as unknown as { muxer: { createStream: () => Promise<Stream> } }).muxer
    return muxer.createStream()
  }

  /** sends `proposals` on a raw stream, and how many answer bytes came back before the node reset it */
  async function answeredBeforeReset (victim: ChordNode, proposals: Uint8Array): Promise<number> {
    const stream = await rawStream(victim)
    let answered = 0
    stream.addEventListener('message', evt => { answered += evt.data.byteLength })
    stream.send(proposals)
    await waitFor(() => stream.status !== 'open', 'the node to reset the stream', RESET_DEADLINE_MS)
    return answered
  }

  // what each proposal is answered with: its echo, the list of every protocol the node speaks, `na`
  for (const [what, proposal, answerBytes] of [
    ['the header', frame(HEADER), frame(HEADER).length],
    ['`ls`', frame('ls'), 1_024],
    ['made-up protocols', frame('/made-up/1.0.0'), frame('na').length]
  ] as const) {
    it(`gets ${what} answered at most MAX_NEGOTIATION_ANSWERS (${MAX_NEGOTIATION_ANSWERS}) times, then the stream reset`, async () => {
      const victim = await startNode()
      nodes = [victim]
      const answered = await answeredBeforeReset(victim, new Uint8Array([...frame(HEADER), ...repeated(proposal, PROPOSALS)]))
      // the header's answer, then MAX_NEGOTIATION_ANSWERS - 1 more (an `ls` lists every protocol: at most)
      const answers = frame(HEADER).length + (MAX_NEGOTIATION_ANSWERS - 1) * answerBytes
      if (what === '`ls`') {
        assert.ok(answered <= answers, `the node answered ${answered} bytes of ${PROPOSALS} proposals`)
      } else {
        assert.equal(answered, answers, `the node answered ${answered} bytes of ${PROPOSALS} proposals`)
      }
    })
  }

  it('leaves the node answering a dialer that offers protocols it lacks first, up to the limit', async () => {
    const victim = await startNode()
    nodes = [victim]
    await answeredBeforeReset(victim, repeated(frame(HEADER), PROPOSALS))
    const dialer = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    try {
      // the header, MAX_NEGOTIATION_ANSWERS - 2 refusals, then its own: answers enough
      const fallbacks = unspoken(MAX_NEGOTIATION_ANSWERS - 2, 'protocol')
      const stream = await dialer.dialProtocol(victim.getMultiaddrs()[0], [...fallbacks, PROTOCOL], { signal: AbortSignal.timeout(5_000) })
      assert.equal(stream.protocol, PROTOCOL)
      await stream.close()
      // one fallback more is one answer too many
      await assert.rejects(dialer.dialProtocol(victim.getMultiaddrs()[0], [...fallbacks, '/not-spoken/last', PROTOCOL], { signal: AbortSignal.timeout(5_000) }))
    } finally {
      await dialer.stop()
    }
  })

  it(`gets a connection repeating the header in the clear closed at its upgrade's MAX_UPGRADE_WRITES (${MAX_UPGRADE_WRITES}) + 1st answer`, async () => {
    const victim = await startNode()
    nodes = [victim]
    const port = Number(victim.getMultiaddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)
    const socket = connect(port, '127.0.0.1')
    let answered = 0
    socket.on('data', data => { answered += data.byteLength })
    socket.on('error', () => {})
    socket.write(repeated(frame(HEADER), PROPOSALS))
    await waitFor(() => socket.closed, 'the node to close the socket', RESET_DEADLINE_MS)
    // at most: the socket's reset throws away what it had not read yet
    assert.ok(answered <= MAX_UPGRADE_WRITES * frame(HEADER).length, `the node answered ${answered} bytes of ${PROPOSALS} headers`)
  })

  it('gets a WebSocket repeating the header in the clear closed too (libp2p\'s WebSockets reset left the socket open)', async () => {
    const victim = await startNode(undefined, { listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    nodes = [victim]
    const port = Number(victim.getMultiaddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)
    const socket = new WebSocket(`ws://127.0.0.1:${port}`)
    let closed = false
    socket.addEventListener('close', () => { closed = true })
    socket.addEventListener('error', () => {})
    await new Promise(resolve => socket.addEventListener('open', resolve, { once: true }))
    socket.send(repeated(frame(HEADER), PROPOSALS))
    await waitFor(() => closed, 'the node to close the WebSocket', RESET_DEADLINE_MS)
  })

  it('connects a dialer that offers encrypters and muxers it lacks first, up to the limits, and no further', async () => {
    const victim = await startNode()
    nodes = [victim]
    // a header and MAX_NEGOTIATION_ANSWERS - 2 refusals each time: within the upgrade's writes
    const fallbacks = MAX_NEGOTIATION_ANSWERS - 2
    for (const [extra, connects] of [[0, true], [MAX_UPGRADE_WRITES - 2 * fallbacks, false]] as const) {
      const dialer = await createLibp2p({
        transports: [tcp()],
        connectionEncrypters: [...unspoken(fallbacks, 'encrypter').map(unspokenEncrypter), withoutEarlyMuxers(noise())],
        streamMuxers: [...unspoken(fallbacks + extra, 'muxer').map(unspokenMuxer), yamux()]
      })
      try {
        const dialed = dialer.dial(victim.getMultiaddrs()[0], { signal: AbortSignal.timeout(5_000) })
        if (connects) {
          assert.equal((await dialed).status, 'open')
        } else {
          await assert.rejects(dialed)
        }
      } finally {
        await dialer.stop()
      }
    }
  })
})
