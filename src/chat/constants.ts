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
