/**
 * Limits of a chat on one device, with the reason for each.
 */

/**
 * Sent messages whose delivery a chat follows (and keeps in its store); past it the oldest is
 * forgotten, and receipts for it are acknowledged without counting. A chat's recent history: far
 * more than are ever waiting for a receipt at once.
 */
export const MAX_TRACKED_MESSAGES = 1000

/**
 * Receipts kept for envelopes not followed yet: a receipt can come back before the send that
 * stored its envelope has resolved (the recipient was quick, a replica slow), and is counted once
 * the send is. Past it the oldest is forgotten; that many sends in flight at once is more than
 * FAN_OUT_CONCURRENCY lets one chat have.
 */
export const MAX_EARLY_RECEIPTS = 1024

/**
 * Times a frame told to a device newly linked (its person's groups, the groups they left) is
 * tried again when the new device's mailbox turns it away for its rate (128 envelopes a minute
 * from one sender, MAX_ENVELOPES_PER_SENDER_PER_WINDOW), each after the wait the node names: a
 * person in MAX_GROUPS groups sends nearly 300 such frames, over three windows
 */
export const LINK_RELAY_RETRIES = 3
