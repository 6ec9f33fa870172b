/**
 * What a person sees when a node cannot start or a command line is mistyped: one line naming the
 * flag or path and what to do, exit 2 for usage errors and 1 for failures at run time, no stack
 * trace. One test per mistake operators make, run as they would run it.
 */
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { ensureBuilt, killAll, runChordNode, startChordNode } from '../helpers/chord-node-process.js'
import type { NodeProcess, ProcessResult } from '../helpers/chord-node-process.js'
import type { AddressInfo, Server } from 'node:net'

/** A user who owns nothing here, for the unwritable directory when the tests run as root */

/** What every failure shares: its exit code, exactly one error line, no stack trace */
function assertOneLine (result: ProcessResult, exitCode: number, pattern: RegExp): string {
  assert.equal(result.code, exitCode, `exit code; stderr: ${result.stderr}`)
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace')
  const errors = result.stderr.split('\n').filter(line => /^chord-node: |FATAL: /.test(line))
  assert.equal(errors.length, 1, `one error line in: ${result.stderr}`)
  assert.match(errors[0], pattern)
  return errors[0]
}

async function listening (server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** A port nothing listens on: bound, read, released */
async function closedPort (): Promise<number> {
  const server = createServer()
  const port = await listening(server)
  await new Promise(resolve => server.close(resolve))
  return port
}

describe('chord-node start-up errors', function () {
  this.timeout(60_000)
  let dir: string
  let running: NodeProcess | undefined
  let runningAddress: string

  before(async function () {
    this.timeout(300_000)
    await ensureBuilt()
    dir = await mkdtemp(join(tmpdir(), 'chord-cli-errors-'))
    running = startChordNode(join(dir, 'running'), ['--listen', '/ip4/127.0.0.1/tcp/0'])
    runningAddress = (await running.started()).address
  })

  after(async () => {
    await killAll([running])
    await rm(dir, { recursive: true, force: true })
  })

  it('--listen 127.0.0.1:4042 (not a multiaddr): exit 2, naming the flag and the multiaddr meant', async () => {
    const result = await runChordNode(['--listen', '127.0.0.1:4042', '--data-dir', join(dir, 'a')])
    const line = assertOneLine(result, 2, /--listen "127\.0\.0\.1:4042"/)
    assert.match(line, /\/ip4\/127\.0\.0\.1\/tcp\/4042/)
    // a multiaddr with one bad part: the line says which
    assertOneLine(await runChordNode(['--listen', '/ip4/127.0.0.1/tcp/99999', '--data-dir', join(dir, 'a')]), 2, /--listen "\/ip4\/127\.0\.0\.1\/tcp\/99999": expected a multiaddr, .*; this one: .*65535/)
  })

  it('a flag\'s bad multiaddr is shown an address of that flag\'s kind: where to listen, or a node to join', async () => {
    const listen = assertOneLine(await runChordNode(['--listen', 'garbage', '--data-dir', join(dir, 'a')]), 2, /^chord-node: --listen "garbage": expected a multiaddr, e\.g\. \/ip4\/0\.0\.0\.0\/tcp\/4001 or \/ip4\/0\.0\.0\.0\/tcp\/4002\/ws$/)
    assert.doesNotMatch(listen, /\/p2p\//, 'a listen address names no peer')
    assertOneLine(await runChordNode(['--bootstrap', 'garbage', '--data-dir', join(dir, 'a')]), 2, /^chord-node: --bootstrap "garbage": expected a multiaddr, e\.g\. \/ip4\/[\d.]+\/tcp\/4001\/p2p\/12D3Koo/)
  })

  it('--bootstrap with a /p2p/ part that is no peer id: exit 2 before joining, naming the flag', async () => {
    const result = await runChordNode(['--bootstrap', '/ip4/127.0.0.1/tcp/21001/p2p/notapeerid', '--data-dir', join(dir, 'a'), '--listen', '/ip4/127.0.0.1/tcp/0'])
    const line = assertOneLine(result, 2, /^chord-node: --bootstrap "\/ip4\/127\.0\.0\.1\/tcp\/21001\/p2p\/notapeerid": expected a peer id after \/p2p\//)
    assert.match(line, /12D3KooW/, 'it shows what a peer id looks like')
    assert.doesNotMatch(result.stderr, /trying /, 'it did not start joining')
  })

  it('--replicas abc: exit 2, naming the flag and what it takes', async () => {
    const result = await runChordNode(['--replicas', 'abc', '--data-dir', join(dir, 'a')])
    assertOneLine(result, 2, /^chord-node: --replicas "abc": expected a positive integer/)
  })

  it('a bad value from the environment names the variable', async () => {
    const result = await runChordNode(['--data-dir', join(dir, 'a')], { env: { CHORD_REPLICAS: 'abc' } })
    assertOneLine(result, 2, /^chord-node: CHORD_REPLICAS="abc": expected a positive integer/)
  })

  it('--port (no such flag): exit 2, pointing to where the port goes', async () => {
    const result = await runChordNode(['--port', '4001'])
    assertOneLine(result, 2, /^chord-node: unknown option --port; the port is part of --listen/)
  })

  it('a mistyped flag: exit 2, suggesting the closest one', async () => {
    const result = await runChordNode(['--bootstap', '/ip4/127.0.0.1/tcp/1'])
    assertOneLine(result, 2, /^chord-node: unknown option --bootstap; did you mean --bootstrap\?/)
  })

  it('a mistyped command: exit 2, suggesting a command only when one is alike', async () => {
    assertOneLine(await runChordNode(['statsu']), 2, /^chord-node: unknown command "statsu"; did you mean "status"\? \(chord-node --help lists the commands\)$/)
    // two letters swapped, in a name as short as get
    assertOneLine(await runChordNode(['gte', 'mykey']), 2, /^chord-node: unknown command "gte"; did you mean "get"\? \(chord-node --help lists the commands\)$/)
    assertOneLine(await runChordNode(['identity', 'shw']), 2, /^chord-node: unknown command "shw"; did you mean "show"\? \(chord-node identity --help lists the commands\)$/)
    const line = assertOneLine(await runChordNode(['foo']), 2, /^chord-node: unknown command "foo" \(chord-node --help lists the commands\)$/)
    assert.doesNotMatch(line, /did you mean/)
  })

  it('words a command does not take: the line names the fix for the command typed', async () => {
    const show = assertOneLine(await runChordNode(['identity', 'show', 'alice.json']), 2,
      /^chord-node: unexpected arguments \(alice\.json\); the file goes after --identity: chord-node identity show --identity alice\.json \(chord-node identity show --help lists every option\)$/)
    assert.doesNotMatch(show, /chord-node get/, 'not the hint for options typed before a command')
    assertOneLine(await runChordNode(['backup', 'node.backup']), 2, /; the file goes after --out: chord-node backup --out node\.backup \(/)
    assertOneLine(await runChordNode(['put', 'greeting', 'hello', 'world']), 2, /^chord-node: too many arguments \(greeting, hello, world\); chord-node put takes <key> <value>: quote one that has spaces/)
    assertOneLine(await runChordNode(['status', 'now']), 2, /^chord-node: unexpected arguments \(now\); chord-node status takes none, only options/)
    // options first, then what was meant as the command: run (the default) got the words
    assertOneLine(await runChordNode(['--data-dir', join(dir, 'a'), 'get', 'mykey']), 2, /^chord-node: unexpected arguments \(get, mykey\); a command comes first, before its options/)
  })

  it('identity without its command, or identity show without a file: one line saying what to give', async () => {
    assertOneLine(await runChordNode(['identity']), 2, /^chord-node: chord-node identity needs a command: create or show \(chord-node identity --help lists the commands\)$/)
    assertOneLine(await runChordNode(['identity', 'show']), 2, /^chord-node: --identity <file> is needed: the identity to show \(make one with chord-node identity create --out <file>\)$/)
  })

  it('a mistyped flag is matched against the options of the command run, and the help named is that command\'s', async () => {
    const run = await runChordNode(['run', '--prot', '9000'])
    assertOneLine(run, 2, /^chord-node: unknown option --prot; the port is part of --listen, .*\(chord-node run --help lists every option\)$/)
    const show = await runChordNode(['identity', 'show', '--identity', join(dir, 'me.json'), '--json'])
    const line = assertOneLine(show, 2, /^chord-node: unknown option --json.*\(chord-node identity show --help lists every option\)$/)
    assert.doesNotMatch(line, /did you mean/, 'identity show has no option close to --json')
    // the hints are about a node's own options: a client command has no --listen
    const get = await runChordNode(['get', 'mykey', '--port', '4001'])
    assert.doesNotMatch(assertOneLine(get, 2, /^chord-node: unknown option --port/), /--listen/)
  })

  it('a duration without a unit it knows is refused, and run --help says a bare number is milliseconds', async () => {
    assertOneLine(await runChordNode(['run', '--join-timeout', '5x']), 2, /^chord-node: --join-timeout "5x": expected a duration such as 500ms, 5s, .*\(a bare number is milliseconds\)$/)
    const help = await runChordNode(['run', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /A <duration> is written 500ms, 5s, 10m, 2h or 14d; a bare number is milliseconds/)
    // --ttl 3600 is 3.6 s: the client commands that take one say so too
    assert.match((await runChordNode(['put', '--help'])).stdout, /a bare number is milliseconds/)
  })

  it('send or resolve to a malformed address: exit 2 before asking any node, saying what an address looks like', async () => {
    const identity = join(dir, 'me.identity')
    const created = await runChordNode(['identity', 'create', '--out', identity])
    assert.equal(created.code, 0, created.stderr)
    for (const dataDir of [running!.dataDir, join(dir, 'no-node-here')]) {
      for (const args of [['send', 'chord:bogus', 'hi', '--identity', identity], ['resolve', 'chord:bogus', 'status']]) {
        const result = await runChordNode([...args, '--data-dir', dataDir])
        assertOneLine(result, 2, /^chord-node: <address> "chord:bogus" is not a chat address \(.*\); .*chord:.*as chord-node identity show prints it$/)
      }
    }
  })

  it('an identity file of the chat (JSON): exit 2, saying the two formats differ and how to make one', async () => {
    const chatFile = join(dir, 'chat.identity.json')
    await writeFile(chatFile, JSON.stringify({ type: 'libp2p-chord-identity', version: 1, secret: { kind: 'plain' } }, null, 2))
    const result = await runChordNode(['identity', 'show', '--identity', chatFile])
    assertOneLine(result, 2, /^chord-node: --identity .*chat\.identity\.json: this is a chat identity file \(JSON, .*\), which chord-node does not read; make one with chord-node identity create --out <file>$/)
  })

  it('a data dir this user cannot write: exit 1, naming the path', async () => {
    // root writes anywhere a mode allows nobody to: there, take a directory no one may create
    // anything in (sysfs refuses every mkdir), rather than run as another user, who may not even
    // reach the checkout
    const asRoot = process.getuid?.() === 0
    const parent = asRoot ? '/sys' : join(dir, 'read-only')
    if (!asRoot) {
      await mkdir(parent)
      await chmod(parent, 0o555)
    }
    const result = await runChordNode(['--data-dir', join(parent, 'chord-data'), '--listen', '/ip4/127.0.0.1/tcp/0'])
    assertOneLine(result, 1, /--data-dir .*\/chord-data: not writable by this user/)
  })

  it('a data dir whose database is damaged: exit 1, one line with LevelDB\'s reason and the way back (a restore)', async () => {
    const damaged = join(dir, 'damaged')
    const db = new Level(damaged)
    await db.put('key', 'value')
    await db.close()
    await writeFile(join(damaged, 'CURRENT'), 'MANIFEST-999999\n')
    const result = await runChordNode(['--data-dir', damaged, '--listen', '/ip4/127.0.0.1/tcp/0'])
    const line = assertOneLine(result, 1, /--data-dir .*\/damaged: its database cannot be opened \(IO error: .*MANIFEST-999999.*chord-node restore/)
    assert.doesNotMatch(line, /dataDir/, 'the flag is named, not the library\'s option')
  })

  it('a data dir the file system will not create (under /proc): exit 1 at once, naming the path', async () => {
    // Node's recursive mkdir never returns for such a path: the node hung before it said anything
    const result = await runChordNode(['--data-dir', '/proc/chord/data', '--listen', '/ip4/127.0.0.1/tcp/0'])
    assertOneLine(result, 1, /--data-dir \/proc\/chord\/data: cannot be written \(ENOENT.*; choose another --data-dir/)
  })

  it('a data dir in use by a running node: exit 1, saying so', async () => {
    const result = await runChordNode(['--data-dir', running!.dataDir, '--listen', '/ip4/127.0.0.1/tcp/0'])
    assertOneLine(result, 1, /--data-dir .* is in use by another running node/)
    assert.equal(running!.exitStatus, undefined, 'the running node is untouched')
  })

  it('a listen port in use: exit 1 before joining, naming the address and port', async () => {
    const holder = createServer()
    const port = await listening(holder)
    try {
      const result = await runChordNode(['--data-dir', join(dir, 'b'), '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--bootstrap', runningAddress])
      assertOneLine(result, 1, new RegExp(`--listen /ip4/127\\.0\\.0\\.1/tcp/${port}: port ${port} is already in use`))
      assert.doesNotMatch(result.stderr, /trying /, 'it did not start joining')
    } finally {
      holder.close()
    }
  })

  it('--http on a busy port: exit 1 without ever joining the ring', async () => {
    const holder = createServer()
    const port = await listening(holder)
    try {
      const result = await runChordNode(['--data-dir', join(dir, 'c'), '--listen', '/ip4/127.0.0.1/tcp/0', '--http', `127.0.0.1:${port}`, '--bootstrap', runningAddress])
      assertOneLine(result, 1, new RegExp(`--http 127\\.0\\.0\\.1:${port}: port ${port} is already in use`))
      assert.doesNotMatch(result.stderr, /trying |joined/, 'it did not start joining')
      const status = await running!.call('/v1/status')
      assert.equal(status.ringSize, 1, 'the ring never saw it')
    } finally {
      holder.close()
    }
  })

  it('dead and wrong bootstrap addresses: a progress line per attempt, then one line, exit 1', async () => {
    const dead = await closedPort()
    // something that answers, but is no ring node
    const web = createHttpServer((_request, response) => { response.end('hello') })
    const wrong = await listening(web)
    try {
      const result = await runChordNode([
        '--data-dir', join(dir, 'd'), '--listen', '/ip4/127.0.0.1/tcp/0',
        '--bootstrap', `/ip4/127.0.0.1/tcp/${dead}`, '--bootstrap', `/ip4/127.0.0.1/tcp/${wrong}`,
        '--join-timeout', '3s', '--join-attempt-timeout', '500ms'
      ])
      assert.match(result.stderr, new RegExp(`trying /ip4/127\\.0\\.0\\.1/tcp/(${dead}|${wrong}) \\(1/2\\)…`))
      assert.match(result.stderr, new RegExp(`trying /ip4/127\\.0\\.0\\.1/tcp/(${dead}|${wrong}) \\(2/2\\)…`))
      assert.match(result.stderr, /nobody answered in round 1; next round in/)
      const line = assertOneLine(result, 1, /could not join the ring within 3 seconds: tried /)
      // each address with why it failed (refused, or cut off by the deadline on a busy machine)
      assert.match(line, new RegExp(`tcp/${dead} \\(`))
      assert.match(line, new RegExp(`tcp/${wrong} \\(`))
      assert.ok(result.durationMs < 10_000, `gave up after ${result.durationMs} ms`)
    } finally {
      web.close()
    }
  })

  it('a bootstrap address that refuses until the deadline: the last line names the refusal, not the stop that ended the join', async () => {
    const dead = await closedPort()
    const result = await runChordNode(['--data-dir', join(dir, 'f'), '--listen', '/ip4/127.0.0.1/tcp/0', '--bootstrap', `/ip4/127.0.0.1/tcp/${dead}`, '--join-timeout', '3s'])
    const line = assertOneLine(result, 1, new RegExp(`could not join the ring within 3 seconds: tried /ip4/127\\.0\\.0\\.1/tcp/${dead} \\([^)]*ECONNREFUSED`))
    assert.doesNotMatch(line, /stopped/)
  })

  it('a config file with a misspelt setting: exit 2, suggesting the right name', async () => {
    const { writeFile } = await import('node:fs/promises')
    const file = join(dir, 'chord.json')
    await writeFile(file, JSON.stringify({ dataDIr: '/var/lib/chord' }))
    const result = await runChordNode(['--config', file])
    assertOneLine(result, 2, /--config .*chord\.json: unknown setting "dataDIr"; did you mean "dataDir"\?/)
  })

  it('a config file with a setting close to none of run\'s: exit 2, suggesting none of another command\'s', async () => {
    const { writeFile } = await import('node:fs/promises')
    const file = join(dir, 'prot.json')
    await writeFile(file, JSON.stringify({ prot: 1 }))
    const result = await runChordNode(['--config', file])
    const line = assertOneLine(result, 2, /--config .*prot\.json: unknown setting "prot"; a setting's name is its flag in camelCase/)
    assert.doesNotMatch(line, /did you mean/)
  })

  it('prints the stack with --verbose', async () => {
    const result = await runChordNode(['--data-dir', running!.dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--verbose'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^\s+at /m)
  })
})
