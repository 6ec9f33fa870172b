/**
 * One sender floods Bob's mailbox. It is refused past its share, with a typed RateLimitedError
 * that says when to come back, and Carol's message still reaches Bob. Where nodes ask for stamps,
 * a mailbox under pressure still takes an envelope that carries its proof of work, and senders
 * make one by themselves. Strangers who delete made-up ids of mailboxes they mint take only the
 * room kept for such ids: Bob's acknowledgement still deletes his message everywhere.
 */
import { strict as assert } from 'node:assert'
import { randomBytes } from 'node:crypto'
import { createIdentity, RateLimitedError } from '../../src/index.js'
import { MAX_ENVELOPES_PER_SENDER_PER_WINDOW } from '../../src/mailbox/constants.js'
import { MAX_RECORDS_PER_KEY } from '../../src/storage/constants.js'
import { MAX_IDS_PER_DELETE } from '../../src/transport/constants.js'
import { signDeletion } from '../../src/mailbox/proofs.js'
import { MAX_TOMBSTONES, MAX_UNHELD_TOMBSTONES, MAX_UNHELD_TOMBSTONES_PER_MAILBOX } from '../../src/mailbox/tombstones.js'
import { mailboxKey } from '../../src/mailbox/public-key.js'
import { seal } from '../../src/mailbox/seal.js'
import { createRecord } from '../../src/chord/record.js'
import { ringIdFromBytes } from '../../src/chord/id.js'
import { stampWork } from '../../src/mailbox/stamp.js'
import { internalsOf } from '../../src/testing.js'
import { addressOf, startNode, startRing, stopAll } from '../helpers/ring.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChordNode, ChordNodeOptions, Identity, MailboxMessage } from '../../src/index.js'

const REPLICAS = 3
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const read = (m: MailboxMessage): string => new TextDecoder().decode(m.plaintext)

/** Sends in flight at once: a busy sender's burst */
const IN_FLIGHT = 16

/** Settles every send, IN_FLIGHT at a time, and sorts the outcomes: how many were stored, and the errors of the rest */
async function sendAll (sends: Array<() => Promise<unknown>>): Promise<{ sent: number, errors: Error[] }> {
  const results: Array<PromiseSettledResult<unknown>> = []
  for (let i = 0; i < sends.length; i += IN_FLIGHT) {
    results.push(...await Promise.allSettled(sends.slice(i, i + IN_FLIGHT).map(async send => send())))
  }
  const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map(r => r.reason as Error)
  return { sent: results.length - errors.length, errors }
}

describe('a flood of one sender into a mailbox', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []
  let bob: Identity
  let carol: Identity

  beforeEach(async () => {
    bob = await createIdentity()
    carol = await createIdentity()
  })

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  /** A ring of four, and senders that hold no ring position: strangers to every replica */
  async function world (options: ChordNodeOptions = {}): Promise<{ mallory: ChordNode, carols: ChordNode }> {
    nodes = await startRing(4, options)
    const mallory = await startNode(undefined, { ...options, clientMode: true, bootstrap: [addressOf(nodes[0])] })
    const carols = await startNode(undefined, { ...options, clientMode: true, bootstrap: [addressOf(nodes[1])] })
    nodes.push(mallory, carols)
    return { mallory, carols }
  }

  it('refuses one sender past its share with RateLimitedError and when to retry, and Carol\'s message still arrives', async () => {
    // no repair between the replicas while it runs: what each holds is then what it took from
    // Mallory (a repair would copy to it what another replica took, which her share does not cover)
    const { mallory, carols } = await world({ timers: { antiEntropyIntervalMs: 10 * 60_000 } })
    const received: MailboxMessage[] = []
    const sub = await nodes[0].mailbox.subscribe(bob, message => { received.push(message) })
    const malloryIdentity = await createIdentity()

    const flood = 2 * MAX_ENVELOPES_PER_SENDER_PER_WINDOW
    const { sent, errors } = await sendAll(Array.from({ length: flood }, (_, i) => async () => mallory.mailbox.send(malloryIdentity, bob.address, text(`junk ${i}`))))
    console.log(`      ${flood} sends from one peer: ${sent} stored, ${errors.length} refused (${[...new Set(errors.map(e => e.name))].join(', ')}), ` +
      `retry after ${Math.min(...errors.map(e => (e as RateLimitedError).retryAfterMs ?? Infinity))}–${Math.max(...errors.map(e => (e as RateLimitedError).retryAfterMs ?? 0))} ms`)
    assert.ok(errors.length > 0)
    assert.ok(errors.every(err => err instanceof RateLimitedError && err.retryAfterMs != null && err.retryAfterMs > 0), errors.map(String).join('; '))

    // each replica counts on its own: none holds more of Mallory's than her share (a send stored
    // by any one replica counts as sent, so with sends racing each other a few more than a share
    // get through somewhere, never more than a share anywhere)
    const bobsKey = mailboxKey(bob.publicKey)
    const held = await Promise.all(nodes.slice(0, 4).map(async node => (await internalsOf(node).mailboxStore.get(bobsKey)).length))
    console.log(`      the replicas hold ${held.join(', ')} of them; the mailbox holds ${MAX_RECORDS_PER_KEY} at most`)
    assert.ok(held.every(count => count <= MAX_ENVELOPES_PER_SENDER_PER_WINDOW), `held ${held.join(', ')}`)
    assert.ok(sent <= REPLICAS * MAX_ENVELOPES_PER_SENDER_PER_WINDOW)

    const { replicas } = await carols.mailbox.send(carol, bob.address, text('hi Bob, it is Carol'))
    assert.ok(replicas > 0)
    await waitFor(() => received.some(m => read(m) === 'hi Bob, it is Carol'), 'Carol\'s message to reach Bob')
    assert.equal(received.find(m => read(m) === 'hi Bob, it is Carol')?.from, carol.address)
    await sub.close()
  })

  it('takes a stamped envelope into a mailbox under pressure, where nodes ask for stamps; the sender stamps by itself', async () => {
    // small rates, so two senders put the mailbox under pressure at once; a cheap stamp
    const { mallory, carols } = await world({ mailbox: { stampDifficulty: 8, acceptance: { perMailbox: 8, perSender: 4 } } })
    const mallory2 = await startNode(undefined, { mailbox: { stampDifficulty: 8 }, clientMode: true, bootstrap: [addressOf(nodes[2])] })
    nodes.push(mallory2)
    const received: MailboxMessage[] = []
    const sub = await nodes[0].mailbox.subscribe(bob, message => { received.push(message) })
    const [m1, m2] = await Promise.all([createIdentity(), createIdentity()])

    // both senders use up the mailbox's rate with plain envelopes, written by hand (send would stamp)
    const key = mailboxKey(bob.publicKey)
    const replicas = (await internalsOf(mallory).ring.lookup(ringIdFromBytes(key))).successors.slice(0, 3)
    let refusal: RateLimitedError | undefined
    for (const [node, identity] of [[mallory, m1], [mallory2, m2]] as const) {
      for (let i = 0; i < 5; i++) {
        const record = createRecord(key, await seal(identity, bob.publicKey, text(`plain ${i}`)), Date.now() + 60_000)
        for (const replica of replicas) {
          await internalsOf(node).core.namespaceRpc('mailbox').storeRecords(replica, [record]).catch((err: Error) => {
            if (err instanceof RateLimitedError) {
              refusal = err
              return
            }
            throw err
          })
        }
      }
    }
    assert.ok(refusal != null, 'the mailbox came under pressure')
    assert.equal(refusal.stampDifficulty, 8, 'the refusal says what stamp lets an envelope in')

    // a stamp of less work lets nothing in
    const fake = createRecord(key, await seal(m1, bob.publicKey, text('fake stamp')), Date.now() + 60_000)
    const stamp = new Uint8Array(8)
    while (stampWork(key, fake.id, stamp) >= 8) {
      stamp[7]++
    }
    const unpaid = { ...fake, stamp }
    await assert.rejects(internalsOf(mallory).core.namespaceRpc('mailbox').storeRecords(replicas[0], [unpaid]), RateLimitedError)

    // Carol's send meets the pressure, stamps its envelope, and gets through
    const { replicas: stored } = await carols.mailbox.send(carol, bob.address, text('stamped hello'))
    assert.ok(stored > 0)
    await waitFor(() => received.some(m => read(m) === 'stamped hello'), 'Carol\'s stamped message to reach Bob')
    await sub.close()
  })
})

describe('strangers\' deletions of made-up ids', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('take no more than the room a node keeps for ids it never held: Bob\'s acknowledgement still deletes his message everywhere', async () => {
    // budgets high enough for one peer to stand for the many strangers such a flood takes
    nodes = await startRing(4, { requestLimits: { deletedIds: 1e9, signatureChecks: 1e9 } })
    const mallory = await startNode(nodes[0], { clientMode: true })
    nodes.push(mallory)
    const ring = nodes.slice(0, 4)
    const rpc = internalsOf(mallory).core.namespaceRpc('mailbox')

    // as many mailboxes as would fill MAX_TOMBSTONES, each deleting its own allowance of made-up ids on every node
    const flood = Math.ceil(MAX_TOMBSTONES / MAX_UNHELD_TOMBSTONES_PER_MAILBOX)
    for (let n = 0; n < flood; n++) {
      const ids = Array.from({ length: MAX_IDS_PER_DELETE }, () => new Uint8Array(randomBytes(32)))
      const deletion = await signDeletion(await createIdentity(), ids, Date.now())
      await Promise.all(ring.map(async node => rpc.deleteRecords(internalsOf(node).ring.self, deletion)))
    }
    // tombstones within the room for unheld ids, and the deletions behind them
    const kept = ring.map(node => internalsOf(node).acknowledgementsKept)
    assert.ok(kept.every(count => count <= MAX_UNHELD_TOMBSTONES + flood), `kept ${kept.join(', ')}`)

    const [bob, carol] = await Promise.all([createIdentity(), createIdentity()])
    const received: MailboxMessage[] = []
    const sub = await ring[0].mailbox.subscribe(bob, message => { received.push(message) })
    await ring[1].mailbox.send(carol, bob.address, text('hi Bob'))
    await waitFor(() => received.length > 0, 'Carol\'s message to reach Bob')
    const { replicas } = await ring[0].mailbox.ack(bob, [received[0].id])
    assert.equal(replicas, REPLICAS)
    const left = await Promise.all(ring.map(async node => (await internalsOf(node).mailboxStore.get(mailboxKey(bob.publicKey))).length))
    assert.deepEqual(left, [0, 0, 0, 0])
    await sub.close()
  })
})
