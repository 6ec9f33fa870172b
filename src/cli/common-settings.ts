/**
 * The settings every command takes (which node, which config file, how much to say) and those
 * of the client commands. Light on purpose: a client command loads this, never the node's own
 * settings, which pull in the library's defaults and multiaddr parsing.
 */
import { DEFAULT_DATA_DIR } from './constants.js'
import { duration } from './values.js'
import type { SettingSpec } from './settings.js'

export const STORAGE = 'Storage and limits:'
export const PROCESS = 'Process:'
const CLIENT = 'Client:'

export const CONFIG = { flag: '--config <file>', env: 'CHORD_CONFIG', group: PROCESS, convert: (text: string) => text, help: 'read settings from this JSON file (keys as the flags in camelCase: "dataDir", "listen", …); flags and environment variables win over it' } as const satisfies SettingSpec
export const DATA_DIR = { flag: '--data-dir <dir>', env: 'CHORD_DATA_DIR', group: STORAGE, convert: (text: string) => text, defaultText: DEFAULT_DATA_DIR, defaultValue: DEFAULT_DATA_DIR, help: 'the node\'s LevelDB directory: identity, records, envelopes, peer cache, and the admin API\'s address and token' } as const satisfies SettingSpec
export const VERBOSE = { flag: '--verbose', env: 'CHORD_VERBOSE', group: PROCESS, help: 'print stack traces with errors' } as const satisfies SettingSpec

/** Settings shared by every command: where the config file is, which node, how much to say */
export const COMMON_SETTINGS = [DATA_DIR, CONFIG, VERBOSE] as const

/** Options of the client commands, each with its environment variable and config key too */
export const TTL = { flag: '--ttl <duration>', env: 'CHORD_TTL', group: CLIENT, convert: duration, defaultText: 'the node\'s default', help: 'how long the record or message lives (e.g. 10m, 2d)' } as const satisfies SettingSpec
export const JSON_OUTPUT = { flag: '--json', env: 'CHORD_JSON', group: CLIENT, help: 'print the answer as JSON' } as const satisfies SettingSpec
export const IDENTITY = { flag: '--identity <file>', env: 'CHORD_IDENTITY', group: CLIENT, convert: (text: string) => text, help: 'the sender\'s identity file (chord-node identity create)' } as const satisfies SettingSpec
export const CLIENT_SETTINGS = [TTL, JSON_OUTPUT, IDENTITY] as const
