/**
 * Chromium for the browser tests, driven by playwright-core. The binary comes from npm
 * (`@sparticuz/chromium` ships a compressed Chromium inside the package and unpacks it to the
 * temporary directory on first use), so `npm install` is all the set-up the tests need. Where
 * Debian's Chromium is installed (`/usr/bin/chromium`) it is used instead: it starts faster.
 */
import { existsSync } from 'node:fs'
import sparticuz from '@sparticuz/chromium'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

export const SYSTEM_CHROMIUM_PATH = '/usr/bin/chromium'

/** Flags every launch gets: headless, no sandbox (tests run as root), and quiet */
const COMMON_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  // WebSockets run over TCP; nothing in these tests needs Chromium's QUIC or its own traffic
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/**
 * Flags of @sparticuz/chromium's serverless profile that would make the tests lie: they turn off
 * the web's security rules (CORS, mixed content, site isolation) that a real visitor's browser
 * applies, or run everything in one process, which separate browser contexts must not share.
 * Playwright passes its own headless flag.
 */
const DROPPED_SPARTICUZ_ARGS = [
  '--single-process',
  '--no-zygote',
  '--disable-web-security',
  '--allow-running-insecure-content',
  '--disable-site-isolation-trials',
  '--disable-features=AudioServiceOutOfProcess,IsolateOrigins,site-per-process'
]

export interface ChromiumLaunch {
  executablePath: string
  args: string[]
}

/** Which Chromium the tests run, and with which flags */
export async function chromiumLaunch (): Promise<ChromiumLaunch> {
  if (existsSync(SYSTEM_CHROMIUM_PATH)) {
    return { executablePath: SYSTEM_CHROMIUM_PATH, args: COMMON_ARGS }
  }
  const args = sparticuz.args.filter(arg => !DROPPED_SPARTICUZ_ARGS.includes(arg) && !arg.startsWith('--headless'))
  return { executablePath: await sparticuz.executablePath(), args: [...new Set([...args, ...COMMON_ARGS])] }
}

/** `trustedKeys`: SPKI sha256 hashes (base64) of certificates the browser accepts though no CA signed them */
export async function launchChromium (options: { trustedKeys?: string[] } = {}): Promise<Browser> {
  const { executablePath, args } = await chromiumLaunch()
  const trust = options.trustedKeys == null ? [] : [`--ignore-certificate-errors-spki-list=${options.trustedKeys.join(',')}`]
  return chromium.launch({ executablePath, args: [...args, ...trust], headless: true })
}
