import assert from 'node:assert/strict'
import { MAX_EARLY_RECEIPTS, MAX_TRACKED_MESSAGES } from '../../src/chat/constants.js'
import { MemoryChatStore } from '../../src/chat/chat-store.js'
import { DeliveryTracker } from '../../src/chat/delivery.js'
import type { EnvelopeOutcome } from '../../src/mailbox/mailbox.js'

const receipt = (id: string, from: string): { id: string, from: string, receivedAt: number } => ({ id, from, receivedAt: 1 })

/** Two people with two devices each, and the sender's own other device (not counted) */
const outcomes = (tag: string): EnvelopeOutcome[] => [
  { person: 'bob', device: 'bob-phone', id: `${tag}-1`, replicas: 3 },
  { person: 'bob', device: 'bob-laptop', id: `${tag}-2`, replicas: 3 },
  { person: 'carol', device: 'carol-phone', id: `${tag}-3`, replicas: 3 },
  { person: 'carol', device: 'carol-tablet', replicas: 0, error: new Error('unreachable') },
  { person: 'me', device: 'my-laptop', id: `${tag}-4`, replicas: 3 }
]

describe('delivery counted per person and device', () => {
  it('counts each device\'s receipt once, from that device only, and "delivered to 2 of 2 members, 2 of 3 devices"', async () => {
    const tracker = new DeliveryTracker(new MemoryChatStore(), 'me/', 'me')
    const sent = await tracker.track({ id: 'm', group: 'g', sentAt: 1 }, outcomes('m'))
    assert.deepEqual([sent.members, sent.devices, sent.devicesDelivered], [2, 3, 0], 'the failed envelope and the sender\'s own are not counted')
    assert.equal(await tracker.receipt(receipt('m-1', 'carol-phone')), undefined, 'a receipt from another device than the envelope\'s')
    await tracker.receipt(receipt('m-1', 'bob-phone'))
    assert.equal(await tracker.receipt(receipt('m-1', 'bob-phone')), undefined, 'counted once')
    const state = await tracker.receipt(receipt('m-3', 'carol-phone'))
    assert.deepEqual([state?.membersDelivered, state?.members, state?.devicesDelivered, state?.devices], [2, 2, 2, 3])
  })

  it('counts a receipt that came before its send resolved, and forgets the oldest past MAX_EARLY_RECEIPTS', async () => {
    const tracker = new DeliveryTracker(new MemoryChatStore(), 'me/', 'me')
    await tracker.receipt(receipt('early-1', 'bob-phone'))
    for (let i = 0; i < MAX_EARLY_RECEIPTS; i++) {
      await tracker.receipt(receipt(`late-${i}`, 'bob-laptop'))
    }
    await tracker.receipt(receipt('late-1-2', 'bob-laptop'))
    const early = await tracker.track({ id: 'early', sentAt: 1 }, outcomes('early'))
    assert.equal(early.devicesDelivered, 0, 'the first early receipt was forgotten')
    const late = await tracker.track({ id: 'late-1', sentAt: 2 }, outcomes('late-1'))
    assert.equal(late.devicesDelivered, 1, 'a recent early receipt counts')
  })

  it('follows at most MAX_TRACKED_MESSAGES, and a reloaded tracker counts on from its store', async () => {
    const store = new MemoryChatStore()
    const tracker = new DeliveryTracker(store, 'me/', 'me')
    for (let i = 0; i <= MAX_TRACKED_MESSAGES; i++) {
      await tracker.track({ id: `m${i}`, to: 'bob', sentAt: i }, outcomes(`m${i}`).slice(0, 1))
    }
    assert.equal(tracker.state('m0'), undefined)
    assert.equal((await store.entries('me/delivery/')).length, MAX_TRACKED_MESSAGES)
    const reloaded = new DeliveryTracker(store, 'me/', 'me')
    await reloaded.load()
    assert.equal((await reloaded.receipt(receipt(`m${MAX_TRACKED_MESSAGES}-1`, 'bob-phone')))?.devicesDelivered, 1)
  })
})
