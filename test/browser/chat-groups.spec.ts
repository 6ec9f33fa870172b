/**
 * Groups and devices on the chat page: two pages and a Node.js member in one group, and a second
 * page linked to a person as another of their devices. A 4-node ring on 127.0.0.1, each page in
 * its own Chromium context (its own IndexedDB, like its own device).
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createChordNode, createIdentity } from '../../src/index.js'
import {
  MESSAGE_DEADLINE, addContact, message, openChat, openConversation, recordLog, sendMessage, serveChatPage, waitForState, waitJoined
} from '../helpers/chat-page.js'
import { launchChromium } from '../helpers/chromium.js'
import { addressOf, nodeOptions, startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChatSite } from '../helpers/chat-page.js'
import type { ChatClient, ChatMessage, ChordNode } from '../../src/index.js'
import type { Browser, BrowserContext, Page } from 'playwright-core'

const RING_SIZE = 4

/** ms for every device's receipt to come back: one envelope each way per device, on a loaded machine */
const RECEIPT_DEADLINE = 60_000

const read = (m: ChatMessage): string => new TextDecoder().decode(m.plaintext)

describe('chat page: groups and devices (Chromium)', function () {
  this.timeout(240_000)

  let ring: ChordNode[] = []
  let site: ChatSite | undefined
  let browser: Browser | undefined
  let carolNode: ChordNode | undefined
  let carolChat: ChatClient | undefined
  const contexts: BrowserContext[] = []
  const pageLog: string[] = []
  let shotsDir = ''

  async function newPage (name: string): Promise<Page> {
    assert.ok(browser != null)
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } })
    contexts.push(context)
    const page = await context.newPage()
    recordLog(page, name, pageLog)
    return page
  }

  async function screenshot (page: Page, name: string): Promise<void> {
    const file = join(shotsDir, name)
    await page.screenshot({ path: file })
    const png = await readFile(file)
    assert.ok(png.subarray(1, 4).toString() === 'PNG' && png.byteLength > 10_000, `${file} is a picture`)
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
    shotsDir = process.env.CHAT_SCREENSHOTS ?? await mkdtemp(join(tmpdir(), 'chord-chat-shots-'))
  })

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      console.log(`      the pages logged:\n${pageLog.map(line => `        ${line}`).join('\n')}`)
    }
    pageLog.length = 0
  })

  after(async () => {
    await carolChat?.close()
    await carolNode?.stop()
    await Promise.allSettled(contexts.map(async c => c.close()))
    await browser?.close()
    await site?.close()
    await stopAll(ring)
    if (process.env.CHAT_SCREENSHOTS == null && shotsDir !== '') {
      await rm(shotsDir, { recursive: true, force: true })
    }
  })

  let alice: Page
  let bob: Page
  let aliceAddress: string
  let bobAddress: string
  let carolAddress: string
  let groupKey: string

  it('two pages and a Node.js member chat in one group, each seeing every message', async () => {
    assert.ok(site != null)
    alice = await newPage('alice')
    bob = await newPage('bob')
    const url = site.url(ring.slice(0, 2));
    [{ address: aliceAddress }, { address: bobAddress }] = await Promise.all([openChat(alice, url), openChat(bob, url)])
    carolNode = await createChordNode(nodeOptions({ bootstrap: [addressOf(ring[2])], clientMode: true }))
    const carol = await createIdentity()
    carolAddress = carol.address
    const carolMessages: ChatMessage[] = []
    carolChat = await carolNode.mailbox.chat(carol, { onMessage: m => { carolMessages.push(m) } })

    // Alice makes the group on her page
    await alice.fill('#group-name', 'Saturday climbing')
    await alice.fill('#group-members', `${bobAddress} ${carol.address}`)
    await alice.click('#create-group')
    const entry = alice.locator('#groups [data-contact^="group:"]')
    await entry.waitFor({ timeout: MESSAGE_DEADLINE })
    const conversationKey = await entry.getAttribute('data-contact') ?? ''
    groupKey = conversationKey
    const id = conversationKey.slice('group:'.length)
    await bob.locator(`#groups [data-contact="${conversationKey}"]`).filter({ hasText: 'Saturday climbing' }).waitFor({ timeout: MESSAGE_DEADLINE })
    await waitFor(() => carolChat?.groups.get(id)?.members.length === 3, 'Carol in Node.js to hold the group', MESSAGE_DEADLINE)
    assert.deepEqual(carolChat.groups.get(id)?.members, [aliceAddress, bobAddress, carol.address])

    const first = await sendMessage(alice, 'Who is in for Saturday?')
    await openConversation(bob, conversationKey)
    await message(bob, 'in', 'Who is in for Saturday?').waitFor({ timeout: MESSAGE_DEADLINE })
    await waitFor(() => carolMessages.some(m => m.group === id && read(m) === 'Who is in for Saturday?'), 'Carol to get Alice\'s message', MESSAGE_DEADLINE)
    await waitForState(first, 'delivered', RECEIPT_DEADLINE)
    assert.match(await first.locator('.state').getAttribute('title') ?? '', /delivered to 2 of 2 members/)

    await carolChat.groups.send(id, new TextEncoder().encode('Me! Writing from Node.js'))
    await message(alice, 'in', 'Me! Writing from Node.js').waitFor({ timeout: MESSAGE_DEADLINE })
    await message(bob, 'in', 'Me! Writing from Node.js').waitFor({ timeout: MESSAGE_DEADLINE })

    await sendMessage(bob, 'Count me in, I will bring the rope')
    await message(alice, 'in', 'Count me in, I will bring the rope').waitFor({ timeout: MESSAGE_DEADLINE })
    await waitFor(() => carolMessages.some(m => read(m) === 'Count me in, I will bring the rope' && m.from === bobAddress), 'Carol to get Bob\'s message', MESSAGE_DEADLINE)
    assert.equal(carolMessages.filter(m => m.group === id).length, 2, 'each message once')
    await alice.locator('#message-input').fill('Great, 9:00 at the gym')
    await screenshot(alice, 'chat-groups.png')
  })

  it('links a second page to Alice as her device, lists it, and it gets what Bob sends her', async () => {
    assert.ok(site != null)
    const laptop = await newPage('alice-laptop')
    await openChat(laptop, site.url(ring.slice(1, 3)))

    await alice.click('#devices summary')
    await alice.click('#link-device')
    const offer = alice.locator('#link-offer-text')
    await offer.waitFor({ timeout: MESSAGE_DEADLINE })
    const link = await offer.textContent() ?? ''
    assert.match(link, /^chord-link:/)

    await laptop.click('#devices summary')
    await laptop.fill('#join-link', link)
    await laptop.fill('#join-name', 'laptop')
    await laptop.click('#join')
    await alice.locator('#link-confirm').waitFor({ timeout: MESSAGE_DEADLINE })
    const askedText = await alice.locator('#link-confirm-text').textContent() ?? ''
    const fingerprint = /fingerprint is (.+?):/.exec(askedText)?.[1] ?? 'none'
    // the new page shows its fingerprint once its request is on its way, which may be a moment after the offer page hears of it
    await waitFor(async () => (await laptop.locator('#join-state').textContent() ?? '').includes(fingerprint), 'both devices to show the same fingerprint', MESSAGE_DEADLINE)
    await alice.locator('#link-confirm').scrollIntoViewIfNeeded()
    await screenshot(alice, 'chat-link-device.png')
    await alice.click('#link-accept')

    // the laptop starts again as Alice's device
    await waitFor(async () => await laptop.locator('#my-address').textContent() === aliceAddress, 'the laptop to speak for Alice', MESSAGE_DEADLINE)
    await waitJoined(laptop)
    await waitFor(async () => await alice.locator('#device-list [data-device]').count() === 2, 'Alice\'s page to list two devices', MESSAGE_DEADLINE)
    await alice.locator('#device-list').filter({ hasText: 'laptop' }).waitFor({ timeout: MESSAGE_DEADLINE })
    await alice.click('#notice-close')
    await alice.locator('#device-list').scrollIntoViewIfNeeded()
    await screenshot(alice, 'chat-devices.png')

    await addContact(bob, aliceAddress, 'Alice')
    const sent = await sendMessage(bob, 'To both of your devices')
    for (const device of [alice, laptop]) {
      await device.locator(`#contacts [data-contact="${bobAddress}"]`).waitFor({ state: 'attached', timeout: MESSAGE_DEADLINE })
      await openConversation(device, bobAddress)
      await message(device, 'in', 'To both of your devices').waitFor({ timeout: MESSAGE_DEADLINE })
    }
    // the group Alice was in came to the laptop from her phone
    await laptop.locator('#groups [data-contact^="group:"]').filter({ hasText: 'Saturday climbing' }).waitFor({ state: 'attached', timeout: MESSAGE_DEADLINE })
    await waitForState(sent, 'delivered', RECEIPT_DEADLINE).catch(async err => {
      throw new Error(`${(err as Error).message}; the bubble says "${await sent.locator('.state').getAttribute('title')}"`, { cause: err })
    })
    assert.match(await sent.locator('.state').getAttribute('title') ?? '', /delivered to 2 of 2 devices/)
  })

  it('an admin sees the members by name, makes one an admin and removes another from the page', async () => {
    const id = groupKey.slice('group:'.length)
    // Alice names Bob as her contact: the group shows him by that name, in its members and on his messages
    await addContact(alice, bobAddress, 'Bob')
    await openConversation(alice, groupKey)
    await alice.locator('[data-message] .author').filter({ hasText: 'Bob' }).first().waitFor({ timeout: MESSAGE_DEADLINE })
    await alice.click('#group-member-panel summary')
    const row = (member: string): ReturnType<Page['locator']> => alice.locator(`#group-member-list [data-member="${member}"]`)
    await row(bobAddress).locator('.name').filter({ hasText: 'Bob' }).waitFor({ timeout: MESSAGE_DEADLINE })
    assert.equal(await row(aliceAddress).locator('.tag').textContent(), 'admin')

    // Bob is made an admin: his page offers him the group's controls
    await row(bobAddress).locator('.member-admin').click()
    await row(bobAddress).locator('.tag').filter({ hasText: 'admin' }).waitFor({ timeout: MESSAGE_DEADLINE })
    await openConversation(bob, groupKey)
    await bob.locator('#group-add-form').waitFor({ state: 'visible', timeout: MESSAGE_DEADLINE })
    await waitFor(() => carolChat?.groups.get(id)?.admins.includes(bobAddress) === true, 'Carol to hold Bob as an admin', MESSAGE_DEADLINE)

    // Carol is removed: her Node.js chat learns it, and the pages list two members
    await row(carolAddress).locator('.member-remove').click()
    await waitFor(() => carolChat?.groups.get(id)?.member === false, 'Carol to learn she was removed', MESSAGE_DEADLINE)
    await waitFor(async () => await alice.locator('#group-member-list li').count() === 2, 'Alice\'s page to list two members', MESSAGE_DEADLINE)
    await waitFor(async () => (await bob.locator('#group-member-panel summary').textContent() ?? '').startsWith('2 members'), 'Bob\'s page to list two members', MESSAGE_DEADLINE)
    await screenshot(alice, 'chat-group-members.png')
    // the same list on a phone's width: the panel sits in the conversation's header
    await alice.setViewportSize({ width: 375, height: 720 })
    await screenshot(alice, 'chat-group-members-phone.png')
    await alice.setViewportSize({ width: 1200, height: 900 })
  })

  it('a member leaves from the page: the others list one member fewer, and the page says it is no longer in the group', async () => {
    await openConversation(bob, groupKey)
    await bob.click('#group-member-panel summary')
    await bob.click('#group-leave')
    await waitFor(async () => await bob.locator('#group-member-panel summary').textContent() === 'you left', 'Bob\'s page to say he left', MESSAGE_DEADLINE)
    assert.equal(await bob.locator('#group-leave').isHidden(), true, 'nothing more to leave')
    assert.equal(await bob.locator('#composer').isHidden(), true, 'nor to send to')
    await waitFor(async () => await alice.locator('#group-member-list li').count() === 1, 'Alice\'s page to list herself alone', MESSAGE_DEADLINE)
    await screenshot(bob, 'chat-group-left.png')
  })
})
