/**
 * The terminal chat's groups and devices, driven through a pseudo-terminal against a ring on
 * 127.0.0.1, with a Node.js user of the library as the other member.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createIdentity } from '../../src/index.js'
import { spawnTerminalChat } from '../helpers/terminal-chat.js'
import { addressOf, startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChatClient, ChatMessage, ChordNode } from '../../src/index.js'
import type { TerminalChat } from '../helpers/terminal-chat.js'

/** ms a step may take on a loaded machine */
const DEADLINE = 60_000

const read = (m: ChatMessage): string => new TextDecoder().decode(m.plaintext)

describe('terminal chat: groups and devices', function () {
  this.timeout(240_000)
  let ring: ChordNode[] = []
  let chats: ChatClient[] = []
  let terminal: TerminalChat | undefined
  let dir = ''

  afterEach(async () => {
    terminal?.kill()
    await Promise.allSettled(chats.map(async chat => chat.close()))
    chats = []
    await stopAll(ring)
    ring = []
    await rm(dir, { recursive: true, force: true })
  })

  it('answers what is typed before the node has joined, once it has', async () => {
    ring = await startRing(2)
    dir = await mkdtemp(join(tmpdir(), 'chord-terminal-groups-'))
    const carol = await createIdentity()
    const term = spawnTerminalChat(['--bootstrap', addressOf(ring[0]), '--identity', join(dir, 'me.json')])
    terminal = term
    // typed at once: the chat reads it while it is still starting and joining
    term.type(`/add carol ${carol.address}`)
    await term.waitFor(/joined the ring as a client/)
    await term.waitFor(/added carol/, DEADLINE)
  })

  it('makes a group with a Node.js user, chats in it, and links a device that then gets what is sent, and leaves the group', async () => {
    ring = await startRing(3)
    dir = await mkdtemp(join(tmpdir(), 'chord-terminal-groups-'))
    const carol = await createIdentity()
    const carolMessages: ChatMessage[] = []
    const carolChat = await ring[1].mailbox.chat(carol, { onMessage: m => { carolMessages.push(m) } })
    chats.push(carolChat)

    const term = spawnTerminalChat(['--bootstrap', addressOf(ring[0]), '--identity', join(dir, 'me.json')])
    terminal = term
    const [, myAddress] = await term.waitFor(/address: +(chord:\S+)/)
    await term.waitFor(/joined the ring as a client/)
    term.type(`/add carol ${carol.address}`)
    await term.waitFor(/added carol/)
    term.type('/group climbing carol')
    await term.waitFor(/talking to #climbing/, DEADLINE)
    term.type('who is in on Saturday?')
    await term.waitFor(/✓ stored for #climbing on \d replicas? \(\w+\) · 1 device/, DEADLINE)
    await waitFor(() => carolMessages.some(m => m.group != null && read(m) === 'who is in on Saturday?' && m.from === myAddress), 'Carol to get the group message', DEADLINE)
    const group = carolMessages[0].group as string
    assert.deepEqual(carolChat.groups.get(group)?.members, [myAddress, carol.address])
    await term.waitFor(/✓✓ delivered to #climbing: 1 of 1 members, 1 of 1 devices/, DEADLINE)

    await carolChat.groups.send(group, new TextEncoder().encode('me, from Node.js'))
    await term.waitFor(/carol in #climbing: me, from Node\.js/, DEADLINE)
    term.type('/groups')
    await term.waitFor(/#climbing +2 members, you are an admin/)

    // a laptop (a Node.js user here) links itself to the terminal's person
    term.type('/link')
    const [, link] = await term.waitFor(/(chord-link:\w+)/, DEADLINE)
    const pending = await ring[2].mailbox.requestLink(link, { name: 'laptop' })
    await term.waitFor(/"laptop" asks to be your device; its fingerprint is ([0-9a-f ]+)\./, DEADLINE)
    assert.ok(term.output().includes(pending.fingerprint))
    term.type('/yes')
    await term.waitFor(/"laptop" is linked/, DEADLINE)
    const laptopMessages: ChatMessage[] = []
    const laptop = await ring[2].mailbox.chat(await pending.account, { onMessage: m => { laptopMessages.push(m) } })
    chats.push(laptop)
    term.type('/devices')
    await term.waitFor(/laptop +[0-9a-f ]+/)
    await waitFor(() => laptop.groups.get(group) != null, 'the laptop to learn the group from the terminal', DEADLINE)

    await carolChat.groups.send(group, new TextEncoder().encode('to both your devices'))
    await term.waitFor(/carol in #climbing: to both your devices/, DEADLINE)
    await waitFor(() => laptopMessages.some(m => read(m) === 'to both your devices' && m.from === carol.address), 'the laptop to get it', DEADLINE)

    // leaving: a member's leave reaches the admin, who then leaves the group they are alone in
    await carolChat.groups.leave(group)
    assert.equal(carolChat.groups.get(group), undefined)
    await term.waitFor(/\* group #climbing: you(?!,)/, DEADLINE)
    term.type('/leave')
    await term.waitFor(/\* you left #climbing/, DEADLINE)
    await waitFor(() => laptop.groups.get(group) == null, 'the laptop to forget the group its person left', DEADLINE)

    // two groups of one name (anyone may name a group anything) are told apart by their ids
    const twins = [(await carolChat.groups.create('climbing', [myAddress])).group, (await carolChat.groups.create('climbing', [myAddress])).group]
    // whichever invitation comes second is shown with its id, the name being taken by then
    await term.waitFor(new RegExp(`\\* group #climbing~(${twins.map(twin => twin.id.slice(0, 6)).join('|')}): carol, you`), DEADLINE)
    term.type('/groups')
    for (const twin of twins) {
      await term.waitFor(new RegExp(`#climbing~${twin.id.slice(0, 6)} +2 members`), DEADLINE)
    }
    term.type('/quit')
    assert.equal(await term.exited, 0)
  })
})
