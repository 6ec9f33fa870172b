/**
 * What a put checks against a key's quotas, kept between puts: the live records and bytes under
 * each recently written key, in all and per writer. Without it each put read every header of its
 * key, so a mailbox holding n messages cost n header reads for each message that arrived (a full
 * one, 1,024), on each of its replicas.
 *
 * A tally is exact while none of the records it counts has expired (it keeps the earliest expiry,
 * and is not handed out from then on) and while nothing but a put changed its key: the store
 * forgets a key's tally when it deletes or sweeps records of that key.
 */
import { LRUCache } from 'lru-cache'
import { KEY_TALLY_ENTRIES } from './constants.js'
import type { StoreStats } from '../chord/record.js'

export interface KeyTally extends StoreStats {
  /** live records and bytes of each writer under the key, by writer in hex */
  writers: Map<string, StoreStats>
  /** the earliest expiry of the records counted: from then on some of them are no longer live */
  earliestExpiry: number
}

export class KeyTallies {
  /** sized by entries (one for the key, one per writer), so that keys with many writers count for what they hold */
  private readonly tallies = new LRUCache<string, KeyTally>({
    maxSize: KEY_TALLY_ENTRIES,
    sizeCalculation: tally => 1 + tally.writers.size
  })

  /** The tally of a key (in hex) as of `now`; undefined when none is kept or it is out of date */
  get (key: string, now: number): KeyTally | undefined {
    const tally = this.tallies.get(key)
    return tally == null || tally.earliestExpiry <= now ? undefined : tally
  }

  /** Keep `tally` for a key (set again after a change, so that its size is counted anew) */
  set (key: string, tally: KeyTally): void {
    this.tallies.set(key, tally)
  }

  forget (key: string): void {
    this.tallies.delete(key)
  }

  clear (): void {
    this.tallies.clear()
  }
}
