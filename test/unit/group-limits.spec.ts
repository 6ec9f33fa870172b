/**
 * What a member's device keeps of a group while it waits, and when it answers: states waiting for
 * the one they follow, group messages waiting for the state that explains them, and the size of
 * group whose messages are answered with delivery receipts.
 */
import assert from 'node:assert/strict'
import { randomBytes } from '@noble/hashes/utils.js'
import { fromString as fromHex } from 'uint8arrays/from-string'
import { ChatClient } from '../../src/chat/chat-client.js'
import { accountOf } from '../../src/devices/account.js'
import { DeviceLists } from '../../src/devices/device-lists.js'
import { GROUP_ID_LENGTH, MAX_GROUP_RECEIPT_MEMBERS, MAX_PENDING_GROUP_MESSAGES, MAX_PENDING_GROUP_STATES } from '../../src/groups/constants.js'
import { GroupChain } from '../../src/groups/group-chain.js'
import { makeGroupState } from '../../src/groups/group-state.js'
import { encodeFrame } from '../../src/mailbox/frames.js'
import { Groups } from '../../src/groups/groups.js'
import { MemoryGroupStore } from '../helpers/group-store.js'
import { createIdentity } from '../../src/index.js'
import type { ChatMessage } from '../../src/chat/chat-client.js'
import type { DeviceFanOut } from '../../src/devices/fan-out.js'
import type { GroupState } from '../../src/groups/group-state.js'
import type { Identity } from '../../src/index.js'
import type { MailboxMessage, Subscription } from '../../src/mailbox/subscription.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

async function identities (count: number): Promise<Identity[]> {
  return Promise.all(Array.from({ length: count }, async () => createIdentity()))
}

/** Versions 1 to `length` of one group of `admin` alone, each following the one before */
function statesOf (admin: Identity, length: number): GroupState[] {
  const id = randomBytes(GROUP_ID_LENGTH)
  const states: GroupState[] = []
  for (let version = 1; version <= length; version++) {
    const previous = states.at(-1)?.hash ?? new Uint8Array(0)
    const person = admin.publicKey
    states.push(makeGroupState({ id, version, previous, name: `v${version}`, members: [person], admins: [person], changedBy: person, changedAt: version }))
  }
  return states
}

/** A group `admin` made of itself and `members`: the frame that tells them, and the frame of a message to it */
async function groupOf (admin: Identity, members: Identity[]): Promise<{ update: Uint8Array, message: (body: string) => Uint8Array, leave: Uint8Array }> {
  const frames: Uint8Array[] = []
  const groups = new Groups({
    account: accountOf(admin),
    fanOut: { send: async (_sender, deliveries) => { frames.push(deliveries[0].body); return [] } },
    store: new MemoryGroupStore()
  })
  const { group } = await groups.create('g', members.map(member => member.address))
  return {
    update: frames[0],
    message: body => groups.messageTo(group.id, text(body)).deliveries[0].body,
    leave: encodeFrame({ content: { type: 'group-leave', groupId: fromHex(group.id, 'base16') } })
  }
}

/** A member's chat over a mailbox stand-in: frames are handed to it, and what it acknowledges and answers is recorded */
interface MemberDevice {
  chat: ChatClient
  /** hand the chat a frame from `sender`, with the id `id`; resolves to whether the mailbox would answer it with a receipt */
  frame(sender: Identity, id: string, plaintext: Uint8Array): Promise<boolean>
  shown: ChatMessage[]
  acknowledged: string[]
  receipts: string[]
  errors: unknown[]
}

async function memberDevice (me: Identity, failedAcks = new Set<string>()): Promise<MemberDevice> {
  let onFrame: ((frame: MailboxMessage) => Promise<boolean>) | undefined
  const device: Omit<MemberDevice, 'chat' | 'frame'> = { shown: [], acknowledged: [], receipts: [], errors: [] }
  const chat = new ChatClient({
    account: accountOf(me),
    mailbox: {
      subscribe: async (_identity, _onMessage, options) => {
        onFrame = options?.onFrame
        return { close: async () => {} } as unknown as Subscription
      },
      sendFrame: async () => { throw new Error('nothing is sent in these tests') },
      ack: async (_identity, ids) => {
        if (ids.some(id => failedAcks.has(String(id)))) {
          throw new Error('the node did not answer')
        }
        device.acknowledged.push(...ids.map(String))
        return { replicas: 1 }
      },
      sendReceipt: async (_identity, message) => { device.receipts.push(message.id); return { id: message.id, replicas: 1 } }
    },
    // nobody published a device list: each person is their own key
    lists: new DeviceLists({ resolve: async () => undefined, publish: async () => { throw new Error('nothing is published in these tests') } }),
    fanOut: { send: async () => [] } as unknown as DeviceFanOut,
    options: { onMessage: message => { device.shown.push(message) }, onError: err => { device.errors.push(err) } }
  })
  await chat.start()
  const frame = async (sender: Identity, id: string, plaintext: Uint8Array): Promise<boolean> => {
    assert.ok(onFrame != null, 'the chat takes frames')
    return onFrame({ id, from: sender.address, sender: sender.publicKey, plaintext, sentAt: 1 })
  }
  return { ...device, chat, frame }
}

describe('group limits on a member\'s device', () => {
  it('keeps MAX_PENDING_GROUP_STATES states waiting for the one they follow, and drops the oldest of one more', async () => {
    const [admin] = await identities(1)
    const [first, second, ...later] = statesOf(admin, MAX_PENDING_GROUP_STATES + 3)
    const newest = later[MAX_PENDING_GROUP_STATES]
    const between = later.slice(0, MAX_PENDING_GROUP_STATES)
    const offered = (chain: GroupChain, states: GroupState[]): void => {
      for (const state of states) {
        assert.deepEqual(chain.offer(state, admin.publicKey, false), { changed: false, dropped: [] }, `version ${state.version} waits`)
      }
    }

    const within = new GroupChain([first])
    offered(within, between)
    assert.equal(within.offer(second, admin.publicKey, false).changed, true)
    assert.equal(within.current.version, MAX_PENDING_GROUP_STATES + 2, 'every waiting state joined')

    const over = new GroupChain([first])
    offered(over, [newest, ...between])
    assert.equal(over.offer(second, admin.publicKey, false).changed, true)
    assert.equal(over.current.version, MAX_PENDING_GROUP_STATES + 2, 'the state that waited longest was dropped')
    // dropped, not kept aside: offered again, it joins
    assert.equal(over.offer(newest, admin.publicKey, false).changed, true)
    assert.equal(over.current.version, MAX_PENDING_GROUP_STATES + 3)
  })

  it('keeps MAX_PENDING_GROUP_MESSAGES messages waiting for their group\'s state: past it the oldest is neither shown nor acknowledged, and stays in the mailbox', async () => {
    const [admin, me] = await identities(2)
    const device = await memberDevice(me)
    const group = await groupOf(admin, [me])
    const ids = Array.from({ length: MAX_PENDING_GROUP_MESSAGES + 1 }, (_, i) => `message ${i}`)
    for (const id of ids) {
      assert.equal(await device.frame(admin, id, group.message(id)), false, 'a message that waits is not answered yet')
    }
    assert.equal(device.shown.length, 0)

    await device.frame(admin, 'update', group.update)
    assert.deepEqual(device.shown.map(message => message.id), ids.slice(1))
    assert.deepEqual(device.receipts, ids.slice(1))
    assert.deepEqual(device.acknowledged, ['update'])
    assert.deepEqual(device.errors, [])
    await device.chat.close()
  })

  it('answers group messages with receipts in a group of MAX_GROUP_RECEIPT_MEMBERS members, and not in one of MAX_GROUP_RECEIPT_MEMBERS + 1, whether or not they waited', async () => {
    const [admin, me, ...others] = await identities(MAX_GROUP_RECEIPT_MEMBERS + 1)
    for (const members of [MAX_GROUP_RECEIPT_MEMBERS, MAX_GROUP_RECEIPT_MEMBERS + 1]) {
      const device = await memberDevice(me)
      const group = await groupOf(admin, [me, ...others].slice(0, members - 1))
      const answered = members <= MAX_GROUP_RECEIPT_MEMBERS

      assert.equal(await device.frame(admin, 'early', group.message('early')), false, 'it waits for the state')
      await device.frame(admin, 'update', group.update)
      assert.equal(device.chat.groups.list()[0].members.length, members)
      assert.deepEqual(device.receipts, answered ? ['early'] : [], `${members} members: the message that waited`)
      assert.equal(await device.frame(admin, 'late', group.message('late')), answered, `${members} members: a message under the known state`)
      assert.deepEqual(device.shown.map(message => message.id), ['early', 'late'], 'shown either way')
      assert.deepEqual(device.errors, [])
      await device.chat.close()
    }
  })
})

describe('leaving a group, as a member\'s chat sees it', () => {
  it('drops the messages of the group left that waited, and keeps waiting those of another group even when an acknowledgement fails', async () => {
    const [me, admin, otherAdmin, stranger] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity()])
    const left = await groupOf(admin, [me])
    const other = await groupOf(otherAdmin, [me])
    const device = await memberDevice(me, new Set(['of-left']))
    await device.frame(admin, 'left-state', left.update)
    const [group] = device.chat.groups.list()
    // a message under a version not known yet waits; so does one of a group not known yet
    await device.frame(stranger, 'of-left', encodeFrame({ content: { type: 'group-message', groupId: fromHex(group.id, 'base16'), version: 2, body: text('later') } }))
    await device.frame(otherAdmin, 'of-other', other.message('hello'))

    const { group: gone } = await device.chat.groups.leave(group.id)
    assert.equal(gone.left, true)
    assert.deepEqual(device.chat.groups.list(), [])
    await device.frame(otherAdmin, 'other-state', other.update)
    assert.deepEqual(device.shown.map(message => message.id), ['of-other'], 'the other group\'s message still waited, and is shown once its state comes')
  })

  it('keeps a leave that comes before its group\'s state, MAX_PENDING_GROUP_MESSAGES frames in all, and removes the member once the state comes', async () => {
    const [admin, member] = await identities(2)
    // another device of the admin, which has not been brought the group yet
    const device = await memberDevice(admin)
    const group = await groupOf(admin, [member])
    assert.equal(await device.frame(member, 'leave', group.leave), false)
    assert.deepEqual(device.acknowledged, [], 'a leave nobody here can act on yet stays in the mailbox')

    // the state, as the admin's own device relays it to a device just linked
    await device.frame(admin, 'update', group.update)
    const [held] = device.chat.groups.list()
    assert.deepEqual(held.members, [admin.address], 'the member who left was removed')
    assert.equal(held.version, 2)
    assert.deepEqual(device.acknowledged, ['update', 'leave'])
    assert.deepEqual(device.errors, [])
    await device.chat.close()

    const crowded = await memberDevice(admin)
    const other = await groupOf(admin, [member])
    await crowded.frame(member, 'leave', other.leave)
    for (let i = 0; i < MAX_PENDING_GROUP_MESSAGES; i++) {
      await crowded.frame(admin, `message ${i}`, other.message(`message ${i}`))
    }
    await crowded.frame(admin, 'update', other.update)
    assert.deepEqual(crowded.chat.groups.list()[0].members, [admin.address, member.address], 'the oldest frame, the leave, was let go')
    assert.ok(!crowded.acknowledged.includes('leave'), 'a leave let go stays in the mailbox')
    assert.equal(crowded.shown.length, MAX_PENDING_GROUP_MESSAGES)
    await crowded.chat.close()
  })

  it('acts on each waiting frame once when a state and a leave of another group come at once, and loses none', async () => {
    const [admin, member] = await identities(2)
    // another device of the admin, holding one group of the admin alone and not yet the others
    const device = await memberDevice(admin)
    const [alone, left, later] = await Promise.all([groupOf(admin, []), groupOf(admin, [member]), groupOf(admin, [member])])
    await device.frame(admin, 'alone', alone.update)
    await device.frame(member, 'leave', left.leave)
    await device.frame(admin, 'early', later.message('early'))
    assert.deepEqual(device.acknowledged, ['alone'])

    // the state the leave waits for, while this person leaves the group of their own
    const aloneId = device.chat.groups.list()[0].id
    await Promise.all([device.frame(admin, 'left', left.update), device.chat.groups.leave(aloneId)])
    await device.frame(admin, 'later', later.update)

    assert.deepEqual(device.shown.map(message => message.id), ['early'], 'the message that waited for its state is shown')
    assert.deepEqual(device.acknowledged.filter(id => id === 'leave'), ['leave'], 'the leave is acted on once')
    assert.deepEqual(device.errors, [])
    await device.chat.close()
  })
})
