/**
 * Storage limits and lifetimes, with the reason for each default.
 *
 * Every limit here protects a node from what other peers may ask it to keep: a Chord node stores
 * records for whoever's key lands in its arc, so without caps one peer could fill its disk.
 */
import { KiB, MiB } from '../units.js'

/**
 * Largest value a record may hold. A chat message with its envelope (ephemeral key, nonce, sender
 * identity, signature, tag) is well under this; larger payloads (files) do not belong in a DHT,
 * and a cap this size keeps every record inside one wire message with room to spare.
 */
export const MAX_VALUE_SIZE = 64 * KiB

/**
 * Most live records one key may hold. A mailbox is one key, so this is how many unacknowledged
 * messages can wait for an offline user; a thousand covers a long absence in a busy chat.
 */
export const MAX_RECORDS_PER_KEY = 1024

/**
 * Most bytes one key may hold (values plus per-record overhead). Smaller than
 * MAX_RECORDS_PER_KEY × MAX_VALUE_SIZE on purpose: one mailbox (one key) must not be able to take
 * a large share of a node's disk, whatever mix of record sizes it is filled with.
 */
export const MAX_BYTES_PER_KEY = 8 * MiB

/**
 * Most bytes the whole store holds (values plus per-record overhead). Sized for a small server
 * or a browser's IndexedDB quota; operators with more disk raise it.
 */
export const MAX_TOTAL_BYTES = 256 * MiB

/**
 * Most bytes the store holds by default when it is in memory (a node without a data directory):
 * its records are then the process's memory, so the default is a quarter of the on-disk one. A
 * flood of STOREs measured 143 → 445 MB RSS on such a node with the on-disk default; each of the
 * node's two stores (records, mailbox) now holds at most this, and one writer an eighth of it.
 */
export const MAX_TOTAL_BYTES_IN_MEMORY = 64 * MiB

/**
 * The share of each quota (a key's records and bytes, the store's bytes) that one writer may
 * hold: a remote peer the node stores records for, other than its ring neighbours, which hand it
 * what it replicates. With an eighth, one peer (or one identity of many) can take at most an
 * eighth of a node's disk or of a mailbox, whatever it sends; eight of them can fill one, which is
 * what the optional proof-of-work on ring ids and envelope stamps make expensive.
 */
export const WRITER_SHARE = 1 / 8

/**
 * The share of the store's bytes that the writers of one subnet (IPv4 /24, IPv6 /48) may hold
 * together. PeerIds are free: at WRITER_SHARE alone, nine identities filled a store in about
 * 12 s. With a quarter, filling one takes four subnets. Honest clients behind one NAT or gateway
 * share it, so a node that serves many of them raises `storeLimits.maxBytesPerSubnet`. Loopback is
 * counted under no subnet.
 */
export const SUBNET_SHARE = 1 / 4

/**
 * Least records one writer may hold under one key, whatever the key's quota: a store configured
 * with tiny quotas (tests, browsers) still takes a few values of a key from one writer.
 */
export const MIN_WRITER_RECORDS_PER_KEY = 16

/** Least bytes one writer may hold under one key: one value of the largest size */
export const MIN_WRITER_BYTES_PER_KEY = MAX_VALUE_SIZE + 256

/** Least bytes one writer may hold in the store: a few dozen of the largest values */
export const MIN_WRITER_BYTES = 2 * MiB

/**
 * Peers remembered between runs to rejoin the ring without the bootstrap list. A few hundred
 * make it very likely that some are still up after a long downtime, while the cache stays a
 * few tens of kilobytes.
 */
export const MAX_CACHED_PEERS = 256

/** Addresses kept per cached peer; a node rarely listens on more, and each is a dial attempt */
export const MAX_ADDRS_PER_CACHED_PEER = 16

/**
 * Expired records removed per write batch while sweeping: big enough to sweep quickly, small
 * enough that puts waiting behind a sweep are not held up for long.
 */
export const SWEEP_BATCH_SIZE = 1000

/**
 * Entries of the key tallies a record store keeps (storage/key-tallies.ts): one per key, plus one
 * per writer under it. A few thousand recently written keys, mailboxes with many senders
 * included, in well under a megabyte.
 */
export const KEY_TALLY_ENTRIES = 8192

/**
 * Records whose values are read together while iterating a range: amortizes the reads without
 * holding many values in memory while the consumer works through them.
 */
export const RANGE_READ_BATCH = 64

/**
 * Headers read at once while cutting a page of one key's records (`page`): a page of a mailbox's
 * backlog is cut by its bytes (512 KiB) long before its 256 envelopes, so a page is usually a read
 * or two of small headers
 */
export const PAGE_HEADERS_BATCH = 128
