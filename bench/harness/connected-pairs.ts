/**
 * Pairs of ring nodes that are already connected: round trips between them measure the requests,
 * not the dials.
 */
import type { ChordNode } from '../../src/index.js'

export interface Pair {
  from: ChordNode
  to: ChordNode
}

/** Every (node, ring peer it is connected to), in an order drawn from `random` */
export function connectedPairs (nodes: ChordNode[], random: () => number): Pair[] {
  const byPeer = new Map(nodes.map(node => [node.peerId.toString(), node]))
  const pairs = nodes.flatMap(from => from.libp2p.getPeers()
    .map(peer => byPeer.get(peer.toString()))
    .filter(to => to != null)
    .map(to => ({ from, to })))
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]]
  }
  return pairs
}
