/**
 * Real libp2p rings on 127.0.0.1 for integration tests: start N nodes that join one at a time
 * through different existing nodes, and check the ring against the sorted list of ring ids.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { inOpenInterval, keyPosition, ringIdFromBytes } from '../../src/chord/id.js'
import { createChordNode } from '../../src/index.js'
import { internalsOf } from '../../src/testing.js'
import { ringIdOf } from '../../src/transport/ring-id.js'
import { waitFor } from './wait-for.js'
import type { ChordNode, ChordNodeOptions } from '../../src/index.js'
import type { ChordRing } from '../../src/chord/ring.js'
import type { PrivateKey } from '@libp2p/interface'

/**
 * Maintenance intervals short enough for tests to converge in a second or two. These are the
 * short intervals of the adaptive loops; the long ones they back off to while nothing changes
 * are the same multiple of them as the defaults' (stabilize: 3 s), and the successor is checked
 * every three stabilize intervals (300 ms).
 */
export const FAST_TIMERS = {
  stabilizeIntervalMs: 100,
  fixFingersIntervalMs: 50,
  checkPredecessorIntervalMs: 200,
  antiEntropyIntervalMs: 500,
  sweepIntervalMs: 500,
  subscriptionCheckIntervalMs: 100
}

export function nodeOptions (options: ChordNodeOptions = {}): ChordNodeOptions {
  return {
    listen: ['/ip4/127.0.0.1/tcp/0'],
    requestTimeoutMs: 2000,
    ...options,
    timers: { ...FAST_TIMERS, ...options.timers }
  }
}

export function addressOf (node: ChordNode): string {
  return node.getMultiaddrs()[0].toString()
}

/** Start one node that joins through `entry` (or starts a ring without one) */
export async function startNode (entry?: ChordNode, options: ChordNodeOptions = {}): Promise<ChordNode> {
  return createChordNode(nodeOptions({ bootstrap: entry == null ? [] : [addressOf(entry)], ...options }))
}

/**
 * Start `count` nodes, each joining through a different earlier node, and wait until the ring is
 * consistent (within `consistentTimeoutMs`, default that of waitForConsistentRing)
 */
export async function startRing (count: number, options: ChordNodeOptions = {}, consistentTimeoutMs?: number): Promise<ChordNode[]> {
  const nodes: ChordNode[] = [await startNode(undefined, options)]
  for (let i = 1; i < count; i++) {
    nodes.push(await startNode(nodes[(i * 7) % nodes.length], options))
  }
  await waitForConsistentRing(nodes, consistentTimeoutMs)
  return nodes
}

/**
 * Start `seeds` nodes one after another, then the other `count - seeds` all at once, each
 * joining through one of the seeds: a burst of joins, as when many nodes start together. Each
 * keeps trying in the background when an attempt times out (as attempts do when all of them
 * share one busy core). Resolves once every node has joined (the ring is not settled yet).
 */
export async function startBurst (count: number, seeds: number, options: ChordNodeOptions = {}, joinDeadlineMs = 120_000): Promise<ChordNode[]> {
  const nodes = [await startNode(undefined, options)]
  for (let i = 1; i < Math.min(seeds, count); i++) {
    nodes.push(await startNode(nodes[i - 1], options))
  }
  const seeded = [...nodes]
  nodes.push(...await Promise.all(Array.from({ length: count - nodes.length }, async (_, i) =>
    startNode(seeded[i % seeded.length], { ...options, joinInBackground: true }))))
  try {
    await waitFor(() => nodes.every(node => node.status === 'joined'), `all ${count} nodes to join`, joinDeadlineMs)
  } catch (err) {
    await stopAll(nodes)
    throw err
  }
  return nodes
}

/**
 * Whether a lookup of each of `keys` random positions, asked of every node, names the position's
 * true owner (by the sorted list of ring ids); a lookup that fails counts as wrong. Lookups go
 * one at a time and the check ends at the first wrong one, so that checking a ring that is not
 * there yet adds little load to it.
 */
export async function lookupsAllCorrect (nodes: ChordNode[], keys: number): Promise<boolean> {
  for (let k = 0; k < keys; k++) {
    const key = `key-${k}-${Math.random()}`
    const owner = expectedOwner(nodes, ringIdFromBytes(keyPosition(key))).peerId
    for (const node of nodes) {
      const answer = await node.lookup(key).catch(() => undefined)
      if (answer?.peerId.equals(owner) !== true) {
        return false
      }
    }
  }
  return true
}

/** The ring core of a node: its routing table, lookups and maintenance */
export function ringOf (node: ChordNode): ChordRing {
  return internalsOf(node).ring
}

export function sortedByRingId (nodes: ChordNode[]): ChordNode[] {
  return [...nodes].sort((a, b) => (ringOf(a).self.id < ringOf(b).self.id ? -1 : 1))
}

/**
 * Every node's predecessor and whole successor list are its true neighbours in the sorted list
 * of ring ids (so replica sets are settled too)
 */
export function ringIsConsistent (nodes: ChordNode[]): boolean {
  const sorted = sortedByRingId(nodes)
  return sorted.every((node, i) => {
    const { table } = ringOf(node)
    const previous = sorted[(i - 1 + sorted.length) % sorted.length]
    const expected = Array.from({ length: Math.min(table.successorListLength, sorted.length - 1) },
      (_, k) => ringOf(sorted[(i + 1 + k) % sorted.length]).self.peer)
    const successorsOk = table.getSuccessors().map(s => s.peer).join() === expected.join()
    const predecessorOk = sorted.length === 1 || table.predecessor?.peer === ringOf(previous).self.peer
    return successorsOk && predecessorOk
  })
}

/** The true replica set of a key: its owner and the nodes after it, by the sorted list of ring ids */
export function expectedReplicas (nodes: ChordNode[], position: bigint, replicas: number): ChordNode[] {
  const sorted = sortedByRingId(nodes)
  const owner = sorted.indexOf(expectedOwner(nodes, position))
  return Array.from({ length: Math.min(replicas, sorted.length) }, (_, k) => sorted[(owner + k) % sorted.length])
}

export async function waitForConsistentRing (nodes: ChordNode[], timeoutMs = 30_000): Promise<number> {
  return waitFor(() => ringIsConsistent(nodes), `a consistent ring of ${nodes.length}`, timeoutMs)
}

/** The node that owns a ring position according to the sorted list of ring ids */
export function expectedOwner (nodes: ChordNode[], position: bigint): ChordNode {
  const sorted = sortedByRingId(nodes)
  return sorted.find(n => ringOf(n).self.id >= position) ?? sorted[0]
}

/** A node key whose ring position makes a node started with it the new owner of `position`: in [position, owner) */
export async function keyOwning (nodes: ChordNode[], position: bigint): Promise<PrivateKey> {
  const owner = expectedOwner(nodes, position)
  // the arc is about 1/N of the ring, so a few dozen tries find one
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const privateKey = await generateKeyPair('Ed25519')
    if (inOpenInterval(ringIdOf(peerIdFromPrivateKey(privateKey)), position - 1n, ringOf(owner).self.id)) {
      return privateKey
    }
  }
  throw new Error(`no key found between ${position.toString(16)} and its owner ${owner.ringId}`)
}

/**
 * A crash as far as the ring can tell: connections drop without a goodbye and nothing answers.
 * The node forgets its neighbours first, so stopping libp2p hands nothing over and tells nobody.
 */
export async function crash (node: ChordNode): Promise<void> {
  const { core } = internalsOf(node)
  core.stop()
  for (const neighbour of core.ring.table.knownNodes()) {
    core.ring.table.removeNode(neighbour.peer)
  }
  await node.libp2p.stop()
}

export async function stopAll (nodes: ChordNode[]): Promise<void> {
  await Promise.allSettled(nodes.map(async node => node.stop()))
}
