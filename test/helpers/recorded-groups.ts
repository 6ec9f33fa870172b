/**
 * Groups of people whose devices send nothing: what each sends is recorded and handed to the others
 * by the test, as their mailboxes would
 */
import assert from 'node:assert/strict'
import { accountOf } from '../../src/devices/account.js'
import { decodeGroupState } from '../../src/groups/group-state.js'
import { Groups } from '../../src/groups/groups.js'
import { LookupFailedError, createIdentity } from '../../src/index.js'
import { decodeFrame } from '../../src/mailbox/frames.js'
import { MemoryGroupStore } from './group-store.js'
import type { PersonDelivery } from '../../src/devices/fan-out.js'
import type { GroupInfo, GroupStore } from '../../src/groups/groups.js'
import type { EnvelopeOutcome } from '../../src/mailbox/mailbox.js'
import type { Identity } from '../../src/index.js'

export interface RecordedGroups<Store extends GroupStore = MemoryGroupStore> {
  identity: Identity
  groups: Groups
  sent: PersonDelivery[][]
  store: Store
  changes: GroupInfo[]
}

/** A person's groups whose sends are recorded, not made (or fail, for `unreachable` people) */
export function groupsOf<Store extends GroupStore = MemoryGroupStore> (identity: Identity, options: { store?: Store, unreachable?: Identity[] } = {}): RecordedGroups<Store> {
  const sent: PersonDelivery[][] = []
  const changes: GroupInfo[] = []
  const store = options.store ?? new MemoryGroupStore() as GroupStore as Store
  const unreachable = new Set(options.unreachable?.map(person => person.address))
  const groups = new Groups({
    account: accountOf(identity),
    fanOut: {
      send: async (_sender, deliveries) => {
        sent.push(deliveries)
        return deliveries.map((d): EnvelopeOutcome => unreachable.has(d.person.address)
          ? { person: d.person.address, replicas: 0, error: new LookupFailedError('unreachable') }
          : { person: d.person.address, replicas: 3 })
      }
    },
    store,
    onChange: group => { changes.push(group) }
  })
  return { identity, groups, sent, store, changes }
}

/** Hand `to` the last frame `from` sent to `to`'s person, as its mailbox would */
export async function deliverLast (from: RecordedGroups<GroupStore>, to: RecordedGroups<GroupStore>): Promise<GroupInfo | undefined> {
  return deliverFrom(from, to, from.sent.flat().reverse())
}

/** Hand `to` the frame that `deliveries`, sent by `from`, holds for `to`'s person */
export async function deliverFrom (from: RecordedGroups<GroupStore>, to: RecordedGroups<GroupStore>, deliveries: PersonDelivery[] | undefined): Promise<GroupInfo | undefined> {
  const delivery = deliveries?.find(d => d.person.equals(to.identity.publicKey))
  assert.ok(delivery != null, 'a frame was sent to them')
  const { content } = decodeFrame(delivery.body)
  const sender = { person: from.identity.publicKey, device: from.identity.publicKey }
  switch (content.type) {
    case 'group-update': return to.groups.receiveState(sender, content.state)
    case 'group-leave': {
      const outcome = await to.groups.receiveLeave(sender, Buffer.from(content.groupId).toString('hex'))
      assert.notEqual(outcome, 'wait', 'the leave waits for a state')
      return outcome === 'wait' ? undefined : outcome
    }
    default: throw new Error(`not a group frame: ${content.type}`)
  }
}

/**
 * A group of an admin `a`, `b` (the heir, first after the admin) and `c`, where `c` left and its
 * leave reached only `b`, no admin yet
 */
export async function leaveHeardByAnHeir<Store extends GroupStore = MemoryGroupStore> (heirStore?: (heir: Identity) => Store): Promise<{ admin: RecordedGroups, heir: RecordedGroups<Store>, member: RecordedGroups, group: GroupInfo }> {
  const [a, b, c] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
  const admin = groupsOf(a)
  const { group } = await admin.groups.create('g', [b.address, c.address])
  const heir = groupsOf(b, { store: heirStore?.(b) })
  const member = groupsOf(c)
  await deliverLast(admin, heir)
  await deliverLast(admin, member)
  await member.groups.leave(group.id)
  assert.equal(await deliverLast(member, heir), undefined, 'no admin, b does nothing yet')
  return { admin, heir, member, group }
}

/**
 * The admin leaves, which makes `heir` an admin; `heir` saves that state and stops before it saves
 * the removal of the leaver it heard of (a crash, a failed write)
 */
export async function stopAsItBecomesAdmin (admin: RecordedGroups, heir: RecordedGroups<GroupStore>, group: GroupInfo): Promise<void> {
  const save = heir.store.save.bind(heir.store)
  heir.store.save = async (id, states) => {
    if (states.length > 0 && decodeGroupState(states.at(-1) as Uint8Array).changedBy.equals(heir.identity.publicKey)) {
      throw new Error('stopped')
    }
    await save(id, states)
  }
  await admin.groups.leave(group.id)
  await deliverFrom(admin, heir, admin.sent.at(-2)).catch(() => undefined)
  heir.store.save = save
}
