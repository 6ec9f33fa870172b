import assert from 'node:assert/strict'
import { SelfShortcut } from '../../src/chord/self-shortcut.js'
import type { ChordRpcHandler, NamespaceHandler, NamespaceName, NodeRef, RingRpc } from '../../src/chord/rpc.js'

const self: NodeRef = { id: 1n, peer: 'self' }
const other: NodeRef = { id: 2n, peer: 'other' }

/** A transport that fails the test if it is asked anything about `self` */
function transport (sent: string[]): RingRpc {
  const refuse = (to: NodeRef, what: string): void => {
    sent.push(`${what} ${to.peer}`)
    if (to.peer === self.peer) {
      throw new Error('a call to itself reached the network')
    }
  }
  const namespace = {
    storeRecords: async (to: NodeRef) => { refuse(to, 'storeRecords'); return { deletions: [] } },
    fetchRecords: async (to: NodeRef) => { refuse(to, 'fetchRecords'); return [] },
    rangeDigest: async (to: NodeRef) => { refuse(to, 'rangeDigest'); return { count: 0, hash: new Uint8Array(32) } },
    rangeSummaries: async (to: NodeRef) => { refuse(to, 'rangeSummaries'); return [] },
    deleteRecords: async (to: NodeRef) => { refuse(to, 'deleteRecords') }
  }
  return {
    getNeighbours: async to => { refuse(to, 'getNeighbours'); return { successors: [] } },
    notify: async to => { refuse(to, 'notify') },
    findSuccessor: async to => { refuse(to, 'findSuccessor'); return { done: false, closer: [] } },
    leaving: async to => { refuse(to, 'leaving') },
    ping: async to => { refuse(to, 'ping'); return {} },
    delegateLookup: async to => { refuse(to, 'delegateLookup'); return [] },
    findOwner: async to => { refuse(to, 'findOwner'); return { owner: to, neighbours: { successors: [] }, hops: 1 } },
    namespace: () => namespace
  }
}

describe('calls a node addresses to itself', () => {
  it('answers requests addressed to itself without the network', async () => {
    const asked: Array<{ from: NodeRef, id: bigint }> = []
    const ring: ChordRpcHandler = {
      onPing: () => ({}),
      onGetNeighbours: () => ({ successors: [other] }),
      onNotify: () => {},
      onFindSuccessor: (from, id) => { asked.push({ from, id }); return { done: true, successors: [self] } },
      onLeaving: () => {},
      isNeighbour: () => false,
      onDelegatedLookup: async () => [self],
      onFindOwner: () => ({ owner: self, neighbours: { predecessor: other, successors: [other] } }),
      onPassedOnUnanswered: () => {}
    }
    const sent: string[] = []
    const rpc = new SelfShortcut(transport(sent), { self, ringHandler: ring, handlerOf: () => undefined })

    assert.deepEqual(await rpc.findSuccessor(self, 42n), { done: true, successors: [self] })
    assert.deepEqual(asked, [{ from: self, id: 42n }])
    await rpc.ping(self)
    assert.deepEqual(sent, [])

    await rpc.ping(other)
    assert.deepEqual(sent, ['ping other'])
  })

  it('answers record messages to itself through its own namespace rules, on a copy', async () => {
    const stored: unknown[] = []
    const records: NamespaceHandler = {
      onStoreRecords: async (from, batch) => { stored.push({ from, batch }) },
      onFetchRecords: async () => [],
      onRangeDigest: async () => ({ count: 0, hash: new Uint8Array(32) }),
      onRangeSummaries: async () => []
    }
    const sent: string[] = []
    const rpc = new SelfShortcut(transport(sent), { self, ringHandler: {} as ChordRpcHandler, handlerOf: (name: NamespaceName) => name === 'records' ? records : undefined })
    const batch = [{ key: new Uint8Array(32), value: new Uint8Array([1]), id: new Uint8Array(32), expiresAt: 1 }]

    await rpc.namespace('records').storeRecords(self, batch)
    assert.equal(stored.length, 1)
    assert.notEqual((stored[0] as { batch: unknown }).batch, batch, 'the callee gets a copy')
    await assert.rejects(rpc.namespace('mailbox').storeRecords(self, batch), /keeps no mailbox/)
    assert.deepEqual(sent, [])
  })
})
