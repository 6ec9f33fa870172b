/**
 * HeldBytes: what a node holds for peers until they take it, under a cap per peer, one per subnet
 * and one for all. A hold that would pass any is refused whole, but a holder that passes the
 * shared caps (a ring neighbour), or holds no more than the floor every peer has, is refused by
 * its own cap only; a release gives back exactly what
 * its hold took, once, and a peer or subnet holding nothing is forgotten.
 */
import assert from 'node:assert/strict'
import { HeldBytes } from '../../src/limits/held-bytes.js'
import {
  MAX_PENDING_ANSWER_BYTES_PER_PEER, MAX_PENDING_ANSWER_BYTES_PER_SUBNET, MAX_SMALL_ANSWER_BYTES, MAX_TOTAL_PENDING_ANSWER_BYTES, MIN_PENDING_ANSWER_BYTES_PER_PEER,
  SMALL_ANSWER_RESERVE_BYTES
} from '../../src/transport/constants.js'
import { MAX_CONNECTIONS } from '../../src/node/constants.js'

/** As the request server holds answers, with the defaults */
function asTheRequestServer (): HeldBytes {
  return new HeldBytes({
    perPeer: MAX_PENDING_ANSWER_BYTES_PER_PEER,
    perSubnet: MAX_PENDING_ANSWER_BYTES_PER_SUBNET,
    total: MAX_TOTAL_PENDING_ANSWER_BYTES,
    smallReserve: { upTo: MAX_SMALL_ANSWER_BYTES, extra: SMALL_ANSWER_RESERVE_BYTES }
  })
}

describe('HeldBytes', () => {
  it('lets any peer hold its floor whatever its subnet and all hold, counted in both, and refuses it past the floor', () => {
    const held = new HeldBytes({ perPeer: 100, perSubnet: 50, total: 60, perPeerFloor: 10 })
    assert.ok(held.hold({ peer: 'a', subnet: 's' }, 50) != null)
    assert.equal(held.hold({ peer: 'b', subnet: 's' }, 11), undefined, 'past the floor, the full subnet refuses')
    assert.ok(held.hold({ peer: 'b', subnet: 's' }, 6) != null, 'within the floor, past the subnet\'s cap')
    assert.ok(held.hold({ peer: 'b', subnet: 's' }, 4) != null, 'up to the floor exactly')
    assert.equal(held.hold({ peer: 'b', subnet: 's' }, 1), undefined, 'and no more')
    assert.deepEqual([held.ofSubnet('s'), held.total], [60, 60])
    assert.ok(held.hold({ peer: 'c', subnet: 't' }, 10) != null, 'past the total too')
    assert.equal(held.total, 70)
  })

  it('sizes the request server\'s floor (MIN_PENDING_ANSWER_BYTES_PER_PEER) for a few small answers, and all floors together for a small part of memory', () => {
    assert.ok(MIN_PENDING_ANSWER_BYTES_PER_PEER >= 4 * MAX_SMALL_ANSWER_BYTES)
    assert.ok(MIN_PENDING_ANSWER_BYTES_PER_PEER * MAX_CONNECTIONS <= 32 * 1024 * 1024)
  })

  it('holds up to the per-peer cap for one peer, and refuses a hold that would pass it', () => {
    const held = new HeldBytes({ perPeer: 100, total: 1_000 })
    assert.ok(held.hold({ peer: 'a' }, 60) != null)
    assert.equal(held.hold({ peer: 'a' }, 41), undefined, 'a hold past the per-peer cap')
    assert.ok(held.hold({ peer: 'a' }, 40) != null, 'a hold that reaches the cap exactly')
    assert.equal(held.of('a'), 100)
    assert.ok(held.hold({ peer: 'b' }, 100) != null, 'another peer has a cap of its own')
  })

  it('refuses every peer a hold past the total, each under its own cap', () => {
    const held = new HeldBytes({ perPeer: 100, total: 150 })
    assert.ok(held.hold({ peer: 'a' }, 100) != null)
    assert.equal(held.hold({ peer: 'b' }, 60), undefined, 'a hold past the total, within the peer\'s cap')
    assert.ok(held.hold({ peer: 'b' }, 50) != null)
    assert.equal(held.total, 150)
  })

  it('holds up to the per-subnet cap for the peers of one subnet together, each under its own cap, and refuses no other subnet', () => {
    const held = new HeldBytes({ perPeer: 100, perSubnet: 150, total: 1_000 })
    assert.ok(held.hold({ peer: 'a', subnet: '192.0.2.0/24' }, 100) != null)
    assert.equal(held.hold({ peer: 'b', subnet: '192.0.2.0/24' }, 51), undefined, 'a hold past the subnet\'s cap, within the peer\'s')
    assert.ok(held.hold({ peer: 'b', subnet: '192.0.2.0/24' }, 50) != null, 'a hold that reaches the subnet\'s cap exactly')
    assert.equal(held.ofSubnet('192.0.2.0/24'), 150)
    assert.ok(held.hold({ peer: 'c', subnet: '198.51.100.0/24' }, 100) != null, 'another subnet has a cap of its own')
    assert.ok(held.hold({ peer: 'd' }, 100) != null, 'a peer of no subnet (loopback) counts in none')
    assert.equal(held.total, 350)
  })

  it('holds a small hold past the total within its reserve, never past the reserve, the subnet\'s cap or the peer\'s', () => {
    const held = new HeldBytes({ perPeer: 100, perSubnet: 110, total: 150, smallReserve: { upTo: 10, extra: 15 } })
    assert.ok(held.hold({ peer: 'a', subnet: 'x' }, 100) != null)
    assert.ok(held.hold({ peer: 'b' }, 50) != null)
    assert.equal(held.hold({ peer: 'c' }, 11), undefined, 'past the total and not small')
    assert.ok(held.hold({ peer: 'c' }, 10) != null, 'small: from the reserve')
    assert.equal(held.hold({ peer: 'd' }, 6), undefined, 'past the reserve too')
    assert.ok(held.hold({ peer: 'd' }, 5) != null)
    assert.equal(held.total, 165)
    assert.equal(held.hold({ peer: 'a' }, 1), undefined, 'never past a peer\'s own cap')

    const subnetFull = new HeldBytes({ perPeer: 100, perSubnet: 110, total: 150, smallReserve: { upTo: 10, extra: 15 } })
    assert.ok(subnetFull.hold({ peer: 'a', subnet: 'x' }, 100) != null)
    assert.ok(subnetFull.hold({ peer: 'e', subnet: 'x' }, 10) != null)
    assert.equal(subnetFull.hold({ peer: 'f', subnet: 'x' }, 1), undefined, 'never past the subnet\'s cap, small or not')
  })

  it('holds for a holder that passes the shared caps past its subnet\'s, the total and the reserve, counting it in each, and never past its own cap', () => {
    const held = new HeldBytes({ perPeer: 100, perSubnet: 100, total: 100, smallReserve: { upTo: 10, extra: 10 } })
    assert.ok(held.hold({ peer: 'stranger', subnet: 'x' }, 100) != null)
    assert.ok(held.hold({ peer: 'stranger 2' }, 10) != null, 'the reserve, spent')
    const neighbour = { peer: 'neighbour', subnet: 'x', passesSharedCaps: true }
    assert.ok(held.hold(neighbour, 60) != null, 'past the subnet\'s cap, the total and the reserve, at once')
    assert.equal(held.hold({ peer: 'stranger 3', subnet: 'x' }, 1), undefined, 'a stranger of its subnet, at the same moment')
    assert.equal(held.hold({ peer: 'stranger 3' }, 1), undefined, 'a stranger of no subnet, at the same moment')
    assert.equal(held.ofSubnet('x'), 160, 'counted in its subnet')
    assert.equal(held.total, 170, 'counted in the total')
    assert.equal(held.hold(neighbour, 41), undefined, 'past its own cap')
    assert.ok(held.hold(neighbour, 40) != null)
  })

  it('as the request server holds answers: small ones (MAX_SMALL_ANSWER_BYTES) take SMALL_ANSWER_RESERVE_BYTES past MAX_TOTAL_PENDING_ANSWER_BYTES, and no more', () => {
    const held = new HeldBytes({ perPeer: Infinity, total: MAX_TOTAL_PENDING_ANSWER_BYTES, smallReserve: { upTo: MAX_SMALL_ANSWER_BYTES, extra: SMALL_ANSWER_RESERVE_BYTES } })
    assert.ok(held.hold({ peer: 'pages' }, MAX_TOTAL_PENDING_ANSWER_BYTES) != null)
    assert.equal(held.hold({ peer: 'large' }, MAX_SMALL_ANSWER_BYTES + 1), undefined)
    for (let i = 0; i < SMALL_ANSWER_RESERVE_BYTES / MAX_SMALL_ANSWER_BYTES; i++) {
      assert.ok(held.hold({ peer: `stranger-${i}` }, MAX_SMALL_ANSWER_BYTES) != null)
    }
    assert.equal(held.hold({ peer: 'one more' }, 1), undefined, 'the reserve is spent')
    assert.equal(held.total, MAX_TOTAL_PENDING_ANSWER_BYTES + SMALL_ANSWER_RESERVE_BYTES)
  })

  it(`as the request server holds answers: identities of one subnet at their cap hold MAX_PENDING_ANSWER_BYTES_PER_SUBNET (${MAX_PENDING_ANSWER_BYTES_PER_SUBNET}), an eighth of the node's; a ring neighbour of that subnet is still held for`, () => {
    const held = asTheRequestServer()
    let identities = 0
    while (held.hold({ peer: `identity-${identities}`, subnet: '192.0.2.0/24' }, MAX_PENDING_ANSWER_BYTES_PER_PEER) != null) {
      identities++
    }
    assert.equal(identities, 2)
    assert.equal(held.ofSubnet('192.0.2.0/24'), MAX_PENDING_ANSWER_BYTES_PER_SUBNET)
    assert.ok(held.ofSubnet('192.0.2.0/24') <= MAX_TOTAL_PENDING_ANSWER_BYTES / 8)
    assert.equal(held.hold({ peer: 'newcomer', subnet: '192.0.2.0/24' }, 1), undefined, 'not even a small answer')
    assert.ok(held.hold({ peer: 'neighbour', subnet: '192.0.2.0/24', passesSharedCaps: true }, MAX_PENDING_ANSWER_BYTES_PER_PEER) != null)
    assert.ok(held.hold({ peer: 'elsewhere', subnet: '198.51.100.0/24' }, MAX_PENDING_ANSWER_BYTES_PER_PEER) != null)
  })

  it('gives back what a hold took once, however often its release is called, and forgets a peer and a subnet holding nothing', () => {
    const held = new HeldBytes({ perPeer: 100, perSubnet: 100, total: 150 })
    const first = held.hold({ peer: 'a', subnet: 'x' }, 30)
    const second = held.hold({ peer: 'a', subnet: 'x' }, 20)
    assert.ok(first != null && second != null)
    first()
    first()
    assert.equal(held.of('a'), 20)
    assert.equal(held.ofSubnet('x'), 20)
    assert.equal(held.total, 20)
    second()
    assert.equal(held.total, 0)
    assert.equal(held.peers, 0)
    assert.equal(held.subnets, 0)
    assert.ok(held.hold({ peer: 'a', subnet: 'x' }, 100) != null, 'the room came back whole')
  })
})
