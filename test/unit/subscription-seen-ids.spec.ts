import { strict as assert } from 'node:assert'
import { ringIdFromBytes } from '../../src/chord/id.js'
import { createIdentity } from '../../src/index.js'
import { MAX_SEEN_IDS } from '../../src/mailbox/constants.js'
import { Subscription } from '../../src/mailbox/subscription.js'
import { hour } from '../../src/units.js'
import type { NodeRef } from '../../src/chord/rpc.js'
import type { MailboxSessionHandlers } from '../../src/mailbox/subscription.js'

describe('a subscription\'s memory of envelopes seen', () => {
  it('holds at most MAX_SEEN_IDS ids: one envelope more and the oldest is forgotten, the others still dropped as repeats', async () => {
    const node: NodeRef = { id: ringIdFromBytes(new Uint8Array(32)), peer: 'the node' }
    let handlers: MailboxSessionHandlers | undefined
    const opened: unknown[] = []
    const subscription = new Subscription({
      identity: await createIdentity(),
      onMessage: () => {},
      openSession: async (at, _identity, given) => {
        handlers = given
        return { node: at, close: async () => {} }
      },
      findOwner: async () => node,
      checkIntervalMs: hour,
      acknowledge: async () => {},
      // every envelope here is garbage a stranger stored: each one opened (not dropped as seen) is an error
      onError: err => { opened.push(err) }
    })
    await subscription.start()
    assert.ok(handlers != null)

    const garbage = Array.from({ length: MAX_SEEN_IDS + 1 }, (_, i) => Uint8Array.of(i >> 16, i >> 8, i))
    await handlers.onEnvelopes(garbage, true)
    assert.equal(opened.length, MAX_SEEN_IDS + 1)

    await handlers.onEnvelopes([garbage[1], garbage[MAX_SEEN_IDS]], false)
    assert.equal(opened.length, MAX_SEEN_IDS + 1, 'the newest MAX_SEEN_IDS are remembered')
    await handlers.onEnvelopes([garbage[0]], false)
    assert.equal(opened.length, MAX_SEEN_IDS + 2, 'the oldest was forgotten')

    await subscription.close()
  })
})
