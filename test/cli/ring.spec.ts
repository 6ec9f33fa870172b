/**
 * Three `chord-node` processes on 127.0.0.1, used as an operator would: health over HTTP, put
 * and get through different nodes, a message sent from the command line to a subscriber, and
 * stops by SIGTERM, to the node itself and to `npm start`.
 *
 * The ring keeps one replica (`--replicas 1`), so a record whose node leaves is readable
 * afterwards only if that node handed it off on its way out.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { distance, inHalfOpenInterval, keyPosition, ringIdFromBytes, ringIdFromHex } from '../../src/chord/id.js'
import { ChordNode, createChordNode, createIdentity } from '../../src/index.js'
import { hasMetric } from '../helpers/prometheus.js'
import { FAST_TIMERS } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import {
  FAST_TIMER_FLAGS, NodeProcess, REPO_ROOT, cleanEnv, ensureBuilt, killAll, runChordNode, startChordNode
} from '../helpers/chord-node-process.js'
import type { MailboxMessage } from '../../src/index.js'

/** SIGTERM to exit: the node's handoff takes tens of ms on loopback; 10 s leaves room for a busy machine */
const STOP_DEADLINE_MS = 10_000
/** keys owned by the node that is stopped, whose handoff the test checks */
const OWNED_KEYS = 5
/** candidate keys tried to find OWNED_KEYS of them owned by one node of three: enough for a node holding 0.01% of the ring */
const MAX_CANDIDATE_KEYS = 1_000_000

/** one-shot gets timed, and the target for their median (process start to exit) */
const GET_RUNS = 5
const GET_TARGET_MS = 1000

const RING_FLAGS = ['--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', '--replicas', '1', ...FAST_TIMER_FLAGS]

async function health (url: string): Promise<number> {
  const response = await fetch(`${url}/health`)
  await response.arrayBuffer()
  return response.status
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('chord-node processes on loopback', function () {
  this.timeout(120_000)
  let dir: string
  const nodes: NodeProcess[] = []
  const urls: string[] = []
  let subscriber: ChordNode | undefined
  let npmStarted: NodeProcess | undefined
  let interrupted: NodeProcess | undefined

  before(async function () {
    this.timeout(300_000)
    await ensureBuilt()
    dir = await mkdtemp(join(tmpdir(), 'chord-cli-ring-'))
    let bootstrap: string[] = []
    for (let i = 0; i < 3; i++) {
      const node = startChordNode(join(dir, `node-${i}`), [...RING_FLAGS, ...bootstrap])
      nodes.push(node)
      const { address, httpUrl } = await node.started()
      urls.push(httpUrl ?? '')
      bootstrap = ['--bootstrap', address]
    }
  })

  after(async () => {
    await subscriber?.stop()
    await killAll([...nodes, npmStarted, interrupted])
    await rm(dir, { recursive: true, force: true })
  })

  it('serves /health 200 on every node once the ring has formed', async () => {
    await waitFor(async () => (await Promise.all(urls.map(health))).every(status => status === 200), 'every node healthy', 20_000)
    const last = nodes[2].lines.find(line => line.msg.startsWith('joined a ring of'))
    assert.equal(last?.ringSize, 3, 'the third node saw a ring of three when it joined')
    // a node that serves /metrics keeps the node's own metrics (one without --http loads none)
    const metrics = await (await fetch(`${urls[0]}/metrics`)).text()
    assert.ok(hasMetric(metrics, 'chord_lookups_total') && hasMetric(metrics, 'process_cpu_seconds_total'), metrics.slice(0, 500))
  })

  it('puts through one node and gets through another', async () => {
    const put = await runChordNode(['put', '--data-dir', nodes[0].dataDir, 'greeting', 'hello ring'])
    assert.equal(put.code, 0, put.stderr)
    assert.match(put.stdout, /^stored "greeting" on 1 replica\n$/)

    // the whole process, start to exit, against the 1 s target; the median of a few, so that one
    // run slowed by a busy machine does not decide
    const durations: number[] = []
    for (let i = 0; i < GET_RUNS; i++) {
      const get = await runChordNode(['get', '--data-dir', nodes[2].dataDir, 'greeting'])
      assert.equal(get.code, 0, get.stderr)
      assert.equal(get.stdout, 'hello ring\n')
      durations.push(get.durationMs)
    }
    const median = durations.sort((a, b) => a - b)[Math.floor(GET_RUNS / 2)]
    console.log(`      one-shot get: median ${median} ms of ${durations.join(', ')} ms, process start to exit`)
    assert.ok(median < GET_TARGET_MS, `a one-shot get took ${median} ms (median)`)

    const missing = await runChordNode(['get', '--data-dir', nodes[1].dataDir, 'no such key'])
    assert.equal(missing.code, 1)
    assert.equal(missing.stderr, 'chord-node: no value is stored under "no such key"\n')
  })

  it('sends a message from the command line to a subscriber', async () => {
    const { address } = await nodes[1].started()
    subscriber = await createChordNode({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [address],
      // uses the ring without a position in it, so the ring stays the three processes
      clientMode: true,
      replicas: 1,
      requestTimeoutMs: 2000,
      timers: FAST_TIMERS
    })
    const bob = await createIdentity()
    const received: MailboxMessage[] = []
    await subscriber.mailbox.subscribe(bob, async message => { received.push(message) })

    const aliceFile = join(dir, 'alice.identity')
    const created = await runChordNode(['identity', 'create', '--out', aliceFile])
    assert.equal(created.code, 0, created.stderr)
    const aliceAddress = /^address: +(\S+)$/m.exec(created.stdout)?.[1]

    const sent = await runChordNode(['send', '--data-dir', nodes[0].dataDir, '--identity', aliceFile, bob.address, 'hi bob, from the command line'])
    assert.equal(sent.code, 0, sent.stderr)
    assert.match(sent.stdout, /^sent [0-9a-f]+ \(stored on 1 replica\)\n$/)

    await waitFor(() => received.length > 0, 'the message to reach the subscriber', 20_000)
    assert.equal(new TextDecoder().decode(received[0].plaintext), 'hi bob, from the command line')
    assert.equal(received[0].from, aliceAddress)
  })

  it('publishes and resolves owned records where the library has them, and says it cannot where it has not', async () => {
    const aliceFile = join(dir, 'alice.identity')
    const shown = await runChordNode(['identity', 'show', '--identity', aliceFile])
    assert.equal(shown.code, 0, shown.stderr)
    const address = /^address: +(\S+)$/m.exec(shown.stdout)?.[1] ?? ''
    const published = await runChordNode(['publish', '--data-dir', nodes[0].dataDir, '--identity', aliceFile, 'profile', 'alice at home'])
    const resolved = await runChordNode(['resolve', '--data-dir', nodes[1].dataDir, address, 'profile'])
    if (typeof (ChordNode.prototype as any).publish === 'function') {
      assert.equal(published.code, 0, published.stderr)
      assert.equal(resolved.code, 0, resolved.stderr)
      assert.equal(resolved.stdout, 'alice at home\n')
    } else {
      for (const result of [published, resolved]) {
        assert.equal(result.code, 1)
        assert.match(result.stderr, /^chord-node: this node's libp2p-chord has no owned records \((publish|resolve)\); upgrade the node\n$/)
      }
    }
  })

  it('on SIGTERM exits 0 within the deadline, and its records are readable from the others at once', async () => {
    const leaving = nodes[2]
    const { peerId } = await leaving.started()
    // keys whose only replica is the node that leaves: found from the ring's positions, however
    // small a share of the ring the node holds, then confirmed by the ring's own lookups
    const positions = await Promise.all(nodes.map(async node => ringIdFromHex((await node.call('/v1/status')).ringId)))
    const leavingAt = positions[2]
    const predecessor = positions.filter(id => id !== leavingAt).sort((a, b) => (distance(a, leavingAt) < distance(b, leavingAt) ? -1 : 1))[0]
    const owned: string[] = []
    for (let i = 0; owned.length < OWNED_KEYS && i < MAX_CANDIDATE_KEYS; i++) {
      const key = `owned-${i}`
      if (inHalfOpenInterval(ringIdFromBytes(keyPosition(key)), predecessor, leavingAt)) {
        owned.push(key)
      }
    }
    assert.equal(owned.length, OWNED_KEYS)
    for (const key of owned) {
      assert.equal((await leaving.call('/v1/lookup', { key })).peerId, peerId, `the ring names another owner of ${key}`)
    }
    for (const key of owned) {
      await leaving.call('/v1/put', { key, value: Buffer.from(`value of ${key}`).toString('base64') })
    }

    const { code, signal, durationMs } = await leaving.stop('SIGTERM')
    assert.equal(signal, null)
    assert.equal(code, 0, leaving.describe())
    assert.ok(durationMs < STOP_DEADLINE_MS, `stopped in ${durationMs} ms`)
    console.log(`      SIGTERM to exit: ${durationMs} ms`)
    assert.ok(leaving.lines.some(line => line.msg.startsWith('SIGTERM: leaving the ring')))

    for (const key of owned) {
      const { values } = await nodes[0].call('/v1/get', { key })
      assert.deepEqual(values.map((v: string) => Buffer.from(v, 'base64').toString()), [`value of ${key}`], key)
    }
  })

  it('SIGTERM to `npm start` leaves no process behind, and the node leaves the ring', async () => {
    const { address } = await nodes[0].started()
    const dataDir = join(dir, 'npm-started')
    // what a supervisor runs: npm in the repository, with the node's flags after --
    const child = spawn('npm', ['start', '--', '--data-dir', dataDir, '--log-format', 'json', ...RING_FLAGS, '--bootstrap', address], {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe']
    })
    npmStarted = new NodeProcess(child, dataDir)
    await npmStarted.started()
    const nodePid = (await npmStarted.admin()).pid
    assert.notEqual(nodePid, npmStarted.pid, 'npm runs the node in a process of its own')
    await waitFor(async () => (await nodes[0].call('/v1/status')).ringSize === 3, 'the npm-started node in the ring', 20_000)

    const { code, durationMs } = await npmStarted.stop('SIGTERM')
    assert.equal(code, 0, npmStarted.describe())
    assert.ok(npmStarted.lines.some(line => line.msg.startsWith('SIGTERM: leaving the ring')), 'the node itself got the signal')
    console.log(`      SIGTERM to npm start, to exit: ${durationMs} ms`)
    // npm waited for the node: no orphan is left running
    assert.equal(alive(nodePid), false, `the node (pid ${nodePid}) still runs after npm exited`)
    await waitFor(async () => (await nodes[0].call('/v1/status')).ringSize === 2, 'the ring to be two nodes again', 5_000)
  })

  it('Ctrl-C on `npm start` leaves the ring gracefully: the signal npm passes on is not taken for a second one', async () => {
    const { address } = await nodes[0].started()
    const dataDir = join(dir, 'interrupted')
    // a terminal's Ctrl-C reaches every process of the foreground group: npm, which passes it on, and the node
    const child = spawn('npm', ['start', '--', '--data-dir', dataDir, '--log-format', 'json', ...RING_FLAGS, '--bootstrap', address], {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    interrupted = new NodeProcess(child, dataDir)
    await interrupted.started()
    await waitFor(async () => (await nodes[0].call('/v1/status')).ringSize === 3, 'the npm-started node in the ring', 20_000)

    const { code } = await interrupted.stop('SIGINT', 45_000, 'group')
    assert.equal(code, 0, interrupted.describe())
    assert.equal(interrupted.lines.filter(line => line.msg.startsWith('SIGINT: leaving the ring')).length, 1, interrupted.describe())
    assert.ok(interrupted.lines.some(line => line.msg.startsWith('stopped in')), interrupted.describe())
    assert.ok(!interrupted.lines.some(line => line.msg.startsWith('second SIGINT')), interrupted.describe())
    await waitFor(async () => (await nodes[0].call('/v1/status')).ringSize === 2, 'the ring to be two nodes again', 5_000)
  })
})
