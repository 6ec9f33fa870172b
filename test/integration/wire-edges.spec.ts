/**
 * The edges of the wire, as a hostile peer writes them by hand against a real node: length
 * prefixes that never end, fields that decode but mean nothing, numbers outside their type. Each
 * is refused at once with a typed answer (or a reset), changes nothing, and the node goes on
 * answering an honest request.
 */
import { strict as assert } from 'node:assert'
import { createIdentity } from '../../src/index.js'
import { signDeletion } from '../../src/mailbox/proofs.js'
import { MAILBOX_PROTOCOL } from '../../src/mailbox/protocol-constants.js'
import { MAX_PX_REQUEST_SIZE, PX_PROTOCOL } from '../../src/peer-exchange/constants.js'
import { frameStream } from '../../src/protocol/framing.js'
import { MessageType, Namespace, Request, Response } from '../../src/protocol/generated/chord.js'
import { PxResponse } from '../../src/protocol/generated/px.js'
import { ErrorCode, MAX_MESSAGE_SIZE, PROTOCOL } from '../../src/transport/constants.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { wireBytes } from '../../src/transport/ring-id.js'
import { startNode, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { Stream } from '@libp2p/interface'

/** A length prefix that goes on for 11 bytes: longer than any varint a protocol here allows */
const OVERLONG_PREFIX = Uint8Array.from([...new Array(10).fill(0x80), 0x01])

describe('the edges of the wire', function () {
  this.timeout(60_000)
  let node: ChordNode
  let mallory: ChordLibp2p

  before(async () => {
    // a node with every protocol (/chord, px, mailbox) and its default idle timeouts (a minute)
    node = await startNode()
    mallory = await createChordLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'], peerExchange: false })
    await mallory.dial(node.getMultiaddrs()[0])
  })

  after(async () => {
    await mallory.stop()
    await stopAll([node])
  })

  async function open (protocol: string): Promise<Stream> {
    return mallory.dialProtocol(node.peerId, protocol)
  }

  /** An honest PING still gets its answer */
  async function stillAnswers (): Promise<void> {
    const framed = frameStream(await open(PROTOCOL), MAX_MESSAGE_SIZE)
    await framed.write(Request.encode({ type: MessageType.PING }))
    const response = Response.decode(await framed.read())
    assert.equal(response.status, Response.Status.OK)
  }

  for (const protocol of [PROTOCOL, PX_PROTOCOL, MAILBOX_PROTOCOL]) {
    it(`resets a ${protocol} stream whose length prefix runs past its longest varint, at once`, async () => {
      const stream = await open(protocol)
      const started = Date.now()
      stream.send(OVERLONG_PREFIX)
      await waitFor(() => stream.status !== 'open', 'the stream to be reset', 5_000)
      const took = Date.now() - started
      console.log(`      reset after ${took} ms`)
      assert.ok(took < 2_000, `reset after ${took} ms, not at once`)
      await stillAnswers()
    })
  }

  it('answers a DELETE whose owner is not a canonical public key INVALID_ARGUMENT, not INTERNAL', async () => {
    const bob = await createIdentity()
    const deletion = await signDeletion(bob, [new Uint8Array(32).fill(7)], Date.now())
    const framed = frameStream(await open(PROTOCOL), MAX_MESSAGE_SIZE)
    await framed.write(Request.encode({
      type: MessageType.DELETE,
      namespace: Namespace.MAILBOX,
      key: wireBytes(deletion.key),
      ids: deletion.ids.map(wireBytes),
      // the right length, but version 9 and a key that is no curve point
      owner: new Uint8Array(65).fill(9),
      signedAt: deletion.signedAt,
      signature: wireBytes(deletion.signature)
    }))
    const response = Response.decode(await framed.read())
    assert.equal(response.status, Response.Status.ERROR)
    assert.equal(response.errorCode, ErrorCode.INVALID_ARGUMENT)
    await stillAnswers()
  })

  // the varints written out: a uint32 reader keeps their low 32 bits (1, and 2^32 - 1)
  const hugeCounts: Array<[string, number[]]> = [
    ['2^32 + 1', [0x81, 0x80, 0x80, 0x80, 0x10]],
    ['-1 (as a 64-bit varint)', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]]
  ]
  for (const [what, varint] of hugeCounts) {
    it(`refuses a peer-exchange request for ${what} peers instead of answering it`, async () => {
      const stream = await open(PX_PROTOCOL)
      const body = Uint8Array.from([0x08, ...varint])
      assert.ok(body.byteLength <= MAX_PX_REQUEST_SIZE)
      const framed = frameStream(stream, 64 * 1024)
      await framed.write(body)
      const answer = await framed.read().then(bytes => PxResponse.decode(bytes), () => undefined)
      assert.equal(answer, undefined, `answered ${JSON.stringify(answer)}`)
      await waitFor(() => stream.status !== 'open', 'the stream to be reset', 5_000)
      await stillAnswers()
    })
  }
})
