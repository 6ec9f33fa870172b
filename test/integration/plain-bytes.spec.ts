/**
 * The API promises Uint8Array: bytes a user gets back are plain Uint8Arrays, never Node's Buffer
 * (which prints, compares and serialises differently), whether this node read them from its own
 * store or another node sent them.
 */
import assert from 'node:assert/strict'
import { keyPosition, ringIdFromBytes } from '../../src/chord/id.js'
import { utf8 } from '../../src/chord/transcript.js'
import { createIdentity } from '../../src/index.js'
import { ownedKey } from '../../src/owned/record.js'
import { expectedReplicas, startRing, stopAll } from '../helpers/ring.js'
import type { ChordNode, MailboxMessage } from '../../src/index.js'

const REPLICAS = 3

function assertPlain (bytes: Uint8Array, what: string): void {
  assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype, `${what} is a plain Uint8Array`)
}

/** A node that holds no replica of `position`: what it reads comes from other nodes */
function notHolding (nodes: ChordNode[], position: Uint8Array): ChordNode {
  const replicas = expectedReplicas(nodes, ringIdFromBytes(position), REPLICAS)
  const reader = nodes.find(node => !replicas.includes(node))
  assert.ok(reader != null, 'a ring larger than the replica set')
  return reader
}

describe('bytes handed out by the API', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []

  before(async () => {
    nodes = await startRing(REPLICAS + 2)
  })

  after(async () => {
    await stopAll(nodes)
  })

  it('get: a plain Uint8Array from a replica and from a node that asked others', async () => {
    await nodes[0].put('greeting', utf8('hello'))
    const remote = await notHolding(nodes, keyPosition('greeting')).get('greeting')
    assert.equal(remote.length, 1)
    assertPlain(remote[0], 'a value read from another node')
    const local = await expectedReplicas(nodes, ringIdFromBytes(keyPosition('greeting')), REPLICAS)[0].get('greeting')
    assertPlain(local[0], 'a value read from the node\'s own store')
  })

  it('resolve: a plain Uint8Array value from a node that asked others', async () => {
    const me = await createIdentity()
    await nodes[1].publish(me, 'profile', utf8('at home'))
    const resolved = await notHolding(nodes, ownedKey(me.publicKey, utf8('profile'))).resolve(me.address, 'profile')
    assert.ok(resolved != null)
    assertPlain(resolved.value, 'a resolved value')
    assert.equal(new TextDecoder().decode(resolved.value), 'at home')
  })

  it('mailbox: a message sent through another node has plain plaintext and sender key', async () => {
    const me = await createIdentity()
    const received = Promise.withResolvers<MailboxMessage>()
    const subscription = await nodes[2].mailbox.subscribe(me, message => { received.resolve(message) })
    try {
      await nodes[3].mailbox.send(me, me.address, utf8('a note to self'))
      const message = await received.promise
      assertPlain(message.plaintext, 'the plaintext')
      assertPlain(message.sender.bytes, 'the sender\'s key')
    } finally {
      await subscription.close()
    }
  })
})
