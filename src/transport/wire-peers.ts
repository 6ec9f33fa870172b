/**
 * Ring nodes as they cross the wire: a `NodeRef` leaves with the addresses this node knows for
 * it and the proof of its position, and a received entry becomes a `NodeRef` only if its claimed
 * ring id is the position its PeerId and proof give. Entries that fail are dropped one by one, so
 * one bad entry does not cost the message. Whether a proof pays the network's difficulty is the
 * ring's to judge, before it adopts the node (chord/position-rules.ts). A received entry's private
 * addresses are taken only from a peer on our own networks (private-addresses.ts): from anyone
 * else the entry keeps its public addresses, or none.
 */
import { CODE_P2P } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { LRUCache } from 'lru-cache'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { second } from '../units.js'
import { InvalidMessageError } from '../errors.js'
import { isPlain } from '../chord/ring-position.js'
import { MAX_ADDR_BYTES, MAX_ADDRS_PER_PEER, MAX_PEERS_PER_MESSAGE } from './constants.js'
import { validatePeerAddresses, validatePeerIdentity } from './validate.js'
import { knownPeer } from './known-peer.js'
import { addressesTaken, isPrivateConnection } from './private-addresses.js'
import { positionOf, proofToWire, ringIdToWire } from './ring-id.js'
import { subnetOf } from './subnet.js'
import type { Neighbours, NodeRef } from '../chord/rpc.js'
import type { Neighbours as WireNeighbours, Peer as WirePeer } from '../protocol/generated/chord.js'
import type { ComponentLogger, Connection, Logger, PeerId, PeerStore } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface WirePeersComponents {
  peerId: PeerId
  peerStore: PeerStore
  logger: ComponentLogger
  /** our own listening addresses, as others should dial them */
  getMultiaddrs(): Multiaddr[]
  getConnections(peerId?: PeerId): Connection[]
}

export interface WirePeersInit {
  /** whether the node routes through `peer` (its routing table holds it): its addresses stay */
  inUse?(peer: string): boolean
  /**
   * whether the peer at the other end of `connection` is on our own networks, so that the private
   * addresses it names are taken; default: its remote address is private or loopback, and not
   * relayed (tests take a loopback peer for a public one with it)
   */
  isPrivateConnection?(connection: Connection): boolean
}

/**
 * Peers whose wire form (PeerId bytes and known addresses) is kept ready, and whose received
 * addresses are not merged into the peer store again. Every lookup step and stabilize round
 * sends and receives the same few neighbours and fingers; reading and writing the peer store for
 * each entry of each message cost more than the round trip itself.
 */
export const WIRE_PEER_CACHE_SIZE = 1024

/**
 * Peers known only from other nodes' answers that the peer store keeps: past it, the one named
 * longest ago leaves the peer store (unless we connected to it or route through it). Made-up
 * PeerIds cost nothing, and each answer may name MAX_PEERS_PER_MESSAGE with their addresses.
 * Larger than WIRE_PEER_CACHE_SIZE: a peer dropped has no address set cached either, so named
 * again, its addresses are stored again. Such a peer holds the addresses it was named with last
 * (at most MAX_ADDRS_PER_PEER); a peer the peer store knew otherwise (the peer cache, peer
 * exchange, a past connection) is never dropped, and takes an answer's addresses only while it
 * holds fewer than MAX_ADDRS_PER_PEER, so that answers cannot pile addresses onto any peer.
 */
export const MAX_WIRE_LEARNED_PEERS = 4096

/** How long a cached wire form or a merged address set is trusted before the peer store is asked again */
export const WIRE_PEER_CACHE_TTL = 30 * second

interface WireForm {
  peerId: Uint8Array<ArrayBuffer>
  addrs: Array<Uint8Array<ArrayBuffer>>
}

export class WirePeers {
  private readonly components: WirePeersComponents
  private readonly inUse: (peer: string) => boolean
  private readonly isPrivateConnection: (connection: Connection) => boolean
  private readonly log: Logger
  /** peer → its wire form, as last read from the peer store (or our own addresses) */
  private readonly outgoing = new LRUCache<string, WireForm>({ max: WIRE_PEER_CACHE_SIZE, ttl: WIRE_PEER_CACHE_TTL })
  /** an entry's peer id and ring id bytes → the node they were checked to be */
  private readonly incoming = new LRUCache<string, { peerId: PeerId, node: NodeRef }>({ max: WIRE_PEER_CACHE_SIZE })
  /**
   * peer → the address set last received for it, and whether its sender was on our networks,
   * checked (and what was taken of it merged into the peer store)
   */
  private readonly addressSets = new LRUCache<string, string>({ max: WIRE_PEER_CACHE_SIZE, ttl: WIRE_PEER_CACHE_TTL })
  /** peer → the subnet of the addresses last received for it ('' for none counted) */
  private readonly receivedSubnets = new LRUCache<string, string>({ max: WIRE_PEER_CACHE_SIZE })
  /**
   * peer → its PeerId: parsing one from its text decodes a public key, which costs more than a
   * request's own encoding, and cost more than all else a stabilize round did when the subnet cap
   * asked after each successor
   */
  private readonly peerIds = new LRUCache<string, PeerId>({ max: WIRE_PEER_CACHE_SIZE })
  /** peers whose received addresses went to the peer store, the one named longest ago first out */
  private readonly learned = new LRUCache<string, PeerId>({
    max: MAX_WIRE_LEARNED_PEERS,
    dispose: (peerId, peer, reason) => {
      if (reason === 'evict') {
        void this.forget(peer, peerId)
      }
    }
  })

  constructor (components: WirePeersComponents, init: WirePeersInit = {}) {
    this.components = components
    this.inUse = init.inUse ?? (() => false)
    this.isPrivateConnection = init.isPrivateConnection ?? isPrivateConnection
    this.log = components.logger.forComponent('libp2p-chord:transport:wire-peers')
  }

  /** At most MAX_PEERS_PER_MESSAGE entries, each with the addresses we know for it */
  async encode (nodes: NodeRef[]): Promise<WirePeer[]> {
    return Promise.all(nodes.slice(0, MAX_PEERS_PER_MESSAGE).map(async node => this.encodeOne(node)))
  }

  async encodeNeighbours (neighbours: Neighbours): Promise<WireNeighbours> {
    return {
      predecessor: neighbours.predecessor == null ? undefined : await this.encodeOne(neighbours.predecessor),
      // the predecessor takes one of the message's peer entries
      successors: await this.encode(neighbours.successors.slice(0, MAX_PEERS_PER_MESSAGE - 1))
    }
  }

  /**
   * The entries that check out, in order, as `sender` named them in a message that came over
   * `via` (the sender's connection, or that of whoever relayed its message). Their addresses go to
   * the peer store so that they can be dialled next (peers we are connected to keep theirs up to
   * date through identify), private ones only when `via` is a connection on our own networks.
   */
  async decode (entries: WirePeer[], sender: PeerId, via: Connection): Promise<NodeRef[]> {
    const nodes: NodeRef[] = []
    const merges: Array<Promise<void>> = []
    const named = new Set<string>()
    const fromPrivatePeer = this.isPrivateConnection(via)
    let dropped = 0

    for (const entry of entries) {
      try {
        const { peerId, node } = this.identityOf(entry)
        if (named.has(node.peer)) {
          // once is all a list needs, and each naming could bring other addresses
          throw new InvalidMessageError(`${node.peer} is named more than once`)
        }
        named.add(node.peer)
        // named now: the last to leave the peer store
        this.learned.get(node.peer)
        const addressSet = `${fromPrivatePeer ? 'private' : 'public'} ${entry.addrs.map(bytes => uint8ArrayToString(bytes, 'base64')).sort().join()}`
        if (this.addressSets.get(node.peer) !== addressSet) {
          // a new set is checked (a bad one drops the entry) and, unless we are connected to the
          // peer (identify keeps its addresses current), what we may take of it is stored so that
          // we can dial it
          const received = validatePeerAddresses(entry)
          const multiaddrs = addressesTaken(received, fromPrivatePeer)
          dropped += received.length - multiaddrs.length
          this.addressSets.set(node.peer, addressSet)
          this.receivedSubnets.set(node.peer, subnetOf(multiaddrs) ?? '')
          if (multiaddrs.length > 0 && !this.isSelfOrConnected(peerId)) {
            // the next message naming this peer carries what the peer store now holds
            this.outgoing.delete(node.peer)
            merges.push(this.rememberAddresses(node.peer, peerId, multiaddrs))
          }
        }
        nodes.push(node)
      } catch (err) {
        this.log('dropped a peer entry from %p - %e', sender, err)
      }
    }

    if (dropped > 0) {
      this.log.trace('dropped %d private addresses named by %p over %a, not a connection on our networks', dropped, sender, via.remoteAddr)
    }
    await Promise.all(merges)
    return nodes
  }

  /**
   * The entry's node, if its claimed ring id is the position its peer id and proof give. Decoding
   * a peer id (a public key) and hashing it cost more than the rest of a lookup step, so identities
   * already checked are remembered by their exact bytes.
   */
  private identityOf (entry: WirePeer): { peerId: PeerId, node: NodeRef } {
    const bytes = [entry.peerId, entry.ringId, entry.positionNonce ?? new Uint8Array(0)].map(b => uint8ArrayToString(b, 'base64')).join(' ') +
      ` ${entry.positionChoice ?? 0}`
    const known = this.incoming.get(bytes)
    if (known != null) {
      return known
    }
    const { peerId, ringId, proof } = validatePeerIdentity(entry)
    if (ringId !== positionOf(peerId, proof)) {
      throw new InvalidMessageError(`ring id of ${peerId} is not the position its peer id and proof give`)
    }
    const peer = peerId.toString()
    const checked = { peerId, node: isPlain(proof) ? { id: ringId, peer } : { id: ringId, peer, proof } }
    this.incoming.set(bytes, checked)
    return checked
  }

  /**
   * The peer store's addresses of `peer` changed (it restarted on another port, identify told us
   * more): the next message naming it carries the new ones rather than a copy up to
   * WIRE_PEER_CACHE_TTL old, which would send others to dial where it no longer listens
   */
  addressesChanged (peer: PeerId): void {
    this.outgoing.delete(peer.toString())
  }

  /**
   * The subnet `peer` is in, for the routing state's diversity cap: that of the connection we have
   * with it (its address is the one the peer really uses), else that of the addresses last received
   * for it; undefined when neither is counted (loopback, no IP) or the peer is unknown
   */
  subnetOf (peer: string): string | undefined {
    let connected: Multiaddr[] = []
    try {
      connected = this.components.getConnections(this.peerIdOf(peer)).map(connection => connection.remoteAddr)
    } catch {
      // not a peer id: nothing to count
    }
    const received = this.receivedSubnets.get(peer)
    return subnetOf(connected) ?? (received === '' ? undefined : received)
  }

  async decodeNeighbours (neighbours: WireNeighbours, sender: PeerId, via: Connection): Promise<Neighbours> {
    const [predecessor] = neighbours.predecessor == null ? [] : await this.decode([neighbours.predecessor], sender, via)
    return { predecessor, successors: await this.decode(neighbours.successors, sender, via) }
  }

  /** The PeerId of a peer's text, parsed once while it is among those named most lately; @throws when it is none */
  peerIdOf (peer: string): PeerId {
    let peerId = this.peerIds.get(peer)
    if (peerId == null) {
      peerId = peerIdFromString(peer)
      this.peerIds.set(peer, peerId)
    }
    return peerId
  }

  private async encodeOne (node: NodeRef): Promise<WirePeer> {
    let form = this.outgoing.get(node.peer)
    if (form == null) {
      const peerId = this.peerIdOf(node.peer)
      form = { peerId: peerId.toMultihash().bytes, addrs: await this.addressesOf(peerId) }
      this.outgoing.set(node.peer, form)
    }
    return { peerId: form.peerId, ringId: ringIdToWire(node.id), addrs: form.addrs, ...proofToWire(node.proof) }
  }

  private async addressesOf (peerId: PeerId): Promise<Array<Uint8Array<ArrayBuffer>>> {
    let multiaddrs: Multiaddr[]
    if (peerId.equals(this.components.peerId)) {
      // ours carry a /p2p/<us> suffix that the receiver knows already
      multiaddrs = this.components.getMultiaddrs().map(ma => ma.decapsulateCode(CODE_P2P))
    } else {
      // a peer we know nothing about travels without addresses
      multiaddrs = (await knownPeer(this.components.peerStore, peerId))?.addresses.map(address => address.multiaddr) ?? []
    }

    return multiaddrs
      .map(ma => ma.bytes)
      .filter(bytes => bytes.byteLength <= MAX_ADDR_BYTES)
      .slice(0, MAX_ADDRS_PER_PEER)
  }

  /**
   * A peer the peer store does not know, or knows only from answers, is counted among the
   * MAX_WIRE_LEARNED_PEERS and holds these addresses in place of any it had; one known otherwise
   * gets them added while it holds fewer than MAX_ADDRS_PER_PEER
   */
  private async rememberAddresses (peer: string, peerId: PeerId, multiaddrs: Multiaddr[]): Promise<void> {
    try {
      const known = this.learned.has(peer) ? undefined : await knownPeer(this.components.peerStore, peerId)
      if (known == null) {
        this.learned.set(peer, peerId)
        await this.components.peerStore.patch(peerId, { multiaddrs })
      } else if (known.addresses.length < MAX_ADDRS_PER_PEER) {
        await this.components.peerStore.merge(peerId, { multiaddrs })
      }
    } catch (err) {
      // the entry is still good; we may just be unable to dial it later
      this.log.error('could not store addresses of %p - %e', peerId, err)
    }
  }

  /**
   * Drop from the peer store a peer that only answers told us of, and that nobody named for the
   * last MAX_WIRE_LEARNED_PEERS, unless we connected to it since (identify then knows its
   * protocols) or tagged it, which make it a peer known otherwise. One we are connected to or
   * route through now is counted again, as if just named, so that it leaves once we no longer do.
   * Named again, its addresses are stored again.
   */
  private async forget (peer: string, peerId: PeerId): Promise<void> {
    try {
      const known = await knownPeer(this.components.peerStore, peerId)
      // named again while we looked: it is new again
      if (known == null || known.protocols.length > 0 || known.tags.size > 0 || this.learned.has(peer)) {
        return
      }
      if (this.isSelfOrConnected(peerId) || this.inUse(peer)) {
        this.learned.set(peer, peerId)
        return
      }
      await this.components.peerStore.delete(peerId)
      // a naming that raced the delete stored nothing that lasts: the next one stores again
      this.addressSets.delete(peer)
    } catch (err) {
      this.log.error('could not drop %p from the peer store - %e', peerId, err)
    }
  }

  private isSelfOrConnected (peerId: PeerId): boolean {
    return peerId.equals(this.components.peerId) || this.components.getConnections(peerId).length > 0
  }
}
