/**
 * Peer exchange held to the peer-discovery suite every libp2p discovery module passes
 * (`@libp2p/interface-compliance-tests`, as published), on real nodes over loopback TCP.
 *
 * Each test gets a discovery built by the `peerExchange()` factory from the components of a
 * running libp2p node (as libp2p builds a service), not yet started, on a node already connected
 * to a peer that answers /chord/px/1.0.0 with several ring nodes. So started, it has someone to ask
 * at once, and each answer carries more than one peer: what "no peer event after stop" needs.
 */
import tests from '@libp2p/interface-compliance-tests/peer-discovery'
import { PROTOCOL as CHORD_PROTOCOL } from '../../src/transport/constants.js'
import { PX_PROTOCOL } from '../../src/peer-exchange/constants.js'
import { peerExchange } from '../../src/index.js'
import { createChordLibp2p } from '../../src/node/libp2p.js'
import { captureComponents } from '../helpers/libp2p-components.js'
import { waitFor } from '../helpers/wait-for.js'
import type { PeerExchangeComponents } from '../../src/peer-exchange/peer-exchange.js'
import type { ChordLibp2p } from '../../src/node/libp2p.js'
import type { Libp2p } from '@libp2p/interface'

const LOOPBACK = ['/ip4/127.0.0.1/tcp/0']

/** Ring nodes the responder knows, so each of its answers names this many peers */
const RING_NODES = 3

describe('peer exchange as a libp2p PeerDiscovery (@libp2p/interface-compliance-tests)', function () {
  this.timeout(60_000)

  let responder: ChordLibp2p
  let ringNodes: ChordLibp2p[] = []
  let host: Pick<Libp2p, 'stop'> | undefined

  before(async () => {
    // every test's new host asks once or twice: the default limit per peer is not under test
    responder = await createChordLibp2p({ listen: LOOPBACK, peerExchange: { requestsPerMinute: 100 } })
    ringNodes = await Promise.all(Array.from({ length: RING_NODES }, async () => {
      const node = await createChordLibp2p({ listen: LOOPBACK, peerExchange: false })
      // only the protocol's presence matters to the responder: the ring itself is not under test
      await node.handle(CHORD_PROTOCOL, stream => { stream.abort(new Error('no ring in this test')) })
      await node.dial(responder.getMultiaddrs()[0])
      return node
    }))
    await waitFor(async () => {
      const known = await Promise.all(ringNodes.map(async node => speaks(responder, node, CHORD_PROTOCOL)))
      return known.every(Boolean)
    }, `the responder to identify ${RING_NODES} ring nodes`, 10_000)
  })

  after(async () => {
    await Promise.all([responder, ...ringNodes].map(async node => node.stop()))
  })

  tests({
    async setup () {
      const capture = captureComponents<PeerExchangeComponents>()
      const node = await createChordLibp2p({ listen: LOOPBACK, peerExchange: false }, { components: capture.factory })
      host = node
      await node.dial(responder.getMultiaddrs()[0])
      await waitFor(async () => speaks(node, responder, PX_PROTOCOL), 'the host to identify the responder', 10_000)
      return peerExchange()(capture.components)
    },
    async teardown () {
      await host?.stop()
      host = undefined
    }
  })
})

/** Whether `node` has identified `peer` as speaking `protocol` */
async function speaks (node: Pick<Libp2p, 'peerStore'>, peer: Pick<Libp2p, 'peerId'>, protocol: string): Promise<boolean> {
  return node.peerStore.get(peer.peerId).then(p => p.protocols.includes(protocol), () => false)
}
