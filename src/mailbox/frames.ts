/**
 * Frames: what a sealed message of kind FRAME carries (a ChatFrame, chat.proto) for the devices
 * and groups layer. Decoding checks the frame's shape: exactly one content, a valid person key
 * when one is named, ids and versions of the right size. What a frame may do (whether its device
 * speaks for its person, whether a group update follows the rules) the layer that takes it checks.
 */
import { InvalidMessageError } from '../errors.js'
import { ChatFrame } from '../protocol/generated/chat.js'
import { GROUP_ID_LENGTH, PUBLIC_KEY_LENGTH } from './constants.js'
import { PublicKey } from './public-key.js'

export type FrameContent =
  /** a message to one person */
  | { type: 'direct', body: Uint8Array }
  /** a copy of a direct message for the sender's own other devices */
  | { type: 'sent', to: PublicKey, body: Uint8Array }
  | { type: 'group-message', groupId: Uint8Array, version: number, body: Uint8Array }
  /** a group's new state, encoded (the groups layer decodes and checks it) */
  | { type: 'group-update', state: Uint8Array }
  /** the sending person leaves the group */
  | { type: 'group-leave', groupId: Uint8Array }
  | { type: 'link-request', name: string }
  | { type: 'link-grant' }

export interface Frame {
  /** the person the sending device speaks for, when it is not the person's own key */
  person?: PublicKey
  content: FrameContent
}

export function encodeFrame (frame: Frame): Uint8Array {
  const wire: Partial<ChatFrame> = frame.person == null ? {} : { person: frame.person.bytes }
  const { content } = frame
  switch (content.type) {
    case 'direct':
      wire.direct = { body: copy(content.body) }
      break
    case 'sent':
      wire.sent = { to: content.to.bytes, body: copy(content.body) }
      break
    case 'group-message':
      wire.groupMessage = { groupId: copy(content.groupId), version: content.version, body: copy(content.body) }
      break
    case 'group-update':
      wire.groupUpdate = { state: copy(content.state) }
      break
    case 'group-leave':
      wire.groupLeave = { groupId: copy(content.groupId) }
      break
    case 'link-request':
      wire.linkRequest = { name: content.name }
      break
    case 'link-grant':
      wire.linkGrant = {}
      break
  }
  return ChatFrame.encode(wire)
}

/**
 * @throws InvalidMessageError when the bytes are not a ChatFrame with exactly one content, or a
 * key, id or version in it breaks its rules
 */
export function decodeFrame (bytes: Uint8Array): Frame {
  let wire: ChatFrame
  try {
    wire = ChatFrame.decode(bytes)
  } catch (err) {
    throw new InvalidMessageError('a frame is not protobuf', { cause: err })
  }
  const person = wire.person == null ? undefined : keyOf(wire.person, 'person')
  const contents: FrameContent[] = []
  if (wire.direct != null) {
    contents.push({ type: 'direct', body: wire.direct.body })
  }
  if (wire.sent != null) {
    contents.push({ type: 'sent', to: keyOf(wire.sent.to, 'recipient'), body: wire.sent.body })
  }
  if (wire.groupMessage != null) {
    const { groupId, version, body } = wire.groupMessage
    contents.push({ type: 'group-message', groupId: checkedGroupId(groupId), version: checkedVersion(version), body })
  }
  if (wire.groupUpdate != null) {
    if (wire.groupUpdate.state.byteLength === 0) {
      throw new InvalidMessageError('a group update carries a state')
    }
    contents.push({ type: 'group-update', state: wire.groupUpdate.state })
  }
  if (wire.groupLeave != null) {
    contents.push({ type: 'group-leave', groupId: checkedGroupId(wire.groupLeave.groupId) })
  }
  if (wire.linkRequest != null) {
    contents.push({ type: 'link-request', name: wire.linkRequest.name })
  }
  if (wire.linkGrant != null) {
    contents.push({ type: 'link-grant' })
  }
  if (contents.length !== 1) {
    throw new InvalidMessageError(`a frame has exactly one content, this one has ${contents.length}`)
  }
  return { person, content: contents[0] }
}

/** @throws InvalidMessageError unless `id` is GROUP_ID_LENGTH bytes */
export function checkedGroupId (id: Uint8Array): Uint8Array {
  if (id.byteLength !== GROUP_ID_LENGTH) {
    throw new InvalidMessageError(`a group id is ${GROUP_ID_LENGTH} bytes, got ${id.byteLength}`)
  }
  return id
}

function checkedVersion (version: number): number {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new InvalidMessageError('a group version is an integer from 1 to 2^53 - 1')
  }
  return version
}

function keyOf (bytes: Uint8Array, what: string): PublicKey {
  if (bytes.byteLength !== PUBLIC_KEY_LENGTH) {
    throw new InvalidMessageError(`a frame's ${what} is a ${PUBLIC_KEY_LENGTH}-byte public key, got ${bytes.byteLength} bytes`)
  }
  return PublicKey.fromBytes(bytes)
}

/** The generated codec's types ask for ArrayBuffer-backed arrays */
function copy (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.slice()
}
