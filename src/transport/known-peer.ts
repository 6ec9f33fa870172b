/**
 * What libp2p's peer store holds for a peer, or undefined when it holds nothing: its `get` throws
 * NotFoundError for a peer it does not know, which every caller here takes as "nothing known".
 */
import type { Peer, PeerId, PeerStore } from '@libp2p/interface'

export async function knownPeer (peerStore: Pick<PeerStore, 'get'>, peerId: PeerId): Promise<Peer | undefined> {
  try {
    return await peerStore.get(peerId)
  } catch (err: any) {
    if (err.name === 'NotFoundError') {
      return undefined
    }
    throw err
  }
}
