/**
 * The ring and the mailbox as libp2p services run through libp2p's whole life cycle twice: an
 * application stops its libp2p node and starts the same node again, and expects it to take its
 * place in the ring and serve as before. (`@libp2p/interface-compliance-tests` has no suite for a
 * generic service, nor do these services implement one of the interfaces it covers.)
 */
import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { chord, chordMailbox, createIdentity } from '../../src/index.js'
import { addressOf, nodeOptions, startRing, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordMailbox, ChordNode, ChordService, MailboxMessage } from '../../src/index.js'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'

type AppNode = Libp2p<{ identify: Identify, chord: ChordService, mailbox: ChordMailbox }>

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value)

/** An application's own libp2p node with the ring's services */
async function startAppNode (bootstrap: string): Promise<AppNode> {
  const { timers, requestTimeoutMs } = nodeOptions()
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: 100 },
    services: {
      identify: identify(),
      chord: chord({ bootstrap: [bootstrap], timers, requestTimeoutMs }),
      mailbox: chordMailbox({ subscriptionCheckIntervalMs: timers?.subscriptionCheckIntervalMs })
    }
  })
}

/** The ring helpers take any libp2p node with the chord service as a ring member */
function asRingMember (app: AppNode): ChordNode {
  return { libp2p: app } as unknown as ChordNode
}

describe('chord() and chordMailbox() in a libp2p node stopped and started again', function () {
  this.timeout(60_000)

  let ring: ChordNode[] = []
  let app: AppNode

  before(async () => {
    ring = await startRing(3)
    app = await startAppNode(addressOf(ring[0]))
    await app.services.chord.joined()
    await waitForConsistentRing([...ring, asRingMember(app)])
    await app.services.chord.put('before-the-restart', bytes('kept'), { ttlMs: 60_000 })

    await app.stop()
    assert.equal(app.services.chord.status, 'stopped')
    // it left gracefully: the ring closes behind it
    await waitForConsistentRing(ring)
    await app.start()
  })

  after(async () => {
    await app?.stop()
    await stopAll(ring)
  })

  it('joins the ring again and takes its place in it', async () => {
    await app.services.chord.joined()
    assert.equal(app.services.chord.status, 'joined')
    await waitForConsistentRing([...ring, asRingMember(app)])
  })

  it('writes and reads through the ring again', async () => {
    await app.services.chord.joined()
    const { replicas } = await app.services.chord.put('after-the-restart', bytes('hello again'), { ttlMs: 60_000 })
    assert.equal(replicas, 3)
    assert.deepEqual((await ring[1].get('after-the-restart')).map(text), ['hello again'])
    assert.deepEqual((await app.services.chord.get('before-the-restart')).map(text), ['kept'])
    // the others' writes land on it again: it took none while it was leaving, and must after
    // starting again (of 8 keys, it is a replica of some but for odds of 4^-8)
    for (let i = 0; i < 8; i++) {
      const { replicas } = await ring[1].put(`from-the-ring-${i}`, bytes('to every replica'))
      assert.equal(replicas, 3, `put ${i} reached every replica`)
    }
  })

  it('sends mail again, and receives it on a subscription made after the restart', async () => {
    await app.services.chord.joined()
    const [alice, bob] = await Promise.all([createIdentity(), createIdentity()])
    const received: MailboxMessage[] = []
    const subscription = await app.services.mailbox.subscribe(bob, message => { received.push(message) })
    try {
      const sentFromApp = await app.services.mailbox.send(alice, bob.address, bytes('from the restarted node'))
      const sentFromRing = await ring[2].mailbox.send(alice, bob.address, bytes('to the restarted node'))
      await waitFor(() => received.length >= 2, 'both messages to reach the subscriber on the restarted node')
      assert.deepEqual(received.map(m => m.id).sort(), [sentFromApp.id, sentFromRing.id].sort())
    } finally {
      await subscription.close()
    }
  })
})
