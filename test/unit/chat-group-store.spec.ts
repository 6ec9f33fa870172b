import assert from 'node:assert/strict'
import { MemoryChatStore } from '../../src/chat/chat-store.js'
import { groupStoreIn } from '../../src/chat/group-store.js'

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
})
