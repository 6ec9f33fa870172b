/**
 * The chat page end to end: a 4-node ring on 127.0.0.1 (TCP and WebSockets), the page bundled
 * and served over http://127.0.0.1, and two people in separate Chromium browser contexts (each
 * its own IndexedDB, like two devices) chatting through the ring.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createChordNode, createIdentity, parseAddress } from '../../src/index.js'
import { ringIdFromBytes } from '../../src/chord/id.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import {
  JOIN_DEADLINE, MESSAGE_DEADLINE, addContact, dismissNotice, message, noticeText, openChat, openConversation, recordLog,
  sendMessage, serveChatPage, waitForState, waitJoined
} from '../helpers/chat-page.js'
import { launchChromium } from '../helpers/chromium.js'
import { spawnTerminalChat } from '../helpers/terminal-chat.js'
import { selfSignedCertificate, startTlsProxy } from '../helpers/tls-proxy.js'
import { addressOf, crash, expectedOwner, nodeOptions, startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChatSite } from '../helpers/chat-page.js'
import type { ChordNode, MailboxMessage } from '../../src/index.js'
import type { Browser, BrowserContext, Page } from 'playwright-core'

const RING_SIZE = 4

describe('chat page (Chromium)', function () {
  this.timeout(180_000)

  let ring: ChordNode[] = []
  let site: ChatSite | undefined
  let browser: Browser | undefined
  const contexts: BrowserContext[] = []
  const pageLog: string[] = []
  /** Alice's and Bob's pages and addresses */
  let alice: Page
  let bob: Page
  let aliceAddress: string
  let bobAddress: string

  async function newPage (name: string): Promise<Page> {
    assert.ok(browser != null)
    const context = await browser.newContext()
    contexts.push(context)
    const page = await context.newPage()
    recordLog(page, name, pageLog)
    return page
  }

  before(async () => {
    const [nodes, chatSite, chromium] = await Promise.all([
      startRing(RING_SIZE, { listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] }),
      serveChatPage(),
      launchChromium()
    ])
    ring = nodes
    site = chatSite
    browser = chromium
    alice = await newPage('alice')
    bob = await newPage('bob')
  })

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      console.log(`      the pages logged:\n${pageLog.map(line => `        ${line}`).join('\n')}`)
    }
    pageLog.length = 0
  })

  after(async () => {
    await Promise.allSettled(contexts.map(async c => c.close()))
    await browser?.close()
    await site?.close()
    await stopAll(ring)
  })

  it('makes an identity on the first visit, joins the ring and shows the address', async () => {
    assert.ok(site != null)
    const [a, b] = await Promise.all([openChat(alice, site.url([ring[0]])), openChat(bob, site.url([ring[1]]))])
    aliceAddress = a.address
    bobAddress = b.address
    assert.notEqual(aliceAddress, bobAddress)
    console.log(`      page join: ${a.joinMs} ms and ${b.joinMs} ms (load, node start, join, subscribe)`)

    // the QR code and the link hold the contact link, which names my address
    const link = await alice.locator('#my-link').getAttribute('href') ?? ''
    assert.equal(new URL(link).hash, `#contact=${encodeURIComponent(aliceAddress)}`)
    assert.equal(await alice.locator('#my-qr').getAttribute('data-link'), link)
    assert.ok(await alice.locator('#my-qr svg').count() === 1, 'the page draws a QR code')
  })

  it('A adds B by address and sends; B sees it in real time from a new contact; B replies and A sees it', async () => {
    await addContact(alice, bobAddress, 'Bob')
    // Bob's page notes when Alice's entry appears: the message has been received and stored
    await bob.evaluate(address => {
      const w = window as unknown as { arrivedAt?: number }
      new MutationObserver((_, observer) => {
        if (document.querySelector(`[data-contact="${address}"]`) != null) {
          w.arrivedAt = Date.now()
          observer.disconnect()
        }
      }).observe(document.body, { childList: true, subtree: true })
    }, aliceAddress)
    const hello = await sendMessage(alice, 'Hello Bob, it is Alice')

    // Bob never added Alice: she appears as a new contact, and the message is in her conversation
    await bob.waitForFunction(() => (window as unknown as { arrivedAt?: number }).arrivedAt != null, undefined, { timeout: MESSAGE_DEADLINE })
    const arrivedAt = await bob.evaluate(() => (window as unknown as { arrivedAt: number }).arrivedAt)
    const writtenAt = Number(await hello.getAttribute('data-at'))
    console.log(`      page to page: ${arrivedAt - writtenAt} ms from Send in one page to the stored message in the other`)
    await openConversation(bob, aliceAddress)
    await message(bob, 'in', 'Hello Bob, it is Alice').waitFor({ timeout: MESSAGE_DEADLINE })
    assert.match(await bob.locator(`[data-contact="${aliceAddress}"]`).textContent() ?? '', /New contact/)

    await sendMessage(bob, 'Hi Alice! Loud and clear')
    await message(alice, 'in', 'Hi Alice! Loud and clear').waitFor({ timeout: MESSAGE_DEADLINE })
  })

  it('shows an outgoing message as stored once send() resolved', async () => {
    const bubble = await sendMessage(alice, 'Are you storing this?')
    await waitForState(bubble, 'stored')
    await message(bob, 'in', 'Are you storing this?').waitFor({ timeout: MESSAGE_DEADLINE })
  })

  it('shows an outgoing message as delivered once the recipient\'s receipt came back', async () => {
    // needs the mailbox's delivery receipts (subscribe's onReceipt); fails until the library sends them
    const bubble = message(alice, 'out', 'Hello Bob, it is Alice')
    const ms = await waitForState(bubble, 'delivered')
    console.log(`      delivered ${ms} ms after the wait began`)
  })

  it('keeps identity, contacts and history across a reload', async () => {
    await bob.reload()
    await waitJoined(bob)
    assert.equal(await bob.locator('#my-address').textContent(), bobAddress)
    await openConversation(bob, aliceAddress)
    await message(bob, 'in', 'Hello Bob, it is Alice').waitFor({ timeout: MESSAGE_DEADLINE })
    await message(bob, 'out', 'Hi Alice! Loud and clear').waitFor({ timeout: MESSAGE_DEADLINE })
    assert.equal(await message(bob, 'out', 'Hi Alice! Loud and clear').getAttribute('data-state') !== 'sending', true)
  })

  it('delivers a message sent while the page was closed once it is open again, once', async () => {
    assert.ok(site != null)
    const url = bob.url()
    await bob.close()
    const bubble = await sendMessage(alice, 'Sent while you were away')
    await waitForState(bubble, 'stored')

    bob = await contexts[1].newPage()
    recordLog(bob, 'bob', pageLog)
    await bob.goto(url)
    await waitJoined(bob)
    await openConversation(bob, aliceAddress)
    await message(bob, 'in', 'Sent while you were away').waitFor({ timeout: MESSAGE_DEADLINE })
    assert.equal(await message(bob, 'in', 'Sent while you were away').count(), 1)

    // and after another reload (the mailbox may push it again before its acknowledgement lands), still once
    await bob.reload()
    await waitJoined(bob)
    await openConversation(bob, aliceAddress)
    await message(bob, 'in', 'Sent while you were away').waitFor({ timeout: MESSAGE_DEADLINE })
    assert.equal(await message(bob, 'in', 'Sent while you were away').count(), 1)
  })

  it('reconnects when the node it joined through and its mailbox node is killed, and the next message arrives', async () => {
    assert.ok(site != null)
    // Bob joins through the node that holds his mailbox subscription, then that node crashes
    const owner = expectedOwner(ring, ringIdFromBytes(mailboxKey(parseAddress(bobAddress))))
    const other = ring.find(node => node !== owner && node !== ring[0]) ?? ring[0]
    await bob.goto(site.url([owner, other]))
    await waitJoined(bob)
    await crash(owner)
    ring = ring.filter(node => node !== owner)

    await openConversation(bob, aliceAddress)
    const sentAt = Date.now()
    await sendMessage(alice, 'Still there after the crash?')
    await message(bob, 'in', 'Still there after the crash?').waitFor({ timeout: JOIN_DEADLINE + MESSAGE_DEADLINE })
    console.log(`      after the crash: ${Date.now() - sentAt} ms to the message in the other page`)
    await sendMessage(bob, 'Yes, through another node')
    await message(alice, 'in', 'Yes, through another node').waitFor({ timeout: MESSAGE_DEADLINE })
  })

  it('chats both ways with a Node.js user of the library', async () => {
    const node = await createChordNode(nodeOptions({ bootstrap: [addressOf(ring[0])], clientMode: true }))
    try {
      const carol = await createIdentity()
      const received: MailboxMessage[] = []
      await node.mailbox.subscribe(carol, async msg => {
        received.push(msg)
        await node.mailbox.ack(carol, [msg.id])
      })
      await addContact(alice, carol.address, 'Carol (Node.js)')
      await sendMessage(alice, 'Hello Carol in Node')
      await waitFor(() => received.some(m => new TextDecoder().decode(m.plaintext) === 'Hello Carol in Node'), 'the message in Node', MESSAGE_DEADLINE)
      assert.equal(received.find(m => new TextDecoder().decode(m.plaintext) === 'Hello Carol in Node')?.from, aliceAddress)

      await node.mailbox.send(carol, aliceAddress, new TextEncoder().encode('Hello Alice, from Node'))
      await message(alice, 'in', 'Hello Alice, from Node').waitFor({ timeout: MESSAGE_DEADLINE })
    } finally {
      await node.stop()
    }
  })

  it('exchanges messages with the terminal chat, driven through a pseudo-terminal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chord-terminal-chat-'))
    const terminal = spawnTerminalChat(['--bootstrap', addressOf(ring[0]), '--identity', join(dir, 'me.json')])
    try {
      const [, terminalAddress] = await terminal.waitFor(/address: +(chord:\S+)/)
      await terminal.waitFor(/joined the ring as a client/)

      await addContact(alice, terminalAddress, 'Terminal')
      terminal.type(`/add page ${aliceAddress}`)
      await terminal.waitFor(/added page .*talking to page/)
      terminal.type('hello from the terminal')
      await terminal.waitFor(/✓ stored for page on \d replicas?/)
      await message(alice, 'in', 'hello from the terminal').waitFor({ timeout: MESSAGE_DEADLINE })

      // a line arrives while the user is typing: it is printed above the prompt, which comes back with the typing
      terminal.write('half a line')
      await terminal.waitFor(/half a line/)
      await sendMessage(alice, 'hello terminal, from the page')
      await terminal.waitFor(/\] page: hello terminal, from the page\r?\n(.*\r?\n)*?page> half a line/)

      terminal.type('') // finish the half line: it goes to the page
      await message(alice, 'in', 'half a line').waitFor({ timeout: MESSAGE_DEADLINE })
      terminal.type('/quit')
      assert.equal(await terminal.exited, 0)
    } finally {
      terminal.kill()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('protects the identity with a passphrase, asks for it on reload, and moves it to another browser by file', async () => {
    assert.ok(site != null)
    const dave = await newPage('dave')
    const { address } = await openChat(dave, site.url([ring[0]]))
    await dave.locator('#identity-tools summary').click()
    await dave.fill('#new-passphrase', 'correct horse battery')
    await dave.click('#set-passphrase')
    assert.match(await noticeText(dave), /protected by the passphrase/)

    const [download] = await Promise.all([dave.waitForEvent('download'), dave.click('#export-identity')])
    const file = JSON.parse(await readFile(await download.path(), 'utf8'))
    assert.equal(file.address, address)
    assert.equal(file.secret.kind, 'sealed', 'a protected identity is exported sealed')

    await dave.reload()
    await dave.locator('#status[data-state="locked"]').waitFor({ timeout: JOIN_DEADLINE })
    await dave.fill('#unlock-passphrase', 'wrong horse')
    await dave.click('#unlock-form button')
    assert.equal(await noticeText(dave), 'Wrong passphrase.')
    await dave.fill('#unlock-passphrase', 'correct horse battery')
    await dave.click('#unlock-form button')
    await waitJoined(dave)
    assert.equal(await dave.locator('#my-address').textContent(), address)

    // the file, imported in another browser with its passphrase, is the same identity
    const elsewhere = await newPage('dave elsewhere')
    const { address: before } = await openChat(elsewhere, site.url([ring[1]]))
    await elsewhere.locator('#identity-tools summary').click()
    await elsewhere.setInputFiles('#import-file', await download.path())
    await elsewhere.fill('#import-passphrase', 'correct horse battery')
    await elsewhere.click('#import-passphrase-form button')
    // the page starts again with the imported identity, which is kept sealed: it asks to unlock it
    await elsewhere.locator('#status[data-state="locked"]').waitFor({ timeout: JOIN_DEADLINE })
    await elsewhere.fill('#unlock-passphrase', 'correct horse battery')
    await elsewhere.click('#unlock-form button')
    await elsewhere.waitForFunction(expected => document.querySelector('#my-address')?.textContent === expected, address, { timeout: JOIN_DEADLINE })
    assert.notEqual(before, address)
    await waitJoined(elsewhere)
  })

  it('chats with a page whose only bootstrap is a node announcing /wss behind a TLS proxy', async () => {
    assert.ok(site != null && browser != null)
    // the node listens on plain WebSockets; the proxy in front of it speaks TLS, and the node
    // tells the ring (and the page, through identify) the proxy's address
    let wsPort = 0
    const proxy = await startTlsProxy(() => wsPort)
    const announced = `/ip4/127.0.0.1/tcp/${proxy.port}/tls/ws`
    const proxied = await createChordNode(nodeOptions({ listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'], appendAnnounce: [announced], bootstrap: [addressOf(ring[0])] }))
    try {
      wsPort = Number(proxied.getMultiaddrs().find(ma => ma.toString().endsWith(`/ws/p2p/${proxied.peerId.toString()}`) && !ma.toString().includes('/tls/'))?.toString().split('/')[4])
      assert.ok(wsPort > 0)
      assert.ok(proxied.getMultiaddrs().some(ma => ma.toString().startsWith(announced)), 'the node advertises the proxy\'s address')

      // the test browser is told to trust the proxy's self-signed certificate
      const context = await browser.newContext({ ignoreHTTPSErrors: true })
      contexts.push(context)
      const carol = await context.newPage()
      recordLog(carol, 'carol (wss)', pageLog)
      const bootstrap = `${announced}/p2p/${proxied.peerId.toString()}`
      const { address: carolAddress } = await openChat(carol, `${site.origin}/?bootstrap=${encodeURIComponent(bootstrap)}`)

      await addContact(carol, bobAddress, 'Bob')
      await sendMessage(carol, 'Hello Bob, through a TLS proxy')
      await openConversation(bob, carolAddress)
      await message(bob, 'in', 'Hello Bob, through a TLS proxy').waitFor({ timeout: MESSAGE_DEADLINE })
      await sendMessage(bob, 'Hi Carol, received')
      await message(carol, 'in', 'Hi Carol, received').waitFor({ timeout: MESSAGE_DEADLINE })
    } finally {
      // the pages of the other tests cannot dial the proxy's address (its certificate is trusted
      // here only): the node leaves the ring, and takes nothing of it along
      await proxied.stop()
      await proxy.close()
    }
  })

  it('joins through a node that serves /tls/ws itself, with its own certificate', async () => {
    assert.ok(site != null && browser != null)
    const tls = await selfSignedCertificate()
    const secure = await createChordNode(nodeOptions({ listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/tls/ws'], tls, bootstrap: [addressOf(ring[0])] }))
    try {
      const address = secure.getMultiaddrs().find(ma => ma.toString().includes('/tls/ws/'))
      assert.ok(address != null, `no /tls/ws address among ${secure.getMultiaddrs().join(', ')}`)

      const context = await browser.newContext({ ignoreHTTPSErrors: true })
      contexts.push(context)
      const erin = await context.newPage()
      recordLog(erin, 'erin (tls/ws)', pageLog)
      const { address: erinAddress } = await openChat(erin, `${site.origin}/?bootstrap=${encodeURIComponent(address.toString())}`)
      await addContact(erin, bobAddress, 'Bob')
      await sendMessage(erin, 'Hello Bob, over a node\'s own TLS')
      await openConversation(bob, erinAddress)
      await message(bob, 'in', 'Hello Bob, over a node\'s own TLS').waitFor({ timeout: MESSAGE_DEADLINE })
    } finally {
      // the other tests' pages cannot dial it (its certificate is trusted here only): it leaves
      await secure.stop()
    }
  })

  it('takes screenshots of a conversation, on a desktop and on a phone', async () => {
    assert.ok(site != null && browser != null)
    const desktopContext = await browser.newContext({ viewport: { width: 1200, height: 760 } })
    const phoneContext = await browser.newContext({ viewport: { width: 375, height: 720 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true })
    contexts.push(desktopContext, phoneContext)
    const desktop = await desktopContext.newPage()
    const phone = await phoneContext.newPage()
    recordLog(desktop, 'desktop', pageLog)
    recordLog(phone, 'phone', pageLog)
    const url = site.url(ring.slice(0, 2))
    const [{ address: aliceAt }, { address: bobAt }] = await Promise.all([openChat(desktop, url), openChat(phone, url)])

    // Bob opens Alice's contact link on his phone: he has her, named as her link says
    await desktop.fill('#my-name', 'Alice')
    await desktop.locator('#my-name').dispatchEvent('change')
    await desktop.waitForFunction(() => document.querySelector('#my-link')?.getAttribute('href')?.includes('name=Alice') === true)
    const link = await desktop.locator('#my-link').getAttribute('href') ?? ''
    await phone.goto(link)
    await waitJoined(phone)
    await phone.locator(`[data-contact="${aliceAt}"]`).filter({ hasText: 'Alice' }).waitFor({ state: 'attached', timeout: MESSAGE_DEADLINE })
    await phone.locator('#message-input').waitFor({ state: 'visible', timeout: MESSAGE_DEADLINE })

    const conversation: Array<[Page, Page, string]> = [
      [phone, desktop, 'Hi Alice, I opened your link on my phone.'],
      [desktop, phone, 'Hi Bob! Your fingerprint matches the one you read out to me.'],
      [phone, desktop, 'Great. Lunch on Friday?'],
      [desktop, phone, 'Friday works. The usual place at 12:30?'],
      [phone, desktop, 'Perfect, see you there']
    ]
    for (const [i, [from, to, text]] of conversation.entries()) {
      const bubble = await sendMessage(from, text)
      await waitForState(bubble, 'stored')
      if (i === 0) {
        // Alice names the new contact who wrote to her
        await openConversation(desktop, bobAt)
        await desktop.fill('#peer-name', 'Bob')
        await desktop.locator('#peer-name').dispatchEvent('change')
      }
      await message(to, 'in', text).waitFor({ timeout: MESSAGE_DEADLINE })
    }
    await desktop.locator(`[data-contact="${bobAt}"]`).filter({ hasText: 'Bob' }).waitFor({ timeout: MESSAGE_DEADLINE })
    await desktop.locator('#message-input').fill('See you!')

    const dir = process.env.CHAT_SCREENSHOTS ?? await mkdtemp(join(tmpdir(), 'chord-chat-shots-'))
    const shots = { desktop: join(dir, 'chat-desktop.png'), phone: join(dir, 'chat-phone.png') }
    await desktop.screenshot({ path: shots.desktop })
    await phone.screenshot({ path: shots.phone })
    for (const file of Object.values(shots)) {
      const png = await readFile(file)
      assert.ok(png.subarray(1, 4).toString() === 'PNG' && png.byteLength > 10_000, `${file} is a picture`)
    }
    if (process.env.CHAT_SCREENSHOTS == null) {
      await rm(dir, { recursive: true, force: true })
    }
  })

  describe('bad input', () => {
    beforeEach(async () => { await dismissNotice(alice) })

    it('refuses an invalid contact address with a clear message and keeps what was typed', async () => {
      const mistyped = bobAddress.slice(0, -3) + (bobAddress.endsWith('x') ? 'yyy' : 'xxx')
      await alice.fill('#contact-address', mistyped)
      await alice.click('#add-contact')
      assert.match(await noticeText(alice), /not a valid address: .*checksum/)
      assert.equal(await alice.inputValue('#contact-address'), mistyped)
      assert.equal(await alice.locator(`[data-contact="${mistyped}"]`).count(), 0)
      await alice.fill('#contact-address', '')
    })

    it('refuses a contact link of the wrong form and still starts', async () => {
      assert.ok(site != null)
      // a link opened in a new tab
      await alice.goto('about:blank')
      await alice.goto(`${site.url([ring[0]])}#contact=chord:not-an-address`)
      assert.match(await noticeText(alice), /contact link is damaged. That is not a valid address/)
      await waitJoined(alice)
      // and pasted into the address bar of the open page
      await dismissNotice(alice)
      await alice.goto(`${site.url([ring[0]])}#contact=${encodeURIComponent(bobAddress.slice(0, 20))}`)
      assert.match(await noticeText(alice), /contact link is damaged/)
      assert.equal(await alice.locator('#my-address').textContent(), aliceAddress)
      assert.equal(await alice.locator(`[data-contact="${bobAddress}"]`).count(), 1, 'the contacts are still there')
    })

    it('refuses a corrupt identity file and keeps the identity', async () => {
      await alice.locator('#identity-tools summary').click()
      await alice.setInputFiles('#import-file', { name: 'identity.json', mimeType: 'application/json', buffer: Buffer.from('{"type":"libp2p-chord-identity","version":1,"address":"chord:x","fingerprint":"x","secret":{"kind":"plain","bytes":"AAAA"}}') })
      assert.match(await noticeText(alice), /Import failed: the identity is damaged.*unchanged/)
      await alice.setInputFiles('#import-file', { name: 'photo.json', mimeType: 'application/json', buffer: Buffer.from('not json at all') })
      assert.match(await noticeText(alice), /Import failed: this is not an identity file/)
      assert.equal(await alice.locator('#my-address').textContent(), aliceAddress)
    })

    it('refuses a message over the size limit, keeping its text in the composer', async () => {
      await openConversation(alice, bobAddress)
      const long = 'x'.repeat(70_000)
      await alice.fill('#message-input', long)
      await alice.click('#send')
      assert.match(await noticeText(alice), /not sent: a message is at most \d+ bytes/)
      assert.equal((await alice.inputValue('#message-input')).length, long.length)
      assert.equal(await message(alice, 'out', long).count(), 0)
      assert.equal(await alice.locator('text=Error:').count(), 0)
    })
  })
})
