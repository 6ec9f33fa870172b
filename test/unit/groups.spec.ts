import assert from 'node:assert/strict'
import { accountOf } from '../../src/devices/account.js'
import { GROUP_ID_LENGTH, MAX_GROUP_MEMBERS, MAX_GROUP_NAME_BYTES } from '../../src/groups/constants.js'
import { Groups } from '../../src/groups/groups.js'
import { ForbiddenError, InvalidMessageError, InvalidOptionsError, createIdentity } from '../../src/index.js'
import { GroupState as WireGroupState } from '../../src/protocol/generated/chat.js'
import type { PersonDelivery } from '../../src/devices/fan-out.js'
import type { Identity } from '../../src/index.js'

/** A person's groups whose sends are recorded, not made */
function groupsOf (identity: Identity): { groups: Groups, sent: PersonDelivery[][] } {
  const sent: PersonDelivery[][] = []
  const groups = new Groups({
    account: accountOf(identity),
    fanOut: { send: async (_sender, deliveries) => { sent.push(deliveries); return [] } },
    store: { load: async () => [], save: async () => {} }
  })
  return { groups, sent }
}

describe('groups as one device holds them', () => {
  it('refuses a member removed since, whatever version its message names, and lets a message under a version not known yet wait', async () => {
    const [admin, member, stranger] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
    const { groups, sent } = groupsOf(admin)
    const { group } = await groups.create('g', [member.address])
    assert.deepEqual(sent[0].map(d => d.person.address), [admin.address, member.address], 'the state goes to every member (the admin\'s other devices too)')
    assert.equal(groups.admit(member.publicKey, group.id, 1), 'deliver')
    await groups.change(group.id, { type: 'remove', member: member.publicKey })
    assert.deepEqual(sent[1].map(d => d.person.address), [admin.address, member.address], 'a removal is told to the removed member too')
    assert.throws(() => groups.admit(member.publicKey, group.id, 1), ForbiddenError)
    assert.throws(() => groups.admit(member.publicKey, group.id, 2), ForbiddenError)
    assert.equal(groups.admit(stranger.publicKey, group.id, 3), 'wait', 'perhaps the change that adds it')
    assert.deepEqual(groups.messageTo(group.id, Uint8Array.of(1)).deliveries.map(d => d.person.address), [admin.address])
  })

  it('refuses a group over MAX_GROUP_MEMBERS, a name over MAX_GROUP_NAME_BYTES, and a change that leaves no admin', async () => {
    const [admin, member] = await Promise.all([createIdentity(), createIdentity()])
    const { groups } = groupsOf(admin)
    const others = await Promise.all(Array.from({ length: MAX_GROUP_MEMBERS }, async () => (await createIdentity()).address))
    await assert.rejects(groups.create('big', others), InvalidOptionsError)
    assert.equal((await groups.create('full', others.slice(1))).group.members.length, MAX_GROUP_MEMBERS)
    await assert.rejects(groups.create('x'.repeat(MAX_GROUP_NAME_BYTES + 1), []), InvalidOptionsError)
    const { group } = await groups.create('x'.repeat(MAX_GROUP_NAME_BYTES), [member.address])
    await assert.rejects(groups.change(group.id, { type: 'remove', member: admin.publicKey }), InvalidOptionsError)
    await assert.rejects(groups.change(group.id, { type: 'admin', member: admin.publicKey, admin: false }), InvalidOptionsError)
  })

  it('refuses, while decoding, a state received with more than MAX_GROUP_MEMBERS members or admins, and keeps nothing of it', async () => {
    const [admin, me] = await Promise.all([createIdentity(), createIdentity()])
    const saves: number[] = []
    const groups = new Groups({
      account: accountOf(me),
      fanOut: { send: async () => [] },
      store: { load: async () => [], save: async () => { saves.push(1) } }
    })
    const state = (members: Array<Uint8Array<ArrayBuffer>>, admins: number[]): Uint8Array => WireGroupState.encode({
      groupId: new Uint8Array(GROUP_ID_LENGTH).fill(1),
      version: 1,
      previous: new Uint8Array(0),
      name: 'big',
      members,
      admins,
      changedBy: admin.publicKey.bytes,
      changedAt: 1
    })
    const sender = { person: admin.publicKey, device: admin.publicKey }
    const overWhileDecoding = (err: Error): boolean => err instanceof InvalidMessageError && (err.cause as Error | undefined)?.name === 'MaxLengthError'
    // the keys past the first two are never read: the count refuses the state first
    const members = [admin.publicKey.bytes, me.publicKey.bytes, ...Array.from({ length: MAX_GROUP_MEMBERS - 1 }, (_, i) => Uint8Array.of(i))]
    await assert.rejects(groups.receiveState(sender, state(members, [0])), overWhileDecoding)
    await assert.rejects(groups.receiveState(sender, state(members.slice(0, 2), Array.from({ length: MAX_GROUP_MEMBERS + 1 }, (_, i) => i))), overWhileDecoding)
    assert.deepEqual(groups.list(), [])
    assert.deepEqual(saves, [])
    assert.equal((await groups.receiveState(sender, state(members.slice(0, 2), [0])))?.members.length, 2, 'the same state within the limits is taken')
  })
})
