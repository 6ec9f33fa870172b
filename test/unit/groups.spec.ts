import assert from 'node:assert/strict'
import { accountOf } from '../../src/devices/account.js'
import { MAX_GROUP_MEMBERS, MAX_GROUP_NAME_BYTES } from '../../src/groups/constants.js'
import { Groups } from '../../src/groups/groups.js'
import { ForbiddenError, InvalidOptionsError, createIdentity } from '../../src/index.js'
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
})
