/**
 * Real libp2p rings on 127.0.0.1 for integration tests: start N nodes that join one at a time
 * through different existing nodes, and check the ring against the sorted list of ring ids.
 */
import { createChordNode } from '../../src/index.js'
import { internalsOf } from '../../src/testing.js'
import { waitFor } from './wait-for.js'
import type { ChordNode, ChordNodeOptions } from '../../src/index.js'
import type { ChordRing } from '../../src/chord/ring.js'

/** Maintenance intervals short enough for tests to converge in a second or two */
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
