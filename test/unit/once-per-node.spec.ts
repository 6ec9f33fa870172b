import assert from 'node:assert/strict'
import { OncePerNode } from '../../src/chord/once-per-node.js'
import type { NodeRef } from '../../src/chord/rpc.js'

const node = (name: string): NodeRef => ({ id: BigInt(name.charCodeAt(0)), peer: name })

describe('OncePerNode', () => {
  it('works once on a node named both by the route and by the check, and answers for the nodes asked', async () => {
    const calls: string[] = []
    const once = new OncePerNode(async (to: NodeRef) => { calls.push(to.peer); return `from ${to.peer}` })
    once.start([node('a'), node('b'), node('c')])
    const settled = await once.settle([node('a'), node('b'), node('d')])
    assert.deepEqual(calls, ['a', 'b', 'c', 'd'])
    assert.deepEqual(settled, ['a', 'b', 'd'].map(peer => ({ status: 'fulfilled', value: `from ${peer}` })))
  })

  it('settles a failure as rejected, and tries it again only once told to forget failures', async () => {
    let attempts = 0
    const once = new OncePerNode(async () => {
      attempts++
      if (attempts === 1) {
        throw new Error('no answer')
      }
      return 'stored'
    })
    const first = await once.settle([node('a')])
    assert.equal(first[0].status, 'rejected')
    assert.equal((await once.settle([node('a')]))[0].status, 'rejected')
    assert.equal(attempts, 1)
    once.forgetFailures()
    assert.deepEqual(await once.settle([node('a')]), [{ status: 'fulfilled', value: 'stored' }])
    assert.equal(attempts, 2)
  })
})
