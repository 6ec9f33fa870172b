import assert from 'node:assert/strict'
import { toString as toHex } from 'uint8arrays/to-string'
import { ringIdFromBytes } from '../../src/chord/id.js'
import { LinkRefusedError, MemoryChatStore, VerificationError, createIdentity } from '../../src/index.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { internalsOf } from '../../src/testing.js'
import { expectedReplicas, startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { Account, ChatClient, ChatMessage, ChatOptions, ChordNode, DeliveryState, Identity } from '../../src/index.js'
import type { PublicKey } from '../../src/mailbox/public-key.js'

/** ms a step may take on a loaded machine before the test fails */
const DEADLINE = 60_000

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const read = (m: ChatMessage): string => new TextDecoder().decode(m.plaintext)

/** A chat that keeps what it is told */
interface Inbox {
  messages: ChatMessage[]
  deliveries: DeliveryState[]
  errors: unknown[]
  options: ChatOptions
}

function inbox (): Inbox {
  const box: Inbox = {
    messages: [],
    deliveries: [],
    errors: [],
    options: {
      onMessage: message => { box.messages.push(message) },
      onDelivery: state => { box.deliveries.push(state) },
      onError: err => { box.errors.push(err) }
    }
  }
  return box
}

const texts = (box: Inbox): string[] => box.messages.map(read)

/** Envelopes the replicas of `device`'s mailbox hold */
async function heldFor (nodes: ChordNode[], device: PublicKey): Promise<number> {
  const key = mailboxKey(device)
  const replicas = expectedReplicas(nodes, ringIdFromBytes(key), 3)
  const held = await Promise.all(replicas.map(async node => (await internalsOf(node).mailboxStore.get(key)).length))
  return Math.max(...held)
}

/** Whether every replica of `device`'s mailbox holds the envelope `id` (hex) */
async function allHold (nodes: ChordNode[], device: PublicKey, id: string): Promise<boolean> {
  const key = mailboxKey(device)
  const replicas = expectedReplicas(nodes, ringIdFromBytes(key), 3)
  const held = await Promise.all(replicas.map(async node => (await internalsOf(node).mailboxStore.get(key)).some(record => toHex(record.id, 'base16') === id)))
  return held.every(Boolean)
}

describe('a person with several devices', function () {
  this.timeout(240_000)
  let nodes: ChordNode[] = []
  let chats: ChatClient[] = []
  let alice: Identity
  let bob: Identity

  beforeEach(async () => {
    alice = await createIdentity()
    bob = await createIdentity()
  })

  afterEach(async () => {
    await Promise.allSettled(chats.map(async chat => chat.close()))
    chats = []
    await stopAll(nodes)
    nodes = []
  })

  async function open (node: ChordNode, account: Identity | Account, box: Inbox): Promise<ChatClient> {
    const chat = await node.mailbox.chat(account, box.options)
    chats.push(chat)
    return chat
  }

  /** Link a device on `node` to Alice, confirmed on her phone; resolves to the device's account */
  async function linkLaptop (phone: ChatClient, node: ChordNode): Promise<Account> {
    const asked: string[] = []
    const offer = await phone.devices.offerLink({ onRequest: device => { asked.push(device.name); return device.name === 'laptop' } })
    assert.match(offer.link, /^chord-link:/)
    const pending = await node.mailbox.requestLink(offer.link, { name: 'laptop' })
    const [linked, account] = await Promise.all([offer.done, pending.account])
    assert.deepEqual(asked, ['laptop'])
    assert.equal(linked.fingerprint, pending.fingerprint, 'both devices show the same fingerprint')
    assert.equal(account.address, alice.address, 'the linked device speaks for Alice')
    assert.ok(account.identity == null, 'it never holds Alice\'s secret key')
    return account
  }

  it('links a laptop; Bob sends once and both devices get it; the phone\'s ack leaves the laptop\'s copy, which it gets when it comes back', async () => {
    nodes = await startRing(6)
    const phoneBox = inbox()
    const phone = await open(nodes[0], alice, phoneBox)
    const laptop = await linkLaptop(phone, nodes[1])
    const devices = await nodes[4].mailbox.devices(alice.address)
    assert.deepEqual(devices.map(d => d.address), [alice.address, laptop.device.address], 'anyone reads Alice\'s devices, her own key first')
    assert.equal(devices[1].name, 'laptop')

    // the laptop is offline when Bob writes
    const bobBox = inbox()
    const bobChat = await open(nodes[2], bob, bobBox)
    const sent = await bobChat.send(alice.address, text('hi Alice, on every device'))
    const toAlice = sent.envelopes.filter(e => e.person === alice.address)
    assert.deepEqual(toAlice.map(e => e.device).sort(), [alice.address, laptop.device.address].sort(), 'one envelope per device of Alice')
    assert.ok(toAlice.every(e => e.id != null && e.error == null))
    assert.deepEqual({ members: sent.delivery.members, devices: sent.delivery.devices }, { members: 1, devices: 2 })

    await waitFor(() => phoneBox.messages.length === 1, 'the phone to get Bob\'s message', DEADLINE)
    assert.equal(phoneBox.messages[0].from, bob.address)
    await phone.ack([phoneBox.messages[0].id])
    await waitFor(async () => await heldFor(nodes, alice.publicKey) === 0, 'the phone\'s copy to be deleted', DEADLINE)
    // (the laptop's mailbox may hold more on a replica the ack of its link grant missed under load)
    const laptopCopy = toAlice.find(e => e.device === laptop.device.address)?.id as string
    assert.ok(await allHold(nodes, laptop.device.publicKey, laptopCopy), 'the laptop\'s copy stays')

    // the phone's receipt comes back while the laptop is away: 1 of 2, counted in send's result when
    // it came back before the laptop's envelope was stored, else told through onDelivery
    const countedInSend = sent.delivery.devicesDelivered === 1
    await waitFor(() => countedInSend || bobBox.deliveries.some(state => state.id === sent.id && state.devicesDelivered === 1), 'Bob to be told 1 of 2 devices', DEADLINE)
    assert.equal(bobChat.delivery(sent.id)?.devicesDelivered, 1)

    const laptopBox = inbox()
    const laptopChat = await open(nodes[3], laptop, laptopBox)
    await waitFor(() => laptopBox.messages.length === 1, 'the laptop, back, to get Bob\'s message', DEADLINE)
    assert.equal(read(laptopBox.messages[0]), 'hi Alice, on every device')
    assert.equal(laptopBox.messages[0].from, bob.address)
    assert.equal(laptopBox.messages[0].outgoing, false)

    // the laptop's receipt once it came back: 2 of 2
    await waitFor(() => bobChat.delivery(sent.id)?.devicesDelivered === 2, 'both of Alice\'s devices to be counted delivered', DEADLINE)
    assert.equal(bobChat.delivery(sent.id)?.membersDelivered, 1)

    // what Alice sends from the laptop comes from Alice, and her phone shows it as sent
    const reply = await laptopChat.send(bob.address, text('got it, from my laptop'))
    assert.ok(reply.envelopes.some(e => e.person === alice.address && e.device === alice.address), 'a copy for the phone')
    await waitFor(() => bobBox.messages.length === 1, 'Bob to get the reply', DEADLINE)
    assert.deepEqual({ from: bobBox.messages[0].from, device: bobBox.messages[0].device, text: read(bobBox.messages[0]) },
      { from: alice.address, device: laptop.device.address, text: 'got it, from my laptop' })
    await waitFor(() => phoneBox.messages.length === 2, 'the phone to get the copy', DEADLINE)
    assert.deepEqual({ outgoing: phoneBox.messages[1].outgoing, to: phoneBox.messages[1].to, text: read(phoneBox.messages[1]) },
      { outgoing: true, to: bob.address, text: 'got it, from my laptop' })
    assert.deepEqual([phoneBox.errors, bobBox.errors, laptopBox.errors], [[], [], []])
  })

  it('tells a laptop linked after Alice left a group that she left it (what drops a late change of it there)', async () => {
    nodes = await startRing(4)
    const phone = await open(nodes[0], alice, inbox())
    const bobChat = await open(nodes[2], bob, inbox())
    const { group } = await bobChat.groups.create('g', [alice.address])
    await waitFor(() => phone.groups.get(group.id) != null, 'the phone to get the invitation', DEADLINE)
    await phone.groups.leave(group.id)

    const laptop = await linkLaptop(phone, nodes[1])
    const laptopBox = inbox()
    const laptopStore = new MemoryChatStore()
    laptopBox.options.store = laptopStore
    const laptopChat = await open(nodes[3], laptop, laptopBox)
    // the groups left, as the laptop keeps them (what drops an admin's late change of one)
    const left = async (): Promise<string[]> => {
      const [entry] = (await laptopStore.entries('')).filter(([key]) => key.endsWith('groups-left'))
      return entry == null ? [] : JSON.parse(entry[1])
    }
    await waitFor(async () => (await left()).includes(group.id), 'the laptop to learn the group Alice left', DEADLINE)
    assert.deepEqual(laptopChat.groups.list(), [])
    assert.deepEqual(laptopBox.errors, [])
  })

  it('seals nothing to a device removed from the list, and refuses what it still sends as Alice', async () => {
    nodes = await startRing(6)
    const phoneBox = inbox()
    const phone = await open(nodes[0], alice, phoneBox)
    const laptop = await linkLaptop(phone, nodes[1])
    const laptopBox = inbox()
    const laptopChat = await open(nodes[1], laptop, laptopBox)
    const bobBox = inbox()
    const bobChat = await open(nodes[2], bob, bobBox)

    await bobChat.send(alice.address, text('before'))
    await waitFor(() => laptopBox.messages.length === 1 && phoneBox.messages.length === 1, 'both devices to get the first message', DEADLINE)
    await laptopChat.ack([laptopBox.messages[0].id])
    await waitFor(async () => await heldFor(nodes, laptop.device.publicKey) === 0, 'the laptop\'s mailbox to be empty', DEADLINE)

    const left = await phone.devices.remove(laptop.device.address)
    assert.deepEqual(left.map(d => d.address), [alice.address])
    assert.deepEqual((await nodes[5].mailbox.devices(alice.address)).map(d => d.address), [alice.address], 'the ring holds the new list')

    const after = await bobChat.send(alice.address, text('after'))
    assert.deepEqual(after.envelopes.filter(e => e.person === alice.address).map(e => e.device), [alice.address], 'sealed to the phone alone')
    await waitFor(() => phoneBox.messages.length === 2, 'the phone to get the second message', DEADLINE)
    assert.equal(await heldFor(nodes, laptop.device.publicKey), 0, 'nothing waits in the removed laptop\'s mailbox')
    assert.deepEqual(texts(laptopBox), ['before'])

    // the removed laptop still has its keys, but speaks for Alice no more: Bob refuses it
    await laptopChat.send(bob.address, text('still me?'))
    await waitFor(() => bobBox.errors.some(err => err instanceof VerificationError), 'Bob to refuse the removed device', DEADLINE)
    assert.deepEqual(bobBox.messages, [])
  })

  it('links nothing the phone refuses, and the list keeps its one device', async () => {
    nodes = await startRing(4)
    const phone = await open(nodes[0], alice, inbox())
    const offer = await phone.devices.offerLink({ onRequest: () => false })
    const pending = await nodes[1].mailbox.requestLink(offer.link, { name: 'stranger', ttlMs: 60_000 })
    await assert.rejects(offer.done, LinkRefusedError)
    await pending.cancel()
    await assert.rejects(pending.account, LinkRefusedError)
    assert.deepEqual((await nodes[2].mailbox.devices(alice.address)).map(d => d.address), [alice.address])
  })
})
