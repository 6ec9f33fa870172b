/**
 * A person's groups, as one of their devices holds them: each group's chain of states (kept in
 * the application's store), the changes this device's admin makes, and who may send to a group.
 *
 * Every change and every message goes to every member by pairwise fan-out: sealed to each device
 * of each member (docs/security.md, "Groups", says why). A change goes to the members before and
 * after it, so a removed member learns it is out, and nobody else learns anything.
 *
 * A member leaves by asking the admins to remove them (an admin removes themselves, and hands
 * the role on to the members longest in the group without it); their devices forget the group
 * and remember, for a while, that they left it, so that a change or a message sent before the
 * admins saw the leave does not bring it back. Leaving does not depend on the admins: a device
 * forgets the group whether or not any of them heard.
 */
import { randomBytes } from '@noble/hashes/utils.js'
import { toString as toHex } from 'uint8arrays/to-string'
import { ForbiddenError, InvalidOptionsError } from '../errors.js'
import { KeyedQueue } from '../limits/keyed-queue.js'
import { encodeFrame } from '../mailbox/frames.js'
import { publicKeyOf } from '../mailbox/public-key.js'
import { utf8 } from '../chord/transcript.js'
import { ADMINS_AFTER_A_LEAVE, GROUP_ID_LENGTH, MAX_GROUP_MEMBERS, MAX_GROUP_NAME_BYTES, MAX_GROUPS, MAX_LEFT_GROUPS } from './constants.js'
import { GroupChain } from './group-chain.js'
import { decodeGroupState, isAdmin, isMember, makeGroupState } from './group-state.js'
import type { GroupState } from './group-state.js'
import type { PublicKey } from '../mailbox/public-key.js'
import type { Account } from '../devices/account.js'
import type { DeviceFanOut, PersonDelivery } from '../devices/fan-out.js'
import type { EnvelopeOutcome } from '../mailbox/mailbox.js'
import type { FrameSender } from '../devices/frame-sender.js'
import type { FrameContent } from '../mailbox/frames.js'

/** A group as the application sees it */
export interface GroupInfo {
  /** 32 hexadecimal digits */
  id: string
  name: string
  /** how many changes made it what it is: 1 when created */
  version: number
  /** the members' addresses, the creator first */
  members: string[]
  admins: string[]
  /** whether this person is a member (false once removed) */
  member: boolean
  /** whether this person is an admin */
  admin: boolean
  /** whether this person left the group: their devices hold it no more */
  left: boolean
  /** the admin who made the last change, and when (that admin's clock) */
  changedBy: string
  changedAt: number
}

/** A change an admin makes to a group */
export type GroupChange =
  | { type: 'add', member: PublicKey }
  | { type: 'remove', member: PublicKey }
  /** an admin removes themselves and hands the role on (see heirsOf) */
  | { type: 'leave', member: PublicKey }
  | { type: 'rename', name: string }
  | { type: 'admin', member: PublicKey, admin: boolean }

export interface GroupChangeResult {
  group: GroupInfo
  /** the new state's envelopes, one per device of every member before and after the change */
  envelopes: EnvelopeOutcome[]
}

/** A leave a device heard but could not act on yet, as it is stored: the leaver's address, and the group's version then */
export interface SavedLeave {
  person: string
  version: number
}

/** Where a device keeps its groups (the application's storage) */
export interface GroupStore {
  /** every group's states as saved, oldest first */
  load(): Promise<Uint8Array[][]>
  save(id: string, states: Uint8Array[]): Promise<void>
  /** drop a group's states and the leaves heard of it */
  remove(id: string): Promise<void>
  /** the ids of the groups this person left, oldest first */
  loadLeft(): Promise<string[]>
  saveLeft(ids: string[]): Promise<void>
  /** per group, the leaves heard but not acted on */
  loadHeard(): Promise<Array<[string, SavedLeave[]]>>
  /** none: drop the group's entry */
  saveHeard(id: string, leaves: SavedLeave[]): Promise<void>
}

/**
 * Whether a group message may be shown now, waits for the state that explains it, or is dropped
 * without a word (its group was left)
 */
export type Admission = 'deliver' | 'wait' | 'drop'

export interface GroupsInit {
  account: Account
  fanOut: Pick<DeviceFanOut, 'send'>
  store: GroupStore
  /** told of every group whose state changed, this device's changes included */
  onChange?(group: GroupInfo): void | Promise<void>
  onError?(err: unknown): void
  now?(): number
}

export class Groups {
  private readonly init: GroupsInit
  private readonly account: Account
  private readonly now: () => number
  private readonly chains = new Map<string, GroupChain>()
  /** the change behind each state this device made (by hash), to make again if it loses a fork */
  private readonly made = new Map<string, GroupChange>()
  /** one change at a time per group */
  private readonly changes = new KeyedQueue()
  /** the groups this person left, oldest first, at most MAX_LEFT_GROUPS */
  private left: string[] = []
  /**
   * Per group, the leaves this device could not act on, with the version current when each came:
   * from a member while this person was no admin, or from someone a fork may bring back. Should
   * this person be an admin of a later state that still holds the leaver (the admins who were
   * told left at the same time, or the removal lost a fork), they are removed then.
   */
  private readonly heardLeaves = new Map<string, Array<{ person: PublicKey, version: number }>>()

  constructor (init: GroupsInit) {
    this.init = init
    this.account = init.account
    this.now = init.now ?? Date.now
  }

  /** Read the groups the store holds */
  async load (): Promise<void> {
    this.left = (await this.init.store.loadLeft()).slice(-MAX_LEFT_GROUPS)
    for (const saved of await this.init.store.load()) {
      try {
        const chain = new GroupChain(saved.map(decodeGroupState))
        const id = chain.current.idText
        if (this.left.includes(id)) {
          // left, but its states outlived the leave (a crash, a failed delete): they go now
          await this.init.store.remove(id)
          continue
        }
        this.chains.set(id, chain)
      } catch (err) {
        this.init.onError?.(err)
      }
    }
    for (const [id, saved] of await this.init.store.loadHeard()) {
      if (this.chains.has(id)) {
        const heard = saved.slice(-MAX_GROUP_MEMBERS).flatMap(leave => this.readLeave(leave))
        if (heard.length < saved.length) {
          // what could not be read is reported once, then gone
          await this.keepHeard(id, heard).catch(err => { this.init.onError?.(err) })
        } else {
          this.heardLeaves.set(id, heard)
        }
      } else {
        // of a group gone (left, or its states unreadable): nothing to act on
        await this.init.store.saveHeard(id, []).catch(err => { this.init.onError?.(err) })
      }
    }
  }

  /**
   * Act on the leaves heard of every group this person is an admin of. Becoming an admin acts on
   * them at once, but a stop between the two (a crash, a removal that failed) would leave them
   * until the group's next change: the chat calls this at start. Failures are reported.
   */
  async actOnHeard (options: { signal?: AbortSignal } = {}): Promise<void> {
    await Promise.all([...this.heardLeaves.keys()].map(async id => this.changes.run(id, async () => {
      const chain = this.chains.get(id)
      if (chain != null && options.signal?.aborted !== true) {
        await this.actOnHeardLeaves(chain, options).catch(err => {
          if (options.signal?.aborted !== true) {
            this.init.onError?.(err)
          }
        })
      }
    })))
  }

  /** A saved leave, or none (reported) when what the store holds is not one */
  private readLeave (saved: SavedLeave): Array<{ person: PublicKey, version: number }> {
    try {
      if (!Number.isSafeInteger(saved.version) || saved.version < 1) {
        throw new InvalidOptionsError(`a heard leave's group version is a whole number from 1, not ${String(saved.version)}`)
      }
      return [{ person: publicKeyOf(saved.person), version: saved.version }]
    } catch (err) {
      this.init.onError?.(err)
      return []
    }
  }

  list (): GroupInfo[] {
    return [...this.chains.values()].map(chain => this.info(chain.current))
  }

  get (id: string): GroupInfo | undefined {
    const chain = this.chains.get(id)
    return chain == null ? undefined : this.info(chain.current)
  }

  /** Every group's current state, as a new device of this person is brought them */
  currentStates (): GroupState[] {
    return [...this.chains.values()].map(chain => chain.current)
  }

  /** The ids of the last `count` groups this person left, oldest first, as a new device of theirs is told them */
  recentlyLeft (count: number): string[] {
    return count > 0 ? this.left.slice(-count) : []
  }

  /**
   * Make a group of this person (its first admin) and `members`, and tell them
   *
   * @throws InvalidOptionsError for a bad name or address, more than MAX_GROUP_MEMBERS members, or
   * when this person is in MAX_GROUPS groups already
   */
  async create (name: string, members: Array<string | PublicKey>, options: { signal?: AbortSignal } = {}): Promise<GroupChangeResult> {
    if (this.chains.size >= MAX_GROUPS) {
      throw new InvalidOptionsError(tooManyGroups())
    }
    const me = this.account.publicKey
    const everyone = [me, ...members.map(publicKeyOf)].filter((person, i, all) => all.findIndex(other => other.equals(person)) === i)
    checkMemberCount(everyone.length)
    const state = makeGroupState({
      id: randomBytes(GROUP_ID_LENGTH),
      version: 1,
      previous: new Uint8Array(0),
      name: checkedGroupName(name),
      members: everyone,
      admins: [me],
      changedBy: me,
      changedAt: this.now()
    })
    const chain = new GroupChain([state])
    this.chains.set(state.idText, chain)
    await this.saved(chain)
    return { group: this.info(state), envelopes: await this.announce(state, state.members, options) }
  }

  /**
   * Change a group as its admin: a new state one version on, sent to the members before and after
   *
   * @throws ForbiddenError unless this person is an admin of the group
   * @throws InvalidOptionsError for a change that changes nothing or leaves the group without an admin
   */
  async change (id: string, change: GroupChange, options: { signal?: AbortSignal } = {}): Promise<GroupChangeResult> {
    return this.changes.run(id, async () => this.make(this.chainOf(id), change, options))
  }

  /**
   * Leave a group. An admin removes themselves and makes admins of the members longest in the
   * group without the role (see heirsOf), a change every member sees; anyone else asks the other
   * members to remove them (whoever is an admin when it arrives does). Either way this person's
   * devices forget the group and take no change or message of it from then on, whether or not
   * anyone heard: the envelopes say who did. A group this person is no longer in, or is alone in,
   * is only forgotten.
   *
   * @throws InvalidOptionsError for a group not known here
   */
  async leave (id: string, options: { signal?: AbortSignal } = {}): Promise<GroupChangeResult> {
    const { group, envelopes, told, frame } = await this.changes.run(id, async () => {
      const chain = this.chainOf(id)
      const me = this.account.publicKey
      const state = chain.current
      const envelopes: EnvelopeOutcome[] = []
      const others = state.members.filter(member => !member.equals(me))
      let told = [me]
      if (isMember(state, me) && others.length > 0) {
        if (isAdmin(state, me)) {
          envelopes.push(...(await this.make(chain, { type: 'leave', member: me }, options)).envelopes)
        }
        // every member: the admins this device knows may not be the admins of the state that
        // wins (an admin's removal of themselves may lose a fork), and whoever is, removes them
        told = [...others, me]
      }
      return { group: await this.forget(chain), envelopes, told, frame: this.frame({ type: 'group-leave', groupId: state.id }) }
    })
    // told after the group's turn: the group is gone here already, and telling hundreds of
    // devices must not hold up its frames meanwhile
    envelopes.push(...await this.sendFrame(told, frame, options))
    return { group, envelopes }
  }

  /**
   * Take a leave that `sender` sent: from this person's own other device, this device forgets
   * the group too (it makes no change: it may be behind the other device, and a change on an old
   * state could undo the later ones); from a member, this device removes them if this person is
   * an admin (each admin's devices may, and the chain settles the fork). Resolves to the group if
   * it changed, or to 'wait' when this device holds no state of the group yet (a device just
   * linked, whose states are on their way): the leave is for when one arrives.
   */
  async receiveLeave (sender: FrameSender, groupId: string): Promise<GroupInfo | 'wait' | undefined> {
    return this.changes.run(groupId, async () => {
      const chain = this.chains.get(groupId)
      if (sender.person.equals(this.account.publicKey)) {
        if (chain != null) {
          return this.forget(chain)
        }
        await this.remember(groupId)
        return undefined
      }
      if (chain == null) {
        return this.left.includes(groupId) ? undefined : 'wait'
      }
      if (!chain.history.some(state => isMember(state, sender.person))) {
        return undefined
      }
      if (!isAdmin(chain.current, this.account.publicKey) || !isMember(chain.current, sender.person)) {
        await this.hearLeave(groupId, sender.person, chain.current.version)
        return undefined
      }
      return (await this.make(chain, { type: 'remove', member: sender.person }, {})).group
    })
  }

  /** Remember a leave this device could not act on (the last one per person), here and in the store */
  private async hearLeave (groupId: string, person: PublicKey, version: number): Promise<void> {
    const heard = (this.heardLeaves.get(groupId) ?? []).filter(leave => !leave.person.equals(person))
    await this.keepHeard(groupId, [...heard, { person, version }].slice(-MAX_GROUP_MEMBERS))
  }

  private async keepHeard (groupId: string, heard: Array<{ person: PublicKey, version: number }>): Promise<void> {
    if (heard.length === 0) {
      this.heardLeaves.delete(groupId)
    } else {
      this.heardLeaves.set(groupId, heard)
    }
    await this.init.store.saveHeard(groupId, heard.map(({ person, version }) => ({ person: person.address, version })))
  }

  /**
   * As an admin of the current state, remove the people whose leave came earlier and who have
   * been members of every state since (one removed and added again meanwhile stays). A leave is
   * kept as long as the chain keeps the state it came at.
   */
  private async actOnHeardLeaves (chain: GroupChain, options: { signal?: AbortSignal } = {}): Promise<void> {
    const id = chain.current.idText
    const history = chain.history
    const before = this.heardLeaves.get(id) ?? []
    const heard = before.filter(leave => leave.version >= history[0].version)
    if (heard.length < before.length) {
      await this.keepHeard(id, heard)
    }
    if (heard.length === 0 || !isAdmin(chain.current, this.account.publicKey)) {
      return
    }
    for (const { person, version } of heard) {
      // a leave heard on a branch that lost a fork may name a version past the current one
      const since = history.filter(state => state.version >= Math.min(version, chain.current.version))
      if (since.every(state => isMember(state, person))) {
        await this.make(chain, { type: 'remove', member: person }, options)
      }
    }
  }

  /**
   * What a message to the group is: a frame for every member's devices (this person's own other
   * devices included, which show it as sent), under the current state
   *
   * @throws ForbiddenError when this person is not a member
   */
  messageTo (id: string, body: Uint8Array): { state: GroupState, deliveries: PersonDelivery[] } {
    const state = this.chainOf(id).current
    if (!isMember(state, this.account.publicKey)) {
      throw new ForbiddenError('only a group\'s members send to it')
    }
    const frame = this.frame({ type: 'group-message', groupId: state.id, version: state.version, body })
    return { state, deliveries: state.members.map(person => ({ person, kind: 'frame', body: frame })) }
  }

  /**
   * Take a state that `sender` sent: a change of a group this device knows, an invitation to a
   * new one (from an admin of it, naming this person), or a state relayed by this person's own
   * other device. Resolves to the group if its state changed.
   *
   * @throws InvalidMessageError for a state that breaks the format or the chain's rules
   * @throws ForbiddenError for a group this person is not in, from someone else
   */
  async receiveState (sender: FrameSender, bytes: Uint8Array): Promise<GroupInfo | undefined> {
    const state = decodeGroupState(bytes)
    const relayed = sender.person.equals(this.account.publicKey)
    return this.changes.run(state.idText, async () => {
      if (this.left.includes(state.idText)) {
        // asked here, in the group's turn: a leave under way ahead of it has counted
        return undefined
      }
      const chain = this.chains.get(state.idText)
      if (chain == null) {
        return this.joined(state, sender, relayed)
      }
      const { changed, dropped } = chain.offer(state, sender.person, relayed)
      if (!changed) {
        return undefined
      }
      await this.saved(chain)
      this.remakeLost(state.idText, dropped)
      // the state is taken whatever becomes of these removals
      await this.actOnHeardLeaves(chain).catch(err => { this.init.onError?.(err) })
      return this.info(chain.current)
    })
  }

  /**
   * Whether `sender` may send a message to the group under `version`: a member of the current
   * state may; a message under a version not known here yet waits for it (it may be the change
   * that made the sender a member). A member removed since is refused whatever version it names,
   * so old versions are no way back in. A message of a group this person left is dropped.
   *
   * @throws ForbiddenError when the sender is not a member
   */
  admit (sender: PublicKey, groupId: string, version: number): Admission {
    if (this.left.includes(groupId)) {
      return 'drop'
    }
    const chain = this.chains.get(groupId)
    if (chain == null) {
      return 'wait'
    }
    if (isMember(chain.current, sender)) {
      return 'deliver'
    }
    if (version > chain.current.version) {
      return 'wait'
    }
    throw new ForbiddenError(`${sender.fingerprint} is not a member of group ${groupId}`)
  }

  /** A frame from this device, naming its person when the device is not the person's own key */
  frame (content: FrameContent): Uint8Array {
    const speaksFor = this.account.device.publicKey.equals(this.account.publicKey) ? undefined : this.account.publicKey
    return encodeFrame({ person: speaksFor, content })
  }

  private async joined (state: GroupState, sender: FrameSender, relayed: boolean): Promise<GroupInfo> {
    const invited = isMember(state, this.account.publicKey) && isAdmin(state, sender.person) && sender.person.equals(state.changedBy)
    if (!relayed && !invited) {
      throw new ForbiddenError('a group is joined by an admin\'s invitation naming this person')
    }
    if (this.chains.size >= MAX_GROUPS) {
      throw new ForbiddenError(`${state.changedBy.fingerprint} invited this person to group ${state.idText}, refused: ${tooManyGroups()}`)
    }
    const chain = new GroupChain([state])
    this.chains.set(state.idText, chain)
    await this.saved(chain)
    return this.info(state)
  }

  /** A change made as this person, an admin: the new state one version on, told to the members before and after */
  private async make (chain: GroupChain, change: GroupChange, options: { signal?: AbortSignal }): Promise<GroupChangeResult> {
    // a change asked for by someone who gave up is not made: saved, it would be told to nobody
    options.signal?.throwIfAborted()
    const before = chain.current
    if (!isAdmin(before, this.account.publicKey)) {
      throw new ForbiddenError('only a group\'s admins change it')
    }
    const state = makeGroupState({ ...applied(before, change), version: before.version + 1, previous: before.hash, changedBy: this.account.publicKey, changedAt: this.now() })
    chain.offer(state, this.account.publicKey, false)
    this.made.set(toHex(state.hash, 'base16'), change)
    await this.saved(chain)
    const told = [...before.members, ...state.members.filter(member => !isMember(before, member))]
    return { group: this.info(state), envelopes: await this.announce(state, told, options) }
  }

  /** Remember that this person left a group, drop it, and tell the application */
  private async forget (chain: GroupChain): Promise<GroupInfo> {
    const id = chain.current.idText
    // remembered first: states that outlive it (a crash, a failed delete) are dropped at load
    await this.remember(id)
    this.chains.delete(id)
    this.heardLeaves.delete(id)
    for (const state of chain.history) {
      this.made.delete(toHex(state.hash, 'base16'))
    }
    const last = this.info(chain.current)
    const me = this.account.publicKey.address
    const group = { ...last, members: last.members.filter(member => member !== me), admins: last.admins.filter(admin => admin !== me), member: false, admin: false, left: true }
    await this.init.onChange?.(group)
    await this.init.store.remove(id).catch(err => { this.init.onError?.(err) })
    return group
  }

  private async remember (id: string): Promise<void> {
    this.left = [...this.left.filter(other => other !== id), id].slice(-MAX_LEFT_GROUPS)
    await this.init.store.saveLeft(this.left)
  }

  /** This device's changes that lost a fork are made again on the state that won */
  private remakeLost (id: string, dropped: GroupState[]): void {
    for (const lost of dropped) {
      const change = this.made.get(toHex(lost.hash, 'base16'))
      if (change == null) {
        continue
      }
      this.change(id, change).catch(err => {
        // the winner may already have made it (a member added by both), or made it moot
        if (!(err instanceof InvalidOptionsError)) {
          this.init.onError?.(err)
        }
      })
    }
  }

  private async announce (state: GroupState, people: PublicKey[], options: { signal?: AbortSignal }): Promise<EnvelopeOutcome[]> {
    return this.sendFrame(people, this.frame({ type: 'group-update', state: state.bytes }), options)
  }

  private async sendFrame (people: PublicKey[], frame: Uint8Array, options: { signal?: AbortSignal }): Promise<EnvelopeOutcome[]> {
    return this.init.fanOut.send(this.account, people.map(person => ({ person, kind: 'frame', body: frame })), options)
  }

  private async saved (chain: GroupChain): Promise<void> {
    await this.init.store.save(chain.current.idText, chain.history.map(state => state.bytes))
    await this.init.onChange?.(this.info(chain.current))
  }

  private chainOf (id: string): GroupChain {
    const chain = this.chains.get(id)
    if (chain == null) {
      throw new InvalidOptionsError(`no group ${id} is known here`)
    }
    return chain
  }

  private info (state: GroupState): GroupInfo {
    const me = this.account.publicKey
    return {
      id: state.idText,
      name: state.name,
      version: state.version,
      members: state.members.map(member => member.address),
      admins: state.admins.map(admin => admin.address),
      member: isMember(state, me),
      admin: isAdmin(state, me),
      left: false,
      changedBy: state.changedBy.address,
      changedAt: state.changedAt
    }
  }
}

/**
 * Who takes an admin's role when `leaver`, an admin, leaves: the members longest in the group who
 * are no admins (the members are in the order they joined), as many as keep the group's admins
 * as many as before and at least ADMINS_AFTER_A_LEAVE, where it has members enough. Admins who
 * leave the same state at once each remove only themselves, in states of which one wins the
 * fork, and all name the same heirs; and an heir who leaves as it is named leaves another, who
 * removes it: the group is not left to admins who are gone.
 */
function heirsOf (state: GroupState, leaver: PublicKey): PublicKey[] {
  if (!isAdmin(state, leaver)) {
    return []
  }
  const wanted = Math.max(state.admins.length, ADMINS_AFTER_A_LEAVE) - (state.admins.length - 1)
  return state.members.filter(member => !isAdmin(state, member)).slice(0, wanted)
}

/** The members, admins and name a change makes of `state` */
function applied (state: GroupState, change: GroupChange): Pick<GroupState, 'id' | 'name' | 'members' | 'admins'> {
  const { id, name, members, admins } = state
  switch (change.type) {
    case 'add':
      if (isMember(state, change.member)) {
        throw new InvalidOptionsError('they are a member already')
      }
      checkMemberCount(members.length + 1)
      return { id, name, members: [...members, change.member], admins }
    case 'remove':
    case 'leave': {
      if (!isMember(state, change.member)) {
        throw new InvalidOptionsError('they are not a member')
      }
      const heirs = change.type === 'leave' ? heirsOf(state, change.member) : []
      const left = [...admins.filter(admin => !admin.equals(change.member)), ...heirs]
      if (left.length === 0) {
        throw new InvalidOptionsError('a group keeps at least one admin: make another member admin first')
      }
      return { id, name, members: members.filter(member => !member.equals(change.member)), admins: left }
    }
    case 'rename': {
      const renamed = checkedGroupName(change.name)
      if (renamed === name) {
        throw new InvalidOptionsError('the group has that name already')
      }
      return { id, name: renamed, members, admins }
    }
    case 'admin': {
      if (!isMember(state, change.member)) {
        throw new InvalidOptionsError('only a member can be an admin')
      }
      if (isAdmin(state, change.member) === change.admin) {
        throw new InvalidOptionsError(change.admin ? 'they are an admin already' : 'they are not an admin')
      }
      const next = change.admin ? [...admins, change.member] : admins.filter(admin => !admin.equals(change.member))
      if (next.length === 0) {
        throw new InvalidOptionsError('a group keeps at least one admin')
      }
      return { id, name, members, admins: next }
    }
  }
}

function tooManyGroups (): string {
  return `this person is in ${MAX_GROUPS} groups already: leave one to join another`
}

function checkMemberCount (count: number): void {
  if (count > MAX_GROUP_MEMBERS) {
    throw new InvalidOptionsError(`a group has at most ${MAX_GROUP_MEMBERS} members`)
  }
}

function checkedGroupName (name: unknown): string {
  if (typeof name !== 'string') {
    throw new InvalidOptionsError('a group name is a string')
  }
  const trimmed = name.trim()
  const bytes = utf8(trimmed).byteLength
  if (bytes === 0 || bytes > MAX_GROUP_NAME_BYTES) {
    throw new InvalidOptionsError(`a group name is 1 to ${MAX_GROUP_NAME_BYTES} bytes of UTF-8`)
  }
  return trimmed
}
