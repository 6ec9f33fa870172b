#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * `chord-node`: the entry point. It checks the Node.js version before loading anything (libp2p
 * needs 22 and fails deep inside a dependency on older ones), then runs the command line.
 *
 * The first line caps V8's young generation at 1 MiB: a node makes short-lived garbage all the
 * time (every message, every timer), which otherwise piles up to the default 16 MiB before a
 * scavenge; the cap keeps an idle node about 10 MB smaller, for more and cheaper scavenges
 * (docs/benchmarks.md). `npm start`, the Dockerfile and the systemd unit pass the same flag.
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
