/**
 * One identity floods a node with STOREs. For keys the node does not replicate they are refused;
 * for keys it does, the writer gets its share of the store and no more, there and on the nodes
 * its records are replicated to; everybody else's records stay, honest writes still go through,
 * and the node's memory stays within a stated bound. The victim runs in a process of its own, so
 * that its RSS is its own.
 */
import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { toString as toHex } from 'uint8arrays/to-string'
import { keyPosition, ringIdFromBytes } from '../../src/chord/id.js'
import { REPLICA_RANGE_GRACE_NODES } from '../../src/chord/constants.js'
import { writerTag } from '../../src/chord/record.js'
import { frameStream } from '../../src/protocol/framing.js'
import { MessageType, Request, Response } from '../../src/protocol/generated/chord.js'
import { MAX_TOTAL_BYTES, MAX_TOTAL_BYTES_IN_MEMORY, MAX_VALUE_SIZE, WRITER_SHARE } from '../../src/storage/constants.js'
import { ErrorCode, MAX_MESSAGE_SIZE, PROTOCOL } from '../../src/transport/constants.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { internalsOf } from '../../src/testing.js'
import { ringIdOf, wireBytes } from '../../src/transport/ring-id.js'
import { MiB } from '../../src/units.js'
import { addressOf, ringOf, startNode, startRing, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { FramedStream } from '../../src/protocol/framing.js'
import type { LevelRecordStore } from '../../src/storage/level-store.js'
import type { VictimRequest, VictimState } from '../fixtures/victim-node.js'
import type { PeerId } from '@libp2p/interface'
import type { ChildProcess } from 'node:child_process'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

const VICTIM = fileURLToPath(new URL('../fixtures/victim-node.ts', import.meta.url))
const REPLICAS = 3
/** bytes of values Mallory offers for keys the victim replicates: twice what it would take from anyone */
const OFFERED = 2 * MAX_TOTAL_BYTES * WRITER_SHARE
/** values per STORE: 8 of 64 KiB, half a wire message */
const PER_STORE = 8
/** STOREs Mallory keeps in flight */
const IN_FLIGHT = 8
/**
 * How much the victim's process may grow while it takes a writer's whole share (32 MiB) on disk:
 * the records are not in memory; what the flood costs is the batches in flight (IN_FLIGHT ×
 * 512 KiB, decoded and hashed), LevelDB's write buffers and caches, and garbage not collected
 * yet. Measured 60–80 MiB, flat whatever more is offered once the share is taken.
 */
const RSS_GROWTH_BOUND = 128 * MiB

function storeOf (node: ChordNode): LevelRecordStore {
  return internalsOf(node).store as LevelRecordStore
}

/** The victim's process, and what it answers about itself */
class Victim {
  readonly peerId: string
  readonly address: string
  private readonly child: ChildProcess
  private readonly waiting = new Map<number, (answer: unknown) => void>()
  private asked = 0

  private constructor (child: ChildProcess, address: string) {
    this.child = child
    this.address = address
    this.peerId = address.split('/p2p/')[1]
    child.on('message', ({ id, answer }: { id: number, answer: unknown }) => {
      this.waiting.get(id)?.(answer)
      this.waiting.delete(id)
    })
  }

  static async start (dataDir: string, bootstrap: string): Promise<Victim> {
    const child = spawn(process.execPath, ['--import', 'tsx', VICTIM, dataDir, bootstrap, String(REPLICAS)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    for await (const line of lines) {
      if (line.startsWith('listening ')) {
        return new Victim(child, line.slice('listening '.length))
      }
    }
    throw new Error('the victim process ended before it listened')
  }

  private async ask<T> (request: DistributiveOmit<VictimRequest, 'id'>): Promise<T> {
    const id = ++this.asked
    const answer = new Promise<T>(resolve => { this.waiting.set(id, answer => { resolve(answer as T) }) })
    this.child.send({ ...request, id })
    return answer
  }

  async state (writer?: Uint8Array): Promise<VictimState> {
    return this.ask({ op: 'state', writer: writer == null ? undefined : toHex(writer, 'base16') })
  }

  async get (key: Uint8Array): Promise<string[]> {
    return this.ask({ op: 'get', key: toHex(key, 'base16') })
  }

  async stop (): Promise<void> {
    const exited = once(this.child, 'exit')
    this.child.send({ op: 'stop', id: ++this.asked })
    await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 10_000))])
    this.child.kill('SIGKILL')
  }
}

describe('a STORE flood from one identity', function () {
  this.timeout(180_000)
  const nodes: ChordNode[] = []
  let victim: Victim
  let mallory: ChordLibp2p
  let dir: string
  /** ring ids of every node, the victim's included, for the true replica sets */
  let ringIds: Array<{ id: bigint, peer: string }>

  before(async () => {
    // every node on disk, as a real one runs
    dir = await mkdtemp(join(tmpdir(), 'chord-hostile-storage-'))
    for (let i = 0; i < 7; i++) {
      nodes.push(await startNode(nodes[(i * 7) % Math.max(nodes.length, 1)], { replicas: REPLICAS, dataDir: join(dir, `node-${i}`) }))
    }
    await waitForConsistentRing(nodes)
    victim = await Victim.start(join(dir, 'victim'), addressOf(nodes[3]))
    ringIds = [...nodes.map(node => ringOf(node).self), { id: ringIdOf(peerIdOfVictim()), peer: victim.peerId }]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
    // settled: every in-process node's neighbours are the true ones, the victim counted
    await waitFor(() => nodes.every(node => {
      const { table } = ringOf(node)
      const at = ringIds.findIndex(n => n.peer === table.self.peer)
      return table.predecessor?.peer === ringIds[(at - 1 + ringIds.length) % ringIds.length].peer &&
        table.successor.peer === ringIds[(at + 1) % ringIds.length].peer
    }), 'the ring to settle with the victim in it', 30_000)
    await waitFor(async () => (await victim.state()).rangeKnown, 'the victim to know its replica range')
    mallory = await createChordLibp2p({ listen: [], peerExchange: false })
    await mallory.dial(multiaddr(victim.address))
  })

  after(async () => {
    await mallory?.stop()
    await victim?.stop()
    await stopAll(nodes)
    await rm(dir, { recursive: true, force: true })
  })

  function peerIdOfVictim (): PeerId {
    return peerIdFromString(victim.peerId)
  }

  /** The first `count` nodes at or after a position, in ring order */
  function replicasOf (key: Uint8Array, count: number): string[] {
    const position = ringIdFromBytes(key)
    const first = ringIds.findIndex(n => n.id >= position)
    const start = first === -1 ? 0 : first
    return Array.from({ length: Math.min(count, ringIds.length) }, (_, k) => ringIds[(start + k) % ringIds.length].peer)
  }

  /**
   * Positions of user keys `prefix 0`, `prefix 1`, … that the victim keeps ('kept'), keeps as their
   * primary ('primary'), or does not keep even with the grace margin ('elsewhere')
   */
  function keysWhere (prefix: string, where: 'kept' | 'primary' | 'elsewhere', count: number): Uint8Array[] {
    const keys: Uint8Array[] = []
    for (let i = 0; keys.length < count; i++) {
      const key = keyPosition(`${prefix} ${i}`)
      const near = replicasOf(key, REPLICAS + REPLICA_RANGE_GRACE_NODES).includes(victim.peerId)
      const holds = replicasOf(key, REPLICAS)
      if (where === 'elsewhere' ? !near : where === 'kept' ? holds.includes(victim.peerId) : holds[0] === victim.peerId) {
        keys.push(key)
      }
    }
    return keys
  }

  /** A value of `size` bytes that no other call makes */
  let made = 0
  function value (size: number): Uint8Array {
    const bytes = new Uint8Array(size)
    new DataView(bytes.buffer).setUint32(0, ++made)
    return bytes
  }

  async function send (framed: FramedStream, records: Array<{ key: Uint8Array, value: Uint8Array }>): Promise<Response> {
    const expiresAt = Date.now() + 3_600_000
    await framed.write(Request.encode({ type: MessageType.STORE, records: records.map(r => ({ key: wireBytes(r.key), value: wireBytes(r.value), expiresAt })) }))
    return Response.decode(await framed.read())
  }

  /** Mallory floods `peerId` with STOREs of `next()` records, IN_FLIGHT at a time, until `offer` bytes went; the answers by code */
  async function flood (peerId: PeerId, offer: number, next: () => Array<{ key: Uint8Array, value: Uint8Array }>, onAnswer: () => Promise<void> = async () => {}): Promise<Map<string, number>> {
    const codes = new Map<string, number>()
    let offered = 0
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      const framed = frameStream(await mallory.dialProtocol(peerId, PROTOCOL), MAX_MESSAGE_SIZE)
      while (offered < offer) {
        const batch = next()
        offered += batch.reduce((bytes, r) => bytes + r.value.byteLength, 0)
        const response = await send(framed, batch)
        codes.set(response.errorCode ?? 'OK', (codes.get(response.errorCode ?? 'OK') ?? 0) + 1)
        await onAnswer()
      }
    }))
    return codes
  }

  it('is refused for keys the victim does not replicate, and nothing of it is kept', async () => {
    const keys = keysWhere('elsewhere', 'elsewhere', 200)
    const framed = frameStream(await mallory.dialProtocol(peerIdOfVictim(), PROTOCOL), MAX_MESSAGE_SIZE)
    const before = (await victim.state()).storeBytes
    const codes = new Map<string, number>()
    for (const key of keys) {
      const response = await send(framed, [{ key, value: value(1024) }])
      codes.set(response.errorCode ?? 'OK', (codes.get(response.errorCode ?? 'OK') ?? 0) + 1)
    }
    console.log(`      ${keys.length} STOREs for keys it does not replicate: ${JSON.stringify(Object.fromEntries(codes))}`)
    assert.deepEqual(Object.fromEntries(codes), { [ErrorCode.FORBIDDEN]: keys.length })
    assert.equal((await victim.state()).storeBytes, before)
  })

  it('is held to the writer\'s share for keys the victim replicates, there and where its copies go; others\' records stay, honest writes go on, memory stays bounded', async () => {
    // honest records the victim replicates, written before the flood: the first 8 keys in its range
    // (a fixed list of keys can miss a small range entirely)
    const honest: string[] = []
    for (let i = 0; honest.length < 8; i++) {
      if (replicasOf(keyPosition(`honest ${i}`), REPLICAS).includes(victim.peerId)) {
        honest.push(`honest ${i}`)
      }
    }
    for (const key of honest) {
      const { replicas } = await nodes[0].put(key, new TextEncoder().encode(`value of ${key}`))
      assert.equal(replicas, REPLICAS)
    }

    // a quarter of them in the victim's own range, which only its own repairs copy to its successors
    // (of keys the victim merely keeps, its own range can hold too few to be taken at all)
    const keys = [...keysWhere('mine primary', 'primary', 128), ...keysWhere('mine', 'kept', 384)]
    let next = 0
    const before = await victim.state()
    let peakRss = before.rss
    const codes = await flood(peerIdOfVictim(), OFFERED,
      () => Array.from({ length: PER_STORE }, () => ({ key: keys[next++ % keys.length], value: value(MAX_VALUE_SIZE) })),
      async () => { peakRss = Math.max(peakRss, (await victim.state()).rss) })
    const tag = writerTag({ id: ringIdOf(mallory.peerId) })
    const after = await victim.state(tag)
    const share = MAX_TOTAL_BYTES * WRITER_SHARE
    console.log(`      offered ${(OFFERED / MiB).toFixed(0)} MiB in ${PER_STORE}-record STOREs: ${JSON.stringify(Object.fromEntries(codes))}; ` +
      `the victim holds ${(after.writerBytes / MiB).toFixed(1)} MiB of Mallory's (share ${(share / MiB).toFixed(0)} MiB); ` +
      `victim RSS ${(before.rss / MiB).toFixed(0)} → peak ${(peakRss / MiB).toFixed(0)} MiB`)

    assert.ok(after.writerBytes <= share, `holds ${after.writerBytes} bytes of one writer's, over its share of ${share}`)
    assert.ok(after.writerBytes > share / 2, `took only ${after.writerBytes} bytes`)
    assert.ok((codes.get(ErrorCode.QUOTA_EXCEEDED) ?? 0) > 0, 'STOREs over the share were refused')
    assert.ok(peakRss - before.rss <= RSS_GROWTH_BOUND, `RSS grew by ${((peakRss - before.rss) / MiB).toFixed(0)} MiB`)

    // the copies replication spreads count for Mallory wherever they land
    const replicas = after.successors.slice(0, REPLICAS - 1).map(peer => nodes.find(n => n.peerId.toString() === peer))
    assert.equal(replicas.filter(node => node != null).length, REPLICAS - 1)
    await waitFor(async () => {
      const held = await Promise.all(replicas.map(async node => node == null ? 0 : (await storeOf(node).writerStats(tag)).bytes))
      return held.every(bytes => bytes > 0)
    }, 'the victim\'s replicas to get copies of what it took', 60_000)
    const held = await Promise.all(nodes.map(async node => (await storeOf(node).writerStats(tag)).bytes))
    console.log(`      the other nodes hold ${held.map(bytes => (bytes / MiB).toFixed(1)).join(', ')} MiB of Mallory's, counted for her`)
    assert.ok(held.every(bytes => bytes <= share), 'a node holds more of Mallory\'s than her share')

    // everybody else's records are intact, and an honest writer still gets in
    for (const key of honest) {
      assert.deepEqual(await victim.get(keyPosition(key)), [`value of ${key}`])
    }
    const result = await nodes[1].put(honest[0], new TextEncoder().encode('after the flood'))
    assert.equal(result.replicas, REPLICAS)
    assert.ok((await victim.get(keyPosition(honest[0]))).includes('after the flood'))
  })

  it('leaves a node that keeps its records in memory within a stated memory bound', async () => {
    // a node without a data directory: its store is memory, so what it takes is memory
    const [inMemory] = await startRing(1, { replicas: REPLICAS })
    nodes.push(inMemory)
    await mallory.dial(inMemory.getMultiaddrs()[0])
    const limits = internalsOf(inMemory).settings.storeLimits
    assert.equal(limits.maxTotalBytes, MAX_TOTAL_BYTES_IN_MEMORY)

    let offered = 0
    const codes = await flood(inMemory.peerId, 2 * MAX_TOTAL_BYTES_IN_MEMORY,
      () => Array.from({ length: PER_STORE }, () => ({ key: keyPosition(`in memory ${offered++}`), value: value(MAX_VALUE_SIZE) })))
    const taken = internalsOf(inMemory).store.stats().bytes
    console.log(`      offered ${(2 * MAX_TOTAL_BYTES_IN_MEMORY / MiB).toFixed(0)} MiB to an in-memory node: ${JSON.stringify(Object.fromEntries(codes))}; ` +
      `it holds ${(taken / MiB).toFixed(1)} MiB (one writer's share ${(limits.maxBytesPerWriter / MiB).toFixed(0)} MiB, all writers' ${(limits.maxTotalBytes / MiB).toFixed(0)} MiB)`)
    assert.ok(taken <= limits.maxBytesPerWriter)
  })
})
