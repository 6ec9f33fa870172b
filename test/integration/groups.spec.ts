import assert from 'node:assert/strict'
import { ForbiddenError, createIdentity } from '../../src/index.js'
import { open as openEnvelope } from '../../src/mailbox/seal.js'
import { internalsOf } from '../../src/testing.js'
import { startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChatClient, ChatMessage, ChordNode, GroupInfo, Identity } from '../../src/index.js'

/** ms a step may take on a loaded machine before the test fails */
const DEADLINE = 60_000

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const read = (m: ChatMessage): string => new TextDecoder().decode(m.plaintext)

interface Member {
  identity: Identity
  chat: ChatClient
  messages: ChatMessage[]
  errors: unknown[]
}

/** Every envelope the ring holds, raw */
async function everyEnvelope (nodes: ChordNode[]): Promise<Uint8Array[]> {
  const values: Uint8Array[] = []
  for (const node of nodes) {
    for await (const record of internalsOf(node).mailboxStore.range(0n, 0n)) {
      values.push(record.value)
    }
  }
  return values
}

describe('groups: every message sealed to each current member\'s devices', function () {
  this.timeout(300_000)
  let nodes: ChordNode[] = []
  let members: Member[] = []

  afterEach(async () => {
    await Promise.allSettled(members.map(async member => member.chat.close()))
    members = []
    await stopAll(nodes)
    nodes = []
  })

  async function join (node: ChordNode): Promise<Member> {
    const identity = await createIdentity()
    const member: Member = { identity, messages: [], errors: [], chat: undefined as unknown as ChatClient }
    member.chat = await node.mailbox.chat(identity, {
      onMessage: message => { member.messages.push(message) },
      onError: err => { member.errors.push(err) }
    })
    members.push(member)
    return member
  }

  /** Wait until each of `who` holds the group at `version`, alike */
  async function agreed (who: Member[], id: string, version: number): Promise<GroupInfo[]> {
    await waitFor(() => who.every(m => m.chat.groups.get(id)?.version === version), `${who.length} members to hold version ${version}`, DEADLINE)
    return who.map(m => m.chat.groups.get(id) as GroupInfo)
  }

  const inGroup = (member: Member, id: string): string[] => member.messages.filter(m => m.group === id).map(read)

  it('a group of 5 on 8 nodes: each gets each message once; a removed member can open nothing sent after; a member added later gets what follows', async () => {
    nodes = await startRing(8)
    const five = await Promise.all([0, 1, 2, 3, 4].map(async i => join(nodes[i])))
    const [admin, , , , removed] = five
    const created = await admin.chat.groups.create('five friends', five.slice(1).map(m => m.identity.address))
    const id = created.group.id
    assert.equal(created.envelopes.filter(e => e.error == null).length, 4, 'the state went to the four others')
    const views = await agreed(five, id, 1)
    for (const view of views) {
      assert.deepEqual({ name: view.name, members: view.members, admins: view.admins },
        { name: 'five friends', members: five.map(m => m.identity.address), admins: [admin.identity.address] })
    }

    // each member sends one message; then a last one from the admin marks the end
    for (const [i, member] of five.entries()) {
      const sent = await member.chat.groups.send(id, text(`hello from ${i}`))
      assert.equal(sent.delivery.members, 4)
    }
    const last = await admin.chat.groups.send(id, text('end of round one'))
    await waitFor(() => five.slice(1).every(m => inGroup(m, id).includes('end of round one')), 'everyone to get the last message', DEADLINE)
    await waitFor(() => five.every((m, i) => inGroup(m, id).length === (i === 0 ? 4 : 5)), 'everyone to get every message', DEADLINE)
    await waitFor(() => admin.chat.delivery(last.id)?.devicesDelivered === 4, 'the admin to count the last message delivered to 4 of 4', DEADLINE)
    assert.equal(admin.chat.delivery(last.id)?.membersDelivered, 4)
    for (const [i, member] of five.entries()) {
      const expected = five.map((_, j) => `hello from ${j}`).filter((_, j) => j !== i)
      assert.deepEqual(inGroup(member, id).filter(t => t.startsWith('hello')).sort(), expected.sort(), `member ${i} got each message once`)
    }

    // the admin removes the fifth member: all five learn it, the four carry on without it
    await admin.chat.groups.remove(id, removed.identity.address)
    const four = five.slice(0, 4)
    await agreed(five, id, 2)
    assert.equal(removed.chat.groups.get(id)?.member, false, 'the removed member knows it is out')
    assert.ok(four.every(m => m.chat.groups.get(id)?.members.length === 4))
    await assert.rejects(removed.chat.groups.send(id, text('am I still in?')), ForbiddenError)

    const secret = 'after the removal'
    const sent = await four[1].chat.groups.send(id, text(secret))
    assert.ok(sent.envelopes.every(e => e.person !== removed.identity.address), 'nothing sealed to the removed member')
    await waitFor(() => four.filter((_, i) => i !== 1).every(m => inGroup(m, id).includes(secret)), 'the four to get it', DEADLINE)

    // with its old keys, the removed member opens no envelope anywhere on the ring
    const opened: string[] = []
    for (const envelope of await everyEnvelope(nodes)) {
      const message = await openEnvelope(removed.identity, envelope).catch(() => undefined)
      if (message != null) {
        opened.push(new TextDecoder().decode(message.plaintext))
      }
    }
    assert.ok(opened.every(plaintext => !plaintext.includes(secret)), 'no envelope on the ring opens to it with the old keys')
    assert.ok(!inGroup(removed, id).includes(secret))

    // a member added later gets the messages from then on, not those before
    const late = await join(nodes[6])
    await admin.chat.groups.add(id, late.identity.address)
    await agreed([...four, late], id, 3)
    assert.deepEqual(late.chat.groups.get(id)?.members, [...four, late].map(m => m.identity.address))
    await four[2].chat.groups.send(id, text('welcome'))
    await waitFor(() => inGroup(late, id).includes('welcome'), 'the new member to get the welcome', DEADLINE)
    await waitFor(() => [0, 1, 3].every(i => inGroup(four[i], id).includes('welcome')), 'the others to get the welcome', DEADLINE)
    assert.deepEqual(inGroup(late, id), ['welcome'], 'nothing from before it joined')
    assert.equal(removed.chat.groups.get(id)?.version, 2, 'the removed member hears of no later change')
    assert.ok(!inGroup(removed, id).includes('welcome'))
    assert.deepEqual(members.map(m => m.errors), members.map(() => []))
  })

  it('refuses changes from a member who is not an admin until made one, and sends from someone not in the group', async () => {
    nodes = await startRing(4)
    const [admin, member, outsider] = await Promise.all([0, 1, 2].map(async i => join(nodes[i])))
    const { group } = await admin.chat.groups.create('two', [member.identity.address])
    await agreed([admin, member], group.id, 1)
    await assert.rejects(member.chat.groups.rename(group.id, 'mine now'), ForbiddenError)
    await assert.rejects(outsider.chat.groups.send(group.id, text('let me in')), /no group/)
    await admin.chat.groups.setAdmin(group.id, member.identity.address, true)
    await agreed([admin, member], group.id, 2)
    await member.chat.groups.rename(group.id, 'ours')
    const [a, b] = await agreed([admin, member], group.id, 3)
    assert.deepEqual([a.name, b.name, b.admin], ['ours', 'ours', true])
  })
})
