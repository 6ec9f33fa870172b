/**
 * Limits of a chat on one device, with the reason for each.
 */

/**
 * Sent messages whose delivery a chat follows (and keeps in its store); past it the oldest is
 * forgotten, and receipts for it are acknowledged without counting. A chat's recent history: far
 * more than are ever waiting for a receipt at once.
 */
export const MAX_TRACKED_MESSAGES = 1000
