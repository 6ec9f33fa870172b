/**
 * Where a setting comes from (flag, environment, config file, default) and how values are read,
 * in-process: the parsing `chord-node` does before it touches anything.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Command } from 'commander'
import { MAX_CONFIG_FILE_BYTES } from '../../src/cli/constants.js'
import { UsageError } from '../../src/cli/errors.js'
import { NODE_SETTINGS, chordNodeOptions } from '../../src/cli/node-settings.js'
import { estimateRingSize } from '../../src/chord/ring-size.js'
import { addSettings, readConfigFile, resolveSettings } from '../../src/cli/settings.js'
import { InvalidValue, duration, hostPort, size } from '../../src/cli/values.js'
import { joinRing } from '../../src/membership/join.js'
import type { NodeSettings } from '../../src/cli/node-settings.js'
import type { JoinProgressEvent } from '../../src/index.js'

/** Parse `args` as `chord-node run` would, with `env` as the environment and an optional config file */
async function settingsFor (args: string[], env: Record<string, string> = {}, configPath?: string): Promise<NodeSettings> {
  const saved = { ...process.env }
  Object.assign(process.env, env)
  try {
    const command = addSettings(new Command('run').exitOverride(), NODE_SETTINGS)
    command.parse(args, { from: 'user' })
    const config = configPath == null ? undefined : await readConfigFile(configPath, NODE_SETTINGS)
    return resolveSettings(command, NODE_SETTINGS, config) as unknown as NodeSettings
  } finally {
    for (const name of Object.keys(env)) {
      if (saved[name] == null) {
        delete process.env[name]
      } else {
        process.env[name] = saved[name]
      }
    }
  }
}

describe('chord-node settings', () => {
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chord-cli-settings-'))
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('takes a flag over the environment, the environment over the config file, and the file over the default', async () => {
    const file = join(dir, 'chord.json')
    await writeFile(file, JSON.stringify({ replicas: 5, joinTimeout: '2m', dataDir: '/from/file', listen: ['/ip4/127.0.0.1/tcp/4001'] }))

    const fromFile = await settingsFor([], {}, file)
    assert.equal(fromFile.replicas, 5)
    assert.equal(fromFile.joinTimeout, 120_000)
    assert.equal(fromFile.dataDir, '/from/file')
    assert.deepEqual(fromFile.listen?.map(String), ['/ip4/127.0.0.1/tcp/4001'])

    const fromEnv = await settingsFor([], { CHORD_REPLICAS: '4', CHORD_LISTEN: '/ip4/127.0.0.1/tcp/1,/ip4/127.0.0.1/tcp/2/ws' }, file)
    assert.equal(fromEnv.replicas, 4)
    assert.deepEqual(fromEnv.listen?.map(String), ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2/ws'])
    assert.equal(fromEnv.dataDir, '/from/file')

    const fromFlag = await settingsFor(['--replicas', '3', '--listen', '/ip4/127.0.0.1/tcp/7', '--listen', '/ip4/127.0.0.1/tcp/8'], { CHORD_REPLICAS: '4' }, file)
    assert.equal(fromFlag.replicas, 3)
    assert.deepEqual(fromFlag.listen?.map(String), ['/ip4/127.0.0.1/tcp/7', '/ip4/127.0.0.1/tcp/8'])

    const defaults = await settingsFor([])
    assert.equal(defaults.dataDir, './chord-data')
    assert.equal(defaults.replicas, undefined, 'left to the library')
    assert.equal(defaults.logFormat, 'text')
  })

  it('refuses a /p2p/ part that is no peer id, from the environment and the config file too', async () => {
    const address = '/ip4/127.0.0.1/tcp/21001/p2p/notapeerid'
    await assert.rejects(settingsFor([], { CHORD_BOOTSTRAP: address }), (err: Error) => {
      assert.ok(err instanceof UsageError)
      assert.match(err.message, /^CHORD_BOOTSTRAP=".*\/p2p\/notapeerid": expected a peer id after \/p2p\//)
      return true
    })
    const file = join(dir, 'bootstrap.json')
    await writeFile(file, JSON.stringify({ bootstrap: [address] }))
    await assert.rejects(settingsFor([], {}, file), /bootstrap\.json: "bootstrap" is ".*\/p2p\/notapeerid": expected a peer id after \/p2p\//)
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const settings = await settingsFor(['--bootstrap', `/ip4/127.0.0.1/tcp/21001/p2p/${peerId}`])
    assert.deepEqual(settings.bootstrap?.map(String), [`/ip4/127.0.0.1/tcp/21001/p2p/${peerId}`])
  })

  it('reads a switch from the environment as a boolean', async () => {
    assert.equal((await settingsFor([], { CHORD_VERBOSE: '0' })).verbose, false)
    assert.equal((await settingsFor([], { CHORD_VERBOSE: 'true' })).verbose, true)
    assert.equal((await settingsFor(['--verbose'])).verbose, true)
  })

  it('passes timers, limits and TTLs on to createChordNode, and leaves out what was not set', async () => {
    const settings = await settingsFor(['--stabilize-interval', '250ms', '--max-value-size', '128KiB', '--max-ttl', '7d', '--request-timeout', '3s'])
    const options = chordNodeOptions(settings)
    assert.deepEqual(options.timers, { stabilizeIntervalMs: 250 })
    assert.deepEqual(options.storeLimits, { maxValueSize: 128 * 1024 })
    assert.deepEqual(chordNodeOptions(await settingsFor(['--max-bytes-per-subnet', '1GiB'])).storeLimits, { maxBytesPerSubnet: 1024 * 1024 * 1024 })
    assert.deepEqual(options.ttl, { maxTtl: 7 * 24 * 3600 * 1000 })
    assert.equal(options.requestTimeoutMs, 3000)
    assert.equal(options.replicas, undefined)
    assert.equal(options.idDifficulty, undefined)
    assert.equal('announce' in options, false)

    const network = chordNodeOptions(await settingsFor(['--id-difficulty', '20', '--id-choices', '8', '--ring-peers-per-subnet', '4']))
    assert.equal(network.idDifficulty, 20)
    assert.equal(network.idChoices, 8)
    assert.equal(network.ringPeersPerSubnet, 4)
    assert.equal(chordNodeOptions(await settingsFor([], { CHORD_ID_DIFFICULTY: '0' })).idDifficulty, 0)
    await assert.rejects(settingsFor(['--id-difficulty', '-1']), /--id-difficulty/)
  })

  it('names the config entry whose value is wrong', async () => {
    const file = join(dir, 'wrong.json')
    await writeFile(file, JSON.stringify({ maxTotalBytes: 'lots' }))
    await assert.rejects(settingsFor([], {}, file), (err: Error) => {
      assert.ok(err instanceof UsageError)
      assert.match(err.message, /wrong\.json: "maxTotalBytes" is "lots": expected a size/)
      return true
    })
  })

  it('reads a config file of MAX_CONFIG_FILE_BYTES, and refuses one a byte over, naming the file and the limit', async () => {
    /** A valid config file, `bytes` long: whitespace after the object is still JSON */
    const configOf = (bytes: number): string => {
      const json = JSON.stringify({ dataDir: '/from/large/file' })
      return json + ' '.repeat(bytes - json.length)
    }
    const atLimit = join(dir, 'at-limit.json')
    await writeFile(atLimit, configOf(MAX_CONFIG_FILE_BYTES))
    assert.equal((await settingsFor([], {}, atLimit)).dataDir, '/from/large/file')

    const over = join(dir, 'over-limit.json')
    await writeFile(over, configOf(MAX_CONFIG_FILE_BYTES + 1))
    await assert.rejects(settingsFor([], {}, over), (err: Error) => {
      assert.ok(err instanceof UsageError)
      assert.equal(err.message, `--config ${over}: larger than ${MAX_CONFIG_FILE_BYTES} bytes; is it the right file?`)
      return true
    })
  })

  it('reads durations, sizes and host:port, refusing what they are not', () => {
    assert.equal(duration('1500'), 1500)
    assert.equal(duration('2h'), 7_200_000)
    assert.throws(() => duration('soon'), InvalidValue)
    assert.throws(() => duration('-5s'), InvalidValue)
    assert.equal(size('64KiB'), 65_536)
    assert.equal(size('256MB'), 256 * 1024 * 1024)
    assert.equal(size('12'), 12)
    assert.throws(() => size('64 parsecs'), InvalidValue)
    assert.throws(() => size('0'), InvalidValue)
    assert.deepEqual(hostPort('[::1]:9464'), { host: '::1', port: 9464 })
    assert.deepEqual(hostPort('127.0.0.1:0'), { host: '127.0.0.1', port: 0 })
    assert.throws(() => hostPort('9464'), InvalidValue)
    assert.throws(() => hostPort('127.0.0.1:70000'), InvalidValue)
  })

  it('estimates the ring size exactly when it knows every node, and from successor spacing otherwise', () => {
    const ring = 2n ** 256n
    const ref = (id: bigint, i: number): { id: bigint, peer: string } => ({ id, peer: `peer-${i}` })
    assert.equal(estimateRingSize(0n, [ref(10n, 1), ref(20n, 2)], true), 3)
    assert.equal(estimateRingSize(0n, [], true), 1)
    // 8 successors spread evenly over a sixteenth of the ring: about 128 nodes
    const spread = Array.from({ length: 8 }, (_, i) => ref((ring / 128n) * BigInt(i + 1), i))
    assert.equal(estimateRingSize(0n, spread, false), 128)
    // a list the subnet cap kept short is no whole ring: its spacing still tells
    assert.equal(estimateRingSize(0n, spread.slice(0, 4), false), 128)
  })
})

describe('join progress', () => {
  it('tells about each attempt, each failure and each failed round, then the join', async () => {
    const live = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const dead = multiaddr('/ip4/127.0.0.1/tcp/1')
    const good = multiaddr(`/ip4/127.0.0.1/tcp/2/p2p/${live.toString()}`)
    let round = 0
    const events: JoinProgressEvent[] = []
    await joinRing({
      dial: async target => {
        // the live peer answers from the second round on
        if (target.toString() === good.toString() && round > 1) {
          return { remotePeer: live }
        }
        throw new Error('ECONNREFUSED')
      }
    }, {
      bootstrap: [dead, good],
      cachedPeers: [],
      join: async () => {},
      minRetryDelay: 10,
      maxRetryDelay: 20,
      onProgress: event => {
        if (event.type === 'attempt') {
          round = event.round
        }
        events.push(event)
      }
    })
    const kinds = events.map(e => e.type)
    assert.deepEqual(kinds.slice(0, 5), ['attempt', 'attempt-failed', 'attempt', 'attempt-failed', 'round-failed'])
    assert.equal(kinds[kinds.length - 1], 'joined')
    const first = events[0]
    assert.ok(first.type === 'attempt' && first.index === 1 && first.total === 2 && first.round === 1)
    const failed = events[1]
    assert.ok(failed.type === 'attempt-failed' && failed.error.message === 'ECONNREFUSED')
    const joined = events[events.length - 1]
    assert.ok(joined.type === 'joined' && joined.candidate === good.toString())
  })
})
