/**
 * A stream muxer whose every muxer goes through `around` as it is made, for the connection it
 * serves. The node's wrappers of yamux are built on it, each changing only the muxers (and their
 * streams) it is given, never the muxer's shared code.
 */
import type { MultiaddrConnection, StreamMuxer, StreamMuxerFactory } from '@libp2p/interface'

export function aroundMuxing<Components, Muxer extends StreamMuxer> (muxer: (components: Components) => StreamMuxerFactory<Muxer>, around: (muxer: Muxer) => Muxer): (components: Components) => StreamMuxerFactory<Muxer> {
  return components => {
    const factory = muxer(components)
    const createStreamMuxer = factory.createStreamMuxer.bind(factory)
    factory.createStreamMuxer = (connection: MultiaddrConnection) => around(createStreamMuxer(connection))
    return factory
  }
}
