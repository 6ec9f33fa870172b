import assert from 'node:assert/strict'
import { toString as toHex } from 'uint8arrays/to-string'
import { accountOf } from '../../src/devices/account.js'
import { ADMINS_AFTER_A_LEAVE, GROUP_ID_LENGTH, MAX_GROUP_MEMBERS, MAX_GROUP_NAME_BYTES, MAX_GROUPS, MAX_LEFT_GROUPS, MAX_LEFT_GROUPS_TOLD } from '../../src/groups/constants.js'
import { decodeGroupState } from '../../src/groups/group-state.js'
import { Groups } from '../../src/groups/groups.js'
import { ForbiddenError, InvalidMessageError, InvalidOptionsError, LookupFailedError, createIdentity } from '../../src/index.js'
import { decodeFrame } from '../../src/mailbox/frames.js'
import { GroupState as WireGroupState } from '../../src/protocol/generated/chat.js'
import { MemoryGroupStore } from '../helpers/group-store.js'
import { deliverFrom, deliverLast, groupsOf, leaveHeardByAnHeir, stopAsItBecomesAdmin } from '../helpers/recorded-groups.js'
import { waitFor } from '../helpers/wait-for.js'
import type { PersonDelivery } from '../../src/devices/fan-out.js'
import type { GroupInfo } from '../../src/groups/groups.js'

/** The frame types in one send, with the people they went to */
function frameTypes (deliveries: PersonDelivery[] | undefined): string[] {
  return (deliveries ?? []).map(d => `${decodeFrame(d.body).content.type} → ${d.person.fingerprint}`)
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
    const { groups, store } = groupsOf(me)
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
    assert.equal(store.states.size, 0)
    assert.equal((await groups.receiveState(sender, state(members.slice(0, 2), [0])))?.members.length, 2, 'the same state within the limits is taken')
  })
})

describe('leaving a group', () => {
  it('a member asks the others to remove them and forgets the group; the admin removes them, and an admin\'s change sent before that is dropped', async () => {
    const [a, b, c] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
    const admin = groupsOf(a)
    const member = groupsOf(b)
    const other = groupsOf(c)
    const { group } = await admin.groups.create('g', [b.address, c.address])
    await deliverLast(admin, member)
    await deliverLast(admin, other)
    await admin.groups.change(group.id, { type: 'rename', name: 'g2' })
    await deliverLast(admin, other)

    const left = await member.groups.leave(group.id)
    assert.equal(left.group.member, false)
    assert.deepEqual(left.group.members, [a.address, c.address], 'the group as the others hold it, without the leaver')
    assert.deepEqual(frameTypes(member.sent.at(-1)), [a, c, b].map(person => `group-leave → ${person.fingerprint}`), 'the other members (whoever is admin when it arrives acts) and the person\'s other devices are told')
    assert.deepEqual(member.groups.list(), [])
    assert.deepEqual([...member.store.states.keys()], [], 'its states are dropped from the store')
    assert.deepEqual(member.store.left, [group.id])
    assert.equal(member.changes.at(-1)?.member, false, 'the application is told')

    assert.equal(await deliverLast(admin, member), undefined, 'the rename, sent before the admin saw the leave, does not bring it back')
    assert.equal(member.groups.admit(a.publicKey, group.id, 2), 'drop', 'nor does a message')
    assert.deepEqual(member.groups.list(), [])
    assert.equal(await deliverLast(member, other), undefined, 'a member who is no admin does nothing with it')

    const removed = await deliverLast(member, admin)
    assert.deepEqual(removed?.members, [a.address, c.address], 'the admin removed them')
    assert.equal((await deliverLast(admin, other))?.members.length, 2, 'and told the others')
  })

  it('an admin who leaves removes themselves and makes admins of the members longest in the group without the role: two when the last admin leaves', async () => {
    const [a, b, c] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
    const admin = groupsOf(a)
    const { group } = await admin.groups.create('g', [b.address, c.address])
    const { envelopes } = await admin.groups.leave(group.id)
    assert.deepEqual(frameTypes(admin.sent.at(-2)), [a, b, c].map(person => `group-update → ${person.fingerprint}`), 'the change goes to every member')
    assert.deepEqual(frameTypes(admin.sent.at(-1)), [b, c, a].map(person => `group-leave → ${person.fingerprint}`), 'the leave to every other member (whoever is admin of the state that wins removes them), and to the admin\'s own other devices')
    assert.equal(envelopes.length, 6)
    assert.equal(admin.groups.get(group.id), undefined)
    const member = groupsOf(b)
    await deliverFrom(admin, member, admin.sent[0])
    const after = await deliverFrom(admin, member, admin.sent.at(-2))
    assert.deepEqual([after?.members, after?.admins, after?.admin], [[b.address, c.address], [b.address, c.address], true], `the two members after the creator are admins now (ADMINS_AFTER_A_LEAVE = ${ADMINS_AFTER_A_LEAVE})`)

    // where every other member is an admin already, nobody is made one
    const [d, e] = await Promise.all([createIdentity(), createIdentity()])
    const first = groupsOf(d)
    const { group: pair } = await first.groups.create('pair', [e.address])
    await first.groups.change(pair.id, { type: 'admin', member: e.publicKey, admin: true })
    await first.groups.leave(pair.id)
    const second = groupsOf(e)
    for (const sent of first.sent.slice(0, 2)) {
      await deliverFrom(first, second, sent)
    }
    assert.deepEqual((await deliverFrom(first, second, first.sent.at(-2)))?.admins, [e.address])
  })

  it('two admins who leave at once leave the group to the same heir, who removes whichever of them the fork kept, whatever order their frames come in', async () => {
    const [a, b, c, d] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity()])
    // the fork's winner is the lower hash: groups are made until each admin's leave has won once
    const winners = new Set<string>()
    for (let tries = 0; tries < 40 && winners.size < 2; tries++) {
      const first = groupsOf(a)
      const { group } = await first.groups.create('g', [b.address, c.address, d.address])
      await first.groups.change(group.id, { type: 'admin', member: b.publicKey, admin: true })
      const second = groupsOf(b)
      for (const sent of first.sent) {
        await deliverFrom(first, second, sent)
      }
      const setUp = first.sent.length
      await Promise.all([first.groups.leave(group.id), second.groups.leave(group.id)])
      const frames = [
        { from: first, deliveries: first.sent[setUp] },
        { from: first, deliveries: first.sent[setUp + 1] },
        { from: second, deliveries: second.sent[0] },
        { from: second, deliveries: second.sent[1] }
      ]
      assert.deepEqual(frames.map(({ deliveries }) => decodeFrame(deliveries[0].body).content.type), ['group-update', 'group-leave', 'group-update', 'group-leave'])
      const [byA, byB] = [frames[0], frames[2]].map(({ deliveries }) => {
        const { content } = decodeFrame(deliveries[0].body)
        assert.equal(content.type, 'group-update')
        return toHex(decodeGroupState(content.state).hash, 'base16')
      })
      winners.add(byA < byB ? 'a' : 'b')
      for (const order of permutations([0, 1, 2, 3])) {
        const heir = groupsOf(c)
        for (const sent of first.sent.slice(0, setUp)) {
          await deliverFrom(first, heir, sent)
        }
        for (const i of order) {
          await deliverFrom(frames[i].from, heir, frames[i].deliveries)
        }
        const held = heir.groups.get(group.id)
        assert.deepEqual([held?.members, held?.admins], [[c.address, d.address], [c.address]], `frames in the order ${order.join(', ')}`)
      }
    }
    assert.equal(winners.size, 2, 'each admin\'s leave won the fork at least once')
  })

  it('an heir who leaves as the last admin names it leaves the other heir, who removes it, whichever frame comes first', async () => {
    const [a, h, m, n] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity()])
    for (const leaveFirst of [true, false]) {
      const admin = groupsOf(a)
      const { group } = await admin.groups.create('g', [h.address, m.address, n.address])
      const heir = groupsOf(h)
      await deliverLast(admin, heir)
      // the two leaves cross: neither saw the other's
      await Promise.all([admin.groups.leave(group.id), heir.groups.leave(group.id)])
      const other = groupsOf(m)
      await deliverFrom(admin, other, admin.sent[0])
      const frames = leaveFirst
        ? [{ from: heir, sent: heir.sent[0] }, { from: admin, sent: admin.sent[1] }]
        : [{ from: admin, sent: admin.sent[1] }, { from: heir, sent: heir.sent[0] }]
      for (const { from, sent } of frames) {
        await deliverFrom(from, other, sent)
      }
      const held = other.groups.get(group.id)
      assert.deepEqual([held?.members, held?.admins], [[m.address, n.address], [m.address]], `the heir's leave ${leaveFirst ? 'first' : 'second'}`)
    }
  })

  it('an admin whose leave lost a fork to another admin\'s change is removed by whoever is admin of the state that won', async () => {
    const [a, b, h, m] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity()])
    // b removes h (the heir a's leave names) while a leaves; until b's removal wins the fork
    for (let tries = 0; tries < 40; tries++) {
      const first = groupsOf(a)
      const { group } = await first.groups.create('g', [b.address, h.address, m.address])
      await first.groups.change(group.id, { type: 'admin', member: b.publicKey, admin: true })
      const second = groupsOf(b)
      const last = groupsOf(m)
      for (const sent of first.sent) {
        await deliverFrom(first, second, sent)
        await deliverFrom(first, last, sent)
      }
      const setUp = first.sent.length
      await Promise.all([first.groups.leave(group.id), second.groups.change(group.id, { type: 'remove', member: h.publicKey })])
      const [byA, byB] = [first.sent[setUp], second.sent[0]].map(deliveries => {
        const { content } = decodeFrame(deliveries[0].body)
        assert.equal(content.type, 'group-update')
        return toHex(decodeGroupState(content.state).hash, 'base16')
      })
      if (byA < byB) {
        continue
      }
      // then b leaves the state its removal made: m is b's heir
      await second.groups.leave(group.id)
      for (const { from, deliveries } of [
        { from: first, deliveries: first.sent[setUp] },
        { from: first, deliveries: first.sent[setUp + 1] },
        { from: second, deliveries: second.sent[0] },
        { from: second, deliveries: second.sent[1] },
        { from: second, deliveries: second.sent[2] }
      ]) {
        await deliverFrom(from, last, deliveries)
      }
      const held = last.groups.get(group.id)
      assert.deepEqual([held?.members, held?.admins], [[m.address], [m.address]], 'a, whose leave lost, and b are both removed')
      return
    }
    assert.fail('b\'s removal never won the fork')
  })

  it('an heir removes a leaver only while they stayed in the group: not one an admin removed and added again meanwhile', async () => {
    const { admin, heir, member, group } = await leaveHeardByAnHeir()
    const [b, c] = [heir.identity, member.identity]
    // c's leave reaches the admin too
    await deliverLast(member, admin)
    await deliverLast(admin, heir)
    await admin.groups.change(group.id, { type: 'add', member: c.publicKey })
    await deliverLast(admin, heir)
    await admin.groups.leave(group.id)
    const now = await deliverFrom(admin, heir, admin.sent.at(-2))
    assert.deepEqual(now?.members, [b.address, c.address], 'c, back by the admin\'s choice, stays')
  })

  it('keeps the leaves it heard across a restart: an heir that restarts before it is an admin still removes the leaver once it is one', async () => {
    const { admin, heir, group } = await leaveHeardByAnHeir()
    const b = heir.identity
    // the admin never heard c's leave; its own leave makes b an admin
    const restarted = groupsOf(b, { store: heir.store })
    await restarted.groups.load()
    await admin.groups.leave(group.id)
    const now = await deliverFrom(admin, restarted, admin.sent.at(-2))
    assert.deepEqual([now?.members, now?.admins], [[b.address], [b.address]], 'the restarted heir removed c, whose leave it heard before')
  })

  it('an heir stopped as it became an admin, before it removed the leaver, removes them at its next start', async () => {
    const { admin, heir, member, group } = await leaveHeardByAnHeir()
    const [b, c] = [heir.identity, member.identity.address]
    await stopAsItBecomesAdmin(admin, heir, group)

    const restarted = groupsOf(b, { store: heir.store })
    await restarted.groups.load()
    assert.deepEqual(restarted.groups.get(group.id)?.members, [b.address, c], 'the leaver is still in the group as saved')
    await restarted.groups.actOnHeard()

    const now = restarted.groups.get(group.id)
    assert.deepEqual([now?.members, now?.admins], [[b.address], [b.address]], 'c, whose leave b heard, removed at start')
    assert.deepEqual(restarted.sent.at(-1)?.map(d => d.person.address).sort(), [b.address, c].sort(), 'and told')
  })

  it('stops acting on heard leaves once its signal is aborted (the chat closed): no removal is saved that nobody is told of', async () => {
    const [a, b, c, d] = await Promise.all([createIdentity(), createIdentity(), createIdentity(), createIdentity()])
    const admin = groupsOf(a)
    const { group } = await admin.groups.create('g', [b.address, c.address, d.address])
    const [heir, third, fourth] = [groupsOf(b), groupsOf(c), groupsOf(d)]
    for (const member of [heir, third, fourth]) {
      await deliverLast(admin, member)
    }
    for (const leaver of [third, fourth]) {
      await leaver.groups.leave(group.id)
      await deliverLast(leaver, heir)
    }
    await stopAsItBecomesAdmin(admin, heir, group)

    const closing = new AbortController()
    let sends = 0
    const restarted = new Groups({
      account: accountOf(b),
      store: heir.store,
      // the chat closes while the first removal is told
      fanOut: { send: async (_sender, deliveries) => { sends++; closing.abort(); return deliveries.map(delivery => ({ person: delivery.person.address, replicas: 3 })) } }
    })
    await restarted.load()
    const before = restarted.get(group.id)
    await restarted.actOnHeard({ signal: closing.signal })

    const after = restarted.get(group.id)
    assert.equal(sends, 1)
    assert.deepEqual([after?.version, after?.members.length], [(before?.version ?? 0) + 1, (before?.members.length ?? 0) - 1], 'one removal, the one told')
  })

  it('a heard leave saved wrongly is reported and skipped at load, the group kept', async () => {
    const [a, b] = await Promise.all([createIdentity(), createIdentity()])
    const admin = groupsOf(a)
    const { group } = await admin.groups.create('g', [b.address])
    const member = groupsOf(b)
    await deliverLast(admin, member)
    member.store.heard.set(group.id, [{ person: 'not an address', version: 1 }, { person: a.address, version: -1 }])
    const errors: unknown[] = []
    const restarted = new Groups({ account: accountOf(b), fanOut: { send: async () => [] }, store: member.store, onError: err => { errors.push(err) } })
    await restarted.load()
    assert.equal(restarted.get(group.id)?.version, 1)
    assert.equal(errors.length, 2, 'each bad leave reported')
    assert.equal(member.store.heard.has(group.id), false, 'and gone from the store: reported once')
  })

  it('takes a leave only from a member, for a group this device administers; from the person\'s own device it forgets the group', async () => {
    const [a, b, stranger] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
    const admin = groupsOf(a)
    const { group } = await admin.groups.create('g', [b.address])
    assert.equal(await admin.groups.receiveLeave({ person: stranger.publicKey, device: stranger.publicKey }, group.id), undefined)
    assert.equal(admin.groups.get(group.id)?.version, 1, 'a stranger removes nobody')
    const otherDevice = { person: a.publicKey, device: b.publicKey }
    const sends = admin.sent.length
    const outcome = await admin.groups.receiveLeave(otherDevice, group.id)
    assert.ok(outcome !== 'wait' && outcome?.member === false)
    // this device, the only admin here, may be behind the other one: a change on its state could undo later ones
    assert.equal(admin.sent.length, sends, 'no change is made, nothing is sent')
    assert.equal(admin.groups.get(group.id), undefined)
    assert.deepEqual(admin.store.left, [group.id])
    // a group not known here waits for its state; one left does not
    const member = { person: b.publicKey, device: b.publicKey }
    assert.equal(await admin.groups.receiveLeave(member, 'ab'.repeat(GROUP_ID_LENGTH)), 'wait')
    assert.equal(await admin.groups.receiveLeave(member, group.id), undefined)
  })

  it('forgets the group even when its leave reached nobody (an admin cannot keep a person in), and the envelopes say so', async () => {
    const [a, b] = await Promise.all([createIdentity(), createIdentity()])
    const admin = groupsOf(a)
    const member = groupsOf(b, { unreachable: [a] })
    await admin.groups.create('g', [b.address])
    const group = await deliverLast(admin, member)
    assert.ok(group != null)
    const { envelopes } = await member.groups.leave(group.id)
    assert.ok(envelopes.find(envelope => envelope.person === a.address)?.error instanceof LookupFailedError)
    assert.equal(member.groups.get(group.id), undefined)
    assert.deepEqual(member.store.left, [group.id])
  })

  it('drops a state that arrives while the leave is being sent, rather than take it as an invitation', async () => {
    const [a, b] = await Promise.all([createIdentity(), createIdentity()])
    const admin = groupsOf(a)
    let letSend = (): void => {}
    let sending = false
    const member = new Groups({
      account: accountOf(b),
      fanOut: {
        send: async () => {
          sending = true
          await new Promise<void>(resolve => { letSend = resolve })
          return []
        }
      },
      store: new MemoryGroupStore()
    })
    const { group } = await admin.groups.create('g', [b.address])
    const invitation = admin.sent.at(-1)?.find(d => d.person.equals(b.publicKey))
    assert.ok(invitation != null)
    const sender = { person: a.publicKey, device: a.publicKey }
    const stateOf = (body: Uint8Array): Uint8Array => { const { content } = decodeFrame(body); assert.equal(content.type, 'group-update'); return content.state }
    await member.receiveState(sender, stateOf(invitation.body))
    await admin.groups.change(group.id, { type: 'rename', name: 'renamed' })
    const rename = admin.sent.at(-1)?.find(d => d.person.equals(b.publicKey))
    assert.ok(rename != null)

    const leaving = member.leave(group.id)
    await waitFor(() => sending, 'the leave to be on its way')
    const arriving = member.receiveState(sender, stateOf(rename.body))
    letSend()
    await leaving
    assert.equal(await arriving, undefined)
    assert.equal(member.get(group.id), undefined, 'still left')
  })

  it('drops at the next start the states of a group left whose delete failed, rather than bring it back', async () => {
    const me = await createIdentity()
    const store = new MemoryGroupStore()
    store.remove = async () => { throw new Error('the disk is full') }
    const errors: unknown[] = []
    const person = new Groups({ account: accountOf(me), fanOut: { send: async () => [] }, store, onError: err => { errors.push(err) } })
    const { group } = await person.create('g', [])
    assert.equal((await person.leave(group.id)).group.left, true, 'left all the same')
    assert.equal(errors.length, 1)
    assert.equal(store.states.size, 1, 'its states are still stored')

    const restarted = groupsOf(me, { store: Object.assign(store, { remove: MemoryGroupStore.prototype.remove }) })
    await restarted.groups.load()
    assert.deepEqual(restarted.groups.list(), [])
    assert.equal(store.states.size, 0, 'and dropped now')
  })

  it('remembers the groups left across a restart, at most MAX_LEFT_GROUPS of them, the oldest forgotten first', async () => {
    const [me, admin] = await Promise.all([createIdentity(), createIdentity()])
    const person = groupsOf(me)
    const ids: string[] = []
    for (let i = 0; i < MAX_LEFT_GROUPS + 1; i++) {
      const { group } = await person.groups.create(`g${i}`, [])
      await person.groups.leave(group.id)
      ids.push(group.id)
    }
    assert.deepEqual(person.store.left, ids.slice(1))
    const again = groupsOf(me, { store: person.store })
    await again.groups.load()
    assert.equal(again.groups.admit(admin.publicKey, ids[1], 1), 'drop', 'a group left is still refused after a restart')
    assert.equal(again.groups.admit(admin.publicKey, ids[0], 1), 'wait', 'the oldest, past MAX_LEFT_GROUPS, is not remembered')
    // what a device newly linked is told: the last MAX_LEFT_GROUPS_TOLD, oldest first
    assert.deepEqual(again.groups.recentlyLeft(MAX_LEFT_GROUPS_TOLD), ids.slice(-MAX_LEFT_GROUPS_TOLD))
    assert.deepEqual(again.groups.recentlyLeft(0), [])
  })
})

describe('MAX_GROUPS', () => {
  it('refuses the invitation and the group made past MAX_GROUPS, keeping nothing of them, until the person leaves one', async () => {
    const [me, inviter, another] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
    const person = groupsOf(me)
    const admin = groupsOf(inviter)
    const nextAdmin = groupsOf(another)
    const joined: GroupInfo[] = []
    for (let i = 0; i < MAX_GROUPS; i++) {
      await admin.groups.create(`g${i}`, [me.address])
      const group = await deliverLast(admin, person)
      assert.ok(group != null)
      joined.push(group)
    }
    await nextAdmin.groups.create('one too many', [me.address])
    await assert.rejects(deliverLast(nextAdmin, person), (err: Error) => err instanceof ForbiddenError && err.message.includes(`${MAX_GROUPS} groups already`))
    await assert.rejects(person.groups.create('mine', []), InvalidOptionsError)
    assert.equal(person.groups.list().length, MAX_GROUPS)
    assert.equal(person.store.states.size, MAX_GROUPS)

    await person.groups.leave(joined[0].id)
    assert.equal((await deliverLast(nextAdmin, person))?.name, 'one too many', 'room again once one is left')
  })
})

/** Every order of `items` */
function permutations<T> (items: T[]): T[][] {
  if (items.length <= 1) {
    return [items]
  }
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map(rest => [item, ...rest]))
}
