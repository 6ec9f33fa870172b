/**
 * The deployment files, checked without a container engine or a Prometheus server:
 *
 * - the Dockerfile's build steps (deploy/docker-build.sh) run in a fresh copy of the repository,
 *   and the node starts there the way the image starts it (its ENV, ENTRYPOINT and CMD), answers
 *   /health and stops cleanly on SIGTERM;
 * - the compose file's nodes have settings chord-node accepts and bootstrap from each other;
 * - the systemd unit passes `systemd-analyze verify`, and its settings are valid;
 * - the Prometheus alert rules fit the rule-file schema, their expressions parse as PromQL (with
 *   the Prometheus project's own grammar), and every metric they use is one a node exports;
 *   `promtool check rules` runs too where it is on PATH or `npm run fetch:promtool` unpacked it.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { parser as promql } from '@prometheus-io/lezer-promql'
import { Ajv } from 'ajv'
import { Command } from 'commander'
import { DockerfileParser } from 'dockerfile-ast'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { parse as parseYaml } from 'yaml'
import { NODE_SETTINGS, checkNodeSettings } from '../../src/cli/node-settings.js'
import { addSettings, resolveSettings } from '../../src/cli/settings.js'
import { createChordNode } from '../../src/index.js'
import { waitFor } from '../helpers/wait-for.js'
import { NodeProcess, REPO_ROOT, cleanEnv, runProcess } from '../helpers/chord-node-process.js'
import type { NodeSettings } from '../../src/cli/node-settings.js'

const run = promisify(execFile)

/** The Dockerfile's build steps in a fresh copy: a clean install, two builds, a prune; minutes on a busy machine */
const DOCKER_BUILD_TIMEOUT_MS = 600_000

/** Where scripts/fetch-promtool.sh unpacks promtool */
const FETCHED_PROMTOOL = join(REPO_ROOT, '.cache', 'promtool', 'usr', 'bin', 'promtool')

/** promtool on PATH, else the one scripts/fetch-promtool.sh unpacked; undefined when neither runs */
async function findPromtool (): Promise<string | undefined> {
  for (const promtool of ['promtool', FETCHED_PROMTOOL]) {
    if (await run(promtool, ['--version']).then(() => true, () => false)) {
      return promtool
    }
  }
  return undefined
}

/** Metrics Prometheus itself adds to every scrape */
const SCRAPE_METRICS = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped']

/** The settings `chord-node run` would take from these environment variables and arguments */
function settingsFrom (env: Record<string, string>, args: string[] = []): NodeSettings {
  const saved = { ...process.env }
  for (const name of Object.keys(process.env).filter(name => name.startsWith('CHORD_'))) {
    delete process.env[name]
  }
  Object.assign(process.env, env)
  try {
    const command = addSettings(new Command('run').exitOverride(), NODE_SETTINGS)
    command.parse(args, { from: 'user' })
    const settings = resolveSettings(command, NODE_SETTINGS) as unknown as NodeSettings
    checkNodeSettings(settings)
    return settings
  } finally {
    for (const name of Object.keys(process.env)) {
      if (!(name in saved)) {
        delete process.env[name]
      }
    }
    Object.assign(process.env, saved)
  }
}

interface Stage {
  name: string
  env: Record<string, string>
  runs: string[][]
  entrypoint: string[]
  cmd: string[]
}

/** The Dockerfile's stages, each with what the test needs of it */
async function dockerStages (): Promise<Stage[]> {
  const dockerfile = DockerfileParser.parse(await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8'))
  const stages: Stage[] = []
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword()
    if (keyword === 'FROM') {
      stages.push({ name: (instruction as any).getBuildStage() ?? '', env: {}, runs: [], entrypoint: [], cmd: [] })
      continue
    }
    const stage = stages[stages.length - 1]
    const json = (): string[] => (instruction as any).getJSONStrings().map((s: any) => s.getJSONValue())
    if (keyword === 'ENV') {
      for (const property of (instruction as any).getProperties()) {
        stage.env[property.getName()] = property.getValue()
      }
    } else if (keyword === 'RUN') {
      stage.runs.push(json())
    } else if (keyword === 'ENTRYPOINT') {
      stage.entrypoint = json()
    } else if (keyword === 'CMD') {
      stage.cmd = json()
    }
  }
  return stages
}

describe('deployment files', function () {
  this.timeout(60_000)

  describe('Dockerfile', () => {
    let dir: string
    let node: NodeProcess | undefined

    after(async () => {
      if (node?.exitStatus == null) {
        node?.child.kill('SIGKILL')
      }
      if (dir != null) {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('builds with deploy/docker-build.sh in a fresh copy and starts the node as the image does', async function () {
      this.timeout(DOCKER_BUILD_TIMEOUT_MS + 60_000)
      const stages = await dockerStages()
      assert.deepEqual(stages.map(s => s.name), ['build', 'chat-page', 'node'], 'the node is the default (last) target')
      assert.deepEqual(stages.flatMap(s => s.runs), [['sh', 'deploy/docker-build.sh']], 'every build step is the script')
      const image = stages[2]

      // what `COPY . .` copies: the repository's files (git's view, .dockerignore leaves out the rest)
      dir = await mkdtemp(join(tmpdir(), 'chord-docker-'))
      const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 })
      for (const file of stdout.split('\n').filter(Boolean)) {
        const exists = await stat(join(REPO_ROOT, file)).then(() => true, () => false)
        if (exists) {
          await mkdir(dirname(join(dir, file)), { recursive: true })
          await cp(join(REPO_ROOT, file), join(dir, file))
        }
      }
      const build = await runProcess('sh', ['deploy/docker-build.sh'], {
        cwd: dir,
        // packages from the local cache where it has them: the registry is for what it lacks
        env: { ...cleanEnv(), npm_config_prefer_offline: 'true' }
      }, DOCKER_BUILD_TIMEOUT_MS)
      assert.equal(build.code, 0, `${build.stdout}\n${build.stderr}`)
      console.log(`      docker-build.sh: ${Math.round(build.durationMs / 1000)} s`)
      for (const built of ['dist/chord-node.mjs', 'examples/browser/dist/bundle.js', 'docker-data']) {
        await stat(join(dir, built))
      }
      await assert.rejects(stat(join(dir, 'node_modules/typescript')), { code: 'ENOENT' }, 'development packages are pruned')

      // the image's ENV are valid settings; the test moves the addresses to loopback and the data dir here
      settingsFrom(image.env)
      const [command, ...args] = [...image.entrypoint, ...image.cmd]
      assert.equal(command, 'node')
      const env = {
        ...cleanEnv(),
        ...image.env,
        CHORD_DATA_DIR: join(dir, 'docker-data'),
        CHORD_LISTEN: '/ip4/127.0.0.1/tcp/0',
        CHORD_HTTP: '127.0.0.1:0'
      }
      const child = spawn(process.execPath, args.map(arg => arg.replace(/^\/app\//, `${dir}/`)), { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
      node = new NodeProcess(child, env.CHORD_DATA_DIR)
      const { httpUrl } = await node.started()
      await waitFor(async () => (await fetch(`${httpUrl}/health`)).status === 200, '/health 200', 20_000)
      const stopped = await node.stop('SIGTERM')
      assert.equal(stopped.code, 0, node.describe())
    })
  })

  describe('compose file', () => {
    it('runs three nodes that bootstrap from each other, and the chat page, from the Dockerfile\'s targets', async () => {
      const compose = parseYaml(await readFile(join(REPO_ROOT, 'deploy/compose.yaml'), 'utf8'), { merge: true })
      const stages = (await dockerStages()).map(s => s.name)
      const services = compose.services as Record<string, any>
      const nodes = Object.entries(services).filter(([, service]) => service.build?.target === 'node')
      assert.equal(nodes.length, 3, 'three ring nodes')
      assert.equal(services['chat-page']?.build?.target, 'chat-page')
      for (const service of Object.values(services)) {
        assert.ok(stages.includes(service.build.target), `target ${service.build.target} is a stage of the Dockerfile`)
      }

      const listening = new Set<string>()
      const settings = nodes.map(([name, service]) => {
        const parsed = settingsFrom(service.environment, service.command ?? [])
        assert.ok(parsed.http != null, `${name} serves /health`)
        assert.ok(String(service.healthcheck.test).includes(`:${parsed.http.port}/health`), `${name}'s health check asks its own port`)
        for (const address of parsed.listen ?? []) {
          listening.add(address.toString())
        }
        return parsed
      })
      assert.equal(settings.filter(s => (s.bootstrap ?? []).length === 0).length, 1, 'one seed node')
      for (const address of settings.flatMap(s => s.bootstrap ?? [])) {
        assert.ok(listening.has(address.toString()), `${address.toString()} is a node's listen address`)
      }
      const volumes = nodes.map(([, service]) => service.volumes[0])
      assert.equal(new Set(volumes).size, 3, 'each node has its own data volume')
    })
  })

  describe('systemd unit', () => {
    const unit = join(REPO_ROOT, 'deploy/chord-node.service')

    it('has settings chord-node accepts, and runs the compiled program', async () => {
      const text = await readFile(unit, 'utf8')
      const env = Object.fromEntries([...text.matchAll(/^Environment=(CHORD_[A-Z_]+)=(.*)$/gm)].map(([, name, value]) => [name, value]))
      const settings = settingsFrom(env)
      assert.equal(settings.logFormat, 'json')
      assert.match(text, /^ExecStart=\/usr\/bin\/node --max-semi-space-size=1 \/opt\/libp2p-chord\/dist\/chord-node\.mjs run$/m)
      assert.match(text, /^RestartPreventExitStatus=2$/m, 'a usage error is not restarted')
      const timeout = Number(/^TimeoutStopSec=(\d+)$/m.exec(text)?.[1])
      assert.ok(timeout * 1000 > (settings.shutdownTimeout), 'systemd waits longer than the node takes to leave')
    })

    it('passes systemd-analyze verify', async function () {
      const found = await run('systemd-analyze', ['--version']).then(() => true, () => false)
      if (!found) {
        // systemd (a Debian package) is on this machine kind's image; elsewhere there is nothing to run
        this.skip()
      }
      const result = await runProcess('systemd-analyze', ['verify', unit])
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stderr.trim(), '', 'no warnings')
    })
  })

  describe('Prometheus alert rules', () => {
    const rulesFile = join(REPO_ROOT, 'examples/prometheus/chord-alerts.yml')

    it('fit the rule-file schema, parse as PromQL, and use only metrics a node exports', async () => {
      const rules: any = parseYaml(await readFile(rulesFile, 'utf8'))
      const schema = JSON.parse(await readFile(join(REPO_ROOT, 'test/fixtures/prometheus-rules.schema.json'), 'utf8'))
      const validate = new Ajv({ allErrors: true }).compile<any>(schema)
      assert.ok(validate(rules), JSON.stringify(validate.errors, null, 2))

      // what a node's /metrics holds: its own registry and the process's default metrics
      const node = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
      const processMetrics = new Registry()
      collectDefaultMetrics({ register: processMetrics })
      const exposition = `${await node.metrics()}\n${await processMetrics.metrics()}`
      await node.stop()
      // every declared metric (with no sample yet, too), histograms and summaries with their series
      const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' || type === 'summary' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]))

      const expressions = rules.groups.flatMap((group: any) => group.rules.map((rule: any) => ({ name: rule.alert ?? rule.record, expr: rule.expr })))
      assert.ok(expressions.length > 0)
      for (const { name, expr } of expressions) {
        const tree = promql.parse(expr)
        const used: string[] = []
        let error = false
        tree.iterate({
          enter: ref => {
            error ||= ref.type.isError
            if (ref.name === 'Identifier' && ref.node.parent?.name === 'VectorSelector') {
              used.push(expr.slice(ref.from, ref.to))
            }
          }
        })
        assert.equal(error, false, `${name}: ${expr} is not valid PromQL`)
        assert.ok(used.length > 0, `${name} uses a metric`)
        for (const metric of used) {
          assert.ok(exported.has(metric) || SCRAPE_METRICS.includes(metric), `${name} uses ${metric}, which no node exports`)
        }
      }
    })

    it('pass promtool check rules', async function () {
      const promtool = await findPromtool()
      if (promtool === undefined) {
        // promtool comes with Debian's prometheus package, which `npm run fetch:promtool` unpacks
        // where apt is at hand; the schema, PromQL and metric checks above run everywhere
        this.skip()
      }
      const result = await runProcess(promtool, ['check', 'rules', rulesFile])
      assert.equal(result.code, 0, `${result.stdout}${result.stderr}`)
    })
  })
})
