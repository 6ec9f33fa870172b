import assert from 'node:assert/strict'
import { mock } from 'node:test'
import { LINK_RELAY_RETRIES } from '../../src/chat/constants.js'
import { tellNewDevice } from '../../src/chat/new-device.js'
import { MAILBOX_ACCEPT_WINDOW } from '../../src/mailbox/constants.js'
import { decodeFrame } from '../../src/mailbox/frames.js'
import { LookupFailedError, RateLimitedError, createIdentity } from '../../src/index.js'
import { accountOf } from '../../src/devices/account.js'
import { Groups } from '../../src/groups/groups.js'
import { MemoryGroupStore } from '../helpers/group-store.js'

describe('telling a device just linked', () => {
  /** A person in three groups who left two others */
  async function person (): Promise<Groups> {
    const groups = new Groups({ account: accountOf(await createIdentity()), fanOut: { send: async () => [] }, store: new MemoryGroupStore() })
    for (const name of ['left 1', 'left 2']) {
      const { group } = await groups.create(name, [])
      await groups.leave(group.id)
    }
    for (const name of ['a', 'b', 'c']) {
      await groups.create(name, [])
    }
    return groups
  }

  it('sends the groups left, then every group\'s state, each frame once the node takes it again after the wait it names', async () => {
    const groups = await person()
    const sent: string[] = []
    const refusedAt: number[] = []
    let calls = 0
    await tellNewDevice(groups, async frame => {
      // the mailbox's rate is reached at the third frame, twice
      if (++calls === 3 || calls === 4) {
        refusedAt.push(Date.now())
        throw new RateLimitedError('the mailbox takes no more from this sender for now', { retryAfterMs: 50 })
      }
      const { content } = decodeFrame(frame)
      sent.push(content.type === 'group-update' ? 'state' : content.type)
    }, new AbortController().signal)
    assert.deepEqual(sent, ['group-leave', 'group-leave', 'state', 'state', 'state'])
    assert.equal(calls, 7)
    assert.ok(refusedAt[1] - refusedAt[0] >= 45, `tried again after ${refusedAt[1] - refusedAt[0]} ms`)
  })

  it(`gives up on a frame refused LINK_RELAY_RETRIES (${LINK_RELAY_RETRIES}) + 1 times, and at once on any other error`, async () => {
    const groups = await person()
    let calls = 0
    await assert.rejects(tellNewDevice(groups, async () => {
      calls++
      throw new RateLimitedError('the mailbox takes no more from this sender for now', { retryAfterMs: 1 })
    }, new AbortController().signal), RateLimitedError)
    assert.equal(calls, LINK_RELAY_RETRIES + 1)

    calls = 0
    await assert.rejects(tellNewDevice(groups, async () => {
      calls++
      throw new LookupFailedError('no replica')
    }, new AbortController().signal), LookupFailedError)
    assert.equal(calls, 1)
  })

  it('waits no longer than MAILBOX_ACCEPT_WINDOW, however long a node names: a hostile replica cannot stall the new device for days', async () => {
    const groups = await person()
    const closing = new AbortController()
    let calls = 0
    let done = false
    mock.timers.enable({ apis: ['setTimeout'] })
    try {
      const telling = tellNewDevice(groups, async () => {
        if (++calls === 1) {
          // 20 days: still below the most a timer takes (about 24.8 days)
          throw new RateLimitedError('wait for weeks', { retryAfterMs: 20 * 24 * 3_600_000 })
        }
      }, closing.signal).then(() => { done = true })
      // the clock is mocked: polled on the event loop's turns, a hundred at most
      const turnsUntil = async (condition: () => boolean): Promise<void> => {
        for (let turn = 0; turn < 100; turn++) {
          if (condition()) {
            return
          }
          await new Promise(resolve => setImmediate(resolve))
        }
      }
      // the refusal is in; its wait is scheduled in the microtasks after it, done by the next turn
      await turnsUntil(() => calls === 1)
      await new Promise(resolve => setImmediate(resolve))
      mock.timers.tick(MAILBOX_ACCEPT_WINDOW)
      await turnsUntil(() => done)
      closing.abort(new Error('the test is over'))
      await telling.catch(() => {})
      assert.ok(done, 'it tried again once the window had passed')
      assert.equal(calls, 6, 'the refused frame again, then the other four')
    } finally {
      mock.timers.reset()
    }
  })

  it('stops at once, in the middle of a wait the node named, when the chat closes', async () => {
    const groups = await person()
    const closing = new AbortController()
    let calls = 0
    const telling = tellNewDevice(groups, async () => {
      calls++
      setTimeout(() => { closing.abort(new Error('the chat closed')) }, 10)
      throw new RateLimitedError('the mailbox takes no more from this sender for now', { retryAfterMs: 60_000 })
    }, closing.signal)
    const started = Date.now()
    await assert.rejects(telling, /the chat closed/)
    assert.ok(Date.now() - started < 5_000, 'it waited out the minute')
    assert.equal(calls, 1)
  })
})
