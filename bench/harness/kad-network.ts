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
import { kadDHT, passthroughMapper, removePublicAddressesMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { createLibp2p } from 'libp2p'
import { INBOUND_CONNECTIONS_PER_SECOND_PER_IP, MAX_INCOMING_PENDING_CONNECTIONS } from '../../src/node/libp2p.js'
import { defaultTransports } from '../../src/services/platform-defaults.js'
import { waitFor } from '../../test/helpers/wait-for.js'
import { percentile } from './stats.js'
import type { Identify } from '@libp2p/identify'
import type { KadDHT, SingleKadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'
import type { Ping } from '@libp2p/ping'

export type KadNode = Libp2p<{ identify: Identify, ping: Ping, dht: KadDHT }>

/** Record keys are `/bench/<name>`; kad-dht refuses keys of a namespace it has no validator for */
export const KAD_NAMESPACE = 'bench'

/** Earlier nodes each new node dials: enough for the network to find itself through kad queries */
const BOOTSTRAP_DIALS = 3

/**
 * Routing tables count as formed when none has changed for ROUTING_TABLES_STABLE ms and each holds
 * at least this fraction of the other nodes. Kad-dht's k-buckets need not take in everyone (at 32
 * nodes a table can settle below half the network) and on a loaded machine they keep shifting as
 * peers are evicted and re-added, so after ROUTING_TABLE_TIMEOUT the network is used as it is,
 * provided half the tables hold that share: over wide-area links a late node's table can stay at a
 * handful of peers, and its queries still go through them (the sizes are reported).
 */
const MIN_ROUTING_TABLE_SHARE = 0.25
const ROUTING_TABLES_STABLE = 5000

/** ms to wait for the routing tables to stop changing */
const ROUTING_TABLE_TIMEOUT = 60_000

/**
 * ms a dial to a bootstrap peer may take: five or so round trips of up to 300 ms over wide-area
 * links, on a machine busy with a hundred nodes; one of a node's dials that succeeds is enough
 */
const BOOTSTRAP_DIAL_TIMEOUT = 30_000

/** ms a joining node's self-lookup may take */
const SELF_LOOKUP_TIMEOUT = 30_000

/** Where node `index` listens and over what, when not TCP on 127.0.0.1 */
export interface KadLinks {
  listen(index: number): string[]
  transports(index: number): NonNullable<Libp2pOptions['transports']>
}

export interface KadNetworkInit {
  size: number
  /** default: TCP on 127.0.0.1 */
  links?: KadLinks
  /** ms to leave the network alone after the routing tables filled (kad-dht settles slowly) */
  settleMs: number
  progress?(message: string): void
}

export interface KadNetwork {
  nodes: KadNode[]
  /** ms from the first node's start to formed routing tables */
  formedMs: number
  /** peers in each node's routing table once settled */
  routingTableSizes: number[]
  stop(): Promise<void>
}

export async function startKadNetwork (init: KadNetworkInit): Promise<KadNetwork> {
  const nodes: KadNode[] = []
  const stop = async (): Promise<void> => { await Promise.allSettled(nodes.map(async node => node.stop())) }
  const started = Date.now()
  try {
    for (let i = 0; i < init.size; i++) {
      const node = await createKadNode(i, init.links)
      const earlier = new Set([i - 1, Math.floor(i / 2), (i * 7) % Math.max(i, 1)].filter(j => j >= 0 && j < i))
      const dials = await Promise.allSettled([...earlier].slice(0, BOOTSTRAP_DIALS)
        .map(async j => node.dial(nodes[j].getMultiaddrs()[0], { signal: AbortSignal.timeout(BOOTSTRAP_DIAL_TIMEOUT) })))
      const failed = dials.filter((dial): dial is PromiseRejectedResult => dial.status === 'rejected')
      if (failed.length === dials.length && failed.length > 0) {
        throw failed[0].reason
      }
      nodes.push(node)
    }
    await fillSmallRoutingTables(nodes)
    await waitForRoutingTables(nodes, init.progress)
    const formedMs = Date.now() - started
    const sizes = nodes.map(routingTableSize).sort((a, b) => a - b)
    init.progress?.(`kad-dht: ${init.size} nodes formed in ${(formedMs / 1000).toFixed(1)} s (routing tables ${sizes[0]}–${sizes[sizes.length - 1]} peers); settling ${init.settleMs / 1000} s`)
    await new Promise(resolve => setTimeout(resolve, init.settleMs))
    return { nodes, formedMs, routingTableSizes: nodes.map(routingTableSize), stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/**
 * A self-lookup from each node whose table is still small, as a kad-dht node does when it joins:
 * over slow links the periodic self-query of the last nodes to start can end before their
 * bootstrap peers answered, and leave them with little more than those peers until the next one.
 */
async function fillSmallRoutingTables (nodes: KadNode[]): Promise<void> {
  const wanted = Math.ceil((nodes.length - 1) * MIN_ROUTING_TABLE_SHARE)
  await Promise.allSettled(nodes.filter(node => routingTableSize(node) < wanted).map(async node => {
    // a node whose bootstrap peers left it out of their answers: connect it to others directly
    // (kad-dht takes every connected peer that speaks its protocol into its table)
    const others = nodes.filter(other => other !== node)
    await Promise.allSettled(Array.from({ length: wanted }, (_, k) => others[(nodes.indexOf(node) * 7 + k * 13) % others.length])
      .map(async other => node.dial(other.getMultiaddrs()[0])))
    for await (const event of node.services.dht.getClosestPeers(node.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(SELF_LOOKUP_TIMEOUT) })) {
      void event
    }
  }))
}

async function waitForRoutingTables (nodes: KadNode[], progress?: (message: string) => void): Promise<void> {
  const wanted = Math.ceil((nodes.length - 1) * MIN_ROUTING_TABLE_SHARE)
  const sizes = (): number[] => nodes.map(routingTableSize)
  const largeEnough = (): boolean => sizes().every(size => size >= wanted)
  const median = (): number => percentile(sizes().sort((a, b) => a - b), 50)
  const mostlyLargeEnough = (): boolean => median() >= wanted
  let total = -1
  let unchangedSince = Date.now()
  try {
    await waitFor(() => {
      const sum = sizes().reduce((a, b) => a + b, 0)
      if (sum !== total) {
        total = sum
        unchangedSince = Date.now()
      }
      return largeEnough() && Date.now() - unchangedSince >= ROUTING_TABLES_STABLE
    }, `kad-dht routing tables of at least ${wanted} peers, unchanged for ${ROUTING_TABLES_STABLE} ms`, ROUTING_TABLE_TIMEOUT)
  } catch (err) {
    if (!largeEnough()) {
      // over slow links a late node's self-lookup can end before its peers answered: one more
      await fillSmallRoutingTables(nodes)
    }
    const now = sizes().sort((a, b) => a - b)
    const described = `routing tables ${now[0]}–${now[now.length - 1]} peers (median ${median()}) after ${ROUTING_TABLE_TIMEOUT / 1000} s`
    if (!mostlyLargeEnough()) {
      progress?.(`kad-dht: ${described}`)
      throw err
    }
    progress?.(`kad-dht: ${described}, ${now.filter(size => size < wanted).length} below ${wanted}; using the network as it is`)
  }
}

async function createKadNode (index: number, links?: KadLinks): Promise<KadNode> {
  return createLibp2p({
    addresses: { listen: links?.listen(index) ?? ['/ip4/127.0.0.1/tcp/0'] },
    transports: [...defaultTransports(), ...(links?.transports(index) ?? [])],
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
        // in-process links have no IP addresses to filter
        peerInfoMapper: links == null ? removePublicAddressesMapper : passthroughMapper,
        validators: { [KAD_NAMESPACE]: async () => {} },
        selectors: { [KAD_NAMESPACE]: () => 0 }
      })
    }
  })
}

function routingTableSize (node: KadNode): number {
  return (node.services.dht as SingleKadDHT).routingTable.size
}
