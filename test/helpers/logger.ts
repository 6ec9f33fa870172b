/** A libp2p component logger that prints nothing, for units built outside a libp2p node */
import type { ComponentLogger, Logger } from '@libp2p/interface'

export function silentLogger (): ComponentLogger {
  const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, newScope: () => log, enabled: false }) as unknown as Logger
  return { forComponent: () => log }
}
