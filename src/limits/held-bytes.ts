/**
 * Bytes a node holds for remote peers until they take them (answers they have not read), counted
 * per peer and for all peers together, each under a cap: one peer cannot hold more than its
 * share, so it cannot take the whole from everyone else, and all together cannot hold more than
 * the whole. A peer is forgotten once it holds nothing, so memory follows what is held, not the
 * peers ever seen.
 */
import { tally } from './tally.js'

export interface HeldBytesInit {
  /** bytes one peer may hold at once */
  perPeer: number
  /** bytes all peers together may hold at once */
  total: number
  /** holds of at most `upTo` bytes may pass the total by `extra` (a reserve for small ones); default none */
  smallReserve?: { upTo: number, extra: number }
}

/** Gives back what one `hold` took; calling it again does nothing */
export type Release = () => void

export class HeldBytes {
  private readonly init: HeldBytesInit
  private readonly byPeer = new Map<string, number>()
  private held = 0

  constructor (init: HeldBytesInit) {
    this.init = init
  }

  /** Hold `bytes` for `peer` if they fit both caps: the release, or undefined when they do not fit */
  hold (peer: string, bytes: number): Release | undefined {
    const reserve = this.init.smallReserve
    const total = reserve != null && bytes <= reserve.upTo ? this.init.total + reserve.extra : this.init.total
    if (this.of(peer) + bytes > this.init.perPeer || this.held + bytes > total) {
      return undefined
    }
    tally(this.byPeer, peer, bytes)
    this.held += bytes
    let released = false
    return () => {
      if (released) {
        return
      }
      released = true
      tally(this.byPeer, peer, -bytes)
      this.held -= bytes
    }
  }

  /** Bytes `peer` holds now */
  of (peer: string): number {
    return this.byPeer.get(peer) ?? 0
  }

  /** Bytes all peers hold now */
  get total (): number {
    return this.held
  }

  /** Peers holding anything now */
  get peers (): number {
    return this.byPeer.size
  }
}
