/**
 * Settings that come from three places, in this order of precedence: a flag on the command line,
 * an environment variable, an entry in the config file (`--config file.json`), then the default.
 * Every setting has all three: `--data-dir`, `CHORD_DATA_DIR` and `"dataDir"`.
 *
 * Commander reads the flags and the environment (and writes `--help` from the same table); this
 * module adds the config file and converts every value, so that an error names where the bad
 * text came from: `--replicas "abc"`, `CHORD_REPLICAS="abc"` or `chord.json: "replicas"`.
 */
import { readFile } from 'node:fs/promises'
import { Option } from 'commander'
import { MAX_CONFIG_FILE_BYTES } from './constants.js'
import { UsageError, meantName } from './errors.js'
import { InvalidValue, boolean } from './values.js'
import type { Command } from 'commander'

export interface SettingSpec<T = unknown> {
  /** e.g. `--data-dir <dir>`; a switch has no `<value>` */
  flag: string
  /** e.g. `CHORD_DATA_DIR` */
  env: string
  help: string
  /** heading it is listed under in `--help` */
  group: string
  /** turns one text into the value; absent for a switch */
  convert?: (text: string) => T
  /** may be given more than once (a comma-separated list in the environment or a string list in the config file) */
  repeatable?: boolean
  /** what `--help` shows as the default */
  defaultText?: string
  /** the value when nothing is given; undefined: the library decides */
  defaultValue?: T
}

/** A setting's name in the config file and in the resolved settings: the flag in camelCase */
export function settingKey (spec: SettingSpec): string {
  return new Option(spec.flag).attributeName()
}

/** Add the settings to a command, as options with their environment variables */
export function addSettings (command: Command, specs: readonly SettingSpec[]): Command {
  for (const spec of specs) {
    const option = new Option(spec.flag, spec.help).env(spec.env).helpGroup(spec.group)
    if (spec.defaultText != null) {
      // shown by --help only: resolveSettings uses defaultValue, whatever commander holds
      option.default(spec.defaultText, spec.defaultText)
    }
    if (spec.repeatable === true) {
      option.argParser((text: string, previous: unknown) => [...(Array.isArray(previous) ? previous : []), ...splitList(text)])
    }
    command.addOption(option)
  }
  return command
}

/** Entries of a repeatable setting given as one text: `a,b` (multiaddrs never hold a comma) */
function splitList (text: string): string[] {
  return text.split(',').map(item => item.trim()).filter(item => item !== '')
}

export type ConfigFile = { path: string, values: Record<string, unknown> }

/**
 * Read a JSON config file: an object whose keys are setting names (`"dataDir"`, `"listen"`, …).
 * `strict`: a key that names none of `specs` (the settings of the command run) nor of `shared`
 * (other commands', which the same file may hold) is an error, suggesting the close one of `specs`.
 */
export async function readConfigFile (path: string, specs: readonly SettingSpec[], { strict = true, shared = [] }: { strict?: boolean, shared?: readonly SettingSpec[] } = {}): Promise<ConfigFile> {
  let text: string
  try {
    const content = await readFile(path)
    if (content.byteLength > MAX_CONFIG_FILE_BYTES) {
      throw new UsageError(`--config ${path}: larger than ${MAX_CONFIG_FILE_BYTES} bytes; is it the right file?`)
    }
    text = content.toString('utf8')
  } catch (err: any) {
    if (err instanceof UsageError) {
      throw err
    }
    throw new UsageError(`--config ${path}: cannot read it (${err.code ?? err.message}); check the path`)
  }
  let values: unknown
  try {
    values = JSON.parse(text)
  } catch (err: any) {
    throw new UsageError(`--config ${path}: not valid JSON (${err.message}); it must be one object such as {"dataDir": "/var/lib/chord"}`)
  }
  if (values == null || typeof values !== 'object' || Array.isArray(values)) {
    throw new UsageError(`--config ${path}: must hold one JSON object such as {"dataDir": "/var/lib/chord"}`)
  }
  const keys = specs.map(settingKey).filter(key => key !== 'config')
  const known = [...keys, ...shared.map(settingKey)]
  for (const key of strict ? Object.keys(values) : []) {
    if (!known.includes(key)) {
      const meant = meantName(key, keys)
      throw new UsageError(`--config ${path}: unknown setting "${key}"; ${meant == null ? 'a setting\'s name is its flag in camelCase, e.g. "dataDir" for --data-dir' : `did you mean "${meant}"?`}`)
    }
  }
  return { path, values: values as Record<string, unknown> }
}

/**
 * Every setting's value, by key, from the flag, the environment, the config file or the default.
 *
 * @throws UsageError naming the flag, variable or config entry whose text is not a valid value
 */
export function resolveSettings (command: Command, specs: readonly SettingSpec[], config?: ConfigFile): Record<string, unknown> {
  const resolved: Record<string, unknown> = {}
  for (const spec of specs) {
    const key = settingKey(spec)
    const source = command.getOptionValueSource(key)
    const name = spec.flag.split(' ')[0]
    if (source === 'cli') {
      resolved[key] = convertGiven(spec, command.getOptionValue(key), text => `${name} "${text}"`)
    } else if (source === 'env') {
      // a switch from the environment is parsed here: commander takes CHORD_VERBOSE=0 as on
      const value = spec.convert == null ? process.env[spec.env] ?? '' : command.getOptionValue(key)
      resolved[key] = convertGiven(spec, value, text => `${spec.env}="${text}"`)
    } else if (config != null && key in config.values) {
      resolved[key] = convertConfigured(spec, config.values[key], config.path, key)
    } else {
      resolved[key] = spec.defaultValue
    }
  }
  return resolved
}

function convertGiven (spec: SettingSpec, value: unknown, origin: (text: string) => string): unknown {
  if (spec.convert == null) {
    return typeof value === 'string' ? convert(boolean, value, origin) : value === true
  }
  if (spec.repeatable === true) {
    return (value as string[]).map(text => convert(spec.convert!, text, origin))
  }
  return convert(spec.convert, String(value), origin)
}

function convertConfigured (spec: SettingSpec, value: unknown, path: string, key: string): unknown {
  const origin = (text: string): string => `--config ${path}: "${key}" is "${text}"`
  if (spec.convert == null) {
    if (typeof value !== 'boolean') {
      throw new UsageError(`--config ${path}: "${key}" must be true or false`)
    }
    return value
  }
  if (spec.repeatable === true) {
    const list = typeof value === 'string' ? [value] : value
    if (!Array.isArray(list) || !list.every(item => typeof item === 'string')) {
      throw new UsageError(`--config ${path}: "${key}" must be a list of strings, e.g. ["/ip4/0.0.0.0/tcp/4001"]`)
    }
    return list.map(text => convert(spec.convert!, text, origin))
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new UsageError(`--config ${path}: "${key}" must be a string or a number`)
  }
  return convert(spec.convert, String(value), origin)
}

function convert<T> (converter: (text: string) => T, text: string, origin: (text: string) => string): T {
  try {
    return converter(text)
  } catch (err) {
    if (err instanceof InvalidValue) {
      throw new UsageError(`${origin(text)}: expected ${err.expected}`)
    }
    throw err
  }
}
