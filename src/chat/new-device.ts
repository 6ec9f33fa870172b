/**
 * What a device just linked is told by the device that holds its person's identity, as frames
 * from its own person: the groups the person left lately first (it must not take a late change of
 * one as an invitation), then every group's current state. The new device's mailbox takes a
 * sender's envelopes at a rate (128 a minute), which a person in many groups goes past: a frame
 * turned away for it waits as long as the node says, never longer than the rate's window (a
 * hostile replica could name weeks), and is tried again.
 */
import pRetry from 'p-retry'
import { fromString as fromHex } from 'uint8arrays/from-string'
import { RateLimitedError } from '../errors.js'
import { MAX_LEFT_GROUPS_TOLD } from '../groups/constants.js'
import { MAILBOX_ACCEPT_WINDOW } from '../mailbox/constants.js'
import { LINK_RELAY_RETRIES } from './constants.js'
import type { Groups } from '../groups/groups.js'

/** Tell the new device through `sendFrame`; stops, waits included, when `signal` aborts (the chat closes) */
export async function tellNewDevice (groups: Pick<Groups, 'recentlyLeft' | 'currentStates' | 'frame'>, sendFrame: (frame: Uint8Array) => Promise<unknown>, signal: AbortSignal): Promise<void> {
  const leaves = groups.recentlyLeft(MAX_LEFT_GROUPS_TOLD).map(id => groups.frame({ type: 'group-leave', groupId: fromHex(id, 'base16') }))
  const states = groups.currentStates().map(state => groups.frame({ type: 'group-update', state: state.bytes }))
  for (const frame of [...leaves, ...states]) {
    signal.throwIfAborted()
    await pRetry(async () => sendFrame(frame), {
      retries: LINK_RELAY_RETRIES,
      minTimeout: 0,
      signal,
      shouldRetry: ({ error }) => retryAfterOf(error) != null,
      onFailedAttempt: async ({ error }) => {
        const wait = retryAfterOf(error)
        if (wait != null) {
          await pause(Math.min(wait, MAILBOX_ACCEPT_WINDOW), signal)
        }
      }
    })
  }
}

/** Resolves after `ms`, or rejects when `signal` aborts first, leaving no timer behind */
async function pause (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const stop = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop)
      resolve()
    }, ms)
    signal.addEventListener('abort', stop, { once: true })
  })
}

/** How long a node asked to wait before trying again, for a refusal of the mailbox's rate */
function retryAfterOf (err: unknown): number | undefined {
  return err instanceof RateLimitedError ? err.retryAfterMs : undefined
}
