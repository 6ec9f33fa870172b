/**
 * Driving the chat page (examples/browser) in Chromium through its stable hooks: `#status`,
 * `#my-address`, `#contact-address` + `#add-contact`, `[data-contact]`, `#message-input` +
 * `#send`, `[data-message]` with `data-direction` and `data-state`, `.text`.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BROWSER_EXAMPLE_DIR, buildBrowserBundle } from '../../examples/browser/build.js'
import { servePages } from './page-server.js'
import { waitFor } from './wait-for.js'
import type { ChordNode } from '../../src/index.js'
import type { PageServer } from './page-server.js'
import type { Locator, Page } from 'playwright-core'

/** ms for a page to load, start its node, join and subscribe (the first dial includes Noise) */
export const JOIN_DEADLINE = 30_000

/** ms for a message to reach the other side, or a state to change */
export const MESSAGE_DEADLINE = 20_000

export function webSocketAddressOf (node: ChordNode): string {
  const address = node.getMultiaddrs().find(ma => ma.toString().includes('/ws/'))
  assert.ok(address != null, `${node.peerId.toString()} listens on no WebSocket address`)
  return address.toString()
}

export interface ChatSite extends PageServer {
  /** the page's URL with these ring nodes as its bootstrap list */
  url(bootstrap: ChordNode[]): string
}

/** Bundle the chat page and serve it on 127.0.0.1 */
export async function serveChatPage (): Promise<ChatSite> {
  const dir = await mkdtemp(join(tmpdir(), 'chord-chat-page-'))
  const bundle = join(dir, 'bundle.js')
  await buildBrowserBundle(bundle)
  const server = await servePages({
    '/': join(BROWSER_EXAMPLE_DIR, 'index.html'),
    '/dist/bundle.js': bundle,
    '/dist/bundle.js.map': `${bundle}.map`
  })
  return {
    origin: server.origin,
    url: bootstrap => `${server.origin}/?${bootstrap.map(node => `bootstrap=${encodeURIComponent(webSocketAddressOf(node))}`).join('&')}`,
    close: async () => {
      await server.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** Keep what a page logs, to show when a test fails */
export function recordLog (page: Page, name: string, log: string[]): void {
  page.on('console', message => { log.push(`${name} ${message.type()}: ${message.text()}`) })
  page.on('pageerror', err => { log.push(`${name} uncaught: ${err.message}`) })
}

/** Open the page and wait until it has joined; resolves to its address and how long joining took */
export async function openChat (page: Page, url: string): Promise<{ address: string, joinMs: number }> {
  const started = Date.now()
  await page.goto(url)
  await waitJoined(page)
  const joinMs = Date.now() - started
  const address = (await page.locator('#my-address').textContent()) ?? ''
  assert.match(address, /^chord:[1-9A-HJ-NP-Za-km-z]+$/)
  return { address, joinMs }
}

export async function waitJoined (page: Page): Promise<void> {
  try {
    await page.locator('#status[data-state="joined"]').waitFor({ timeout: JOIN_DEADLINE })
  } catch (err) {
    throw new Error(`the page did not join: its status says "${await page.locator('#status').textContent()}"`, { cause: err })
  }
}

/** Add a contact by address through the form; the conversation with them opens */
export async function addContact (page: Page, address: string, name?: string): Promise<void> {
  await page.fill('#contact-address', address)
  if (name != null) {
    await page.fill('#contact-name', name)
  }
  await page.click('#add-contact')
  // attached, not visible: on a phone the list gives way to the conversation
  await page.locator(`[data-contact="${address}"]`).waitFor({ state: 'attached', timeout: MESSAGE_DEADLINE })
  await page.locator('#message-input').waitFor({ state: 'visible', timeout: MESSAGE_DEADLINE })
}

export async function openConversation (page: Page, address: string): Promise<void> {
  // on a phone an open conversation hides the list: go back to it first
  if (await page.locator('#back').isVisible()) {
    await page.click('#back')
  }
  await page.locator(`[data-contact="${address}"]`).click({ timeout: MESSAGE_DEADLINE })
  await page.locator('#message-input').waitFor({ state: 'visible', timeout: MESSAGE_DEADLINE })
}

/** Type and send a message in the open conversation; resolves to its bubble */
export async function sendMessage (page: Page, text: string): Promise<Locator> {
  await page.fill('#message-input', text)
  await page.click('#send')
  const bubble = message(page, 'out', text)
  await bubble.waitFor({ timeout: MESSAGE_DEADLINE })
  return bubble
}

/** The message bubbles in the open conversation with exactly this text */
export function message (page: Page, direction: 'in' | 'out', text: string): Locator {
  return page.locator(`[data-message][data-direction="${direction}"]`).filter({
    has: page.locator('.text').getByText(text, { exact: true })
  })
}

/** Wait until an outgoing message reaches `state` (fails at once on `failed`); resolves to the time it took */
export async function waitForState (bubble: Locator, state: 'stored' | 'delivered', timeoutMs = MESSAGE_DEADLINE): Promise<number> {
  const wanted = state === 'stored' ? ['stored', 'delivered'] : ['delivered']
  let current: string | null = null
  // the page redraws a bubble when its state changes, so the locator is read afresh each time
  const ms = await waitFor(async () => {
    current = await bubble.getAttribute('data-state', { timeout: timeoutMs })
    return current === 'failed' || wanted.includes(current ?? '')
  }, `the message "${await bubble.locator('.text').textContent()}" to be ${state}`, timeoutMs)
  assert.ok(wanted.includes(current ?? ''), `the message is ${current}, not ${state}: ${await bubble.locator('.state').getAttribute('title')}`)
  return ms
}

/** Dismiss what the notice area shows, so that the next notice is the next action's */
export async function dismissNotice (page: Page): Promise<void> {
  if (await page.locator('#notice').isVisible()) {
    await page.click('#notice-close')
  }
}

/** The text of the page's notice area, once it shows one */
export async function noticeText (page: Page): Promise<string> {
  await page.locator('#notice').waitFor({ state: 'visible', timeout: MESSAGE_DEADLINE })
  return (await page.locator('#notice-text').textContent()) ?? ''
}
