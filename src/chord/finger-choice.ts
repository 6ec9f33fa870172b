/**
 * Proximity neighbour selection for fingers (Gummadi et al., "The impact of DHT routing geometry
 * on resilience and proximity", 2003; Dabek et al., "Designing a DHT for low latency and high
 * throughput", 2004): finger i may name any node in [start(i), start(i + 1)) and lookups still
 * halve their distance each hop, so among the nodes there we know of, the one nearest in round
 * trips serves best. Lookups stay correct whatever the choice: a finger only shortens routes.
 */
import { distance } from './id.js'
import type { RingId } from './id.js'
import type { NodeRef } from './rpc.js'

/**
 * The node finger `index` should name. `successors` are the finger start's successors, the first
 * one at or after the start (what a lookup of the start answers); `span` is 2^index, the width of
 * the finger's interval. Nodes of the interval with a known round trip compete, the nearest wins;
 * without any, or when no node falls in the interval, the start's successor is the finger as in
 * plain Chord.
 */
export function chooseFinger (start: RingId, span: RingId, successors: readonly NodeRef[], roundTripOf: (peer: string) => number | undefined): NodeRef {
  const exact = successors[0]
  let best: NodeRef | undefined
  let bestRoundTrip = Infinity
  for (const node of successors) {
    if (distance(start, node.id) >= span) {
      break
    }
    const roundTrip = roundTripOf(node.peer)
    if (roundTrip != null && roundTrip < bestRoundTrip) {
      best = node
      bestRoundTrip = roundTrip
    }
  }
  return best ?? exact
}
