/**
 * The components a libp2p node hands to every service factory it builds. A test adds the capture
 * to a node's `services`, then calls a service factory with the captured components itself, so it
 * holds a service built exactly as libp2p builds one (on that node's registrar, connection
 * manager and peer store) but not started with the node: the test drives its life cycle.
 */
export interface ComponentsCapture<Components> {
  /** goes into libp2p's `services`; it builds nothing of its own */
  factory: (components: Components) => Record<string, never>
  /** the node's components, once libp2p has built its services */
  readonly components: Components
}

export function captureComponents<Components> (): ComponentsCapture<Components> {
  let captured: Components | undefined
  return {
    factory: (components) => {
      captured = components
      return {}
    },
    get components () {
      if (captured == null) {
        throw new Error('libp2p has not built its services yet')
      }
      return captured
    }
  }
}
