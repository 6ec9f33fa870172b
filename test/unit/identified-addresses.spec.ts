import { strict as assert } from 'node:assert'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { IdentifiedAddresses } from '../../src/node/identified-addresses.js'
import type { Connection } from '@libp2p/interface'

const PEER = peerIdFromString('12D3KooWCutjWAh1tPfvHwcydS9doSpo1VJAeXi2PTr3Bn63jdqL')
const PRIVATE = ['/ip4/10.0.0.7/tcp/4001', '/ip4/192.168.1.2/tcp/4001', '/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4001', '/ip6/fd12::1/tcp/4001'].map(text => multiaddr(text))
const PUBLIC = multiaddr('/ip4/1.2.3.4/tcp/4001')

function connectedFrom (...remotes: string[]): Connection[] {
  return remotes.map(remote => ({ remoteAddr: multiaddr(remote) }) as unknown as Connection)
}

describe('IdentifiedAddresses', () => {
  it('keeps no private address of a peer connected over public addresses only, and its public ones', () => {
    const identified = new IdentifiedAddresses()
    identified.connectionsOf = () => connectedFrom('/ip4/1.2.3.4/tcp/4001', '/ip4/5.6.7.8/tcp/4001')
    assert.deepEqual(PRIVATE.filter(address => identified.keeps(PEER, address)), [])
    assert.equal(identified.keeps(PEER, PUBLIC), true)
  })

  it('keeps every address of a peer connected over a private address (one host, a LAN), or over a private one among others', () => {
    const identified = new IdentifiedAddresses()
    identified.connectionsOf = () => connectedFrom('/ip4/1.2.3.4/tcp/4001', '/ip4/192.168.1.9/tcp/4001')
    assert.equal(PRIVATE.every(address => identified.keeps(PEER, address)), true)
  })

  it('keeps what the node\'s own parts add for a peer it is not connected to, and for any peer before it knows its connections', () => {
    const identified = new IdentifiedAddresses()
    assert.equal(PRIVATE.every(address => identified.keeps(PEER, address)), true, 'before connectionsOf is set')
    identified.connectionsOf = () => []
    assert.equal(PRIVATE.every(address => identified.keeps(PEER, address)), true)
  })

  it('takes a relayed connection for a public one, wherever its relay is', () => {
    const identified = new IdentifiedAddresses()
    identified.connectionsOf = () => connectedFrom('/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWCutjWAh1tPfvHwcydS9doSpo1VJAeXi2PTr3Bn63jdqL/p2p-circuit')
    assert.equal(identified.keeps(PEER, PRIVATE[0]), false)
  })
})
