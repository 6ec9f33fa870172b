/**
 * Diversity of a node's routing state: at most `maxPerSubnet` nodes of one subnet (an IPv4 /24, an
 * IPv6 /48: what one operator or one hosting block holds) in its successor list, and at most that
 * many distinct nodes of one subnet among its fingers. Positions are cheap for whoever holds many
 * addresses in one block; the cap keeps such a block from filling a node's view of the ring.
 *
 * The core knows no addresses: `subnetOf` names a node's subnet, or nothing when it is not known
 * or not counted (the transport leaves loopback uncounted, so rings on one machine run as before).
 */
import type { NodeRef } from './rpc.js'

export interface SubnetCapInit {
  /** nodes of one subnet kept, at least 1; Infinity: no cap */
  maxPerSubnet: number
  /** the subnet a node's addresses are in; undefined: not known, or not counted */
  subnetOf(node: NodeRef): string | undefined
}

export class SubnetCap {
  readonly maxPerSubnet: number
  private readonly subnetOf: (node: NodeRef) => string | undefined

  /** @throws RangeError for a cap that is neither a positive integer nor Infinity */
  constructor (init: SubnetCapInit) {
    if (init.maxPerSubnet !== Infinity && (!Number.isInteger(init.maxPerSubnet) || init.maxPerSubnet < 1)) {
      throw new RangeError('a subnet cap is a positive integer number of nodes, or Infinity')
    }
    this.maxPerSubnet = init.maxPerSubnet
    this.subnetOf = init.subnetOf
  }

  /** Whether `node` may join `others` (distinct nodes, `node` not among them) without its subnet going over the cap */
  fits (node: NodeRef, others: Iterable<NodeRef>): boolean {
    const subnet = this.subnetOf(node)
    if (subnet == null) {
      return true
    }
    let same = 0
    for (const other of others) {
      if (other.peer !== node.peer && this.subnetOf(other) === subnet) {
        same++
      }
    }
    return same < this.maxPerSubnet
  }

  /**
   * A list's gatekeeper: takes nodes one at a time (distinct ones), each if its subnet has room
   * among those taken before it. Each node's subnet is named once, where `fits` against the list
   * so far would name every node of it again.
   */
  tally (): (node: NodeRef) => boolean {
    const taken = new Map<string, number>()
    return node => {
      const subnet = this.subnetOf(node)
      if (subnet == null) {
        return true
      }
      const count = taken.get(subnet) ?? 0
      if (count >= this.maxPerSubnet) {
        return false
      }
      taken.set(subnet, count + 1)
      return true
    }
  }
}
