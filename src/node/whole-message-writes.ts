/**
 * A connection encrypter whose messages reach the transport in one write each. Noise hands the
 * connection every message as two parts, its 2-byte length and its ciphertext, and the transports
 * write each part on its own: `@libp2p/tcp` makes a socket write (a system call and, on loopback,
 * a TCP segment) of each, and WebSockets a frame of each. Joined first, a message is one write:
 * half the socket writes, and some tenth of the CPU of a mailbox message on loopback
 * (docs/benchmarks.md). The cost is a copy of what Noise sends at once (one message, or all that
 * waited while the socket was full), which is far less than the writes it saves.
 *
 * Only the connection handed to the encrypter is changed, not any shared prototype, so other
 * libp2p nodes in the same process keep their own behaviour.
 */
import { isUint8ArrayList } from 'uint8arraylist'
import { aroundSecuring } from './around-securing.js'
import type { ConnectionEncrypter, MessageStream } from '@libp2p/interface'

/** `encrypter` (e.g. `noise()`), with each message it sends joined into one write */
export function wholeMessageWrites<Components> (encrypter: (components: Components) => ConnectionEncrypter): (components: Components) => ConnectionEncrypter {
  return aroundSecuring(encrypter, { connection: joiningWrites })
}

/** `connection`, its `send` joining a list of parts into one buffer first */
function joiningWrites (connection: MessageStream): MessageStream {
  const send = connection.send.bind(connection)
  // isUint8ArrayList rather than instanceof: modules bring their own copies of the class
  connection.send = data => send(isUint8ArrayList(data) ? data.subarray() : data)
  return connection
}
