/**
 * Many mailbox owners subscribed at one node over a bounded number of connections: `peers`
 * lightweight libp2p nodes (no ring, no services beyond the base ones) each hold the subscriptions
 * of `perPeer` identities, one /chord/mailbox/1.0.0 stream each. The node must allow `perPeer`
 * subscriptions per peer (its `maxSubscriptionsPerPeer`). Each envelope pushed is noted with the
 * time it arrived, by its id, so a caller can tell who got what, and when.
 */
import { toString as toHex } from 'uint8arrays/to-string'
import { createIdentity } from '../../src/index.js'
import { envelopeId } from '../../src/mailbox/seal.js'
import { openMailboxSession } from '../../src/mailbox/session.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { ringIdOf } from '../../src/transport/ring-id.js'
import type { Identity } from '../../src/index.js'
import type { MailboxSession } from '../../src/mailbox/subscription.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Subscriptions opened at once per peer: enough to overlap handshakes, few enough not to time them out on a busy machine */
const OPENING_AT_ONCE = 25

export interface ManySubscribers {
  identities: Identity[]
  /** envelope id (hex) → performance.now() when it was pushed, for every envelope received */
  received: Map<string, number>
  /** subscriptions the node ended (dropped, or stopped) */
  closed: number
  stop(): Promise<void>
}

export interface ManySubscribersInit {
  node: { peerId: PeerId, address: Multiaddr }
  peers: number
  perPeer: number
  /** told of each envelope as it arrives */
  onReceived?(id: string, at: number): void
}

export async function subscribeMany (init: ManySubscribersInit): Promise<ManySubscribers> {
  const clients: ChordLibp2p[] = []
  const sessions: MailboxSession[] = []
  const subscribers: ManySubscribers = {
    identities: [],
    received: new Map(),
    closed: 0,
    stop: async () => {
      await Promise.allSettled(sessions.map(async session => session.close()))
      await Promise.allSettled(clients.map(async client => client.stop()))
    }
  }
  const nodeRef = { id: ringIdOf(init.node.peerId), peer: init.node.peerId.toString() }
  const handlers = {
    onEnvelopes: async (envelopes: Uint8Array[]) => {
      const at = performance.now()
      for (const envelope of envelopes) {
        const id = toHex(envelopeId(envelope), 'base16')
        subscribers.received.set(id, at)
        init.onReceived?.(id, at)
      }
    },
    onClose: () => { subscribers.closed++ }
  }
  try {
    for (let p = 0; p < init.peers; p++) {
      const client = await createChordLibp2p({ listen: [], peerExchange: false })
      clients.push(client)
      await client.dial(init.node.address)
      // libp2p lets a peer open 64 streams of a protocol it does not handle; this one opens perPeer
      const dialer = {
        dialProtocol: async (peer: PeerId, protocol: string, options?: AbortOptions) =>
          client.dialProtocol(peer, protocol, { ...options, maxOutboundStreams: init.perPeer })
      }
      for (let start = 0; start < init.perPeer; start += OPENING_AT_ONCE) {
        const batch = await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, init.perPeer - start) }, async () => createIdentity()))
        subscribers.identities.push(...batch)
        sessions.push(...await Promise.all(batch.map(async identity => openMailboxSession(dialer, nodeRef, identity, handlers))))
      }
    }
  } catch (err) {
    await subscribers.stop()
    throw err
  }
  return subscribers
}
