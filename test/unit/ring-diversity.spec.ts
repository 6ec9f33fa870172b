import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { DEFAULT_RING_PEERS_PER_SUBNET } from '../../src/chord/constants.js'
import { ChordRing } from '../../src/chord/ring.js'
import { RoutingTable } from '../../src/chord/routing-table.js'
import { SubnetCap } from '../../src/chord/subnet-cap.js'
import { ringIdOf, ringIdToWire } from '../../src/transport/ring-id.js'
import { subnetOf } from '../../src/transport/subnet.js'
import { WirePeers } from '../../src/transport/wire-peers.js'
import { silentLogger } from '../helpers/logger.js'
import { connectionFrom } from '../helpers/named-addresses.js'
import type { ChordRpc, NodeRef } from '../../src/chord/rpc.js'
import type { Connection, PeerId, PeerStore } from '@libp2p/interface'

/** Where the messages these tests decode come from: a peer on this host, whose every address is taken */
const fromLoopback = connectionFrom('/ip4/127.0.0.1/tcp/4001')

/** Nodes with injected addresses: peer `p<id>` at the address given */
function nodesAt (addresses: Array<[bigint, string]>): { nodes: NodeRef[], subnetOfNode: (node: NodeRef) => string | undefined } {
  const byPeer = new Map(addresses.map(([id, address]) => [`p${id}`, multiaddr(address)]))
  const subnetOfNode = (node: NodeRef): string | undefined => {
    const address = byPeer.get(node.peer)
    return address == null ? undefined : subnetOf([address])
  }
  return { nodes: addresses.map(([id]) => ({ id, peer: `p${id}` })), subnetOfNode }
}

describe('ring diversity', () => {
  it('names an IPv4 /24 and an IPv6 /48, and counts neither loopback nor addresses without an IP', () => {
    assert.equal(subnetOf([multiaddr('/ip4/203.0.113.7/tcp/4001')]), '203.0.113.0/24')
    assert.equal(subnetOf([multiaddr('/ip4/203.0.113.200/tcp/9')]), subnetOf([multiaddr('/ip4/203.0.113.7/tcp/4001')]))
    assert.notEqual(subnetOf([multiaddr('/ip4/203.0.114.7/tcp/4001')]), subnetOf([multiaddr('/ip4/203.0.113.7/tcp/4001')]))
    assert.equal(subnetOf([multiaddr('/ip6/2001:db8:1:2::5/tcp/1')]), subnetOf([multiaddr('/ip6/2001:db8:1:ffff::9/tcp/1')]))
    assert.notEqual(subnetOf([multiaddr('/ip6/2001:db8:2::5/tcp/1')]), subnetOf([multiaddr('/ip6/2001:db8:1::5/tcp/1')]))
    assert.equal(subnetOf([multiaddr('/ip4/127.0.0.1/tcp/1')]), undefined)
    assert.equal(subnetOf([multiaddr('/ip6/::1/tcp/1')]), undefined)
    // an IPv4 peer on a dual-stack socket is that IPv4 peer, loopback included
    assert.equal(subnetOf([multiaddr('/ip6/::ffff:203.0.113.9/tcp/1')]), '203.0.113.0/24')
    assert.equal(subnetOf([multiaddr('/ip6/::ffff:127.0.0.1/tcp/1')]), undefined)
    assert.equal(subnetOf([multiaddr('/dns4/example.org/tcp/1'), multiaddr('/memory/x')]), undefined)
    // the first address that counts
    assert.equal(subnetOf([multiaddr('/ip4/127.0.0.1/tcp/1'), multiaddr('/ip4/198.51.100.3/tcp/1')]), '198.51.100.0/24')
  })

  it('keeps at most the cap of one /24 in a successor list offered 8 nodes from it', () => {
    const cap = DEFAULT_RING_PEERS_PER_SUBNET
    const crowd = Array.from({ length: 8 }, (_, i): [bigint, string] => [BigInt(10 + i), `/ip4/198.51.100.${10 + i}/tcp/4001`])
    const others = Array.from({ length: 8 }, (_, i): [bigint, string] => [BigInt(100 + i), `/ip4/10.${i}.0.1/tcp/4001`])
    const { nodes, subnetOfNode } = nodesAt([...crowd, ...others])
    const table = new RoutingTable({ id: 0n, peer: 'p0' }, {
      successorListLength: 8,
      subnetCap: new SubnetCap({ maxPerSubnet: cap, subnetOf: subnetOfNode })
    })
    table.setSuccessors(nodes)
    const successors = table.getSuccessors()
    assert.equal(successors.filter(n => n.id < 100n).length, cap, 'the crowd keeps its share, nearest first')
    assert.deepEqual(successors.map(n => n.id), [10n, 11n, 12n, 100n, 101n, 102n, 103n, 104n])
    assert.equal(successors.length, 8, 'the rest of the list comes from other subnets')
    assert.equal(table.holdsWholeRing, false, 'a list cut by the cap is no whole ring')
  })

  it('holds at most the cap of distinct nodes of one /24 among its fingers', () => {
    const { nodes, subnetOfNode } = nodesAt(Array.from({ length: 6 }, (_, i): [bigint, string] => [2n ** BigInt(100 + i), `/ip4/198.51.100.${i + 1}/tcp/1`]))
    const table = new RoutingTable({ id: 0n, peer: 'p0' }, { successorListLength: 8, subnetCap: new SubnetCap({ maxPerSubnet: 2, subnetOf: subnetOfNode }) })
    nodes.forEach((node, i) => { table.setFinger(100 + i, node) })
    const fingers = Array.from({ length: table.fingerCount }, (_, i) => table.getFinger(i)).filter(f => f != null)
    assert.equal(fingers.length, 2)
    // one node may fill many finger slots: it counts once
    table.setFinger(50, nodes[0])
    assert.equal(table.getFinger(50)?.peer, nodes[0].peer)
  })

  it('leaves loopback rings uncapped, and never caps below the replication factor', () => {
    const { nodes, subnetOfNode } = nodesAt(Array.from({ length: 8 }, (_, i): [bigint, string] => [BigInt(i + 1), `/ip4/127.0.0.${i + 1}/tcp/1`]))
    const loopback = new RoutingTable({ id: 0n, peer: 'p0' }, { successorListLength: 8, subnetCap: new SubnetCap({ maxPerSubnet: 1, subnetOf: subnetOfNode }) })
    loopback.setSuccessors(nodes)
    assert.equal(loopback.getSuccessors().length, 8)

    const crowd = nodesAt(Array.from({ length: 8 }, (_, i): [bigint, string] => [BigInt(i + 1), `/ip4/198.51.100.${i + 1}/tcp/1`]))
    const ring = new ChordRing({ self: { id: 0n, peer: 'p0' }, rpc: {} as ChordRpc, replicas: 5, diversity: { maxPerSubnet: 1, subnetOf: crowd.subnetOfNode } })
    ring.table.setSuccessors(crowd.nodes)
    assert.equal(ring.table.getSuccessors().length, 5, 'a key\'s r replicas are its r true successors, whatever their addresses')
  })

  it('knows a peer\'s subnet from its connection, else from the addresses last received for it', async () => {
    const newPeerId = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const [self, sender, named, connected] = await Promise.all([newPeerId(), newPeerId(), newPeerId(), newPeerId()])
    const peerStore = { merge: async () => {}, get: async () => ({ addresses: [] }) } as unknown as PeerStore
    const getConnections = (peerId?: PeerId): Connection[] =>
      peerId?.equals(connected) === true ? [{ remoteAddr: multiaddr('/ip4/192.0.2.9/tcp/5') } as unknown as Connection] : []
    const wirePeers = new WirePeers({ peerId: self, peerStore, logger: silentLogger(), getMultiaddrs: () => [], getConnections })
    const entry = (peerId: PeerId, address: string): { peerId: Uint8Array<ArrayBuffer>, ringId: Uint8Array<ArrayBuffer>, addrs: Array<Uint8Array<ArrayBuffer>> } =>
      ({ peerId: peerId.toMultihash().bytes, ringId: ringIdToWire(ringIdOf(peerId)), addrs: [multiaddr(address).bytes] })
    assert.equal(wirePeers.subnetOf(named.toString()), undefined)
    await wirePeers.decode([entry(named, '/ip4/198.51.100.4/tcp/1'), entry(connected, '/ip4/198.51.100.5/tcp/1')], sender, fromLoopback)
    assert.equal(wirePeers.subnetOf(named.toString()), '198.51.100.0/24')
    assert.equal(wirePeers.subnetOf(connected.toString()), '192.0.2.0/24', 'the address it really connects from')
  })

  it('refuses a cap that is not a positive integer', () => {
    assert.throws(() => new SubnetCap({ maxPerSubnet: 0, subnetOf: () => undefined }), RangeError)
    assert.throws(() => new SubnetCap({ maxPerSubnet: 1.5, subnetOf: () => undefined }), RangeError)
    assert.equal(new SubnetCap({ maxPerSubnet: Infinity, subnetOf: () => undefined }).maxPerSubnet, Infinity)
  })
})
