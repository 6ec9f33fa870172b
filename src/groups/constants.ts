/**
 * Limits and labels of groups, with the reason for each. docs/protocol.md, section 12, describes
 * the state they shape; docs/security.md the scheme.
 */
export { GROUP_ID_LENGTH } from '../mailbox/constants.js'

/**
 * Members of one group. A group's state names every member's key (65 bytes) and travels whole, in
 * one envelope of at most 64 KiB, to every member's devices at each change: 512 keys take 34 KB,
 * the most a power of two leaves room for. Each message is sealed once per member device
 * (docs/security.md, "Groups"), which docs/benchmarks.md measures up to 1,000.
 */
export const MAX_GROUP_MEMBERS = 512

/** Longest group name, in bytes of UTF-8: a title, not data */
export const MAX_GROUP_NAME_BYTES = 100

/** The label of a group state's hash, which the next state names as the one it follows */
export const GROUP_STATE_LABEL = 'libp2p-chord/group-state/v1'

/**
 * Admins a group keeps, where it has members enough, once an admin leaves: the leaver's role
 * goes to the members longest in it without one (two when its last admin leaves), so that one
 * heir leaving at the same moment leaves another, who removes it
 */
export const ADMINS_AFTER_A_LEAVE = 2

/**
 * States a member keeps of each group, the current one last: enough to settle two admins'
 * changes made at once (a fork) when the losing one arrives a few changes late
 */
export const GROUP_HISTORY = 8

/**
 * States of one group kept while the state they follow has not arrived (the mailbox delivers in
 * the order envelopes are stored, which two admins' changes need not share); more are dropped,
 * oldest first
 */
export const MAX_PENDING_GROUP_STATES = 16

/**
 * Group messages kept while their group's state (or the change that made their sender a member)
 * has not arrived: they are neither shown nor acknowledged until it does, so none is lost if
 * more come; past this the oldest waits for the next subscription
 */
export const MAX_PENDING_GROUP_MESSAGES = 64

/**
 * Largest group whose members answer its messages with delivery receipts. Each receipt is an
 * envelope in the sender's mailbox, which takes 1,024 a minute from everyone together
 * (MAX_ENVELOPES_PER_MAILBOX_PER_WINDOW): 64 members, a couple of devices each, leave room for
 * several messages a minute. Bigger groups show what was stored, not what was delivered.
 */
export const MAX_GROUP_RECEIPT_MEMBERS = 64

/**
 * Groups one person's devices hold: those the person is in, and those they were removed from
 * until they leave (forget) them. Anyone who knows an address can invite it into groups, each
 * kept on every device with up to GROUP_HISTORY states of up to 34 KB (and up to
 * MAX_PENDING_GROUP_STATES more in memory while they wait): 256 groups bound that to about 70 MB
 * stored and 140 MB more in memory at worst, and are more than people take part in. Past it an
 * invitation is refused until the person leaves a group.
 */
export const MAX_GROUPS = 256

/**
 * Groups a person left that their devices remember, so that a change or message an admin sent
 * before seeing the leave (or an admin who ignores it) does not bring the group back; past this
 * the oldest is forgotten. Four times MAX_GROUPS: someone who fills a person's groups to push an
 * old one out of this list must make them leave 1,024 groups first.
 */
export const MAX_LEFT_GROUPS = 1024

/**
 * Groups left (the most recent) that a device tells a device newly linked to its person, so that
 * the new device does not take a later change from an admin who never removed the person as an
 * invitation. Each is an envelope in the new device's mailbox, before one per group held, from a
 * sender the mailbox takes 128 a minute from (MAX_ENVELOPES_PER_SENDER_PER_WINDOW).
 */
export const MAX_LEFT_GROUPS_TOLD = 32
