/**
 * The node's log: one line per event on stderr (stdout stays free for what commands print),
 * either for people (`--log-format text`, the default) or as one JSON object per line
 * (`--log-format json`) with `level` as a word, `time` in ISO 8601, `msg`, and the event's fields.
 * Both are written synchronously, so the line explaining an exit is never lost to it.
 *
 * libp2p's own debug output is separate: it follows the `DEBUG` environment variable
 * (`DEBUG=libp2p:*,libp2p-chord:*`) and goes to stderr in the `debug` package's format.
 */
import { pino } from 'pino'
import type { LogFormat, LogLevel } from './node-settings.js'
import type { Logger } from 'pino'

export type { Logger }

export interface LogInit {
  format: LogFormat
  level: LogLevel
  /** file descriptor written to; default stderr */
  fd?: number
}

export async function createLogger (init: LogInit): Promise<Logger> {
  const fd = init.fd ?? process.stderr.fd
  if (init.format === 'json') {
    return pino({
      level: init.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: label => ({ level: label }) }
    }, pino.destination({ fd, sync: true }))
  }
  // loaded only for text: JSON logging (containers, systemd) never pays for it
  const { default: pretty } = await import('pino-pretty')
  return pino({ level: init.level }, pretty({
    destination: fd,
    sync: true,
    colorize: fd === process.stderr.fd && process.stderr.isTTY,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
    // the message says it all for a person; the fields are for JSON logs
    hideObject: true
  }))
}
