/**
 * Network splits for integration tests on real rings: each node gets a connection gater that
 * asks a `Partition`, which the test switches on and off.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { startNode, waitForConsistentRing } from './ring.js'
import type { ChordNode, ChordNodeOptions } from '../../src/index.js'
import type { ConnectionGater, PeerId } from '@libp2p/interface'

/** Healing every ~300 ms: a test split ends and merges within a few seconds */
export const PARTITION_TIMERS = { healIntervalMs: 300, peerCacheSaveIntervalMs: 500 }

/**
 * A network split the test switches on and off: while it is on, no connection forms between
 * peers on different sides. Each node gets a gater that asks it.
 */
export class Partition {
  private readonly sideOf = new Map<string, string>()
  private on = false

  gaterFor (self: PeerId): ConnectionGater {
    const denied = (remote: PeerId): boolean => this.separates(self, remote)
    return {
      denyDialPeer: denied,
      denyInboundEncryptedConnection: denied,
      denyOutboundEncryptedConnection: denied
    }
  }

  /** Cut the network between the sides and drop the connections that cross it */
  async split (sides: ChordNode[][]): Promise<void> {
    this.sideOf.clear()
    sides.forEach((side, i) => { side.forEach(node => this.sideOf.set(node.peerId.toString(), String(i))) })
    this.on = true
    const everyone = sides.flat()
    await Promise.all(everyone.flatMap(node => everyone
      .filter(other => this.separates(node.peerId, other.peerId))
      .map(async other => node.libp2p.hangUp(other.peerId))))
  }

  heal (): void {
    this.on = false
  }

  private separates (a: PeerId, b: PeerId): boolean {
    const [sideA, sideB] = [this.sideOf.get(a.toString()), this.sideOf.get(b.toString())]
    return this.on && sideA != null && sideB != null && sideA !== sideB
  }
}

/**
 * Start `count` nodes into `ring` (pushed as they start, so that the caller stops them whatever
 * happens), each with a gater that asks `partition`, and wait until they form one ring
 */
export async function startGatedRing (partition: Partition, count: number, ring: ChordNode[], options: ChordNodeOptions = {}): Promise<ChordNode[]> {
  for (let i = 0; i < count; i++) {
    const privateKey = await generateKeyPair('Ed25519')
    const entry = i === 0 ? undefined : ring[(i * 7) % ring.length]
    ring.push(await startNode(entry, {
      ...options,
      privateKey,
      timers: { ...PARTITION_TIMERS, ...options.timers },
      libp2p: { connectionGater: partition.gaterFor(peerIdFromPrivateKey(privateKey)) }
    }))
  }
  await waitForConsistentRing(ring)
  return ring
}
