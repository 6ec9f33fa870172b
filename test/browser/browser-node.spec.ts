/**
 * The browser node end to end: a ring of Node nodes on 127.0.0.1, the example page bundled and
 * served over http://127.0.0.1, and headless Chromium joining the ring over WebSockets as a client
 * and using the DHT through the page's records panel (the chat has its own spec, chat.spec.ts).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BROWSER_EXAMPLE_DIR, buildBrowserBundle } from '../../examples/browser/build.js'
import { launchChromium } from '../helpers/chromium.js'
import { servePages } from '../helpers/page-server.js'
import { startRing, stopAll, ringOf } from '../helpers/ring.js'
import type { ChordNode } from '../../src/index.js'
import type { PageServer } from '../helpers/page-server.js'
import type { Browser, Page } from 'playwright-core'

/** ms for the page to load, start its node and join (the first dial includes the Noise handshake) */
const JOIN_DEADLINE = 30_000

/** ms for one put or get through the ring */
const OPERATION_DEADLINE = 15_000

function webSocketAddressOf (node: ChordNode): string {
  const address = node.getMultiaddrs().find(ma => ma.toString().includes('/ws/'))
  assert.ok(address != null, `${node.peerId.toString()} listens on no WebSocket address`)
  return address.toString()
}

/** Submit one of the records panel's forms and wait for its outcome: the result text, or a failure */
async function submit (page: Page, form: '#put-form' | '#get-form', fields: Record<string, string>): Promise<string> {
  for (const [selector, value] of Object.entries(fields)) {
    await page.fill(selector, value)
  }
  await page.click(`${form} button`)
  await page.waitForFunction(() => document.querySelector<HTMLElement>('#records-result')?.dataset.state !== 'working',
    undefined, { timeout: OPERATION_DEADLINE })
  const result = page.locator('#records-result')
  const text = await result.textContent() ?? ''
  assert.equal(await result.getAttribute('data-state'), 'done', text)
  return text
}

describe('browser node (Chromium)', function () {
  this.timeout(120_000)

  let ring: ChordNode[] = []
  let bundleDir: string | undefined
  let server: PageServer | undefined
  let browser: Browser | undefined
  let page: Page
  /** what the page logged, shown when a test fails */
  const pageLog: string[] = []

  before(async () => {
    browser = await launchChromium()
    bundleDir = await mkdtemp(join(tmpdir(), 'chord-browser-'))
    const bundle = join(bundleDir, 'bundle.js')
    const [nodes] = await Promise.all([
      startRing(3, { listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] }),
      buildBrowserBundle(bundle)
    ])
    ring = nodes
    server = await servePages({
      '/': join(BROWSER_EXAMPLE_DIR, 'index.html'),
      '/dist/bundle.js': bundle,
      '/dist/bundle.js.map': `${bundle}.map`
    })
    page = await browser.newPage()
    page.on('console', message => { pageLog.push(`${message.type()}: ${message.text()}`) })
    page.on('pageerror', err => { pageLog.push(`uncaught: ${err.message}`) })
  })

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      console.log(`      the page logged:\n${pageLog.map(line => `        ${line}`).join('\n')}`)
    }
  })

  after(async () => {
    await browser?.close()
    await server?.close()
    await stopAll(ring)
    if (bundleDir != null) {
      await rm(bundleDir, { recursive: true, force: true })
    }
  })

  it('joins the ring as a client through a WebSocket bootstrap address and shows its PeerId', async () => {
    assert.ok(server != null)
    const bootstrap = encodeURIComponent(webSocketAddressOf(ring[0]))
    // the page keeps its node's identity in IndexedDB, so the bundled browser build of `level` runs too
    await page.goto(`${server.origin}/?bootstrap=${bootstrap}`)
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#status')?.dataset.state !== 'starting',
      undefined, { timeout: JOIN_DEADLINE })

    const status = page.locator('#status')
    assert.equal(await status.getAttribute('data-state'), 'joined', await status.textContent() ?? '')
    assert.match(await page.locator('#peer-id').textContent() ?? '', /^12D3KooW/)
    // the records panel sits in the page's "Network" section, folded away under the chat
    await page.click('#network summary')
    assert.equal(await page.locator('#records').isVisible(), true)
  })

  it('puts a value that a Node node reads back', async () => {
    const text = await submit(page, '#put-form', { '#put-key': 'from-the-browser', '#put-value': 'hello from Chromium' })
    assert.match(text, /^stored "hello from Chromium" under "from-the-browser" on \d replicas?$/)

    const values = await ring[1].get('from-the-browser')
    assert.deepEqual(values.map(value => new TextDecoder().decode(value)), ['hello from Chromium'])
  })

  it('gets a value that a Node node put', async () => {
    await ring[2].put('from-node', new TextEncoder().encode('hello from Node'))

    assert.equal(await submit(page, '#get-form', { '#get-key': 'from-node' }), 'hello from Node')
  })

  it('holds no ring position: connected to the ring, yet in no ring node\'s routing table', async () => {
    const browserPeer = (await page.locator('#peer-id').textContent() ?? '').split(' ')[0]
    const connected = ring.filter(node => node.libp2p.getConnections().some(c => c.remotePeer.toString() === browserPeer))
    assert.ok(connected.length > 0, 'the browser node is connected to the ring')

    for (const node of ring) {
      const known = ringOf(node).table.knownNodes().map(ref => ref.peer)
      assert.ok(!known.includes(browserPeer), `${node.peerId.toString()} routes through the browser node`)
    }
  })
})
