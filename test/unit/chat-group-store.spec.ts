import assert from 'node:assert/strict'
import { ChatClient } from '../../src/chat/chat-client.js'
import { MemoryChatStore } from '../../src/chat/chat-store.js'
import { groupStoreIn } from '../../src/chat/group-store.js'
import { accountOf } from '../../src/devices/account.js'
import { DeviceLists } from '../../src/devices/device-lists.js'
import { leaveHeardByAnHeir, stopAsItBecomesAdmin } from '../helpers/recorded-groups.js'
import { waitFor } from '../helpers/wait-for.js'
import type { DeviceFanOut, PersonDelivery } from '../../src/devices/fan-out.js'
import type { Subscription } from '../../src/mailbox/subscription.js'

describe('a chat\'s groups in its ChatStore', () => {
  it('gives back what was saved, per device prefix, and a group removed takes its heard leaves with it', async () => {
    const chat = new MemoryChatStore()
    const phone = groupStoreIn(chat, 'phone/')
    const laptop = groupStoreIn(chat, 'laptop/')
    await phone.save('g1', [Uint8Array.of(1, 2), Uint8Array.of(3)])
    await phone.save('g2', [Uint8Array.of(4)])
    await phone.saveLeft(['g0'])
    await phone.saveHeard('g1', [{ person: 'someone', version: 2 }])
    await phone.saveHeard('g2', [{ person: 'someone else', version: 1 }])

    assert.deepEqual(await phone.load(), [[Uint8Array.of(1, 2), Uint8Array.of(3)], [Uint8Array.of(4)]], 'the states alone, not the heard leaves beside them')
    assert.deepEqual(await phone.loadLeft(), ['g0'])
    assert.deepEqual(await phone.loadHeard(), [['g1', [{ person: 'someone', version: 2 }]], ['g2', [{ person: 'someone else', version: 1 }]]])
    assert.deepEqual([await laptop.load(), await laptop.loadLeft(), await laptop.loadHeard()], [[], [], []], 'another device of the same store sees none of it')

    await phone.remove('g1')
    await phone.saveHeard('g2', [])
    assert.deepEqual(await phone.load(), [[Uint8Array.of(4)]])
    assert.deepEqual(await phone.loadHeard(), [])
    assert.deepEqual([...(await chat.entries(''))].map(([key]) => key).sort(), ['phone/group/g2', 'phone/groups-left'], 'nothing else left behind')
  })

  it('the chat, as it starts, removes a leaver its device heard of and stopped before removing, once an admin', async () => {
    const store = new MemoryChatStore()
    const { admin, heir, member, group } = await leaveHeardByAnHeir(person => groupStoreIn(store, `${person.address}/`))
    await stopAsItBecomesAdmin(admin, heir, group)
    const sent: PersonDelivery[][] = []
    const errors: unknown[] = []
    const chat = new ChatClient({
      account: accountOf(heir.identity),
      mailbox: {
        subscribe: async () => ({ close: async () => {} }) as unknown as Subscription,
        sendFrame: async () => { throw new Error('frames go through the fan-out in this test') },
        ack: async () => ({ replicas: 1 }),
        sendReceipt: async () => { throw new Error('no receipts in this test') }
      },
      lists: new DeviceLists({ resolve: async () => undefined, publish: async () => { throw new Error('nothing is published in this test') } }),
      fanOut: { send: async (_sender: unknown, deliveries: PersonDelivery[]) => { sent.push(deliveries); return deliveries.map(d => ({ person: d.person.address, replicas: 3 })) } } as unknown as DeviceFanOut,
      options: { store, onMessage: () => {}, onError: err => { errors.push(err) } }
    })
    assert.deepEqual(chat.groups.get(group.id), undefined, 'nothing is loaded before start')

    await chat.start()
    await waitFor(() => chat.groups.get(group.id)?.members.length === 1, 'the leaver to be removed')
    await chat.close()

    assert.deepEqual(chat.groups.get(group.id)?.admins, [heir.identity.address])
    assert.deepEqual(sent.at(-1)?.map(d => d.person.address).sort(), [heir.identity.address, member.identity.address].sort(), 'the removal is told to both')
    assert.deepEqual(errors, [])
  })
})
