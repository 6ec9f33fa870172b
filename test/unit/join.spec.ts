import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { BootstrapFailedError } from '../../src/errors.js'
import { JOIN_RETRY_FACTOR, addressesOfOthers, joinRing } from '../../src/membership/join.js'
import type { JoinInit } from '../../src/membership/join.js'
import type { EntryDialer } from '../../src/membership/entry-candidate.js'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

type Behaviour = 'refuse' | 'black-hole' | PeerId

/**
 * A dialer whose targets behave as told: refuse at once, swallow the dial until it is aborted,
 * or answer as a peer. Records every dial with its time.
 */
class FakeDialer implements EntryDialer {
  readonly dials: Array<{ target: string, at: number, abortedAfter?: number }> = []
  private readonly behaviours = new Map<string, Behaviour>()

  set (target: Multiaddr | PeerId, behaviour: Behaviour): this {
    this.behaviours.set(target.toString(), behaviour)
    return this
  }

  async dial (target: Multiaddr | PeerId, options: AbortOptions = {}): Promise<{ remotePeer: PeerId }> {
    const dial: { target: string, at: number, abortedAfter?: number } = { target: target.toString(), at: Date.now() }
    this.dials.push(dial)
    const behaviour = this.behaviours.get(target.toString()) ?? 'refuse'
    if (behaviour === 'refuse') {
      throw new Error('ECONNREFUSED')
    }
    if (behaviour === 'black-hole') {
      return new Promise((_resolve, reject) => {
        options.signal?.addEventListener('abort', () => {
          dial.abortedAfter = Date.now() - dial.at
          reject(options.signal?.reason)
        }, { once: true })
      })
    }
    return { remotePeer: behaviour }
  }
}

const address = (port: number): Multiaddr => multiaddr(`/ip4/127.0.0.1/tcp/${port}`)

/** Fast settings for the loop; each test overrides what it is about */
function init (overrides: Partial<JoinInit>): JoinInit {
  return {
    bootstrap: [],
    cachedPeers: [],
    join: async () => {},
    attemptTimeout: 200,
    timeout: 5_000,
    minRetryDelay: 20,
    maxRetryDelay: 100,
    ...overrides
  }
}

describe('joining through bootstrap addresses and cached peers', function () {
  this.timeout(30_000)

  it('joins through the first candidate that answers, past refusing and black-holed ones', async () => {
    const live = await newPeerId()
    const dialer = new FakeDialer().set(address(1), 'refuse').set(address(2), 'black-hole').set(address(3), live)
    const joined: string[] = []
    const entry = await joinRing(dialer, init({
      bootstrap: [address(1), address(2), address(3)],
      join: async node => { joined.push(node.peer) }
    }))
    assert.equal(entry.peer, live.toString())
    assert.deepEqual(joined, [live.toString()])
  })

  it('tries the bootstrap list in a new random order each round', async () => {
    const addresses = [address(1), address(2), address(3), address(4)]
    const dialer = new FakeDialer()
    const rounds = 40
    await assert.rejects(joinRing(dialer, init({ bootstrap: addresses, rounds, minRetryDelay: 1, maxRetryDelay: 1 })), BootstrapFailedError)
    assert.equal(dialer.dials.length, rounds * addresses.length, 'each address once per round')
    const firstOfEachRound = new Set(dialer.dials.filter((_, i) => i % addresses.length === 0).map(dial => dial.target))
    // the chance that 40 rounds all start with the same address is 4 · 0.25^40
    assert.ok(firstOfEachRound.size > 1, 'every round started with the same address')
  })

  it('tries the cached peers after the bootstrap list, most recently seen first', async () => {
    const [older, newer] = [await newPeerId(), await newPeerId()]
    const dialer = new FakeDialer()
    await joinRing(dialer, init({ bootstrap: [address(1), address(2)], cachedPeers: [newer, older], rounds: 1 })).catch(() => {})
    assert.deepEqual(dialer.dials.map(d => d.target).slice(2), [newer.toString(), older.toString()])
  })

  it('abandons an attempt after the attempt timeout', async () => {
    const dialer = new FakeDialer().set(address(1), 'black-hole')
    await assert.rejects(joinRing(dialer, init({ bootstrap: [address(1)], attemptTimeout: 300, rounds: 1 })), BootstrapFailedError)
    const abortedAfter = dialer.dials[0].abortedAfter ?? Infinity
    assert.ok(abortedAfter >= 290 && abortedAfter < 600, `aborted after ${abortedAfter} ms`)
  })

  it('counts a peer that connects but cannot be joined through as a failure, and goes on', async () => {
    const [broken, good] = [await newPeerId(), await newPeerId()]
    const dialer = new FakeDialer().set(address(1), broken).set(address(2), good)
    const entry = await joinRing(dialer, init({
      bootstrap: [address(1), address(2)],
      join: async node => {
        if (node.peer === broken.toString()) {
          throw new Error('no route to our successor')
        }
      }
    }))
    assert.equal(entry.peer, good.toString())
  })

  it('pauses between rounds with exponential backoff and jitter, up to the longest pause', async () => {
    const dialer = new FakeDialer()
    const minRetryDelay = 100
    const maxRetryDelay = 500
    await assert.rejects(joinRing(dialer, init({ bootstrap: [address(1)], minRetryDelay, maxRetryDelay, rounds: 5 })), BootstrapFailedError)
    const gaps = dialer.dials.slice(1).map((dial, i) => dial.at - dialer.dials[i].at)
    assert.equal(gaps.length, 4)
    gaps.forEach((gap, i) => {
      // pause i is drawn from [base, 2·base), base = min · factor^i, and never exceeds the longest pause
      const base = Math.min(minRetryDelay * JOIN_RETRY_FACTOR ** i, maxRetryDelay)
      assert.ok(gap >= base - 5 && gap <= Math.min(2 * base, maxRetryDelay) + 50, `pause ${i} was ${gap} ms (base ${base})`)
    })
    assert.ok(gaps[3] <= maxRetryDelay + 50, 'the longest pause caps the backoff')
  })

  it('gives up at the join timeout with a BootstrapFailedError that names every candidate', async () => {
    const cached = await newPeerId()
    const dialer = new FakeDialer().set(address(2), 'black-hole')
    const started = Date.now()
    const err = await joinRing(dialer, init({ bootstrap: [address(1), address(2)], cachedPeers: [cached], timeout: 1_000 })).catch(e => e)
    const took = Date.now() - started
    assert.ok(err instanceof BootstrapFailedError, String(err))
    // a timer may fire a millisecond early by the wall clock
    assert.ok(took >= 1_000 - 5 && took < 3_000, `gave up after ${took} ms`)
    for (const name of [address(1).toString(), address(2).toString(), cached.toString()]) {
      assert.ok(err.message.includes(name), `the error does not name ${name}`)
    }
    assert.ok(dialer.dials.length > 3, 'more than one round')
  })

  it('fails at once without any candidate', async () => {
    await assert.rejects(joinRing(new FakeDialer(), init({})), BootstrapFailedError)
  })

  it('stops when its signal aborts, with the signal\'s reason', async () => {
    const controller = new AbortController()
    const dialer = new FakeDialer().set(address(1), 'black-hole')
    const joining = joinRing(dialer, init({ bootstrap: [address(1)], timeout: Infinity, signal: controller.signal }))
    setTimeout(() => { controller.abort(new Error('stopping')) }, 50)
    await assert.rejects(joining, { message: 'stopping' })
  })

  it('leaves our own address out of the bootstrap list', async () => {
    const [self, other] = [await newPeerId(), await newPeerId()]
    const ours = multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${self}`)
    const theirs = multiaddr(`/ip4/127.0.0.1/tcp/2/p2p/${other}`)
    const unnamed = multiaddr('/dnsaddr/bootstrap.example.org')
    assert.deepEqual(addressesOfOthers([ours, theirs, unnamed], self), [theirs, unnamed])
  })
})
