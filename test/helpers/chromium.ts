/**
 * Debian's Chromium, driven by playwright-core, for the browser tests. A missing browser fails
 * the test with what to install: the browser node must be shown to work, not quietly skipped.
 */
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

export const CHROMIUM_PATH = '/usr/bin/chromium'

export class ChromiumMissingError extends Error {
  static name = 'ChromiumMissingError'
  name = ChromiumMissingError.name
}

export async function launchChromium (): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new ChromiumMissingError(`the browser tests need Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (.ci/run does)`)
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      // WebSockets run over TCP; nothing in these tests needs Chromium's QUIC or its own traffic
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync'
    ]
  })
}
