/**
 * The command line of a script run by `npm run <script>`: node's own parser, strict, with a
 * `--help` that prints the script's usage and exits 0, and a mistake (an unknown option, a
 * missing value) reported in one line that points to `--help` (and names the option a typo
 * probably meant, as chord-node does), exit 2.
 */
import { parseArgs } from 'node:util'
import { meantName } from '../../src/cli/errors.js'
import type { ParseArgsOptionsConfig } from 'node:util'

const HELP = { help: { type: 'boolean', default: false } } as const

/** What parseArgs makes of `options` and --help */
type Values<T extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: T & typeof HELP, strict: true }>>['values']

/** The options given to the script; prints `usage` and exits on --help, or on a mistake */
export function parseCommandLine<const T extends ParseArgsOptionsConfig> (script: string, usage: string, options: T): Values<T> {
  let values
  try {
    values = parseArgs({ options: { ...options, ...HELP }, strict: true }).values as Values<T> & { help: boolean }
  } catch (err) {
    // node's message, e.g. "Unknown option '--x'", without its advice on positional arguments
    const mistake = (err as Error).message.split('. ')[0]
    const unknown = (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-[^']*)'/.exec(mistake)?.[1] : undefined
    const meant = unknown == null ? undefined : meantName(unknown, Object.keys({ ...options, ...HELP }).map(name => `--${name}`))
    console.error(`${script}: ${mistake}${meant == null ? '' : `; did you mean ${meant}?`} (npm run ${script} -- --help lists the options)`)
    process.exit(2)
  }
  if (values.help) {
    console.log(usage)
    process.exit(0)
  }
  return values
}
