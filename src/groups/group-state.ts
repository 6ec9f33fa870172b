/**
 * A group's state: its id, name, members and admins at one version, and the hash of the state it
 * follows. Every change an admin makes is a new state one version on; every member holds the same
 * chain of states, so every member sees the same name and members.
 *
 * Strict decoding: a state is taken only in its one canonical encoding (re-encoding gives the same
 * bytes), so one state has one hash.
 */
import { equalBytes } from '@noble/curves/utils.js'
import { MaxLengthError } from 'protons-runtime'
import { toString as toHex } from 'uint8arrays/to-string'
import { InvalidMessageError } from '../errors.js'
import { PublicKey } from '../mailbox/public-key.js'
import { labelledHash, utf8 } from '../chord/transcript.js'
import { GroupState as WireGroupState } from '../protocol/generated/chat.js'
import { GROUP_ID_LENGTH, GROUP_STATE_LABEL, MAX_GROUP_MEMBERS, MAX_GROUP_NAME_BYTES } from './constants.js'

/** Length of a state's hash (sha256) */
const HASH_LENGTH = 32

export interface GroupFields {
  id: Uint8Array
  version: number
  /** the hash of the state this one follows; empty at version 1 */
  previous: Uint8Array
  name: string
  /** no key twice */
  members: PublicKey[]
  /** some of the members, at least one */
  admins: PublicKey[]
  /** the admin who made this state */
  changedBy: PublicKey
  /** ms since the epoch, that admin's clock */
  changedAt: number
}

export interface GroupState extends GroupFields {
  /** the id as 32 hexadecimal digits */
  idText: string
  /** the canonical encoding */
  bytes: Uint8Array
  /** labelled sha256 of the bytes: what the next state names as `previous` */
  hash: Uint8Array
}

/**
 * The state these fields make
 *
 * @throws InvalidMessageError when a field breaks the rules of decodeGroupState
 */
export function makeGroupState (fields: GroupFields): GroupState {
  const adminIndexes = fields.admins.map(admin => fields.members.findIndex(member => member.equals(admin))).sort((a, b) => a - b)
  if (adminIndexes.includes(-1)) {
    throw new InvalidMessageError('every admin of a group is one of its members')
  }
  return decodeGroupState(WireGroupState.encode({
    groupId: fields.id.slice(),
    version: fields.version,
    previous: fields.previous.slice(),
    name: fields.name,
    members: fields.members.map(member => member.bytes),
    admins: adminIndexes,
    changedBy: fields.changedBy.bytes,
    changedAt: fields.changedAt
  }))
}

/**
 * @throws InvalidMessageError when the bytes are not a canonical GroupState, or a field breaks
 * its rules: the id's length, a version below 1, a `previous` that is not a hash (or not empty at
 * version 1), a name of 0 or more than MAX_GROUP_NAME_BYTES, no members or more than
 * MAX_GROUP_MEMBERS or one twice, no admin or an admin index out of order or range, a key that is
 * not canonical
 */
export function decodeGroupState (bytes: Uint8Array): GroupState {
  let wire: WireGroupState
  try {
    // the counts are checked while decoding, before the lists are built; admins are some of the members
    wire = WireGroupState.decode(bytes, { limits: { members: MAX_GROUP_MEMBERS, admins: MAX_GROUP_MEMBERS } })
  } catch (err) {
    throw new InvalidMessageError(err instanceof MaxLengthError ? `a group has at most ${MAX_GROUP_MEMBERS} members, and no more admins` : 'a group state is not protobuf', { cause: err })
  }
  if (!equalBytes(WireGroupState.encode(wire), bytes)) {
    throw new InvalidMessageError('a group state must be in its canonical encoding')
  }
  if (wire.groupId.byteLength !== GROUP_ID_LENGTH) {
    throw new InvalidMessageError(`a group id is ${GROUP_ID_LENGTH} bytes`)
  }
  if (!Number.isSafeInteger(wire.version) || wire.version < 1) {
    throw new InvalidMessageError('a group state\'s version is an integer from 1 to 2^53 - 1')
  }
  if (wire.previous.byteLength !== (wire.version === 1 ? 0 : HASH_LENGTH)) {
    throw new InvalidMessageError(`a group state names the ${HASH_LENGTH}-byte hash of the one it follows, and none at version 1`)
  }
  const nameBytes = utf8(wire.name).byteLength
  if (nameBytes === 0 || nameBytes > MAX_GROUP_NAME_BYTES) {
    throw new InvalidMessageError(`a group's name is 1 to ${MAX_GROUP_NAME_BYTES} bytes of UTF-8, got ${nameBytes}`)
  }
  if (wire.members.length === 0) {
    throw new InvalidMessageError('a group has at least one member')
  }
  const members = wire.members.map(key => keyOf(key, 'member'))
  if (new Set(members.map(member => member.address)).size !== members.length) {
    throw new InvalidMessageError('a group names a member twice')
  }
  if (wire.admins.length === 0 || wire.admins.some((index, i) => index >= members.length || (i > 0 && index <= wire.admins[i - 1]))) {
    throw new InvalidMessageError('a group\'s admins are member indexes in ascending order, at least one')
  }
  if (!Number.isSafeInteger(wire.changedAt) || wire.changedAt < 0) {
    throw new InvalidMessageError('a group state\'s changedAt is an integer from 0 to 2^53 - 1')
  }
  return {
    id: wire.groupId,
    idText: groupIdText(wire.groupId),
    version: wire.version,
    previous: wire.previous,
    name: wire.name,
    members,
    admins: wire.admins.map(index => members[index]),
    changedBy: keyOf(wire.changedBy, 'changedBy'),
    changedAt: wire.changedAt,
    bytes,
    hash: labelledHash(GROUP_STATE_LABEL, bytes)
  }
}

export function groupIdText (id: Uint8Array): string {
  return toHex(id, 'base16')
}

export function isMember (state: GroupFields, person: PublicKey): boolean {
  return state.members.some(member => member.equals(person))
}

export function isAdmin (state: GroupFields, person: PublicKey): boolean {
  return state.admins.some(admin => admin.equals(person))
}

function keyOf (bytes: Uint8Array, what: string): PublicKey {
  try {
    return PublicKey.fromBytes(bytes)
  } catch (err) {
    throw new InvalidMessageError(`a group state's ${what} is not a canonical public key`, { cause: err })
  }
}
