/**
 * How fast this machine does one Ed25519 verification at the moment (Node's native crypto, as the
 * mailbox uses it): a yardstick for CPU per message. On a shared, loaded machine a core does the
 * same work several times slower, and a number in ms per message means little without it.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto'
import { cpuMsSince, cpuNow } from './cpu-time.js'

const VERIFICATIONS = 500

/** CPU µs one Ed25519 verification of a short message takes, averaged over VERIFICATIONS */
export function ed25519VerifyMicros (): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const message = Buffer.from('see you at the station at eight, by the clock')
  const signature = sign(null, message, privateKey)
  const started = cpuNow()
  for (let i = 0; i < VERIFICATIONS; i++) {
    if (!verify(null, message, publicKey, signature)) {
      throw new Error('a signature made a moment ago did not verify')
    }
  }
  return cpuMsSince(started) * 1000 / VERIFICATIONS
}
