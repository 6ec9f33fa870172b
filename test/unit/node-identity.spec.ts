import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { openNodeDatabase } from '../../src/storage/database.js'
import { openLevelStore } from '../../src/storage/level-store.js'
import { loadOrCreatePrivateKey } from '../../src/storage/node-identity.js'

describe('node identity', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chord-identity-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps the same Ed25519 PeerId across restarts', async () => {
    let database = await openNodeDatabase(dir)
    const first = await loadOrCreatePrivateKey(database)
    assert.equal(first.type, 'Ed25519')
    await database.close()

    database = await openNodeDatabase(dir)
    const second = await loadOrCreatePrivateKey(database)
    await database.close()
    assert.equal(peerIdFromPrivateKey(second).toString(), peerIdFromPrivateKey(first).toString())
    assert.ok(second.equals(first))
  })

  it('shares the database with the record store', async () => {
    const database = await openNodeDatabase(dir)
    const key = await loadOrCreatePrivateKey(database)
    const store = await openLevelStore({ database })
    await store.close()
    assert.ok((await loadOrCreatePrivateKey(database)).equals(key))
    await database.close()
  })

  it('makes a new key each time when nothing persists', async () => {
    const keys = []
    for (let i = 0; i < 2; i++) {
      const database = await openNodeDatabase()
      keys.push(await loadOrCreatePrivateKey(database))
      await database.close()
    }
    assert.equal(keys[0].equals(keys[1]), false)
  })
})
