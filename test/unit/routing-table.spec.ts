import assert from 'node:assert/strict'
import { answerFindSuccessor } from '../../src/chord/lookup.js'
import { RoutingTable } from '../../src/chord/routing-table.js'
import { SubnetCap } from '../../src/chord/subnet-cap.js'
import type { NodeRef } from '../../src/chord/rpc.js'

const node = (id: bigint): NodeRef => ({ id, peer: `p${id}` })

describe('routing table', () => {
  it('cuts a copied successor list where it comes back round to us, without duplicates', () => {
    const table = new RoutingTable(node(10n), { successorListLength: 5 })
    table.setSuccessors([node(20n), node(30n), node(20n), node(10n), node(20n)])
    assert.deepEqual(table.getSuccessors().map(n => n.id), [20n, 30n])
  })

  it('caps the successor list at its length', () => {
    const table = new RoutingTable(node(0n), { successorListLength: 2 })
    table.setSuccessors([node(1n), node(2n), node(3n)])
    assert.deepEqual(table.getSuccessors().map(n => n.id), [1n, 2n])
  })

  it('never holds itself as predecessor or finger', () => {
    const table = new RoutingTable(node(10n), { successorListLength: 3 })
    table.setPredecessor(node(10n))
    table.setFinger(0, node(10n))
    assert.equal(table.predecessor, undefined)
    assert.equal(table.getFinger(0), undefined)
  })

  it('points a run of fingers at one node, checked against the fingers outside the run', () => {
    let checks = 0
    const subnetCap = new SubnetCap({ maxPerSubnet: 1, subnetOf: () => { checks++; return 'one subnet' } })
    const table = new RoutingTable(node(0n), { successorListLength: 3, subnetCap })
    table.setFingers(0, 200, node(20n))
    assert.equal(checks, 1, 'the node is checked once for the whole run')
    assert.deepEqual([0, 199].map(i => table.getFinger(i)?.id), [20n, 20n])
    // another node of the same subnet: refused while node 20 keeps fingers outside its run
    table.setFingers(0, 100, node(30n))
    assert.deepEqual([0, 99, 100].map(i => table.getFinger(i)?.id), [undefined, undefined, 20n])
    // and taken for a run that covers every finger node 20 held
    table.setFingers(100, 200, node(30n))
    assert.deepEqual([0, 100, 199].map(i => table.getFinger(i)?.id), [undefined, 30n, 30n])
  })

  it('names each successor\'s subnet once while building the list, and caps each subnet', () => {
    const asked: string[] = []
    const subnetCap = new SubnetCap({ maxPerSubnet: 2, subnetOf: n => { asked.push(n.peer); return n.id % 2n === 0n ? 'even' : 'odd' } })
    const table = new RoutingTable(node(0n), { successorListLength: 8, subnetCap })
    table.setSuccessors([1n, 2n, 3n, 4n, 5n, 6n, 7n].map(node))
    assert.deepEqual(table.getSuccessors().map(n => n.id), [1n, 2n, 3n, 4n])
    assert.deepEqual(asked, ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'])
  })

  it('is its own successor and owns every id when alone', () => {
    const table = new RoutingTable(node(10n), { successorListLength: 3 })
    assert.equal(table.successor.id, 10n)
    assert.equal(table.isResponsibleFor(999n), true)
    assert.deepEqual(answerFindSuccessor(table, 5n), { done: true, successors: [node(10n)] })
  })

  it('forgets a failed node everywhere', () => {
    const table = new RoutingTable(node(10n), { successorListLength: 3 })
    table.setSuccessors([node(20n), node(30n)])
    table.setPredecessor(node(20n))
    table.setFinger(3, node(20n))
    assert.equal(table.removeNode('p20'), true)
    assert.deepEqual(table.getSuccessors().map(n => n.id), [30n])
    assert.equal(table.predecessor, undefined)
    assert.equal(table.getFinger(3), undefined)
    assert.equal(table.removeNode('p20'), false)
  })

  it('orders next hops by how closely they precede the id', () => {
    const table = new RoutingTable(node(0n), { successorListLength: 3 })
    table.setSuccessors([node(10n)])
    table.setFinger(5, node(40n))
    table.setFinger(6, node(70n))
    table.setFinger(7, node(130n))
    assert.deepEqual(table.closestPreceding(100n, 10).map(n => n.id), [70n, 40n, 10n])
    const reply = answerFindSuccessor(table, 100n)
    assert.equal(reply.done, false)
  })

  it('answers from the successor list when the id falls before the first successor', () => {
    const table = new RoutingTable(node(0n), { successorListLength: 3 })
    table.setSuccessors([node(10n), node(20n), node(30n)])
    assert.deepEqual(answerFindSuccessor(table, 5n), { done: true, successors: [node(10n), node(20n), node(30n)] })
  })

  it('counts itself in the replica set of a ring smaller than its successor list', () => {
    const table = new RoutingTable(node(0n), { successorListLength: 3 })
    table.setSuccessors([node(10n), node(20n)])
    assert.deepEqual(answerFindSuccessor(table, 5n), { done: true, successors: [node(10n), node(20n), node(0n)] })
  })

  it('takes the nearest node it knows for its successor once it has lost every successor, and claims no other id', () => {
    const table = new RoutingTable(node(100n), { successorListLength: 3 })
    table.setPredecessor(node(50n))
    table.setFinger(6, node(200n))
    table.setFinger(7, node(400n))
    assert.equal(table.nearestFollower()?.id, 200n)
    assert.deepEqual(answerFindSuccessor(table, 75n), { done: true, successors: [node(100n), node(200n)] })
    assert.deepEqual(answerFindSuccessor(table, 150n), { done: true, successors: [node(200n)] })
    assert.deepEqual(answerFindSuccessor(table, 300n), { done: false, closer: [node(200n)] })
  })

  it('claims no id but its own range without a predecessor, and in a ring of two names the other node', () => {
    const stranded = new RoutingTable(node(100n), { successorListLength: 3 })
    stranded.setFinger(6, node(200n))
    assert.deepEqual(answerFindSuccessor(stranded, 75n), { done: false, closer: [node(200n)] })
    const pair = new RoutingTable(node(100n), { successorListLength: 3 })
    pair.setPredecessor(node(50n))
    assert.deepEqual(answerFindSuccessor(pair, 30n), { done: true, successors: [node(50n)] })
    assert.deepEqual(answerFindSuccessor(pair, 75n), { done: true, successors: [node(100n), node(50n)] })
  })
})
