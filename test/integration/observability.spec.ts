import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { ringIdFromBytes, keyPosition } from '../../src/chord/id.js'
import { InvalidOptionsError, RateLimitedError } from '../../src/errors.js'
import { createIdentity } from '../../src/index.js'
import { parseHostPort, startObservabilityServer } from '../../src/observability/http.js'
import { HTTP_HEADERS_TIMEOUT, HTTP_MAX_HEADER_SIZE, HTTP_REQUEST_TIMEOUT, HTTP_TIMEOUT_CHECK_INTERVAL } from '../../src/observability/constants.js'
import { hasMetric, metricSum } from '../helpers/prometheus.js'
import { crash, expectedOwner, sortedByRingId, startNode, startRing, stopAll, waitForConsistentRing, ringOf } from '../helpers/ring.js'
import { slowClient } from '../helpers/slow-client.js'
import { waitFor } from '../helpers/wait-for.js'
import { internalsOf } from '../../src/testing.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { ANSWERS_NOTHING, TransportUnderTest } from '../helpers/transport.js'
import type { ChordNode, MailboxMessage } from '../../src/index.js'
import type { ObservabilityServer, ObservedNode } from '../../src/observability/http.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** The sum of one metric over every node's exposition */
async function ringSum (nodes: ChordNode[], name: string, labels?: Record<string, string>): Promise<number> {
  const expositions = await Promise.all(nodes.map(async node => node.metrics()))
  return expositions.reduce((sum, exposition) => sum + metricSum(exposition, name, labels), 0)
}

async function allHealthy (nodes: ChordNode[]): Promise<boolean> {
  const reports = await Promise.all(nodes.map(async node => node.health()))
  return reports.every(report => report.status === 'ok')
}

describe('metrics and health of real nodes', function () {
  this.timeout(120_000)
  let nodes: ChordNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('counts lookups, puts and gets, the requests they cause, and what the nodes hold', async () => {
    nodes = await startRing(4)
    const [asker] = nodes
    for (let i = 0; i < 5; i++) {
      await asker.lookup(`key ${i}`)
    }
    for (let i = 0; i < 3; i++) {
      assert.equal((await asker.put(`key ${i}`, text(`value ${i}`))).replicas, 3)
    }
    await asker.get('key 0')
    await asker.get('key 1')

    const exposition = await asker.metrics()
    // every put and get looks its key up first
    assert.ok(metricSum(exposition, 'chord_lookups_total', { outcome: 'ok' }) >= 10)
    assert.equal(metricSum(exposition, 'chord_lookups_total', { outcome: 'failed' }), 0)
    assert.ok(metricSum(exposition, 'chord_lookup_hops_count') >= 10)
    assert.equal(metricSum(exposition, 'chord_puts_total', { outcome: 'ok' }), 3)
    assert.equal(metricSum(exposition, 'chord_put_replicas_acknowledged_sum'), 9)
    assert.equal(metricSum(exposition, 'chord_gets_total', { outcome: 'ok' }), 2)
    // at least two of each put's three replicas are other nodes
    assert.ok(metricSum(exposition, 'chord_rpc_requests_sent_total', { type: 'STORE', outcome: 'ok' }) >= 6)
    assert.ok(metricSum(exposition, 'chord_rpc_requests_sent_total', { type: 'GET_NEIGHBOURS', outcome: 'ok' }) > 0)
    assert.ok(await ringSum(nodes, 'chord_rpc_requests_served_total', { type: 'STORE', outcome: 'ok' }) >= 6)

    assert.equal(await ringSum(nodes, 'chord_store_records'), 9)
    for (const node of nodes) {
      const own = await node.metrics()
      assert.equal(metricSum(own, 'chord_successor_list_length'), 3)
      assert.equal(metricSum(own, 'chord_has_predecessor'), 1)
      assert.ok(metricSum(own, 'chord_libp2p_connections') >= 1)
      assert.equal(metricSum(own, 'chord_node_info', { peer_id: node.peerId.toString(), ring_id: node.ringId }), 1)
    }
  })

  it('counts the requests it refuses, by code, in refusedRequests() and chord_rpc_requests_refused_total', async () => {
    const victim = await startNode(undefined, { requestLimits: { ringRequests: 3, windowMs: 60_000 } })
    nodes = [victim]
    assert.deepEqual(victim.refusedRequests(), { total: 0, byCode: {} })
    // a stranger over its budget of ring requests
    const stranger = await createChordLibp2p({ listen: [], peerExchange: false })
    const rpc = new TransportUnderTest(stranger, { handler: ANSWERS_NOTHING })
    try {
      await rpc.start()
      await stranger.dial(victim.getMultiaddrs()[0])
      const to = { id: ringOf(victim).self.id, peer: victim.peerId.toString() }
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, async () => rpc.ping(to)))
      const limited = outcomes.filter(outcome => outcome.status === 'rejected' && outcome.reason instanceof RateLimitedError).length
      assert.ok(limited >= 7, `${limited} of 10 pings refused`)
      assert.deepEqual(victim.refusedRequests(), { total: limited, byCode: { RATE_LIMITED: limited } })
      const exposition = await victim.metrics()
      assert.equal(metricSum(exposition, 'chord_rpc_requests_refused_total', { code: 'RATE_LIMITED' }), limited)
      assert.equal(metricSum(exposition, 'chord_rpc_requests_refused_total', { code: 'QUOTA_EXCEEDED' }), 0)
    } finally {
      await rpc.stop()
      await stranger.stop()
    }
  })

  it('counts mailbox envelopes stored, pushed and acknowledged, live subscriptions, and estimates the ring size', async () => {
    nodes = await startRing(4)
    const [alice, bob] = await Promise.all([createIdentity(), createIdentity()])
    const received: MailboxMessage[] = []
    const subscription = await nodes[1].mailbox.subscribe(bob, message => { received.push(message) }, { receipts: false })
    assert.equal(await ringSum(nodes, 'chord_mailbox_subscriptions'), 1)
    // the send resolves once the three replicas answered its STOREs
    await nodes[2].mailbox.send(alice, bob.address, text('counted'))
    assert.equal(await ringSum(nodes, 'chord_mailbox_envelopes_total', { event: 'stored' }), 3)
    await waitFor(() => received.length === 1, 'the push')
    // acknowledged once every replica holds it: an ack sent the moment the push arrives can reach a
    // replica before the sender's STORE, which it then never stores (and so never deletes)
    await nodes[1].mailbox.ack(bob, [received[0].id])

    // the mailbox's node pushed it, and every replica deletes it on the ack
    await waitFor(async () => await ringSum(nodes, 'chord_mailbox_envelopes_total', { event: 'acknowledged' }) === 3, 'the ack on the three replicas')
    assert.equal(await ringSum(nodes, 'chord_mailbox_envelopes_total', { event: 'pushed' }), 1)
    assert.equal(await ringSum(nodes, 'chord_mailbox_store_envelopes'), 0)
    for (const node of nodes) {
      assert.equal(metricSum(await node.metrics(), 'chord_ring_size_estimate'), 4)
    }
    // the node serving it sees the stream end a moment after the owner closed it
    await subscription.close()
    await waitFor(async () => await ringSum(nodes, 'chord_mailbox_subscriptions') === 0, 'the subscription to end on its node')
  })

  it('counts anti-entropy rounds and the records they repair', async () => {
    nodes = await startRing(4)
    await nodes[0].put('repair me', text('value'))
    const position = keyPosition('repair me')
    const owner = expectedOwner(nodes, ringIdFromBytes(position))
    const replica = nodes.find(node => node !== owner && internalsOf(node).store.stats().records > 0)
    assert.ok(replica != null)
    const [record] = await internalsOf(replica).store.get(position)
    await internalsOf(replica).store.delete(position, [record.id])

    // a round is reported once every replica has been compared, a moment after the refill
    const repairedByOwner = async (): Promise<number> =>
      metricSum(await owner.metrics(), 'chord_anti_entropy_records_repaired_total', { direction: 'sent' })
    await waitFor(async () => (await internalsOf(replica).store.get(position)).length === 1 && await repairedByOwner() >= 1,
      'the owner\'s anti-entropy to refill the wiped replica', 30_000)
    assert.ok(metricSum(await owner.metrics(), 'chord_anti_entropy_rounds_total') > 0)
  })

  it('keeps no metrics in a node started without them, which works as any other', async () => {
    nodes = [await startNode(undefined, { metrics: false })]
    assert.equal((await nodes[0].put('key', new TextEncoder().encode('value'))).replicas, 1)
    assert.equal(await nodes[0].metrics(), '')
  })

  it('is healthy on a settled ring, reports a crashed successor, and is healthy again once the ring heals', async () => {
    nodes = await startRing(4)
    await waitFor(async () => allHealthy(nodes), 'every node to report ok', 30_000)
    // settled, so that no repair round still under way changes the watcher's successor after it stops
    await waitForConsistentRing(nodes)

    const [watcher] = sortedByRingId(nodes)
    // hold the watcher's repair rounds, so the dead successor is still its successor when asked
    ringOf(watcher).stop()
    // the node the watcher holds for its successor, whether or not the ring has finished settling
    const successors = [...ringOf(watcher).table.getSuccessors()]
    const successor = nodes.find(node => node.peerId.toString() === successors[0].peer)
    assert.ok(successor != null)
    await crash(successor)
    // lookups the watcher forwards for other nodes may have dropped the dead successor already:
    // put it back, as a watcher that has not noticed yet holds it
    ringOf(watcher).table.setSuccessors(successors)
    const report = await watcher.health()
    assert.notEqual(report.status, 'ok')
    assert.equal(report.checks.successor.status, 'degraded')
    assert.equal(report.checks.successor.peer, successor.peerId.toString())

    ringOf(watcher).start()
    const survivors = nodes.filter(node => node !== successor)
    await waitForConsistentRing(survivors)
    await waitFor(async () => allHealthy(survivors), 'every survivor to report ok again', 30_000)
  })
})

/** A node that answers /metrics with a comment; nothing here asks its health */
const quiet: ObservedNode = {
  metrics: async () => '# nothing\n',
  health: async () => { throw new Error('never asked') }
}

describe('the metrics and health HTTP server', function () {
  this.timeout(60_000)
  let nodes: ChordNode[] = []
  let server: ObservabilityServer | undefined

  afterEach(async () => {
    await server?.close()
    server = undefined
    await stopAll(nodes)
    nodes = []
  })

  it('serves /metrics and /health, answers HEAD, and refuses other paths and methods', async () => {
    const node = await startNode()
    nodes = [node]
    server = await startObservabilityServer(node, { host: '127.0.0.1', port: 0 })

    const metrics = await fetch(`${server.url}/metrics`)
    assert.equal(metrics.status, 200)
    assert.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    assert.ok(hasMetric(await metrics.text(), 'chord_node_info'))

    const health = await fetch(`${server.url}/health`)
    assert.equal(health.status, 200)
    const report = await health.json()
    // a ring of one works, but replicates nothing
    assert.equal(report.status, 'degraded')
    assert.equal(report.checks.join.state, 'alone')

    const head = await fetch(`${server.url}/metrics`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
    assert.equal((await fetch(`${server.url}/`)).status, 404)
    const post = await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' })
    assert.equal(post.status, 405)
    assert.equal(post.headers.get('allow'), 'GET, HEAD')

    await node.stop()
    const failing = await fetch(`${server.url}/health`)
    assert.equal(failing.status, 503)
    assert.equal((await failing.json()).status, 'failing')
  })

  it('drops a client whose head is not in within HTTP_HEADERS_TIMEOUT (answering 408) and one whose request is not in within HTTP_REQUEST_TIMEOUT, neither sooner; a scraper is answered meanwhile', async function () {
    // the deadlines at their real length, waited out side by side; Node looks for requests over
    // them every HTTP_TIMEOUT_CHECK_INTERVAL
    const late = 2 * HTTP_TIMEOUT_CHECK_INTERVAL + 1000
    this.timeout(HTTP_REQUEST_TIMEOUT + late + 5000)
    server = await startObservabilityServer(quiet, { host: '127.0.0.1', port: 0 })
    const port = Number(new URL(server.url).port)
    const started = Date.now()
    const left = (ms: number): number => started + ms - Date.now()
    // one more header line now and then, never the blank line that ends the head
    const slowHead = slowClient(port, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n')
    // a whole head at once, then a body that never completes
    const slowBody = slowClient(port, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n', 'x')
    try {
      await waitFor(() => slowHead.closedAt !== undefined, 'the server to drop the slow head', left(HTTP_HEADERS_TIMEOUT + late))
      assert.ok(slowHead.closedAt! - started >= HTTP_HEADERS_TIMEOUT, `dropped after ${slowHead.closedAt! - started} ms`)
      assert.match(slowHead.received, /^HTTP\/1\.1 408 /)

      assert.equal(slowBody.closedAt, undefined, 'the slow body is within the request timeout')
      const scrape = await fetch(`${server.url}/metrics`)
      assert.equal(scrape.status, 200)
      assert.equal(await scrape.text(), '# nothing\n')

      await waitFor(() => slowBody.closedAt !== undefined, 'the server to drop the slow body', left(HTTP_REQUEST_TIMEOUT + late))
      assert.ok(slowBody.closedAt! - started >= HTTP_REQUEST_TIMEOUT, `dropped after ${slowBody.closedAt! - started} ms`)
      // a GET's answer does not wait for the body it announced, so it was sent at once
      assert.match(slowBody.received, /^HTTP\/1\.1 200 /)
    } finally {
      slowHead.stop()
      slowBody.stop()
    }
  })

  it('answers 431 to a request head with a header line of HTTP_MAX_HEADER_SIZE + 1 bytes, and serves one of HTTP_MAX_HEADER_SIZE bytes in all', async () => {
    server = await startObservabilityServer(quiet, { host: '127.0.0.1', port: 0 })
    const port = Number(new URL(server.url).port)
    // Node does not count a head's bytes exactly as they are sent: the two requests stay clear of
    // the limit on either side, a whole head of that many bytes and a single header line over it
    const start = 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: '
    const end = '\r\n\r\n'
    const within = `${start}${'a'.repeat(HTTP_MAX_HEADER_SIZE - start.length - end.length)}${end}`
    assert.equal(within.length, HTTP_MAX_HEADER_SIZE)
    const overLine = `${'X-Pad: '.padEnd(HTTP_MAX_HEADER_SIZE - 1, 'a')}\r\n`
    assert.equal(overLine.length, HTTP_MAX_HEADER_SIZE + 1)
    const over = `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n${overLine}\r\n`

    assert.match(await exchange(port, over), /^HTTP\/1\.1 431 /)
    assert.match(await exchange(port, within), /^HTTP\/1\.1 200 /)
  })

  it('reads its listen address as host:port, with IPv6 hosts in brackets', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 })
    assert.deepEqual(parseHostPort('[::1]:0'), { host: '::1', port: 0 })
    assert.deepEqual(parseHostPort('localhost:80'), { host: 'localhost', port: 80 })
    for (const bad of ['9464', '127.0.0.1', '::1:9464', '127.0.0.1:99999', 'host:port', '']) {
      assert.throws(() => parseHostPort(bad), InvalidOptionsError, bad)
    }
  })
})

/** Sends `head` on a socket of its own and resolves to all the server sent back before it closed the socket */
async function exchange (port: number, head: string): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  let received = ''
  socket.on('data', chunk => { received += String(chunk) })
  socket.write(head)
  socket.end()
  await new Promise<void>((resolve, reject) => {
    socket.once('close', () => { resolve() })
    socket.once('error', reject)
  })
  return received
}
