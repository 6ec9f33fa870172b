/**
 * The `chord-node` command line: its commands, their options, and how every failure becomes one
 * line on stderr and an exit code (0 done, 1 failed at run time, 2 usage error). Each command's
 * module is loaded only when it runs, so `chord-node get` never loads libp2p.
 */
import { Command, CommanderError } from 'commander'
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, meantName, oneLine } from './errors.js'
import { CLIENT_SETTINGS, COMMON_SETTINGS, IDENTITY, JSON_OUTPUT, TTL } from './common-settings.js'
import { addSettings, readConfigFile, resolveSettings } from './settings.js'
import { packageVersion } from './version.js'
import type { Logger } from './log.js'
import type { NodeSettings } from './node-settings.js'
import type { SettingSpec } from './settings.js'
import type { AdminClient } from './admin-client.js'

/** Commands that use a running node, or none: they never load the node's settings */
const CLIENT_COMMANDS = ['put', 'get', 'lookup', 'publish', 'resolve', 'send', 'status', 'identity', 'backup', 'restore']

/** Flags people try on `run` (or mistype as), with the option they are looking for */
const RUN_FLAG_HINTS: Record<string, string> = {
  '--port': 'the port is part of --listen, e.g. --listen /ip4/0.0.0.0/tcp/4001',
  '--host': 'the interface is part of --listen, e.g. --listen /ip4/127.0.0.1/tcp/4001',
  '--peer': 'did you mean --bootstrap?',
  '--metrics': 'did you mean --http (it serves /metrics and /health)?'
}

export interface ProgramIo {
  stdout(text: string): void
  stderr(text: string): void
  stdin?: NodeJS.ReadableStream
}

const processIo: ProgramIo = {
  stdout: text => { process.stdout.write(text) },
  stderr: text => { process.stderr.write(text) },
  stdin: process.stdin
}

/**
 * Run the command line; resolves to the exit code, or undefined when a node was started and the
 * process lives on until a signal stops it
 */
export async function main (argv: string[], io: ProgramIo = processIo): Promise<number | undefined> {
  let result: number | undefined = EXIT_OK
  let verbose = argv.includes('--verbose')
  // the node's settings cost a tenth of a second to load: only `run` (and help) needs them
  const nodeSettings = CLIENT_COMMANDS.includes(argv[2]) ? undefined : await import('./node-settings.js')
  const program = buildProgram(io, nodeSettings?.NODE_SETTINGS ?? [], {
    setResult: code => { result = code },
    setVerbose: value => { verbose = value }
  })
  try {
    const unknownCommand = checkCommandName(program, argv.slice(2))
    if (unknownCommand != null) {
      throw unknownCommand
    }
    await program.parseAsync(argv)
    return result
  } catch (err) {
    return report(err, io, verbose)
  }
}

/** What commander refused, with the (sub)command whose command line it was */
class RefusedCommandLine extends CommanderError {
  readonly command: Command
  constructor (command: Command, err: CommanderError) {
    super(err.exitCode, err.code, err.message)
    this.command = command
  }
}

interface Outcome {
  setResult(code: number | undefined): void
  setVerbose(verbose: boolean): void
}

/** How the options' values are written, for the help */
const VALUE_FORMATS = 'A <duration> is written 500ms, 5s, 10m, 2h or 14d; a bare number is milliseconds. A <size> is\nwritten 65536, 64KiB or 256MiB.'

/** A command's options, and how to write their values where one takes a duration or a size */
function withSettings (command: Command, specs: readonly SettingSpec[]): Command {
  addSettings(command, specs)
  return specs.some(spec => /<(duration|size)>/.test(spec.flag)) ? command.addHelpText('after', `\n${VALUE_FORMATS}`) : command
}

function buildProgram (io: ProgramIo, nodeSettings: readonly SettingSpec[], outcome: Outcome): Command {
  const program = new Command('chord-node')
    .description('A libp2p-chord ring node, and a client for a running one')
    .version(packageVersion(), '--version', 'print the version')
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
    .addHelpText('after', `
Every option can also come from an environment variable (listed with it) or from a JSON config
file (--config), under the option's name in camelCase ("dataDir", "listen", …); a flag wins over
the environment, which wins over the file. libp2p's own debug output: DEBUG=libp2p:*,libp2p-chord:*

${VALUE_FORMATS}

Exit codes: 0 done; 1 failed at run time (try again once the cause is fixed); 2 usage error.`)

  const settingsOf = async (command: Command, specs: readonly SettingSpec[]): Promise<Record<string, any>> => {
    const own = resolveSettings(command, COMMON_SETTINGS)
    outcome.setVerbose(own.verbose === true)
    // a config file is checked whole by `run` (the client commands' settings may be in it too);
    // a client command reads what it knows of it
    const strict = nodeSettings.length > 0
    const config = typeof own.config === 'string' ? await readConfigFile(own.config, specs, { strict, shared: CLIENT_SETTINGS }) : undefined
    const settings = resolveSettings(command, specs, config)
    outcome.setVerbose(settings.verbose === true)
    return settings
  }
  const print = { print: (text: string) => { io.stdout(`${text}\n`) } }
  const client = async (command: Command, specs: readonly SettingSpec[]): Promise<{ settings: Record<string, any>, admin: AdminClient }> => {
    const settings = await settingsOf(command, [...COMMON_SETTINGS, ...specs])
    const { AdminClient } = await import('./admin-client.js')
    return { settings, admin: await AdminClient.forDataDir(settings.dataDir) }
  }
  const clientCommand = (name: string, description: string, specs: readonly SettingSpec[]): Command =>
    withSettings(program.command(name).description(description), [...COMMON_SETTINGS, ...specs])

  withSettings(program.command('run', { isDefault: true }).description('run a ring node until SIGTERM or SIGINT (the default command)'), nodeSettings)
    .action(async (_options, command: Command) => {
      const { checkNodeSettings } = await import('./node-settings.js')
      const settings = await settingsOf(command, nodeSettings) as NodeSettings
      checkNodeSettings(settings)
      const { createLogger } = await import('./log.js')
      const log = await createLogger({ format: settings.logFormat, level: settings.logLevel })
      const { runNode } = await import('./run.js')
      try {
        await runNode(settings, log)
        outcome.setResult(undefined)
      } catch (err) {
        outcome.setResult(logFailure(log, err, settings, io))
      }
    })

  clientCommand('put', 'store a value under a key on the running node\'s ring', [TTL])
    .argument('<key>').argument('<value>', 'the value, or - to read it from standard input')
    .action(async (key: string, value: string, _options, command: Command) => {
      const { settings, admin } = await client(command, [TTL])
      const { put } = await import('./client-commands.js')
      await put(admin, key, { value, stdin: io.stdin }, { ttl: settings.ttl }, print)
    })
  clientCommand('get', 'print every value stored under a key (exit 1 when there is none)', [JSON_OUTPUT])
    .argument('<key>')
    .action(async (key: string, _options, command: Command) => {
      const { settings, admin } = await client(command, [JSON_OUTPUT])
      const { get } = await import('./client-commands.js')
      await get(admin, key, { json: settings.json }, print)
    })
  clientCommand('lookup', 'print the node responsible for a key', [JSON_OUTPUT])
    .argument('<key>')
    .action(async (key: string, _options, command: Command) => {
      const { settings, admin } = await client(command, [JSON_OUTPUT])
      const { lookup } = await import('./client-commands.js')
      await lookup(admin, key, { json: settings.json }, print)
    })
  clientCommand('publish', 'publish a record under a name that only your identity can write', [IDENTITY, TTL])
    .argument('<name>').argument('<value>', 'the value, or - to read it from standard input')
    .action(async (name: string, value: string, _options, command: Command) => {
      const { settings, admin } = await client(command, [IDENTITY, TTL])
      const { publish } = await import('./client-commands.js')
      await publish(admin, name, { value, stdin: io.stdin }, { identity: requireIdentity(settings), ttl: settings.ttl }, print)
    })
  clientCommand('resolve', 'print the latest record an identity published under a name', [JSON_OUTPUT])
    .argument('<address>', 'the publisher\'s address').argument('<name>')
    .action(async (address: string, name: string, _options, command: Command) => {
      const { checkAddress, resolve } = await import('./client-commands.js')
      await checkAddress(address)
      const { settings, admin } = await client(command, [JSON_OUTPUT])
      await resolve(admin, address, name, { json: settings.json }, print)
    })
  clientCommand('send', 'send an end-to-end encrypted message to an address', [IDENTITY, TTL])
    .argument('<address>', 'the recipient\'s address').argument('<message>', 'the text, or - to read it from standard input')
    .action(async (address: string, message: string, _options, command: Command) => {
      const { checkAddress, send } = await import('./client-commands.js')
      await checkAddress(address)
      const { settings, admin } = await client(command, [IDENTITY, TTL])
      await send(admin, address, { value: message, stdin: io.stdin }, { identity: requireIdentity(settings), ttl: settings.ttl }, print)
    })
  clientCommand('status', 'print the running node\'s state, ring and health', [JSON_OUTPUT])
    .action(async (_options, command: Command) => {
      const { settings, admin } = await client(command, [JSON_OUTPUT])
      const { status } = await import('./client-commands.js')
      await status(admin, { json: settings.json }, print)
    })

  const identity = program.command('identity').description('make or show a chat identity (for send and publish)')
  identity.command('create').description('make a new identity and write it to a file (readable by you only)')
    .requiredOption('--out <file>', 'where to write it; an existing file is never overwritten')
    .action(async (options: { out: string }) => {
      const { createIdentityFile } = await import('./identity-file.js')
      const { address, fingerprint } = await createIdentityFile(options.out)
      io.stdout(`address:     ${address}\nfingerprint: ${fingerprint}\n`)
    })
  addSettings(identity.command('show').description('print the address and fingerprint of an identity file'), [IDENTITY])
    .action(async (_options, command: Command) => {
      const settings = resolveSettings(command, [IDENTITY])
      const { describeIdentityFile } = await import('./identity-file.js')
      const { address, fingerprint } = await describeIdentityFile(requireIdentity(settings, 'the identity to show'))
      io.stdout(`address:     ${address}\nfingerprint: ${fingerprint}\n`)
    })

  addSettings(program.command('backup').description('write a consistent backup of a node\'s data (running or not) to a file'), COMMON_SETTINGS)
    .requiredOption('--out <file>', 'the backup file (gzipped); written whole or not at all')
    .action(async (options: { out: string }, command: Command) => {
      const settings = await settingsOf(command, COMMON_SETTINGS)
      const { backup } = await import('./backup-commands.js')
      const result = await backup(settings.dataDir, options.out)
      io.stdout(`backed up ${result.entries} ${result.entries === 1 ? 'entry' : 'entries'} from the ${result.from} to ${options.out} (${result.bytes} bytes)\n`)
    })
  addSettings(program.command('restore').description('restore a backup into a new or empty data directory'), COMMON_SETTINGS)
    .requiredOption('--in <file>', 'a file written by chord-node backup')
    .action(async (options: { in: string }, command: Command) => {
      const settings = await settingsOf(command, COMMON_SETTINGS)
      const { restore } = await import('./backup-commands.js')
      const { entries } = await restore(options.in, settings.dataDir)
      io.stdout(`restored ${entries} ${entries === 1 ? 'entry' : 'entries'} into ${settings.dataDir}\n`)
    })

  for (const command of [program, ...program.commands, ...identity.commands]) {
    command.exitOverride(err => { throw new RefusedCommandLine(command, err) }).showSuggestionAfterError(false).configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
  }
  return program
}

/** The identity file, which `role` is: the sender's, or the one to show */
function requireIdentity (settings: Record<string, any>, role = 'the sender\'s identity'): string {
  if (typeof settings.identity !== 'string') {
    throw new UsageError(`--identity <file> is needed: ${role} (make one with chord-node identity create --out <file>)`)
  }
  return settings.identity
}

/** A first word that is no command (and no option) is a mistyped command, not an argument of `run` */
function checkCommandName (program: Command, args: string[]): UsageError | undefined {
  const first = args[0]
  if (first == null || first.startsWith('-')) {
    return undefined
  }
  const names = program.commands.map(command => command.name())
  if (names.includes(first) || first === 'help') {
    return undefined
  }
  return new UsageError(unknownCommand(program, first))
}

/** The line for a word that is none of `parent`'s commands, with the one probably meant */
function unknownCommand (parent: Command, typed: string): string {
  const meant = meantName(typed, parent.commands.map(command => command.name()))
  return `unknown command "${typed}"${meant == null ? '' : `; did you mean "${meant}"?`} (${commandLine(parent)} --help lists the commands)`
}

/** The one line for a failure, and its exit code */
function report (err: unknown, io: ProgramIo, verbose: boolean): number {
  if (err instanceof RefusedCommandLine) {
    if (err.exitCode === 0) {
      return EXIT_OK
    }
    io.stderr(`chord-node: ${commanderMessage(err)}\n`)
    return EXIT_USAGE
  }
  const exitCode = err instanceof CliError ? err.exitCode : EXIT_FAILURE
  const message = err instanceof Error ? err.message : String(err)
  io.stderr(`chord-node: ${oneLine(message)}\n`)
  if (verbose && err instanceof Error && err.stack != null) {
    io.stderr(`${err.stack}\n`)
  }
  return exitCode
}

/** A failure of `run`, in the node's log format; the exit code */
function logFailure (log: Logger, err: unknown, settings: NodeSettings, io: ProgramIo): number {
  const exitCode = err instanceof CliError ? err.exitCode : EXIT_FAILURE
  const message = oneLine(err instanceof Error ? err.message : String(err))
  if (settings.verbose && settings.logFormat === 'json') {
    log.fatal({ err }, message)
    return exitCode
  }
  log.fatal({ errorName: (err as Error)?.name, exitCode }, message)
  if (settings.verbose && err instanceof Error && err.stack != null) {
    io.stderr(`${err.stack}\n`)
  }
  return exitCode
}

/** The words that run a command, e.g. `chord-node identity show` */
function commandLine (command: Command): string {
  return command.parent == null ? command.name() : `${commandLine(command.parent)} ${command.name()}`
}

/** Commander's message, on one line, with what to do instead and where the command's help is */
function commanderMessage (err: RefusedCommandLine): string {
  const text = oneLine(err.message.replace(/^error: /, ''))
  if (err.code === 'commander.unknownCommand') {
    return unknownCommand(err.command, quotedWord(text))
  }
  // a command of commands (identity) given none: commander printed its help, and says "(outputHelp)"
  if (err.code === 'commander.help') {
    const line = commandLine(err.command)
    return `${line} needs a command: ${err.command.commands.map(command => command.name()).join(' or ')} (${line} --help lists the commands)`
  }
  return `${refusal(err, text)} (${commandLine(err.command)} --help lists every option)`
}

/** What commander refused, with our own suggestion among the command's options for an unknown one */
function refusal (err: RefusedCommandLine, text: string): string {
  if (err.code === 'commander.unknownOption') {
    const flag = quotedWord(text).split('=')[0]
    const hints = err.command.name() === 'run' ? RUN_FLAG_HINTS : {}
    const meant = meantName(flag, [...err.command.options.flatMap(option => option.long ?? []), ...Object.keys(hints)])
    const hint = meant == null ? undefined : hints[meant] ?? `did you mean ${meant}?`
    return hint == null ? `unknown option ${flag}` : `unknown option ${flag}; ${hint}`
  }
  if (err.code === 'commander.excessArguments') {
    return extraArguments(err.command, /got \d+: (.*)\.$/.exec(text)?.[1] ?? '')
  }
  if (err.code === 'commander.missingMandatoryOptionValue') {
    const file = fileMeant(err.command)
    return file == null ? text : `${text}; ${file}`
  }
  return text
}

/** The word commander quotes in its message: the unknown command or option */
function quotedWord (text: string): string {
  return /'([^']+)'/.exec(text)?.[1] ?? ''
}

/** Words the command does not take (commander lists them all), and what to do, for the command typed */
function extraArguments (command: Command, words: string): string {
  // run takes none: its words were most likely a command typed after options
  if (command.name() === 'run') {
    return `unexpected arguments (${words}); a command comes first, before its options, e.g. chord-node get mykey --data-dir /var/lib/chord`
  }
  const takes = command.registeredArguments.map(argument => `<${argument.name()}>`)
  if (takes.length > 0) {
    return `too many arguments (${words}); ${commandLine(command)} takes ${takes.join(' ')}: quote one that has spaces, e.g. "hello world"`
  }
  const file = fileMeant(command)
  return `unexpected arguments (${words}); ${file ?? `${commandLine(command)} takes none, only options`}`
}

/**
 * For a command that takes no arguments but one file (identity show, identity create, backup,
 * restore), given a bare word and not that file: the word was meant as the file
 */
function fileMeant (command: Command): string | undefined {
  const own = command.options.filter(option => option.flags.endsWith('<file>') && !COMMON_SETTINGS.some(spec => spec.flag === option.flags))
  const words = command.args
  if (command.registeredArguments.length > 0 || own.length !== 1 || words.length !== 1 || words[0].startsWith('-') || command.getOptionValue(own[0].attributeName()) != null) {
    return undefined
  }
  return `the file goes after ${own[0].long}: ${commandLine(command)} ${own[0].long} ${words[0]}`
}
