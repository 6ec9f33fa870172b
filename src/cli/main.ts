#!/usr/bin/env node
/**
 * `chord-node`: the entry point. It checks the Node.js version before loading anything (libp2p
 * needs 22 and fails deep inside a dependency on older ones), then runs the command line.
 */
const NEEDED_NODE_MAJOR = 22

const major = Number(process.versions.node.split('.')[0])
if (major < NEEDED_NODE_MAJOR) {
  process.stderr.write(`chord-node: needs Node.js ${NEEDED_NODE_MAJOR} or newer, and this is ${process.version}; install Node.js ${NEEDED_NODE_MAJOR} (or run it with npx -p node@${NEEDED_NODE_MAJOR} chord-node …)\n`)
  process.exit(1)
}

const { main } = await import('./program.js')
const code = await main(process.argv)
if (code !== undefined) {
  // a command that is done ends the process now, whatever handles libraries left open
  process.exit(code)
}
