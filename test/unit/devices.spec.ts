import assert from 'node:assert/strict'
import { ChatFrame, DeviceList } from '../../src/protocol/generated/chat.js'
import { MAX_CACHED_DEVICE_LISTS, MAX_DEVICES, MAX_DEVICE_NAME_BYTES, LINK_PREFIX, VERIFIED_DEVICES_MAX_AGE, DEVICE_LIST_REFRESH_INTERVAL } from '../../src/devices/constants.js'
import { decodeDeviceList, encodeDeviceList, deviceInfo } from '../../src/devices/device-list.js'
import { DeviceLists } from '../../src/devices/device-lists.js'
import { decodeLink, encodeLink, MAX_LINK_LENGTH } from '../../src/devices/link-text.js'
import { linkedAccount } from '../../src/devices/account.js'
import { decodeFrame, encodeFrame } from '../../src/mailbox/frames.js'
import { InvalidMessageError, InvalidOptionsError, InvalidRecordError, QuotaExceededError, createIdentity } from '../../src/index.js'
import type { Identity } from '../../src/index.js'
import type { PublicKey } from '../../src/mailbox/public-key.js'
import type { ResolvedRecord } from '../../src/owned/owned-records.js'

async function keys (count: number): Promise<Identity[]> {
  return Promise.all(Array.from({ length: count }, async () => createIdentity()))
}

/** Device lists over an in-memory stand-in for the ring's owned records */
function listsInMemory (now: () => number): { lists: DeviceLists, resolves: () => number } {
  const records = new Map<string, ResolvedRecord>()
  let resolves = 0
  const lists = new DeviceLists({
    now,
    resolve: async (owner: PublicKey) => { resolves++; return records.get(owner.address) },
    publish: async (identity, _name, value) => {
      const seq = (records.get(identity.address)?.seq ?? 0) + 1
      records.set(identity.address, { value, seq, publishedAt: now() })
      return { seq, replicas: 3 }
    }
  })
  return { lists, resolves: () => resolves }
}

describe('device lists, links and frames', () => {
  it('refuses a device list over MAX_DEVICES, with a long name, a device twice, or another person\'s key first', async () => {
    const [person, ...others] = await keys(MAX_DEVICES + 1)
    const full = [person, ...others].map(d => deviceInfo(d.publicKey, '', 1))
    const encodeRaw = (devices: typeof full): Uint8Array => DeviceList.encode({ devices: devices.map(d => ({ key: d.publicKey.bytes, name: d.name, addedAt: d.addedAt })) })
    assert.equal(decodeDeviceList(person.publicKey, encodeRaw(full.slice(0, MAX_DEVICES))).length, MAX_DEVICES)
    const overWhileDecoding = (err: Error): boolean => (err.cause as Error | undefined)?.name === 'MaxLengthError' && err.message.includes(`at most ${MAX_DEVICES} devices`)
    assert.throws(() => decodeDeviceList(person.publicKey, encodeRaw(full)), (err: Error) => err instanceof InvalidRecordError && overWhileDecoding(err))
    assert.throws(() => encodeDeviceList(person.publicKey, full), (err: Error) => err instanceof InvalidOptionsError && overWhileDecoding(err.cause as Error))
    const named = (name: string): typeof full => [full[0], { ...full[1], name }]
    assert.equal(decodeDeviceList(person.publicKey, encodeRaw(named('x'.repeat(MAX_DEVICE_NAME_BYTES))))[1].name.length, MAX_DEVICE_NAME_BYTES)
    assert.throws(() => decodeDeviceList(person.publicKey, encodeRaw(named('x'.repeat(MAX_DEVICE_NAME_BYTES + 1)))), InvalidRecordError)
    assert.throws(() => decodeDeviceList(person.publicKey, encodeRaw([full[0], full[1], full[1]])), InvalidRecordError)
    assert.throws(() => decodeDeviceList(person.publicKey, encodeRaw([full[1], full[0]])), InvalidRecordError)
    assert.throws(() => decodeDeviceList(person.publicKey, encodeRaw([])), InvalidRecordError)
    assert.throws(() => decodeDeviceList(person.publicKey, Uint8Array.of(0xff)), InvalidRecordError)
  })

  it('adds up to MAX_DEVICES, refuses one more, and never removes the identity\'s own key', async () => {
    const [person, ...others] = await keys(MAX_DEVICES + 1)
    const { lists } = listsInMemory(Date.now)
    assert.deepEqual((await lists.of(person.publicKey)).map(d => d.address), [person.address], 'a person who never published has one device')
    for (const device of others.slice(0, MAX_DEVICES - 1)) {
      await lists.add(person, device.publicKey, 'd')
    }
    assert.equal((await lists.of(person.publicKey)).length, MAX_DEVICES)
    await assert.rejects(lists.add(person, others[MAX_DEVICES - 1].publicKey, 'one too many'), QuotaExceededError)
    await assert.rejects(lists.remove(person, person.publicKey), InvalidOptionsError)
    assert.equal((await lists.remove(person, others[0].publicKey)).length, MAX_DEVICES - 1)
  })

  it('believes a device not on the cached list only after resolving again, at most once per DEVICE_LIST_REFRESH_INTERVAL', async () => {
    const [person, laptop, stranger] = await keys(3)
    let clock = 1_000_000
    const { lists, resolves } = listsInMemory(() => clock)
    assert.equal(await lists.includes(person.publicKey, stranger.publicKey), false)
    const before = resolves()
    assert.equal(await lists.includes(person.publicKey, stranger.publicKey), false)
    assert.equal(resolves(), before, 'a stranger again within the interval resolves nothing')
    await lists.add(person, laptop.publicKey, 'laptop')
    clock += DEVICE_LIST_REFRESH_INTERVAL + 1
    assert.equal(await lists.includes(person.publicKey, laptop.publicKey), true)
    await lists.remove(person, laptop.publicKey)
    clock += VERIFIED_DEVICES_MAX_AGE + 1
    assert.equal(await lists.includes(person.publicKey, laptop.publicKey), false, 'a removed device is refused once the cache is old')
  })

  it('keeps the lists of MAX_CACHED_DEVICE_LISTS people: the one used longest ago is resolved again once one more is kept, the next is not', async () => {
    const [first, second, stranger, ...others] = await keys(MAX_CACHED_DEVICE_LISTS + 2)
    // the clock stands still: a kept list is believed, and a stranger refused, without resolving
    const { lists, resolves } = listsInMemory(() => 1_000_000)
    const resolvesFor = async (person: Identity): Promise<number> => {
      const before = resolves()
      assert.equal(await lists.includes(person.publicKey, stranger.publicKey), false)
      return resolves() - before
    }
    assert.equal(await resolvesFor(first), 1)
    assert.equal(await resolvesFor(second), 1)
    assert.equal(await resolvesFor(second), 0, 'a kept list')
    // with `second` and these, MAX_CACHED_DEVICE_LISTS lists after `first`
    for (const other of others) {
      await lists.of(other.publicKey)
    }
    assert.equal(others.length + 1, MAX_CACHED_DEVICE_LISTS)

    assert.equal(await resolvesFor(second), 0, 'the list used second longest ago is kept')
    assert.equal(await resolvesFor(first), 1, 'the list used longest ago was forgotten')
  })

  it('reads a link offer back, and refuses one damaged, too long, or with another prefix', async () => {
    const [person, linkKey] = await keys(2)
    const link = encodeLink({ person: person.publicKey, linkKey: linkKey.publicKey })
    assert.ok(link.startsWith(LINK_PREFIX) && link.length <= MAX_LINK_LENGTH)
    const back = decodeLink(link)
    assert.ok(back.person.equals(person.publicKey) && back.linkKey.equals(linkKey.publicKey))
    const last = link.at(-1) === '2' ? '3' : '2'
    assert.throws(() => decodeLink(link.slice(0, -1) + last), InvalidOptionsError)
    assert.throws(() => decodeLink(link + '2'.repeat(MAX_LINK_LENGTH - link.length + 1)), InvalidOptionsError)
    assert.throws(() => decodeLink(link.replace(LINK_PREFIX, 'chord-lnk:')), InvalidOptionsError)
    assert.throws(() => decodeLink(person.address), InvalidOptionsError)
  })

  it('decodes frames with exactly one content, and refuses bad keys, ids and versions', async () => {
    const [person, bob] = await keys(2)
    const frame = decodeFrame(encodeFrame({ person: person.publicKey, content: { type: 'sent', to: bob.publicKey, body: Uint8Array.of(1) } }))
    assert.ok(frame.person?.equals(person.publicKey))
    assert.equal(frame.content.type, 'sent')
    const two = ChatFrame.encode({ direct: { body: Uint8Array.of(1) }, linkGrant: {} })
    // protobuf keeps the last member of a oneof: one content, never two
    assert.equal(decodeFrame(two).content.type, 'link-grant')
    assert.throws(() => decodeFrame(ChatFrame.encode({})), InvalidMessageError)
    assert.throws(() => decodeFrame(ChatFrame.encode({ person: Uint8Array.of(1, 2), direct: { body: Uint8Array.of(1) } })), InvalidMessageError)
    assert.throws(() => decodeFrame(ChatFrame.encode({ groupMessage: { groupId: new Uint8Array(15), version: 1, body: Uint8Array.of(1) } })), InvalidMessageError)
    assert.throws(() => decodeFrame(ChatFrame.encode({ groupMessage: { groupId: new Uint8Array(16), version: 0, body: Uint8Array.of(1) } })), InvalidMessageError)
    assert.throws(() => decodeFrame(ChatFrame.encode({ groupUpdate: { state: new Uint8Array(0) } })), InvalidMessageError)
    assert.throws(() => decodeFrame(Uint8Array.of(0xff, 0xff)), InvalidMessageError)
  })

  it('refuses a linked account whose device is the person\'s own key', async () => {
    const [person] = await keys(1)
    assert.throws(() => linkedAccount(person.address, person), InvalidOptionsError)
  })
})
