import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InvalidOptionsError } from '../../src/errors.js'
import { MAX_ADDRS_PER_CACHED_PEER, MAX_CACHED_PEERS } from '../../src/storage/constants.js'
import { SUBLEVELS, openNodeDatabase } from '../../src/storage/database.js'
import { openPeerCache } from '../../src/storage/peer-cache.js'
import type { NodeDatabase } from '../../src/storage/database.js'

function peer (n: number, lastSeen = n): { peerId: string, addrs: string[], lastSeen: number } {
  return { peerId: `peer-${n}`, addrs: [`/ip4/10.0.0.${n % 250}/tcp/4001`], lastSeen }
}

describe('peer cache', () => {
  let dir: string
  let database: NodeDatabase

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chord-peers-'))
    database = await openNodeDatabase(dir)
  })

  afterEach(async () => {
    await database.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function reopenDatabase (): Promise<void> {
    await database.close()
    database = await openNodeDatabase(dir)
  }

  it('lists peers most recently seen first, one entry per peer', async () => {
    const cache = await openPeerCache(database)
    await cache.put(peer(1, 100))
    await cache.put(peer(2, 300))
    await cache.put(peer(3, 200))
    await cache.put({ ...peer(1), lastSeen: 400, addrs: ['/dns4/example.org/tcp/443/wss'] })
    assert.deepEqual(cache.list().map(p => p.peerId), ['peer-1', 'peer-2', 'peer-3'])
    assert.deepEqual(cache.list()[0].addrs, ['/dns4/example.org/tcp/443/wss'])
  })

  it(`holds at most MAX_CACHED_PEERS (${MAX_CACHED_PEERS}), evicting the least recently seen`, async () => {
    const cache = await openPeerCache(database)
    for (let n = 0; n < MAX_CACHED_PEERS + 10; n++) {
      await cache.put(peer(n))
    }
    assert.equal(cache.size, MAX_CACHED_PEERS)
    const ids = new Set(cache.list().map(p => p.peerId))
    assert.equal(ids.has('peer-9'), false)
    assert.equal(ids.has('peer-10'), true)
    await reopenDatabase()
    assert.equal((await openPeerCache(database)).size, MAX_CACHED_PEERS)
  })

  it('keeps at most MAX_ADDRS_PER_CACHED_PEER addresses of a peer, the first ones', async () => {
    const cache = await openPeerCache(database)
    const addrs = Array.from({ length: MAX_ADDRS_PER_CACHED_PEER + 5 }, (_, i) => `/ip4/10.0.0.1/tcp/${4000 + i}`)
    await cache.put({ peerId: 'p', addrs, lastSeen: 1 })
    assert.deepEqual(cache.list()[0].addrs, addrs.slice(0, MAX_ADDRS_PER_CACHED_PEER))
  })

  it('survives a restart, trimmed to a lowered bound', async () => {
    let cache = await openPeerCache(database)
    for (let n = 1; n <= 5; n++) {
      await cache.put(peer(n))
    }
    await reopenDatabase()
    cache = await openPeerCache(database, { maxPeers: 3 })
    assert.deepEqual(cache.list().map(p => p.peerId), ['peer-5', 'peer-4', 'peer-3'])
    await reopenDatabase()
    assert.equal((await openPeerCache(database)).size, 3)
  })

  it('forgets a removed peer', async () => {
    const cache = await openPeerCache(database)
    await cache.put(peer(1))
    await cache.remove('peer-1')
    await cache.remove('peer-1')
    assert.equal(cache.size, 0)
    await reopenDatabase()
    assert.equal((await openPeerCache(database)).size, 0)
  })

  it('drops entries it cannot use', async () => {
    const raw = database.sublevel<string, unknown>(SUBLEVELS.peers, { valueEncoding: 'json' })
    await raw.put('broken', { addrs: 'not a list', lastSeen: 1 })
    await raw.put('fine', { addrs: ['/ip4/10.0.0.1/tcp/1'], lastSeen: 1 })
    const cache = await openPeerCache(database)
    assert.deepEqual(cache.list().map(p => p.peerId), ['fine'])
    assert.equal(await raw.get('broken'), undefined)
  })

  it('rejects bad settings and sightings', async () => {
    await assert.rejects(openPeerCache(database, { maxPeers: 0 }), InvalidOptionsError)
    const cache = await openPeerCache(database)
    await assert.rejects(cache.put({ ...peer(1), lastSeen: Number.NaN }), InvalidOptionsError)
  })
})
