/**
 * libp2p needs a runtime with `Promise.withResolvers` (Node.js 22 and later, current browsers);
 * without it every connection fails deep inside a dependency with an error that names nothing
 * useful. This fails at import instead, saying what is needed.
 */
import { UnsupportedRuntimeError } from './errors.js'

/** The oldest Node.js major version libp2p runs on */
export const MIN_NODE_MAJOR = 22

if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node
  throw new UnsupportedRuntimeError(node == null
    ? 'libp2p-chord needs Promise.withResolvers, which this browser lacks: use a current browser'
    : `libp2p-chord needs Node.js ${MIN_NODE_MAJOR} or later, this is Node.js ${node}: install Node.js ${MIN_NODE_MAJOR}+ (the project pins it as the \`node\` devDependency)`)
}
