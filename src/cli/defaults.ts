/**
 * The library's defaults, gathered for `--help`: the command passes nothing for a setting the
 * operator left alone, so the node uses these, and the help text shows what they are.
 */
export {
  DEFAULT_ANTI_ENTROPY_INTERVAL,
  DEFAULT_CHECK_PREDECESSOR_INTERVAL,
  DEFAULT_FIX_FINGERS_INTERVAL,
  DEFAULT_REPLICAS,
  DEFAULT_STABILIZE_INTERVAL,
  DEFAULT_SWEEP_INTERVAL
} from '../chord/constants.js'
export { SUBSCRIPTION_CHECK_INTERVAL } from '../mailbox/constants.js'
export { REQUEST_TIMEOUT } from '../protocol/constants.js'
export { DEFAULT_TTL, MAX_BYTES_PER_KEY, MAX_RECORDS_PER_KEY, MAX_TOTAL_BYTES, MAX_TTL, MAX_VALUE_SIZE } from '../storage/constants.js'
export { JOIN_ATTEMPT_TIMEOUT, JOIN_TIMEOUT } from '../transport/bootstrap.js'
export { HEAL_INTERVAL } from '../transport/partition-healer.js'
export { PEER_CACHE_SAVE_INTERVAL } from '../transport/peer-cache-keeper.js'
