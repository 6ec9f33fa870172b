/**
 * The benchmark peer: a network of `@libp2p/kad-dht` nodes on 127.0.0.1, built like the chord
 * nodes (same transports, Noise, Yamux, identify, ping and connection limits), so that the two
 * DHTs differ only in their routing.
 *
 * On loopback kad-dht needs server mode and a peer-info mapper that keeps private addresses, or it
 * neither answers queries nor adds peers to its routing table.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, removePublicAddressesMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { createLibp2p } from 'libp2p'
import { INBOUND_CONNECTIONS_PER_SECOND_PER_IP, MAX_INCOMING_PENDING_CONNECTIONS } from '../../src/transport/libp2p.js'
import { defaultTransports } from '../../src/transport/platform-defaults.js'
import { waitFor } from '../../test/helpers/wait-for.js'
import type { Identify } from '@libp2p/identify'
import type { KadDHT, SingleKadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'

export type KadNode = Libp2p<{ identify: Identify, ping: Ping, dht: KadDHT }>

/** Record keys are `/bench/<name>`; kad-dht refuses keys of a namespace it has no validator for */
export const KAD_NAMESPACE = 'bench'

/** Earlier nodes each new node dials: enough for the network to find itself through kad queries */
const BOOTSTRAP_DIALS = 3

/** A node's routing table is "filled" when it holds this fraction of the other nodes */
const FILLED_ROUTING_TABLE = 0.9

/** ms to wait for routing tables to fill */
const ROUTING_TABLE_TIMEOUT = 60_000

export interface KadNetworkInit {
  size: number
  /** ms to leave the network alone after the routing tables filled (kad-dht settles slowly) */
  settleMs: number
  progress?(message: string): void
}

export interface KadNetwork {
  nodes: KadNode[]
  /** ms from the first node's start to filled routing tables */
  formedMs: number
  stop(): Promise<void>
}

export async function startKadNetwork (init: KadNetworkInit): Promise<KadNetwork> {
  const nodes: KadNode[] = []
  const stop = async (): Promise<void> => { await Promise.allSettled(nodes.map(async node => node.stop())) }
  const started = Date.now()
  try {
    for (let i = 0; i < init.size; i++) {
      const node = await createKadNode()
      const earlier = new Set([i - 1, Math.floor(i / 2), (i * 7) % Math.max(i, 1)].filter(j => j >= 0 && j < i))
      await Promise.all([...earlier].slice(0, BOOTSTRAP_DIALS).map(async j => node.dial(nodes[j].getMultiaddrs()[0])))
      nodes.push(node)
    }
    const wanted = Math.floor((init.size - 1) * FILLED_ROUTING_TABLE)
    await waitFor(() => nodes.every(node => routingTableSize(node) >= wanted),
      `kad-dht routing tables of ${wanted} peers`, ROUTING_TABLE_TIMEOUT)
    const formedMs = Date.now() - started
    init.progress?.(`kad-dht: ${init.size} nodes formed in ${(formedMs / 1000).toFixed(1)} s; settling ${init.settleMs / 1000} s`)
    await new Promise(resolve => setTimeout(resolve, init.settleMs))
    return { nodes, formedMs, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

async function createKadNode (): Promise<KadNode> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: defaultTransports(),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_SECOND_PER_IP,
      maxIncomingPendingConnections: MAX_INCOMING_PENDING_CONNECTIONS
    },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        clientMode: false,
        peerInfoMapper: removePublicAddressesMapper,
        validators: { [KAD_NAMESPACE]: async () => {} },
        selectors: { [KAD_NAMESPACE]: () => 0 }
      })
    }
  })
}

function routingTableSize (node: KadNode): number {
  return (node.services.dht as SingleKadDHT).routingTable.size
}
