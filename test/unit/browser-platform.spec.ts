import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { browserConnectionGater } from '../../src/index.js'
import * as browserDefaults from '../../src/services/platform-defaults.browser.js'
import * as nodeDefaults from '../../src/services/platform-defaults.js'
import * as browserDirectories from '../../src/storage/make-directory.browser.js'
import type * as nodeDirectories from '../../src/storage/make-directory.js'

function dialable (gater: ReturnType<typeof browserConnectionGater>, address: string): boolean {
  return gater.denyDialMultiaddr?.(multiaddr(address)) !== true
}

describe('browser platform', () => {
  it('the browser defaults can stand in for the Node defaults: WebSockets only, no listening, client mode', () => {
    // a compile-time check that the browser build's module exports what the Node module does
    const swapped: typeof nodeDefaults = browserDefaults
    assert.deepEqual(swapped.DEFAULT_LISTEN_ADDRESSES, [])
    assert.equal(swapped.DEFAULT_CLIENT_MODE, true)
    assert.equal(swapped.defaultTransports().length, 1)
    assert.equal(nodeDefaults.DEFAULT_CLIENT_MODE, false)
  })

  it('the browser stand-in for making a data directory exports what the Node module does, and makes nothing', async () => {
    const swapped: typeof nodeDirectories = browserDirectories
    // in a page the name only names an IndexedDB database
    await swapped.makeDirectory('/proc/no-such-directory')
  })

  it('the browser gater dials only secure public addresses by default, as libp2p\'s browser build does', () => {
    const gater = browserConnectionGater()
    assert.equal(dialable(gater, '/dns4/ring.example.org/tcp/443/wss'), true)
    assert.equal(dialable(gater, '/dns4/ring.example.org/tcp/443/tls/ws'), true)
    assert.equal(dialable(gater, '/dns4/ring.example.org/tcp/80/ws'), false)
    assert.equal(dialable(gater, '/ip4/127.0.0.1/tcp/4001/ws'), false)
    assert.equal(dialable(gater, '/ip4/192.168.1.20/tcp/443/wss'), false)
  })

  it('allowLoopback opens this machine\'s loopback addresses and nothing else', () => {
    const gater = browserConnectionGater({ allowLoopback: true })
    assert.equal(dialable(gater, '/ip4/127.0.0.1/tcp/4001/ws'), true)
    assert.equal(dialable(gater, '/ip6/::1/tcp/4001/ws'), true)
    assert.equal(dialable(gater, '/ip4/192.168.1.20/tcp/4001/ws'), false)
    assert.equal(dialable(gater, '/ip4/10.0.0.5/tcp/443/wss'), false)
    assert.equal(dialable(gater, '/dns4/ring.example.org/tcp/80/ws'), false)
  })
})
