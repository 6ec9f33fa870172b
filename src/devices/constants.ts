/**
 * Limits and names of a person's devices, with the reason for each. docs/protocol.md, section 12,
 * describes the formats they shape; docs/security.md what they protect.
 */
import { day, hour, minute, second } from '../units.js'

/** The owned record that holds a person's device list: a name no application picks by accident */
export const DEVICE_LIST_NAME = 'libp2p-chord/devices/v1'

/**
 * Devices on one person's list, the person's own key among them: a phone and a handful of
 * companions, as Signal (6) and WhatsApp (5) allow. Every message to the person is sealed and
 * stored once per device, so this bounds what one recipient costs a sender.
 */
export const MAX_DEVICES = 8

/** Longest device name, in bytes of UTF-8: a label for a list ("Alice's laptop"), not data */
export const MAX_DEVICE_NAME_BYTES = 64

/**
 * How long a device list lives on the ring, asked of its replicas (they cut it to their maximum
 * TTL, 14 days by default); the device that holds the person's identity publishes it again well
 * before, at DEVICE_LIST_REPUBLISH_AGE.
 */
export const DEVICE_LIST_TTL = 14 * day

/**
 * A device list older than this is published again by the device holding the person's identity
 * (checked when it opens its chat and every DEVICE_LIST_CHECK_INTERVAL): a day, so that a list
 * outlives a phone switched off over a long weekend even on nodes with the default 2-day TTL
 */
export const DEVICE_LIST_REPUBLISH_AGE = 1 * day

/** How often the device holding a person's identity checks that its device list is not growing old */
export const DEVICE_LIST_CHECK_INTERVAL = 1 * hour

/**
 * How long a receiver trusts a device list it resolved when it checks that a frame's sending
 * device is its person's: a removed device's frames are refused at most this long after the
 * removal is published. A sender never caches: it resolves the recipient's list for every send,
 * so a removed device gets nothing sealed after the removal.
 */
export const VERIFIED_DEVICES_MAX_AGE = 1 * minute

/**
 * A device that is not on the list a receiver holds makes it resolve the list again, at most
 * once per this interval per person: a newly linked device is believed at once, and frames from
 * a stranger naming someone else's identity cannot make a receiver resolve on each of them
 */
export const DEVICE_LIST_REFRESH_INTERVAL = 5 * second

/** People whose device lists a receiver keeps for checking senders; the one used longest ago goes first */
export const MAX_CACHED_DEVICE_LISTS = 1024

/** Envelopes one send seals and stores at once: enough to keep the ring busy, few enough to keep a browser responsive */
export const FAN_OUT_CONCURRENCY = 16

/**
 * How long a link offer waits for a new device's request: long enough to find the other device
 * and scan a code, short enough that a code photographed later is worthless
 */
export const LINK_OFFER_TTL = 10 * minute

/** Starts every link offer's text form, so that it is recognised and never taken for an address */
export const LINK_PREFIX = 'chord-link:'

/** First byte of a link offer's bytes, so that a later format can be told apart */
export const LINK_VERSION = 1

/** Checksum bytes at the end of a link offer, as in an address: a damaged code is refused, not followed */
export const LINK_CHECKSUM_LENGTH = 4

/** The label of a link offer's checksum */
export const LINK_CHECKSUM_LABEL = 'libp2p-chord/link-checksum/v1'
