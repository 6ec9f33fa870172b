/**
 * Units for the constants of every part, so that a limit reads `5 * second` or `64 * KiB`.
 */
export const millisecond = 1
export const second = 1000 * millisecond
export const minute = 60 * second
export const hour = 60 * minute
export const day = 24 * hour

export const KiB = 1024
export const MiB = 1024 * KiB
