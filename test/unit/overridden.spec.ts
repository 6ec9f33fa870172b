import { strict as assert } from 'node:assert'
import { overridden } from '../../src/node/overridden.js'

class Counter {
  count = 0
  increment (): number {
    return ++this.count
  }

  twice (): number {
    this.increment()
    return this.increment()
  }
}

describe('overridden', () => {
  it('answers with the overrides, and with every other method of the target bound to it, its prototype\'s included', () => {
    const counter = new Counter()
    const changed = overridden(counter, { twice: () => -1 })
    assert.equal(changed.twice(), -1)
    const { increment } = changed
    assert.equal(increment(), 1)
    assert.equal(counter.count, 1)
    assert.equal(changed.count, 1)
    assert.ok('increment' in changed)
    assert.ok('twice' in changed)
    assert.equal(counter.twice(), 3, 'the target itself is unchanged')
  })

  it('answers for a frozen target, overrides included, as a gater frozen by its application would be', async () => {
    const gater = Object.freeze({
      denyDialPeer: async (): Promise<boolean> => true,
      denyInboundConnection: async (): Promise<boolean> => true
    })
    const changed = overridden(gater, { denyInboundConnection: async () => false })
    assert.equal(await changed.denyDialPeer(), true)
    assert.equal(await changed.denyInboundConnection(), false)
  })

  it('keeps an assignment to itself, never writing it to the target', () => {
    const counter = new Counter()
    const changed = overridden(counter, {})
    changed.count = 41
    assert.equal(changed.count, 41)
    assert.equal(counter.count, 0)
    assert.ok(changed instanceof Counter, 'its prototype is the target\'s')
  })

  it('refuses to be frozen or given a property by definition, and answers as before', () => {
    const counter = new Counter()
    const changed = overridden(counter, {})
    assert.throws(() => Object.freeze(changed), TypeError)
    assert.throws(() => Object.defineProperty(changed, 'count', { value: 7 }), TypeError)
    assert.equal(changed.increment(), 1)
    assert.ok(changed instanceof Counter)
  })

  it('spreads its own properties only: the reason it is not built with a spread', () => {
    const spread: Partial<Counter> = { ...new Counter() }
    assert.equal(spread.increment, undefined)
  })
})
