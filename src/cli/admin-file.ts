/**
 * How clients find a running node's admin API: `admin.json` in its data directory holds the
 * address and a token made afresh at every start. Readable by the node's user only (the token
 * grants everything the admin API does); removed when the node stops.
 */
import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ADMIN_FILE, ADMIN_TOKEN_BYTES } from './constants.js'
import { NodeUnreachableError } from './errors.js'

export interface AdminEndpoint {
  /** e.g. http://127.0.0.1:38211 */
  url: string
  token: string
  /** the node's process, for people reading the file */
  pid: number
}

export function newAdminToken (): string {
  return randomBytes(ADMIN_TOKEN_BYTES).toString('base64url')
}

export function adminFilePath (dataDir: string): string {
  return join(dataDir, ADMIN_FILE)
}

/** Write the file whole or not at all: a client never reads half of it */
export async function writeAdminFile (dataDir: string, endpoint: AdminEndpoint): Promise<void> {
  const path = adminFilePath(dataDir)
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(endpoint, null, 2)}\n`, { mode: 0o600 })
  await rename(temporary, path)
}

export async function removeAdminFile (dataDir: string): Promise<void> {
  await rm(adminFilePath(dataDir), { force: true })
}

/** @throws NodeUnreachableError saying why no node can be found through this data directory */
export async function readAdminFile (dataDir: string): Promise<AdminEndpoint> {
  const path = adminFilePath(dataDir)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      throw new NodeUnreachableError(`no running node uses --data-dir ${dataDir} (there is no ${path}); start one with chord-node run --data-dir ${dataDir}, or point --data-dir at the node's directory`)
    }
    if (err.code === 'EACCES' || err.code === 'EPERM') {
      throw new NodeUnreachableError(`cannot read ${path}: it belongs to the node's user; run this command as that user (e.g. sudo -u chord chord-node …)`)
    }
    throw new NodeUnreachableError(`cannot read ${path}: ${err.message}`)
  }
  try {
    const endpoint = JSON.parse(text)
    if (typeof endpoint.url === 'string' && typeof endpoint.token === 'string') {
      return endpoint
    }
  } catch {}
  throw new NodeUnreachableError(`${path} is damaged; restart the node to write it again`)
}
