/**
 * The ring-neighbour tags: every node of the routing table is tagged, and connected to as soon as
 * it enters the table, once; a node that leaves the table loses its tag.
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { RING_PEER_TAG, RingPeerTags } from '../../src/membership/ring-peer-tags.js'
import { ringIdOf } from '../../src/transport/ring-id.js'
import { silentLogger } from '../helpers/logger.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { RingPeerTagsComponents } from '../../src/membership/ring-peer-tags.js'
import type { PeerId } from '@libp2p/interface'

async function nodeRef (): Promise<NodeRef> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  return { id: ringIdOf(peerId), peer: peerId.toString() }
}

describe('ring peer tags', () => {
  let table: NodeRef[]
  let tagged: Set<string>
  let connected: string[]
  let tags: RingPeerTags

  beforeEach(() => {
    table = []
    tagged = new Set()
    connected = []
    const components = {
      peerStore: {
        merge: async (peer: PeerId, update: { tags: Record<string, unknown> }) => {
          if (update.tags[RING_PEER_TAG] == null) {
            tagged.delete(peer.toString())
          } else {
            tagged.add(peer.toString())
          }
        }
      },
      logger: silentLogger()
    } as unknown as RingPeerTagsComponents
    tags = new RingPeerTags(components, {
      ringNodes: () => table,
      connect: async peer => {
        connected.push(peer)
        if (peer === table[1]?.peer) {
          throw new Error('unreachable')
        }
      }
    })
  })

  it('connects to each node that enters the routing table once, and tags it while it stays', async () => {
    const [a, b, c] = await Promise.all([nodeRef(), nodeRef(), nodeRef()])
    table = [a, b]
    await tags.sync()
    assert.deepEqual([...tagged].sort(), [a.peer, b.peer].sort())
    assert.deepEqual(connected.sort(), [a.peer, b.peer].sort())

    table = [a, c]
    await tags.sync()
    await tags.sync()
    assert.deepEqual([...tagged].sort(), [a.peer, c.peer].sort())
    assert.deepEqual(connected.sort(), [a.peer, b.peer, c.peer].sort())
  })

  it('keeps the tag of a node it could not connect to: whether it answers is the ring\'s to find out', async () => {
    const [a, b] = await Promise.all([nodeRef(), nodeRef()])
    table = [a, b]
    await tags.sync()
    assert.ok(tagged.has(b.peer))
  })
})
