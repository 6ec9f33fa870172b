/**
 * Checks made before a node starts joining, so that what an operator got wrong is found in the
 * first second, named, and costs the ring nothing: a data directory that cannot be written, a
 * listen port that is taken. (The HTTP and admin ports are checked by binding them for real
 * before joining.)
 */
import { rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { makeDirectory } from '../storage/make-directory.js'
import { DataDirNotWritableError, PortInUseError, findCode } from './errors.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Create the data directory if needed and prove it can be written */
export async function prepareDataDir (dir: string): Promise<void> {
  const probe = join(dir, `.write-test-${process.pid}`)
  try {
    await makeDirectory(dir)
    await writeFile(probe, '')
    await rm(probe, { force: true })
  } catch (err) {
    throw dataDirError(dir, err)
  }
}

/** What to tell a person whose data directory failed with this error */
export function dataDirError (dir: string, err: unknown): DataDirNotWritableError {
  const code = findCode(err, 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'EDQUOT', 'LEVEL_CORRUPTION', 'LEVEL_IO_ERROR')
  const uid = process.getuid?.()
  const user = uid == null ? 'this user' : `this user (uid ${uid})`
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new DataDirNotWritableError(`--data-dir ${dir}: not writable by ${user}; give the directory to this user (chown) or choose another --data-dir`, { cause: err })
    case 'EROFS':
      return new DataDirNotWritableError(`--data-dir ${dir}: on a read-only file system; choose a writable --data-dir`, { cause: err })
    case 'ENOTDIR':
    case 'EEXIST':
      return new DataDirNotWritableError(`--data-dir ${dir}: it or a directory above it is a file, not a directory; choose another --data-dir`, { cause: err })
    case 'ENOSPC':
    case 'EDQUOT':
      return new DataDirNotWritableError(`--data-dir ${dir}: no space left on its file system; free some or choose another --data-dir`, { cause: err })
    case 'LEVEL_CORRUPTION':
    case 'LEVEL_IO_ERROR':
      return new DataDirNotWritableError(`--data-dir ${dir}: its database cannot be opened (${(err as Error)?.message ?? String(err)}); if it is damaged, restore a backup into a new directory (chord-node restore), or choose another --data-dir`, { cause: err })
    default:
      return new DataDirNotWritableError(`--data-dir ${dir}: cannot be written (${(err as Error)?.message ?? String(err)}); choose another --data-dir`, { cause: err })
  }
}

/** The IP and TCP port a listen address binds, when it names a fixed one */
function fixedTcpPort (address: Multiaddr): { host: string, port: number } | undefined {
  const components = address.getComponents()
  const ip = components.find(c => c.name === 'ip4' || c.name === 'ip6')
  const tcp = components.find(c => c.name === 'tcp')
  const port = Number(tcp?.value)
  if (ip?.value == null || tcp == null || port === 0) {
    return undefined
  }
  return { host: ip.value, port }
}

/** Each fixed TCP port among the listen addresses can be bound now */
export async function checkListenPorts (listen: Multiaddr[]): Promise<void> {
  for (const address of listen) {
    const target = fixedTcpPort(address)
    if (target != null) {
      await probePort(target.host, target.port).catch(err => { throw portError(`--listen ${address.toString()}`, target.port, err) })
    }
  }
}

async function probePort (host: string, port: number): Promise<void> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, exclusive: true }, resolve)
  })
  await new Promise<void>(resolve => server.close(() => { resolve() }))
}

/** What to tell a person whose `what` (e.g. `--http 127.0.0.1:9464`) could not bind `port` */
export function portError (what: string, port: number | undefined, err: unknown): Error {
  const which = port == null ? 'a port it names' : `port ${port}`
  switch (findCode(err, 'EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL')) {
    case 'EADDRINUSE':
      return new PortInUseError(`${what}: ${which} is already in use (another chord-node?); stop what holds it (ss -ltnp) or choose another port`, { cause: err })
    case 'EACCES':
      return new PortInUseError(`${what}: not allowed to listen on ${which} (ports below 1024 need privileges); choose a port above 1023`, { cause: err })
    case 'EADDRNOTAVAIL':
      return new PortInUseError(`${what}: the address is not one of this machine's; use 0.0.0.0 (every IPv4 interface) or one of its addresses`, { cause: err })
    default:
      return err instanceof Error ? err : new Error(String(err))
  }
}
