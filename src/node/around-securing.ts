/**
 * A connection encrypter with work of its own around the securing of each connection: the
 * connection handed in goes through `connection` before `encrypter` secures it, and what it
 * secures goes through `secured` after. The node's wrappers of Noise are built on it, each
 * changing only the connections it is given, never the encrypter's shared code.
 */
import type { ConnectionEncrypter, MessageStream, SecuredConnection } from '@libp2p/interface'

export interface AroundSecuring {
  connection?(connection: MessageStream): MessageStream
  secured?<Secured extends SecuredConnection<unknown>>(secured: Secured): Secured
}

export function aroundSecuring<Components> (encrypter: (components: Components) => ConnectionEncrypter, around: AroundSecuring): (components: Components) => ConnectionEncrypter {
  const before = around.connection ?? (connection => connection)
  const after = around.secured ?? (secured => secured)
  return components => {
    const inner = encrypter(components)
    const secureInbound = inner.secureInbound.bind(inner)
    const secureOutbound = inner.secureOutbound.bind(inner)
    inner.secureInbound = async (connection, options) => after(await secureInbound(before(connection), options))
    inner.secureOutbound = async (connection, options) => after(await secureOutbound(before(connection), options))
    return inner
  }
}
