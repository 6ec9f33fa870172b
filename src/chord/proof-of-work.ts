/**
 * Hashcash: a nonce is worth the leading zero bits of a hash over it, so checking a nonce costs
 * one hash and finding one worth `d` bits costs about 2^d. Mailbox stamps and ring positions are
 * both paid for this way, each hashing its nonce with what it is bound to.
 */

/** Bytes of a nonce this implementation makes: a counter, so two searches from 0 find the same one */
export const NONCE_BYTES = 8

/** Hashes tried between two turns of the event loop (a few milliseconds' worth) */
export const HASHES_PER_TURN = 4096

/** The leading zero bits of `bytes`: the work a hash proves */
export function leadingZeroBits (bytes: Uint8Array): number {
  let bits = 0
  for (const byte of bytes) {
    if (byte === 0) {
      bits += 8
      continue
    }
    return bits + Math.clz32(byte) - 24
  }
  return bits
}

/**
 * The first nonce (NONCE_BYTES, a big-endian counter from 0) whose `work` is at least
 * `difficulty`. Yields to the event loop every HASHES_PER_TURN tries, and gives up when `signal`
 * aborts.
 */
export async function findNonce (work: (nonce: Uint8Array) => number, difficulty: number, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  const nonce = new Uint8Array(NONCE_BYTES)
  const view = new DataView(nonce.buffer)
  for (let counter = 0; ; counter++) {
    view.setUint32(0, Math.floor(counter / 2 ** 32))
    view.setUint32(4, counter >>> 0)
    if (work(nonce) >= difficulty) {
      return nonce
    }
    if (counter % HASHES_PER_TURN === HASHES_PER_TURN - 1) {
      options.signal?.throwIfAborted()
      await new Promise(resolve => setTimeout(resolve, 0))
    }
  }
}
