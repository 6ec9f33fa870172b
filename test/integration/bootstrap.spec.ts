import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { RecordType, dns } from '@multiformats/dns'
import { BootstrapFailedError, InvalidOptionsError, NotJoinedError, createChordNode } from '../../src/index.js'
import { addressOf, nodeOptions, startRing, stopAll, waitForConsistentRing } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode, ChordNodeOptions } from '../../src/index.js'
import type { DNSResponse } from '@multiformats/dns'
import type { Server, Socket } from 'node:net'

/** ms per join attempt in these tests: a black-holed address costs this much */
const ATTEMPT_TIMEOUT = 1_000

/** A port nothing listens on: connections to it are refused */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

/** A listener that accepts TCP connections and never says a word: a hung or firewalled peer */
class BlackHole {
  readonly sockets: Socket[] = []
  private readonly server: Server = createServer(socket => { this.sockets.push(socket) })

  async listen (): Promise<number> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    return (this.server.address() as { port: number }).port
  }

  async close (): Promise<void> {
    this.sockets.forEach(socket => socket.destroy())
    await new Promise(resolve => this.server.close(resolve))
  }
}

/** A bootstrap address as an operator writes it, with the peer id of a node that is not there */
async function deadAddress (port: number): Promise<string> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  return `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`
}

describe('joining through redundant bootstrap addresses', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []
  let blackHoles: BlackHole[] = []
  let dirs: string[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
    await Promise.all(blackHoles.map(async hole => hole.close()))
    blackHoles = []
    await Promise.all(dirs.map(async dir => rm(dir, { recursive: true, force: true })))
    dirs = []
  })

  async function blackHole (): Promise<BlackHole> {
    const hole = new BlackHole()
    blackHoles.push(hole)
    return hole
  }

  async function dataDir (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'chord-bootstrap-'))
    dirs.push(dir)
    return dir
  }

  async function start (options: ChordNodeOptions): Promise<ChordNode> {
    const node = await createChordNode(nodeOptions({ joinAttemptTimeoutMs: ATTEMPT_TIMEOUT, ...options }))
    nodes.push(node)
    return node
  }

  it('joins through the fifth of five bootstrap addresses when the first four are dead', async () => {
    nodes = await startRing(3)
    const [holeA, holeB] = [await blackHole(), await blackHole()]
    const bootstrap = [
      await deadAddress(await freePort()),
      await deadAddress(await holeA.listen()),
      await deadAddress(await freePort()),
      await deadAddress(await holeB.listen()),
      addressOf(nodes[1])
    ]

    const started = Date.now()
    const node = await start({ bootstrap })
    const took = Date.now() - started
    console.log(`      joined through the 5th bootstrap address in ${took} ms (2 refusing, 2 black-holed, ${ATTEMPT_TIMEOUT} ms per attempt)`)
    // at worst both black holes come first in the shuffled order and each costs an attempt
    assert.ok(took < 2 * ATTEMPT_TIMEOUT + 3_000, `took ${took} ms`)
    assert.equal(node.status, 'joined')
    await waitForConsistentRing(nodes)
    await node.put('after a hard join', new Uint8Array([1]))
    assert.deepEqual((await nodes[0].get('after a hard join')).map(value => [...value]), [[1]])
  })

  it('rejoins through the peers it cached in an earlier run when every bootstrap address is dead', async () => {
    nodes = await startRing(4)
    const dir = await dataDir()
    const first = await start({ bootstrap: [addressOf(nodes[0])], dataDir: dir })
    await waitForConsistentRing(nodes)
    // a graceful stop saves the cache, and the ring closes behind it
    await first.stop()
    nodes = nodes.filter(node => node !== first)

    // the bootstrap node it came in through is gone too, and the other address never worked
    const [bootstrapNode] = nodes.splice(0, 1)
    const bootstrap = [addressOf(bootstrapNode), await deadAddress(await freePort())]
    await bootstrapNode.stop()
    await waitForConsistentRing(nodes)

    const started = Date.now()
    const again = await start({ bootstrap, dataDir: dir })
    const took = Date.now() - started
    console.log(`      rejoined through its peer cache in ${took} ms with every bootstrap address dead`)
    assert.ok(again.peerId.equals(first.peerId), 'the same identity, from the same data directory')
    assert.equal(again.status, 'joined')
    await waitForConsistentRing(nodes)
  })

  it('rejects with BootstrapFailedError at the join timeout when nothing answers, after retrying', async () => {
    const hole = await blackHole()
    const bootstrap = [await deadAddress(await freePort()), await deadAddress(await hole.listen())]
    const joinTimeoutMs = 4_000

    const started = Date.now()
    const err = await createChordNode(nodeOptions({ bootstrap, joinTimeoutMs, joinAttemptTimeoutMs: 500 })).catch(e => e)
    const took = Date.now() - started
    console.log(`      gave up after ${took} ms (join timeout ${joinTimeoutMs} ms), ${hole.sockets.length} attempts on the black hole`)
    assert.ok(err instanceof BootstrapFailedError, `expected BootstrapFailedError, got ${err}`)
    assert.ok(took >= joinTimeoutMs - 50 && took < joinTimeoutMs + 2_000, `gave up after ${took} ms`)
    // rounds at 0, after 1–2 s, and after 2–4 s more: at least two within the timeout
    assert.ok(hole.sockets.length >= 2, 'the bootstrap list was tried only once')
  })

  it('in the background, stays "joining" and refuses reads and writes until a bootstrap node comes up', async () => {
    const port = await freePort()
    const node = await start({ bootstrap: [`/ip4/127.0.0.1/tcp/${port}`], joinInBackground: true })
    assert.equal(node.status, 'joining')
    await assert.rejects(node.put('k', new Uint8Array([1])), NotJoinedError)
    await assert.rejects(node.get('k'), NotJoinedError)
    await assert.rejects(node.lookup('k'), NotJoinedError)

    nodes.push(await createChordNode(nodeOptions({ listen: [`/ip4/127.0.0.1/tcp/${port}`] })))
    const took = await waitFor(() => node.status === 'joined', 'the background join', 20_000)
    console.log(`      joined in the background ${took} ms after the bootstrap node came up`)
    await waitForConsistentRing(nodes)
    await node.put('k', new Uint8Array([1]))
  })

  it('a client that lost every ring node it knew finds the ring again within seconds of its bootstrap node coming back', async () => {
    const port = await freePort()
    const dir = await dataDir()
    const listen = [`/ip4/127.0.0.1/tcp/${port}`]
    const ringNode = await start({ listen, dataDir: dir })
    // on the healing timers a deployed client runs (the helpers shorten none of them)
    const client = await start({ clientMode: true, bootstrap: [addressOf(ringNode)] })
    assert.ok((await client.lookup('k')).peerId.equals(ringNode.peerId))

    // the whole ring goes away: the client's lookups fail once it has dropped the node
    await ringNode.stop()
    nodes.splice(nodes.indexOf(ringNode), 1)
    await waitFor(async () => client.lookup('k').then(() => false, () => true), 'the client to notice the ring is gone', 20_000)

    // the same node, from its data dir, on its address
    const back = await start({ listen, dataDir: dir })
    assert.ok(back.peerId.equals(ringNode.peerId))
    // inside the shortest wait of a ring node's healer (half of HEAL_INTERVAL), however far the
    // client's rounds backed off while the node was down
    const took = await waitFor(async () => client.lookup('k').then(answer => answer.peerId.equals(back.peerId), () => false), 'the client to find the ring again', 25_000)
    console.log(`      the client found the ring again ${took} ms after its node came back`)
    await client.put('k', new Uint8Array([1]))
    assert.deepEqual((await client.get('k')).map(value => [...value]), [[1]])
  })

  it('forms one ring when two nodes that list each other start at the same time', async () => {
    const [portA, portB] = [await freePort(), await freePort()]
    const pair = await Promise.all([
      start({ listen: [`/ip4/127.0.0.1/tcp/${portA}`], bootstrap: [`/ip4/127.0.0.1/tcp/${portB}`] }),
      start({ listen: [`/ip4/127.0.0.1/tcp/${portB}`], bootstrap: [`/ip4/127.0.0.1/tcp/${portA}`] })
    ])
    assert.deepEqual(pair.map(node => node.status), ['joined', 'joined'])
    await waitForConsistentRing(pair)
  })

  it('refuses join timeouts that are not a positive number of ms', async () => {
    for (const options of [{ joinTimeoutMs: 0 }, { joinAttemptTimeoutMs: -1 }, { joinTimeoutMs: 1.5 }]) {
      await assert.rejects(createChordNode(nodeOptions(options)), InvalidOptionsError)
    }
  })

  it('starts a new ring when its only bootstrap address is its own', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const self = peerIdFromPrivateKey(privateKey)
    const node = await start({ privateKey, bootstrap: [`/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${self}`] })
    assert.equal(node.status, 'alone')
  })

  it('joins through a /dnsaddr bootstrap name served by a test resolver', async () => {
    nodes = await startRing(2)
    const dead = await deadAddress(await freePort())
    const asked: string[] = []
    const resolver = async (domain: string): Promise<DNSResponse> => {
      asked.push(domain)
      const records = domain === '_dnsaddr.bootstrap.chord.test' ? [dead, addressOf(nodes[1])] : []
      return {
        Status: 0,
        TC: false,
        RD: true,
        RA: true,
        AD: false,
        CD: false,
        Question: [{ name: domain, type: RecordType.TXT }],
        Answer: records.map(address => ({ name: domain, type: RecordType.TXT, TTL: 60, data: `dnsaddr=${address}` }))
      }
    }

    const node = await start({ bootstrap: ['/dnsaddr/bootstrap.chord.test'], libp2p: { dns: dns({ resolvers: { '.': resolver } }) } })
    assert.ok(asked.includes('_dnsaddr.bootstrap.chord.test'), `asked for ${asked.join(', ')}`)
    assert.equal(node.status, 'joined')
    await waitForConsistentRing(nodes)
  })
})
