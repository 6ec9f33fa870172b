/**
 * The library's defaults, gathered for `--help`: the command passes nothing for a setting the
 * operator left alone, so the node uses these, and the help text shows what they are.
 */
export {
  DEFAULT_ANTI_ENTROPY_INTERVAL,
  DEFAULT_CHECK_PREDECESSOR_INTERVAL,
  DEFAULT_FIX_FINGERS_INTERVAL,
  DEFAULT_ID_CHOICES,
  DEFAULT_ID_DIFFICULTY,
  DEFAULT_REPLICAS,
  DEFAULT_RING_PEERS_PER_SUBNET,
  DEFAULT_STABILIZE_INTERVAL,
  DEFAULT_SWEEP_INTERVAL
} from '../chord/constants.js'
export { SUBSCRIPTION_CHECK_INTERVAL } from '../mailbox/constants.js'
export { REQUEST_TIMEOUT } from '../transport/constants.js'
export { DEFAULT_TTL, MAX_TTL } from '../chord/constants.js'
export { MAX_BYTES_PER_KEY, MAX_RECORDS_PER_KEY, MAX_TOTAL_BYTES, MAX_VALUE_SIZE } from '../storage/constants.js'
export { JOIN_ATTEMPT_TIMEOUT, JOIN_TIMEOUT } from '../membership/join.js'
export { HEAL_INTERVAL } from '../membership/partition-healer.js'
export { PEER_CACHE_SAVE_INTERVAL } from '../membership/peer-cache-keeper.js'
