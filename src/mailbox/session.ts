/**
 * The owner side of /chord/mailbox/1.0.0: one subscription stream to one node. It proves
 * ownership (signs the node's challenge), then hands each page of envelopes to the caller, in
 * order, until the stream ends. Moving to another node, dropping duplicates and opening the
 * envelopes are the caller's business (src/mailbox/subscription.ts).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { MaxLengthError } from 'protons-runtime'
import { InvalidMessageError, RemoteError } from '../errors.js'
import { MailboxEvent, MailboxRequest } from '../protocol/generated/mailbox.js'
import { errorFromCode } from '../transport/error-codes.js'
import { frameStream } from '../protocol/framing.js'
import { wireBytes } from '../transport/ring-id.js'
import {
  CHALLENGE_NONCE_BYTES,
  MAILBOX_PROTOCOL,
  MAX_ENVELOPES_PER_EVENT,
  MAX_MAILBOX_EVENT_SIZE,
  SUBSCRIBE_HANDSHAKE_TIMEOUT
} from './protocol-constants.js'
import { answerChallenge } from './proofs.js'
import { MAX_ENVELOPE_SIZE } from './constants.js'
import type { NodeRef } from '../chord/rpc.js'
import type { Identity } from './identity.js'
import type { MailboxSession, MailboxSessionHandlers } from './subscription.js'
import type { FramedStream } from '../protocol/framing.js'
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'

export interface MailboxSessionComponents {
  dialProtocol(peer: PeerId, protocols: string, options?: AbortOptions): Promise<Stream>
}

/** Subscribe at `node`; resolves once the node accepted the proof and sent the first page of the backlog */
export async function openMailboxSession (components: MailboxSessionComponents, node: NodeRef, identity: Identity, handlers: MailboxSessionHandlers): Promise<MailboxSession> {
  const peerId = peerIdFromString(node.peer)
  const signal = AbortSignal.timeout(SUBSCRIBE_HANDSHAKE_TIMEOUT)
  const stream = await components.dialProtocol(peerId, MAILBOX_PROTOCOL, { signal })
  const framed = frameStream(stream, MAX_MAILBOX_EVENT_SIZE)
  try {
    await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.SUBSCRIBE, owner: wireBytes(identity.publicKey.bytes) }), { signal })
    const challenge = await readEvent(framed, signal)
    if (challenge.type !== MailboxEvent.Type.CHALLENGE || challenge.nonce?.byteLength !== CHALLENGE_NONCE_BYTES) {
      throw new InvalidMessageError('expected a CHALLENGE with a nonce')
    }
    const signature = await answerChallenge(identity, peerId.toMultihash().bytes, challenge.nonce)
    await framed.write(MailboxRequest.encode({ type: MailboxRequest.Type.PROVE, signature: wireBytes(signature) }), { signal })
    const first = await readEvent(framed, signal)
    await handlers.onEnvelopes(envelopesOf(first), first.caughtUp)
  } catch (err: any) {
    stream.abort(err)
    throw err
  }

  const state = { closed: false }
  void receive(framed, stream, handlers, state)
  return {
    node,
    close: async () => {
      // nothing more reaches the caller, even what the node sent before it saw the close
      state.closed = true
      await stream.close().catch(() => { stream.abort(new Error('closed')) })
    }
  }
}

/** Hand every further page to the caller, one at a time, until the stream ends or is closed */
async function receive (framed: FramedStream, stream: Stream, handlers: MailboxSessionHandlers, state: { closed: boolean }): Promise<void> {
  try {
    while (!state.closed) {
      const event = await readEvent(framed)
      if (!state.closed) {
        await handlers.onEnvelopes(envelopesOf(event), event.caughtUp)
      }
    }
  } catch (err: any) {
    stream.abort(err)
    if (!state.closed) {
      handlers.onClose(err)
    }
  }
}

async function readEvent (framed: FramedStream, signal?: AbortSignal): Promise<MailboxEvent> {
  const bytes = await framed.read({ signal })
  let event: MailboxEvent
  try {
    // the count is checked while decoding, before the list is built
    event = MailboxEvent.decode(bytes, { limits: { envelopes: MAX_ENVELOPES_PER_EVENT } })
  } catch (err) {
    throw new InvalidMessageError(err instanceof MaxLengthError ? `an ENVELOPES message carries at most ${MAX_ENVELOPES_PER_EVENT} envelopes` : 'a mailbox event is not protobuf', { cause: err })
  }
  if (event.type === MailboxEvent.Type.ERROR) {
    throw errorFromCode(event.errorCode ?? '', 'the node refused the subscription')
  }
  return event
}

function envelopesOf (event: MailboxEvent): Uint8Array[] {
  if (event.type !== MailboxEvent.Type.ENVELOPES) {
    throw new RemoteError(`expected ENVELOPES, got ${event.type}`)
  }
  for (const envelope of event.envelopes) {
    if (envelope.byteLength > MAX_ENVELOPE_SIZE) {
      throw new InvalidMessageError(`an envelope is at most ${MAX_ENVELOPE_SIZE} bytes`)
    }
  }
  return event.envelopes
}
