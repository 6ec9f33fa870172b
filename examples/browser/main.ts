/**
 * A browser node. It joins the ring named by `?bootstrap=<multiaddr>` (repeatable) over
 * WebSockets as a client, shows its PeerId and status, and mounts the panels that use it.
 * `?store=<name>` keeps its identity in IndexedDB under that name, so a reload keeps the PeerId;
 * without it every load is a new peer and nothing is stored.
 */
import { browserConnectionGater, createChordNode } from '../../src/index.js'
import { describeError, requireElement } from './page.js'
import { mountRecordsPanel } from './records-panel.js'

type NodeState = 'starting' | 'joined' | 'failed' | 'stopped'

const status = requireElement('#status', HTMLOutputElement)
const peerIdView = requireElement('#peer-id', HTMLElement)

function showState (state: NodeState, text: string): void {
  status.dataset.state = state
  status.textContent = text
}

/**
 * A page served from this machine is a developer's: it may dial ring nodes on this machine's
 * loopback over plain ws://. Served from anywhere else, the node keeps libp2p's browser rules.
 */
function servedFromLoopback (): boolean {
  return ['127.0.0.1', '[::1]', 'localhost'].includes(location.hostname)
}

async function main (): Promise<void> {
  const params = new URLSearchParams(location.search)
  const bootstrap = params.getAll('bootstrap')
  if (bootstrap.length === 0) {
    showState('failed', 'no ring to join: add ?bootstrap=/ip4/…/tcp/…/ws/p2p/… to the address')
    return
  }

  showState('starting', `joining through ${bootstrap.join(', ')}…`)
  const node = await createChordNode({
    bootstrap,
    dataDir: params.get('store') ?? undefined,
    libp2p: { connectionGater: browserConnectionGater({ allowLoopback: servedFromLoopback() }) }
  })
  peerIdView.textContent = node.peerId.toString()
  showState('joined', 'joined the ring as a client')
  addEventListener('pagehide', () => {
    showState('stopped', 'stopped')
    void node.stop()
  })

  mountRecordsPanel(node, requireElement('#records', HTMLElement))
  // the mailbox chat panel (send, subscribe and ack on node.mailbox) mounts here the same way
}

main().catch(err => { showState('failed', describeError(err)) })
