/**
 * A range scan run for an asker, counted as it reads: what it read is the asker's to pay, whether
 * the scan answers or is refused (too large for what it may still have read, or before reading
 * anything), and it reads at most `scanLimit` records.
 */
import type { WorkDone } from '../request-limits.js'
import type { ScanTally } from '../../chord/record.js'

/** Run `scan` with a tally capped at `scanLimit`, and report what it read in `done` */
export async function countedScan<T> (done: WorkDone, scanLimit: number | undefined, scan: (tally: ScanTally) => Promise<T>): Promise<T> {
  const tally: ScanTally = { limit: scanLimit, read: 0 }
  try {
    return await scan(tally)
  } finally {
    done.scannedRecords = tally.read
  }
}
