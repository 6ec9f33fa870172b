/**
 * What goes wrong for the person running `chord-node`, as typed errors. Each carries one line
 * for people, naming the flag or path at fault and what to do, and the exit code the process
 * ends with: 2 for usage errors (the command line, environment or config file is wrong; running
 * it again will not help), 1 for failures at run time (a port in use, a ring that does not
 * answer, a node that refused). Stack traces are for `--verbose` only.
 */
import { closest, distance } from 'fastest-levenshtein'
import { MIN_SUGGESTION_SIMILARITY } from './constants.js'

/** Exit code of a run that did what it was asked */
export const EXIT_OK = 0
/** Exit code of a failure at run time: try again once the cause is fixed */
export const EXIT_FAILURE = 1
/** Exit code of a usage error: the command as given can never work (supervisors should not restart it) */
export const EXIT_USAGE = 2

export class CliError extends Error {
  static name = 'CliError'
  readonly exitCode: number = EXIT_FAILURE
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** The command line, an environment variable or the config file is wrong */
export class UsageError extends CliError {
  static name = 'UsageError'
  override readonly exitCode = EXIT_USAGE
}

/** The data directory cannot be created or written */
export class DataDirNotWritableError extends CliError {
  static name = 'DataDirNotWritableError'
}

/** Another running process holds the data directory's LevelDB lock */
export class DataDirLockedError extends CliError {
  static name = 'DataDirLockedError'
}

/** A port the node was told to listen on is taken */
export class PortInUseError extends CliError {
  static name = 'PortInUseError'
}

/** No bootstrap address (nor cached peer) let the node join before the deadline */
export class JoinFailedError extends CliError {
  static name = 'JoinFailedError'
}

/** No running node answers where the client looked for one */
export class NodeUnreachableError extends CliError {
  static name = 'NodeUnreachableError'
}

/** The running node answered a client command with an error */
export class NodeRefusedError extends CliError {
  static name = 'NodeRefusedError'
  /** the name of the error the node reported, e.g. QuotaExceededError */
  readonly remoteName: string
  constructor (remoteName: string, message: string) {
    super(message)
    this.remoteName = remoteName
  }
}

/** The running node lacks what the command needs (an older library) */
export class NotSupportedError extends CliError {
  static name = 'NotSupportedError'
}

/** A key lookup found nothing: not a failure of the node, but a result scripts must tell apart */
export class NotFoundError extends CliError {
  static name = 'NotFoundError'
}

/** A backup or restore could not be done */
export class BackupError extends CliError {
  static name = 'BackupError'
}

/** The node did not stop within the shutdown deadline */
export class ShutdownTimeoutError extends CliError {
  static name = 'ShutdownTimeoutError'
}

/** `err` and the causes it wraps, outermost first (bounded: a cause chain can loop) */
export function causes (err: unknown): unknown[] {
  const chain: unknown[] = []
  let current: unknown = err
  while (current != null && chain.length < MAX_CAUSE_DEPTH && !chain.includes(current)) {
    chain.push(current)
    current = (current as { cause?: unknown }).cause
  }
  return chain
}

/** Deeper than any wrapping seen in practice (LevelDB: NotOpenError → LEVEL_LOCKED → the OS error) */
const MAX_CAUSE_DEPTH = 16

/** The first error in the chain with one of these codes, e.g. LEVEL_LOCKED or EADDRINUSE */
export function findCoded (err: unknown, ...codes: string[]): (Error & { code: string }) | undefined {
  return causes(err).find((e): e is Error & { code: string } => {
    const code = (e as { code?: unknown })?.code
    return typeof code === 'string' && codes.includes(code)
  })
}

/** The `code` of the first error in the chain that has one of these */
export function findCode (err: unknown, ...codes: string[]): string | undefined {
  return findCoded(err, ...codes)?.code
}

/** The first error in the chain whose name is `name` */
export function findNamed (err: unknown, name: string): Error | undefined {
  return causes(err).find((e): e is Error => e instanceof Error && e.name === name)
}

/** One line: newlines in wrapped messages would break the one-line promise */
export function oneLine (text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/**
 * The known name a mistyped one probably meant: the closest, when alike enough (leading dashes
 * aside), so that `--bootstap` gets `--bootstrap` and `gte` gets `get`, but `--json` nothing from
 * a command whose options are all unlike it
 */
export function meantName (name: string, known: readonly string[]): string | undefined {
  const bare = (text: string): string => text.replace(/^-+/, '')
  const typed = bare(name)
  const names = known.map(bare)
  // two neighbours swapped is one slip, as commander counts it; Levenshtein counts two, too many
  // for a short name to stay alike enough ("gte" would be a third of "get")
  const swapped = names.findIndex(candidate => swapsTo(typed, candidate))
  if (swapped >= 0) {
    return known[swapped]
  }
  if (names.length === 0) {
    return undefined
  }
  const best = closest(typed, names)
  const length = Math.max(typed.length, best.length)
  return (length - distance(typed, best)) / length > MIN_SUGGESTION_SIMILARITY ? known[names.indexOf(best)] : undefined
}

/** Whether `b` is `a` with one pair of neighbouring characters swapped */
function swapsTo (a: string, b: string): boolean {
  if (a.length !== b.length) {
    return false
  }
  let at = 0
  while (at < a.length && a[at] === b[at]) {
    at++
  }
  return at < a.length - 1 && a[at] === b[at + 1] && a[at + 1] === b[at] && a.slice(at + 2) === b.slice(at + 2)
}
