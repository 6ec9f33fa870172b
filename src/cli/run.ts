/**
 * `chord-node run`: a long-lived ring node.
 *
 * In order: check everything that can be checked before touching the ring (settings, the data
 * directory, the listen ports), bind the HTTP and admin ports, join (printing each attempt),
 * then serve until SIGTERM or SIGINT, when the node hands its records off, leaves and exits 0.
 * A failure at any step is one line naming what to fix; nothing is left running.
 */
import { readFile } from 'node:fs/promises'
import prettyMs from 'ms'
import { newAdminToken, removeAdminFile, writeAdminFile } from './admin-file.js'
import {
  DataDirLockedError, JoinFailedError, UsageError, findCode, findCoded, findNamed
} from './errors.js'
import { JOIN_TIMEOUT } from './defaults.js'
import { JoinProgress } from './join-progress.js'
import { logRefusals } from './refusal-log.js'
import { chordNodeOptions } from './node-settings.js'
import { checkListenPorts, dataDirError, portError, prepareDataDir } from './preflight.js'
import { exitOnSignals } from './shutdown.js'
import { packageVersion } from './version.js'
import type { AdminServer, NodeStatusReport } from './admin-server.js'
import type { Logger } from './log.js'
import type { NodeSettings } from './node-settings.js'
import type { ChordNode } from '../index.js'
import type { ObservabilityServer } from '../observability/http.js'

/** What `run` leaves running: the process ends through the signal handlers */
export interface RunningNode {
  node: ChordNode
  /** the admin API's address, when it is on */
  adminUrl?: string
  metricsUrl?: string
}

export async function runNode (settings: NodeSettings, log: Logger): Promise<RunningNode> {
  await prepareDataDir(settings.dataDir)
  await checkListenPorts(settings.listen ?? [])
  // loaded once the quick checks passed: a mistake is reported before a second goes by
  const { createChordNode } = await import('../index.js')
  const { startAdminServer } = await import('./admin-server.js')

  const startedAt = Date.now()
  let node: ChordNode | undefined
  let observability: ObservabilityServer | undefined
  let admin: AdminServer | undefined
  // only a node that wrote admin.json removes it: a node refused a data dir in use must not
  // take the running node's file away
  let wroteAdminFile = false
  const closeAdmin = async (): Promise<void> => {
    await admin?.close().catch(() => {})
    if (wroteAdminFile) {
      await removeAdminFile(settings.dataDir).catch(() => {})
    }
  }
  const closeServers = async (): Promise<void> => {
    await closeAdmin()
    await observability?.close().catch(() => {})
  }

  // from here on a signal stops whatever has started, the node included once it exists
  const stopHandling = exitOnSignals({
    deadlineMs: settings.shutdownTimeout,
    log,
    stop: async () => {
      // stop taking work first: nothing new may start while the node hands off
      await closeAdmin()
      if (node == null) {
        log.info('stopped before joining the ring')
      } else {
        await node.stop()
      }
      await observability?.close().catch(() => {})
    }
  })

  try {
    if (settings.http != null) {
      observability = await startObservability(() => node, settings.http, log)
    }
    const token = newAdminToken()
    if (settings.admin !== 'off') {
      const { host, port } = settings.admin
      admin = await startAdminServer({
        host,
        port,
        token,
        node: () => node?.status === 'stopped' ? undefined : node,
        status: async () => statusReport(node, startedAt),
        log
      }).catch(err => { throw portError(`--admin ${host}:${port}`, port, err) })
    }

    const progress = new JoinProgress(log)
    const bootstrapCount = (settings.bootstrap ?? []).length
    if (bootstrapCount > 0) {
      log.info(`joining the ring through ${bootstrapCount} bootstrap address${bootstrapCount === 1 ? '' : 'es'}`)
    }
    node = await createChordNode({ ...chordNodeOptions(settings), tls: await tlsCredentials(settings), onJoinProgress: progress.onEvent })
      .catch(err => { throw explainStartFailure(err, settings, progress) })

    log.info({ peerId: node.peerId.toString() }, `peer id:  ${node.peerId.toString()}`)
    log.info({ ringId: node.ringId }, `ring id:  ${node.ringId}`)
    log.info({ dataDir: settings.dataDir }, `data dir: ${settings.dataDir}`)
    for (const address of node.getMultiaddrs()) {
      log.info({ address: address.toString() }, `listening on ${address.toString()}`)
    }
    if (observability != null) {
      log.info({ url: observability.url }, `metrics and health: ${observability.url}/metrics ${observability.url}/health`)
    }
    if (admin != null) {
      await writeAdminFile(settings.dataDir, { url: admin.url, token, pid: process.pid })
      wroteAdminFile = true
      log.info({ url: admin.url }, `admin API: ${admin.url} (token in ${settings.dataDir}/admin.json)`)
    }
    logRefusals(node, log)
    if (node.status === 'joined') {
      const size = ringSizeOf(node)
      log.info({ ringSize: size }, `joined a ring of ~${size} nodes`)
    } else {
      log.info({ ringSize: 1 }, 'started a new ring')
    }
    return { node, adminUrl: admin?.url, metricsUrl: observability?.url }
  } catch (err) {
    stopHandling()
    await closeServers()
    throw err
  }
}

function ringSizeOf (node: ChordNode): number {
  return node.estimatedRingSize()
}

async function statusReport (node: ChordNode | undefined, startedAt: number): Promise<NodeStatusReport> {
  const base = { pid: process.pid, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), version: packageVersion() }
  if (node == null) {
    return { ...base, state: 'joining' }
  }
  return {
    ...base,
    state: node.status,
    peerId: node.peerId.toString(),
    ringId: node.ringId,
    addresses: node.getMultiaddrs().map(String),
    ringSize: node.status === 'joined' ? ringSizeOf(node) : 1,
    health: await node.health()
  }
}

/**
 * /metrics and /health, bound before joining (so a busy port stops the node before it takes part
 * in the ring). Until the node exists, /health answers 503 and /metrics has the process's metrics.
 */
async function startObservability (node: () => ChordNode | undefined, at: { host: string, port: number }, log: Logger): Promise<ObservabilityServer> {
  const { Registry, collectDefaultMetrics } = await import('prom-client')
  const { startObservabilityServer } = await import('../observability/http.js')
  // the process's own metrics (memory, CPU, event loop lag) next to the node's: one node per process
  const processMetrics = new Registry()
  collectDefaultMetrics({ register: processMetrics })
  const server = await startObservabilityServer({
    metrics: async () => {
      const current = node()
      return current == null ? processMetrics.metrics() : `${await current.metrics()}\n${await processMetrics.metrics()}`
    },
    health: async () => {
      const current = node()
      if (current == null) {
        return startingReport()
      }
      return current.health()
    }
  }, at).catch(err => { throw portError(`--http ${at.host}:${at.port}`, at.port, err) })
  log.debug({ url: server.url }, 'serving metrics and health')
  return server
}

/** The health report while the node is still joining: failing (503) on the one check that applies */
function startingReport (): Awaited<ReturnType<ChordNode['health']>> {
  const report = {
    status: 'failing',
    checkedAt: new Date().toISOString(),
    checks: { join: { status: 'failing', detail: 'starting: not part of a ring yet', state: 'joining' } }
  }
  return report as unknown as Awaited<ReturnType<ChordNode['health']>>
}

/** A failed start, as the one line a person needs */
function explainStartFailure (err: unknown, settings: NodeSettings, progress: JoinProgress): unknown {
  const dir = settings.dataDir
  if (findCode(err, 'LEVEL_LOCKED') != null) {
    return new DataDirLockedError(`--data-dir ${dir} is in use by another running node (its LevelDB lock is held); stop that node first, or give this one its own --data-dir`, { cause: err })
  }
  const notOpen = findCoded(err, 'LEVEL_DATABASE_NOT_OPEN')
  if (notOpen != null) {
    // LevelDB's own reason, under the library's and abstract-level's wrappings of it
    return dataDirError(dir, notOpen.cause ?? notOpen)
  }
  if (findCode(err, 'EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL') != null) {
    return portError('--listen', undefined, err)
  }
  if (findNamed(err, 'BootstrapFailedError') != null) {
    const tried = progress.summary()
    const timeout = prettyMs(settings.joinTimeout ?? JOIN_TIMEOUT, { long: true })
    return new JoinFailedError(`could not join the ring within ${timeout}: ${tried === '' ? 'no address or cached peer answered' : `tried ${tried}`}; check the --bootstrap addresses and that those nodes are running, or raise --join-timeout`, { cause: err })
  }
  if (findNamed(err, 'InvalidOptionsError') != null) {
    return new UsageError((err as Error).message, { cause: err })
  }
  return err
}

/** The certificate and key the settings name, read from their files */
async function tlsCredentials (settings: NodeSettings): Promise<{ cert: string, key: string } | undefined> {
  if (settings.tlsCert == null || settings.tlsKey == null) {
    return undefined
  }
  const read = async (flag: string, file: string): Promise<string> => readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${flag} ${file}: cannot read it (${err.code ?? err.message}); give the path of a PEM file`)
  })
  return { cert: await read('--tls-cert', settings.tlsCert), key: await read('--tls-key', settings.tlsKey) }
}
