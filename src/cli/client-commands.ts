/**
 * The commands that use a running node through its admin API: put, get, lookup, publish,
 * resolve, send, status. Each prints its result on stdout (text for people, `--json` for
 * scripts) and fails with a typed error the program turns into one line and an exit code.
 */
import { text } from 'node:stream/consumers'
import { NotFoundError, UsageError } from './errors.js'
import { readIdentityFile } from './identity-file.js'
import type { AdminClient } from './admin-client.js'
import type { NodeStatusReport } from './admin-server.js'

export interface Output {
  /** one line (or more) on stdout */
  print(text: string): void
}

export interface ValueInput {
  /** the value as given; `-` reads standard input */
  value: string
  stdin?: NodeJS.ReadableStream
}

async function valueBytes ({ value, stdin }: ValueInput): Promise<string> {
  const bytes = value === '-' ? Buffer.from(await text(stdin ?? process.stdin)) : Buffer.from(value)
  return bytes.toString('base64')
}

/** A value for a terminal: its text when it is UTF-8, otherwise base64, marked as such */
function printable (base64: string): string {
  const bytes = Buffer.from(base64, 'base64')
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return `base64:${base64}`
  }
}

/**
 * A recipient's or publisher's address, checked before any node is asked: a malformed one is a
 * usage error, whatever the node would say
 */
export async function checkAddress (address: string): Promise<void> {
  const { parseAddress } = await import('../mailbox/public-key.js')
  try {
    parseAddress(address)
  } catch (err) {
    throw new UsageError(`<address> "${address}" is not a chat address (${(err as Error).message}); an address is chord: and some 94 letters and digits, as chord-node identity show prints it`)
  }
}

export async function put (client: AdminClient, key: string, input: ValueInput, options: { ttl?: number }, out: Output): Promise<void> {
  const { replicas } = await client.call('/v1/put', { key, value: await valueBytes(input), ttlMs: options.ttl })
  out.print(`stored "${key}" on ${replicas} replica${replicas === 1 ? '' : 's'}`)
}

export async function get (client: AdminClient, key: string, options: { json?: boolean }, out: Output): Promise<void> {
  const { values } = await client.call<{ values: string[] }>('/v1/get', { key })
  if (options.json === true) {
    out.print(JSON.stringify({ key, values }))
    return
  }
  if (values.length === 0) {
    throw new NotFoundError(`no value is stored under "${key}"`)
  }
  for (const value of values) {
    out.print(printable(value))
  }
}

export async function lookup (client: AdminClient, key: string, options: { json?: boolean }, out: Output): Promise<void> {
  const answer = await client.call<{ peerId: string, ringId: string, hops: number }>('/v1/lookup', { key })
  out.print(options.json === true ? JSON.stringify(answer) : `${answer.peerId} (ring id ${answer.ringId}) after ${answer.hops} hop${answer.hops === 1 ? '' : 's'}`)
}

export async function send (client: AdminClient, to: string, input: ValueInput, options: { identity: string, ttl?: number }, out: Output): Promise<void> {
  const identity = await readIdentityFile(options.identity)
  const { id, replicas } = await client.call('/v1/send', { identity, to, message: await valueBytes(input), ttlMs: options.ttl })
  out.print(`sent ${id} (stored on ${replicas} replica${replicas === 1 ? '' : 's'})`)
}

export async function publish (client: AdminClient, name: string, input: ValueInput, options: { identity: string, ttl?: number }, out: Output): Promise<void> {
  const identity = await readIdentityFile(options.identity)
  const { seq, replicas } = await client.call('/v1/publish', { identity, name, value: await valueBytes(input), ttlMs: options.ttl })
  out.print(`published "${name}" (sequence number ${seq}) on ${replicas} replica${replicas === 1 ? '' : 's'}`)
}

export async function resolve (client: AdminClient, address: string, name: string, options: { json?: boolean }, out: Output): Promise<void> {
  const found = await client.call<{ value?: string, seq?: number | string, publishedAt?: number }>('/v1/resolve', { address, name })
  if (options.json === true) {
    out.print(JSON.stringify({ address, name, ...found }))
    return
  }
  if (found.value == null) {
    throw new NotFoundError(`${address} has published nothing under "${name}"`)
  }
  out.print(printable(found.value))
}

export async function status (client: AdminClient, options: { json?: boolean }, out: Output): Promise<void> {
  const report = await client.call<NodeStatusReport>('/v1/status')
  if (options.json === true) {
    out.print(JSON.stringify(report, null, 2))
    return
  }
  const lines: Array<[string, string | undefined]> = [
    ['state', report.state],
    ['peer id', report.peerId],
    ['ring id', report.ringId],
    ['ring size', report.ringSize == null ? undefined : `~${report.ringSize} node${report.ringSize === 1 ? '' : 's'}`],
    ['health', report.health == null
      ? undefined
      : `${report.health.status} (${Object.entries(report.health.checks).map(([name, check]) => `${name} ${check.status}`).join(', ')})`],
    ...(report.addresses ?? []).map((address): [string, string] => ['address', address]),
    ['uptime', `${report.uptimeSeconds} s`],
    ['pid', String(report.pid)],
    ['version', report.version]
  ]
  for (const [label, value] of lines) {
    if (value != null) {
      out.print(`${`${label}:`.padEnd(11)}${value}`)
    }
  }
}
