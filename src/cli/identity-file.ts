/**
 * Chat identities in files, for `send` and `publish`: one line holding the identity's export
 * (`identity.export()`, base64). The export is the secret key itself: files are created
 * readable by their owner only, and never overwritten.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { CliError, UsageError } from './errors.js'

/** The file's secret as base64, checked for shape only (the node imports it) */
export async function readIdentityFile (path: string): Promise<string> {
  let text: string
  try {
    text = (await readFile(path, 'utf8')).trim()
  } catch (err: any) {
    throw new UsageError(`--identity ${path}: cannot read it (${err.code ?? err.message}); make one with chord-node identity create --out ${path}`)
  }
  if (text.startsWith('{')) {
    throw new UsageError(`--identity ${path}: this is a chat identity file (JSON, from the chat page or npm run chat), which chord-node does not read; make one with chord-node identity create --out <file>`)
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new UsageError(`--identity ${path}: not an identity file (expected one line of base64, as chord-node identity create writes)`)
  }
  return text
}

/** A new identity in a new file; resolves to what others need to know of it */
export async function createIdentityFile (path: string): Promise<{ address: string, fingerprint: string }> {
  const { createIdentity } = await import('../index.js')
  const identity = await createIdentity()
  const secret = Buffer.from(await identity.export()).toString('base64')
  try {
    await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err: any) {
    if (err.code === 'EEXIST') {
      throw new CliError(`--out ${path}: the file exists; an identity is never overwritten (choose another path)`)
    }
    throw new CliError(`--out ${path}: cannot write it (${err.code ?? err.message})`)
  }
  return { address: identity.address, fingerprint: identity.fingerprint }
}

/** What others need to know of the identity in a file */
export async function describeIdentityFile (path: string): Promise<{ address: string, fingerprint: string }> {
  const secret = await readIdentityFile(path)
  const { importIdentity } = await import('../index.js')
  try {
    const identity = await importIdentity(new Uint8Array(Buffer.from(secret, 'base64')))
    return { address: identity.address, fingerprint: identity.fingerprint }
  } catch (err: any) {
    throw new UsageError(`--identity ${path}: not a valid identity (${err.message})`)
  }
}
