/**
 * The page's link to the ring: a client-mode node, the user's chat (its device's mailbox) on it, and a
 * watchdog that starts both again when the node has lost the ring.
 *
 * The library already moves a subscription when the node holding it fails, and a client's
 * successor list routes around dead ring nodes. What it cannot do is come back once every ring
 * node the page knew is gone: the watchdog then stops the node and joins again, through the
 * bootstrap list and the peers the node cached in IndexedDB (its `dataDir`), which include nodes
 * it learnt after it joined.
 */
import { browserConnectionGater, createChordNode } from '../../src/index.js'
import type { Account, LinkRequestOptions, PendingLink, ChatClient, ChatMessage, ChatSendResult, ChatStore, ChordNode, DeliveryState, GroupInfo, Identity } from '../../src/index.js'

/** ms between two checks that the node still has the ring */
export const HEALTH_CHECK_INTERVAL = 1000

/** ms the node may be without the ring before the page starts it again */
export const RECONNECT_AFTER = 3000

/** ms between two attempts to join again; doubles up to RECONNECT_MAX_DELAY */
const RECONNECT_MIN_DELAY = 1000
const RECONNECT_MAX_DELAY = 30_000

/** ms a message waits for the page to be joined before sending it fails */
export const SEND_WAIT_FOR_RING = 20_000

/** ms one join may take, through every bootstrap address and cached peer */
const JOIN_TIMEOUT = 30_000

export type ConnectionState = 'starting' | 'joined' | 'reconnecting' | 'stopped'

export interface ChatConnectionInit {
  bootstrap: string[]
  /** the identity, or a linked device's account */
  account: Identity | Account
  /** where the chat keeps its groups and delivery counts */
  store: ChatStore
  /** let the node dial loopback `/ws` (a page served from this machine) */
  allowLoopback: boolean
  /** IndexedDB name of the node's own database (its PeerId and peer cache) */
  dataDir: string
  onMessage(message: ChatMessage): Promise<void>
  onDelivery(state: DeliveryState): void
  onGroupChange(group: GroupInfo): void
  onState(state: ConnectionState, detail: string): void
  onError(err: unknown): void
}

/** The page is not connected to the ring (yet, or any more) */
export class NotConnectedError extends Error {
  static name = 'NotConnectedError'
  name = NotConnectedError.name
}

export class ChatConnection {
  private readonly init: ChatConnectionInit
  private currentParts?: { node: ChordNode, chat: ChatClient }
  private state: ConnectionState = 'starting'
  private watchdog?: ReturnType<typeof setInterval>
  private unhealthySince?: number
  private shownConnections = 0
  private reconnecting?: Promise<void>
  private readonly waiters = new Set<() => void>()

  constructor (init: ChatConnectionInit) {
    this.init = init
  }

  get node (): ChordNode | undefined {
    return this.currentParts?.node
  }

  /** The chat on the node joined, if the page is joined */
  get joinedChat (): ChatClient | undefined {
    return this.currentParts?.chat
  }

  /** Join and subscribe; keeps trying (with backoff) until it has, or until stop() */
  async start (): Promise<void> {
    this.setState('starting', `joining through ${this.init.bootstrap.length} bootstrap address${this.init.bootstrap.length === 1 ? '' : 'es'}…`)
    await this.connectUntilJoined()
  }

  async stop (): Promise<void> {
    this.setState('stopped', 'stopped')
    clearInterval(this.watchdog)
    await this.reconnecting?.catch(() => {})
    await this.disconnect()
  }

  /** The chat on the node joined, waiting (a while) for the ring if the page is reconnecting */
  async chat (): Promise<ChatClient> {
    await this.joinedNode(SEND_WAIT_FOR_RING)
    const chat = this.currentParts?.chat
    if (chat == null) {
      throw new NotConnectedError('not connected to the ring')
    }
    return chat
  }

  /**
   * Ask, from this page's keys, to be linked to the person of a link offer. The page's own chat
   * closes first: what the person's device sends after the grant (its groups) is for the linked
   * chat the page opens next, and the chat of the page's own identity would refuse it.
   */
  async requestLink (link: string, options: LinkRequestOptions): Promise<PendingLink> {
    const node = await this.joinedNode(SEND_WAIT_FOR_RING)
    await this.currentParts?.chat.close()
    return node.mailbox.requestLink(link, options)
  }

  /** Send `plaintext` to every device of `recipient` */
  async send (recipient: string, plaintext: Uint8Array): Promise<ChatSendResult> {
    return (await this.chat()).send(recipient, plaintext)
  }

  /** Delete received messages from this device's mailbox replicas */
  async ack (ids: string[]): Promise<void> {
    const chat = this.currentParts?.chat
    if (chat != null && this.state === 'joined') {
      await chat.ack(ids)
    }
  }

  private async connectUntilJoined (): Promise<void> {
    let delay = RECONNECT_MIN_DELAY
    for (let attempt = 1; this.state !== 'stopped'; attempt++) {
      try {
        await this.connect()
        return
      } catch (err) {
        this.init.onError(err)
        if (this.stopped()) {
          return
        }
        this.setState('reconnecting', `could not reach the ring (${(err as Error).message}); trying again in ${Math.round(delay / 1000)} s (attempt ${attempt})`)
        await new Promise(resolve => setTimeout(resolve, delay))
        delay = Math.min(delay * 2, RECONNECT_MAX_DELAY)
      }
    }
  }

  private async connect (): Promise<void> {
    const node = await createChordNode({
      bootstrap: this.init.bootstrap,
      dataDir: this.init.dataDir,
      joinTimeoutMs: JOIN_TIMEOUT,
      libp2p: { connectionGater: browserConnectionGater({ allowLoopback: this.init.allowLoopback }) }
    })
    if (this.stopped()) {
      await node.stop()
      return
    }
    let chat: ChatClient
    try {
      chat = await node.mailbox.chat(this.init.account, {
        store: this.init.store,
        onMessage: async message => this.init.onMessage(message),
        onDelivery: state => { this.init.onDelivery(state) },
        onGroupChange: group => { this.init.onGroupChange(group) },
        onError: err => { this.init.onError(err) }
      })
    } catch (err) {
      await node.stop().catch(() => {})
      throw err
    }
    this.currentParts = { node, chat }
    this.unhealthySince = undefined
    this.shownConnections = node.libp2p.getConnections().length
    this.setState('joined', connectedText(this.shownConnections))
    this.watchdog = setInterval(() => { this.check() }, HEALTH_CHECK_INTERVAL)
  }

  private check (): void {
    const node = this.currentParts?.node
    if (node == null || this.reconnecting != null) {
      return
    }
    const connections = node.libp2p.getConnections().length
    if (node.status === 'joined' && connections > 0) {
      if (this.unhealthySince != null || connections !== this.shownConnections) {
        this.unhealthySince = undefined
        this.shownConnections = connections
        this.setState('joined', connectedText(connections))
      }
      return
    }
    const now = Date.now()
    this.unhealthySince ??= now
    if (now - this.unhealthySince < RECONNECT_AFTER) {
      return
    }
    this.reconnecting = this.reconnect().finally(() => { this.reconnecting = undefined })
  }

  private async reconnect (): Promise<void> {
    this.setState('reconnecting', 'lost the ring: joining again…')
    clearInterval(this.watchdog)
    await this.disconnect()
    await this.connectUntilJoined()
  }

  private async disconnect (): Promise<void> {
    const current = this.currentParts
    this.currentParts = undefined
    await current?.chat.close().catch(err => { this.init.onError(err) })
    await current?.node.stop().catch(err => { this.init.onError(err) })
  }

  private async joinedNode (timeoutMs: number): Promise<ChordNode> {
    const deadline = Date.now() + timeoutMs
    while (true) {
      const node = this.currentParts?.node
      if (this.state === 'joined' && node != null) {
        return node
      }
      const left = deadline - Date.now()
      if (left <= 0 || this.stopped()) {
        throw new NotConnectedError('not connected to the ring: the message was not sent')
      }
      await new Promise<void>(resolve => {
        const timer = setTimeout(done, left)
        const waiters = this.waiters
        function done (): void {
          clearTimeout(timer)
          waiters.delete(done)
          resolve()
        }
        waiters.add(done)
      })
    }
  }

  /** A method, not a field read, so that checks after an await are not narrowed away */
  private stopped (): boolean {
    return this.state === 'stopped'
  }

  private setState (state: ConnectionState, detail: string): void {
    if (this.stopped() && state !== 'stopped') {
      return
    }
    this.state = state
    this.init.onState(state, detail)
    for (const wake of [...this.waiters]) {
      wake()
    }
  }
}

function connectedText (connections: number): string {
  return `connected · ${connections} ring node${connections === 1 ? '' : 's'}`
}
