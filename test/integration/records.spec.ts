import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createChordNode, QuotaExceededError } from '../../src/index.js'
import { keyPosition, ringIdFromBytes } from '../../src/chord/id.js'
import { seededRandom } from '../helpers/simulator.js'
import { addressOf, crash, expectedReplicas, nodeOptions, startNode, startRing, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import { internalsOf } from '../../src/testing.js'
import type { ChordNode } from '../../src/index.js'

const WRITER = fileURLToPath(new URL('../fixtures/node-writer.ts', import.meta.url))
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const decoded = (values: Uint8Array[]): string[] => values.map(v => new TextDecoder().decode(v)).sort()

/** How many of `nodes` hold a record of `value` under `key` in their own store */
async function holders (nodes: ChordNode[], key: string): Promise<string[]> {
  const found: string[] = []
  for (const node of nodes) {
    if ((await internalsOf(node).store.get(keyPosition(key))).length > 0) {
      found.push(node.peerId.toString())
    }
  }
  return found
}

/** Every key in `keys` reads back its value from every node */
async function readableEverywhere (nodes: ChordNode[], keys: string[]): Promise<boolean> {
  for (const key of keys) {
    for (const node of nodes) {
      const values = await node.get(key).catch(() => [])
      if (!decoded(values).includes(`value of ${key}`)) {
        return false
      }
    }
  }
  return true
}

async function putAll (writer: ChordNode, keys: string[]): Promise<void> {
  for (const key of keys) {
    await writer.put(key, text(`value of ${key}`))
  }
}

describe('records on a ring of real nodes', function () {
  this.timeout(240_000)
  let nodes: ChordNode[] = []
  const dirs: string[] = []

  async function tempDir (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'chord-records-'))
    dirs.push(dir)
    return dir
  }

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
    await Promise.all(dirs.splice(0).map(async dir => rm(dir, { recursive: true, force: true })))
  })

  it('puts on r replicas and reads a deduplicated set from any node', async () => {
    nodes = await startRing(8)
    const first = await nodes[0].put('greeting', text('hello'))
    assert.equal(first.replicas, 3)
    await nodes[1].put('greeting', text('hello'))
    await nodes[2].put('greeting', text('bonjour'))
    assert.equal((await holders(nodes, 'greeting')).length, 3)
    for (const node of nodes) {
      assert.deepEqual(decoded(await node.get('greeting')), ['bonjour', 'hello'])
    }
    assert.deepEqual(await nodes[3].get('nothing here'), [])
  })

  it('keeps its PeerId and records across a clean restart from the same dataDir', async () => {
    const dataDir = await tempDir()
    const before = await createChordNode(nodeOptions({ dataDir }))
    await before.put('kept', text('across restarts'))
    const peerId = before.peerId.toString()
    await before.stop()

    const after = await createChordNode(nodeOptions({ dataDir }))
    nodes.push(after)
    assert.equal(after.peerId.toString(), peerId)
    assert.deepEqual(decoded(await after.get('kept')), ['across restarts'])
  })

  it('loses no acknowledged put when killed with SIGKILL right after put resolved', async () => {
    const dataDir = await tempDir()
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] })
    let peerId = ''
    let acked = -1
    const exited = new Promise(resolve => child.once('exit', resolve))
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('peer ')) {
        peerId = line.slice(5)
      } else if (line.startsWith('ack ')) {
        acked = Number(line.slice(4))
        if (acked === 120) {
          child.kill('SIGKILL')
          break
        }
      }
    }
    await exited

    const node = await createChordNode(nodeOptions({ dataDir }))
    nodes.push(node)
    assert.equal(node.peerId.toString(), peerId)
    for (let i = 0; i <= acked; i++) {
      const values = decoded(await node.get(`key-${i % 50}`))
      assert.ok(values.includes(`value-${i}`), `acknowledged put ${i} is missing`)
    }
  })

  it('keeps every record readable everywhere while a third of 12 nodes stop one at a time', async () => {
    nodes = await startRing(12)
    const keys = Array.from({ length: 500 }, (_, i) => `record-${i}`)
    await putAll(nodes[0], keys)

    const random = seededRandom(21)
    for (let i = 0; i < 4; i++) {
      const [leaving] = nodes.splice(1 + Math.floor(random() * (nodes.length - 1)), 1)
      await leaving.stop()
      await waitForConsistentRing(nodes)
      // re-replicated: every record is on r live nodes again before the next one leaves
      await waitFor(async () => {
        for (const key of keys) {
          if ((await holders(nodes, key)).length < 3) {
            return false
          }
        }
        return true
      }, `every record on 3 of the ${nodes.length} remaining nodes`, 30_000)
    }
    assert.equal(await readableEverywhere(nodes, keys), true)
  })

  for (const replicas of [3, 7]) {
    it(`after half of 16 nodes crash at once (r = ${replicas}), loses only records whose whole replica set died`, async () => {
      nodes = await startRing(16, { replicas })
      const keys = Array.from({ length: 200 }, (_, i) => `r${replicas}-record-${i}`)
      await putAll(nodes[0], keys)
      const replicaSets = new Map<string, string[]>()
      for (const key of keys) {
        const replicaSet = expectedReplicas(nodes, ringIdFromBytes(keyPosition(key)), replicas).map(n => n.peerId.toString())
        replicaSets.set(key, replicaSet)
        const held = await holders(nodes, key)
        assert.ok(replicaSet.every(peer => held.includes(peer)), 'every replica holds its records')
      }

      const random = seededRandom(100 + replicas)
      const crashed: ChordNode[] = []
      while (crashed.length < 8) {
        crashed.push(...nodes.splice(Math.floor(random() * nodes.length), 1))
      }
      await Promise.all(crashed.map(crash))
      await waitForConsistentRing(nodes, 60_000)

      const alive = new Set(nodes.map(n => n.peerId.toString()))
      const survivors = keys.filter(key => replicaSets.get(key)?.some(peer => alive.has(peer)))
      const lost = 1 - survivors.length / keys.length
      console.log(`      r = ${replicas}: ${(lost * 100).toFixed(1)}% of records lost with their whole replica set (0.5^r = ${(0.5 ** replicas * 100).toFixed(1)}%)`)
      await waitFor(async () => readableEverywhere(nodes, survivors), 'every surviving record readable from every node', 60_000)
      await stopAll(crashed)
    })
  }

  it('reads a key at once from the node that takes it over when its owner leaves a ring not yet settled', async () => {
    // the maintenance timers as shipped: the leaver may go before anyone has told it its
    // predecessor, and then its successor learns none, and must confirm itself as the new owner
    // (about one round in two, before that was fixed)
    for (let round = 0; round < 10; round++) {
      const first = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
      const bootstrap = [addressOf(first)]
      const second = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap })
      const leaving = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap })
      nodes = [first, second]
      await leaving.put('greeting', text(`hello ${round}`))
      await leaving.stop()
      for (const reader of nodes) {
        assert.deepEqual(decoded(await reader.get('greeting')), [`hello ${round}`], `round ${round}`)
      }
      await stopAll(nodes)
    }
  })

  it('stores on both nodes of a ring of two from the moment the second has joined, with the maintenance timers as shipped', async () => {
    // the first node learns of the second by its notify: it takes it as successor then, not at its
    // next stabilize round, so what it owns is not on itself alone meanwhile (3 writes in 10 were)
    for (let round = 0; round < 3; round++) {
      const first = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
      const second = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [addressOf(first)] })
      nodes = [first, second]
      const replicas: number[] = []
      for (let i = 0; i < 10; i++) {
        replicas.push((await nodes[i % 2].put(`pair-${round}-${i}`, text('both'))).replicas)
      }
      assert.deepEqual(replicas, Array(10).fill(2), `round ${round}`)
      await stopAll(nodes)
    }
  })

  it('hands a joining node the records it is now a replica of', async () => {
    nodes = await startRing(6)
    const keys = Array.from({ length: 150 }, (_, i) => `handoff-${i}`)
    await putAll(nodes[0], keys)
    const newcomer = await startNode(nodes[2])
    nodes.push(newcomer)
    await waitForConsistentRing(nodes)
    const mine = keys.filter(key => expectedReplicas(nodes, ringIdFromBytes(keyPosition(key)), 3).includes(newcomer))
    assert.ok(mine.length > 0)
    await waitFor(async () => (await Promise.all(mine.map(async key => internalsOf(newcomer).store.get(keyPosition(key))))).every(r => r.length === 1),
    `the newcomer to hold its ${mine.length} records`, 10_000)
  })

  it('expires records: get stops returning them and the sweep removes them from disk', async () => {
    nodes = await startRing(4)
    // long enough to outlast both puts and a read on a loaded machine
    await nodes[0].put('short-lived', text('soon gone'), { ttlMs: 2000 })
    await nodes[0].put('long-lived', text('stays'))
    // stats count what is on disk, expired or not: only the sweep brings them down to the live copies
    const onDisk = (): number => nodes.reduce((sum, n) => sum + internalsOf(n).store.stats().records, 0)
    assert.equal(onDisk(), 6)
    assert.deepEqual(decoded(await nodes[1].get('short-lived')), ['soon gone'])
    await waitFor(async () => (await nodes[1].get('short-lived')).length === 0, 'the record to expire', 10_000)
    assert.equal((await holders(nodes, 'short-lived')).length, 0)
    await waitFor(() => onDisk() === 3, 'the sweep to remove the expired copies from disk', 5000)
    assert.equal((await holders(nodes, 'long-lived')).length, 3)
  })

  it('anti-entropy refills a replica that restarts with an empty store', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    nodes = await startRing(6)
    nodes.push(await startNode(nodes[0], { privateKey }))
    await waitForConsistentRing(nodes)
    const keys = Array.from({ length: 100 }, (_, i) => `wiped-${i}`)
    await putAll(nodes[1], keys)
    const victim = nodes.pop() as ChordNode
    const held = internalsOf(victim).store.stats().records
    assert.ok(held > 0, 'the victim held some records')
    await crash(victim)
    await victim.stop()
    await waitForConsistentRing(nodes)

    const reborn = await startNode(nodes[0], { privateKey })
    nodes.push(reborn)
    assert.equal(reborn.peerId.toString(), victim.peerId.toString())
    const took = await waitFor(() => internalsOf(reborn).store.stats().records >= held, 'the wiped replica to be refilled', 20_000)
    console.log(`      refilled ${internalsOf(reborn).store.stats().records} records in ${took} ms`)
  })

  it('refuses writes over the per-key and total quotas with QuotaExceededError, keeping earlier records', async () => {
    nodes = await startRing(4, { storeLimits: { maxRecordsPerKey: 3, maxTotalBytes: 4096 } })
    for (let i = 0; i < 3; i++) {
      await nodes[0].put('busy key', text(`v${i}`))
    }
    await assert.rejects(nodes[0].put('busy key', text('one too many')), QuotaExceededError)
    assert.deepEqual(decoded(await nodes[1].get('busy key')), ['v0', 'v1', 'v2'])

    await assert.rejects(nodes[0].put('big', new Uint8Array(5000)), QuotaExceededError)
    assert.deepEqual(decoded(await nodes[2].get('busy key')), ['v0', 'v1', 'v2'])
  })
})
