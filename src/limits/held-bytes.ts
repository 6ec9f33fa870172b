/**
 * Bytes a node holds for remote peers until they take them (answers they have not read), counted
 * per peer, per subnet and for all peers together, each under a cap: one peer cannot hold more than
 * its share, nor one subnet's peers together (identities cost nothing, addresses in one block
 * little), so neither can take the whole from everyone else, and all together cannot hold more than
 * the whole. A holder may pass the caps it shares with others (its subnet's, the total): it is
 * counted in them, and only its own cap refuses it; so may any peer up to a floor, so that peers
 * who fill the shared caps cannot refuse one that holds little. A peer or subnet is forgotten once
 * it holds nothing, so memory follows what is held, not the peers ever seen.
 */
import { tally } from './tally.js'

export interface HeldBytesInit {
  /** bytes one peer may hold at once */
  perPeer: number
  /** bytes the peers of one subnet may hold at once, together; default no cap */
  perSubnet?: number
  /** bytes all peers together may hold at once */
  total: number
  /** holds of at most `upTo` bytes may pass the total by `extra` (a reserve for small ones); default none */
  smallReserve?: { upTo: number, extra: number }
  /**
   * bytes any peer may hold whatever others hold (past its subnet's cap and the total): those who
   * fill the caps they share never refuse a peer that holds little; default none
   */
  perPeerFloor?: number
}

/** Who holds: a peer, and what it shares the caps past its own with */
export interface Holder {
  peer: string
  /** the subnet it counts in; none: counted in no subnet */
  subnet?: string
  /** counted in its subnet's cap and the total, but refused by neither: only its own cap applies */
  passesSharedCaps?: boolean
}

/** Gives back what one `hold` took; calling it again does nothing */
export type Release = () => void

export class HeldBytes {
  private readonly init: HeldBytesInit
  private readonly byPeer = new Map<string, number>()
  private readonly bySubnet = new Map<string, number>()
  private held = 0

  constructor (init: HeldBytesInit) {
    this.init = init
  }

  /** Hold `bytes` for `holder` if they fit its caps: the release, or undefined when they do not fit */
  hold (holder: Holder, bytes: number): Release | undefined {
    if (!this.fits(holder, bytes)) {
      return undefined
    }
    this.count(holder, bytes)
    let released = false
    return () => {
      if (released) {
        return
      }
      released = true
      this.count(holder, -bytes)
    }
  }

  /** Bytes `peer` holds now */
  of (peer: string): number {
    return this.byPeer.get(peer) ?? 0
  }

  /** Bytes the peers of `subnet` hold now */
  ofSubnet (subnet: string): number {
    return this.bySubnet.get(subnet) ?? 0
  }

  /** Bytes all peers hold now */
  get total (): number {
    return this.held
  }

  /** Peers holding anything now */
  get peers (): number {
    return this.byPeer.size
  }

  /** Subnets whose peers hold anything now */
  get subnets (): number {
    return this.bySubnet.size
  }

  private fits (holder: Holder, bytes: number): boolean {
    if (this.of(holder.peer) + bytes > this.init.perPeer) {
      return false
    }
    if (holder.passesSharedCaps === true || this.of(holder.peer) + bytes <= (this.init.perPeerFloor ?? 0)) {
      return true
    }
    if (holder.subnet != null && this.ofSubnet(holder.subnet) + bytes > (this.init.perSubnet ?? Infinity)) {
      return false
    }
    const reserve = this.init.smallReserve
    const total = reserve != null && bytes <= reserve.upTo ? this.init.total + reserve.extra : this.init.total
    return this.held + bytes <= total
  }

  private count (holder: Holder, change: number): void {
    tally(this.byPeer, holder.peer, change)
    tally(this.bySubnet, holder.subnet, change)
    this.held += change
  }
}
