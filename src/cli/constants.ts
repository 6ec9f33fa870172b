/**
 * The command's own limits and defaults, with the reason for each.
 */
import { KiB, MiB, minute, second } from '../units.js'

/** Where a node keeps its LevelDB when told nothing: beside where it was started, as before */
export const DEFAULT_DATA_DIR = './chord-data'

/**
 * Where the admin API listens when told nothing: loopback only, on a port the system picks (the
 * client finds it in the data directory), so several nodes on one host never collide.
 */
export const DEFAULT_ADMIN = '127.0.0.1:0'

/** The file in the data directory that tells clients where the admin API is and its token */
export const ADMIN_FILE = 'admin.json'

/** Bytes of randomness in an admin token: 256 bits, beyond guessing */
export const ADMIN_TOKEN_BYTES = 32

/**
 * Largest admin request body: a value (at most 64 KiB by default, about 87 KiB as base64) with
 * its key, an identity and JSON around it; operators who raise --max-value-size past about
 * 700 KiB write larger values through the library instead.
 */
export const ADMIN_MAX_BODY_BYTES = 1 * MiB

/** The admin request head must arrive within this; a local client sends it at once */
export const ADMIN_HEADERS_TIMEOUT = 5 * second

/**
 * The whole admin request must arrive within this. The answer may take longer: a put waits for
 * its replicas, bounded by the node's own request deadlines.
 */
export const ADMIN_REQUEST_TIMEOUT = 10 * second

/**
 * How often Node looks for admin requests over those timeouts. Its default, 30 s, would let a
 * silent client keep a socket, one of ADMIN_MAX_CONNECTIONS, seven times longer than the headers
 * timeout allows.
 */
export const ADMIN_TIMEOUT_CHECK_INTERVAL = 1 * second

/** Admin sockets open at once: a person or a script, not a crowd */
export const ADMIN_MAX_CONNECTIONS = 16

/**
 * How long a client command waits for the node's answer. Above the node's own worst case for a
 * put (a lookup plus replica writes, each bounded by the 5 s request deadline, with retries).
 */
export const CLIENT_TIMEOUT = 30 * second

/**
 * Default deadline for a graceful stop: the node hands its records and envelopes to its successor
 * (at most 10 s each, HANDOFF_ON_STOP_TIMEOUT) and tells its neighbours; what is left over is
 * abandoned and the process exits non-zero. Below the 45 s that the systemd unit and the compose
 * file give before SIGKILL.
 */
export const DEFAULT_SHUTDOWN_TIMEOUT = 30 * second

/**
 * How alike a mistyped option or setting must be to a known one (the share of it left unedited)
 * for that one to be suggested, as commander measures it. A less alike suggestion is no help:
 * the closest of run's settings to "prot" is "http".
 */
export const MIN_SUGGESTION_SIMILARITY = 0.4

/** The largest config file read: far beyond any real one, small enough to never be a problem */
export const MAX_CONFIG_FILE_BYTES = 256 * KiB

/** Exit code of a process stopped at once by a second signal: 128 + the signal's number, by convention */
export const SIGNAL_EXIT_BASE = 128

/**
 * A stop signal that comes again within this of the first is taken as the same one delivered
 * twice, not as a person insisting: a terminal's Ctrl-C, and a supervisor stopping a whole
 * service, reach every process of the group, and `npm start` passes on to the node what it gets,
 * so the node sees each one twice within milliseconds. Once, and only this soon: sent again, the
 * signal still exits at once
 */
export const REPEATED_SIGNAL_GRACE = 1 * second

/**
 * How often a running node logs the requests it refused since it last did (none: no line): often
 * enough to see an attack as it happens, seldom enough that one is a line a minute, not a flood
 */
export const REFUSAL_LOG_INTERVAL = 1 * minute
