/**
 * One member's chain of a group's states, and the rules by which a state joins it:
 *
 * - a state follows the one whose hash it names as `previous`, one version on, and is made by
 *   one of that state's admins, who must be the person who sent it (the sealed envelope says who
 *   did); a person's own other devices may relay any state (a newly linked device learns its
 *   groups this way)
 * - a state whose predecessor has not arrived waits (MAX_PENDING_GROUP_STATES per group)
 * - two states that follow the same one (two admins changed the group at once) are a fork: the
 *   one with the lower hash wins on every member alike, and whatever followed the loser is
 *   dropped; its admin makes the change again on the winner
 *
 * Pure state, no I/O: the group manager feeds it what the mailbox delivers.
 */
import { equalBytes } from '@noble/curves/utils.js'
import { InvalidMessageError } from '../errors.js'
import { GROUP_HISTORY, MAX_PENDING_GROUP_STATES } from './constants.js'
import { isAdmin } from './group-state.js'
import type { GroupState } from './group-state.js'
import type { PublicKey } from '../mailbox/public-key.js'

/** How an offered state changed the chain */
export interface ChainChange {
  /** whether the current state is another one now */
  changed: boolean
  /** states that were on the chain and are not any more: they lost a fork */
  dropped: GroupState[]
}

const UNCHANGED: ChainChange = { changed: false, dropped: [] }

export class GroupChain {
  /** oldest first, each following the one before; the last is the current state */
  private states: GroupState[]
  private pending: Array<{ state: GroupState, sender: PublicKey, relayed: boolean }> = []

  constructor (states: GroupState[]) {
    if (states.length === 0) {
      throw new InvalidMessageError('a group chain starts from a state')
    }
    this.states = states.slice(-GROUP_HISTORY)
  }

  get current (): GroupState {
    return this.states[this.states.length - 1]
  }

  /** The states kept, oldest first */
  get history (): GroupState[] {
    return [...this.states]
  }

  /**
   * Offer a state that `sender` sent; `relayed` when the sender is one of this person's own
   * devices, whose relays are believed as they are.
   *
   * @throws InvalidMessageError for a state of another group, or one its sender may not make
   */
  offer (state: GroupState, sender: PublicKey, relayed: boolean): ChainChange {
    if (!equalBytes(state.id, this.current.id)) {
      throw new InvalidMessageError('the state is of another group')
    }
    if (this.knows(state)) {
      return UNCHANGED
    }
    const parent = this.states.findIndex(held => equalBytes(held.hash, state.previous))
    if (parent === -1) {
      if (state.version <= this.current.version) {
        return UNCHANGED // it follows a state older than those kept, or one that lost a fork
      }
      if (relayed) {
        // the person's own device knows the group further on than this one does: it is believed,
        // and nothing this device made is made again (the relayed state may hold it already)
        this.states = [state]
        return { changed: true, dropped: this.drainPending() }
      }
      this.pending.push({ state, sender, relayed })
      this.pending.splice(0, this.pending.length - MAX_PENDING_GROUP_STATES)
      return UNCHANGED
    }
    const change = this.join(parent, state, sender, relayed)
    if (change.changed) {
      change.dropped.push(...this.drainPending())
    }
    return change
  }

  private join (parent: number, state: GroupState, sender: PublicKey, relayed: boolean): ChainChange {
    const before = this.states[parent]
    if (state.version !== before.version + 1) {
      throw new InvalidMessageError('a group state is one version after the state it follows')
    }
    if (!relayed && !sender.equals(state.changedBy)) {
      throw new InvalidMessageError('a group state comes from the admin who made it')
    }
    if (!isAdmin(before, state.changedBy)) {
      throw new InvalidMessageError('a group state is made by an admin of the state it follows')
    }
    const rival = this.states[parent + 1]
    if (rival != null && compareBytes(rival.hash, state.hash) <= 0) {
      return UNCHANGED // it lost the fork
    }
    const dropped = this.states.splice(parent + 1)
    this.states.push(state)
    this.states = this.states.slice(-GROUP_HISTORY)
    return { changed: true, dropped }
  }

  /** Join every waiting state whose predecessor is on the chain now */
  private drainPending (): GroupState[] {
    const dropped: GroupState[] = []
    for (let joined = true; joined;) {
      joined = false
      for (const waiting of [...this.pending]) {
        const parent = this.states.findIndex(held => equalBytes(held.hash, waiting.state.previous))
        if (parent === -1 && waiting.state.version > this.current.version) {
          continue
        }
        this.pending.splice(this.pending.indexOf(waiting), 1)
        if (parent === -1) {
          continue // too old now
        }
        try {
          const change = this.join(parent, waiting.state, waiting.sender, waiting.relayed)
          dropped.push(...change.dropped)
          joined ||= change.changed
        } catch {
          // a waiting state its sender could not make: dropped like any other
        }
      }
    }
    return dropped
  }

  private knows (state: GroupState): boolean {
    return this.states.some(held => equalBytes(held.hash, state.hash)) ||
      this.pending.some(waiting => equalBytes(waiting.state.hash, state.hash))
  }
}

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return a[i] - b[i]
    }
  }
  return a.length - b.length
}
