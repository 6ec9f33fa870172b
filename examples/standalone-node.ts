/**
 * The standalone node run from source, for development: `npx tsx examples/standalone-node.ts
 * [command] [options]` takes what the compiled `chord-node` takes (npm start, or
 * `node dist/src/cli/main.js`, which operators run); see `--help` and docs/operations.md.
 */
import { main } from '../src/cli/program.js'

const code = await main(process.argv)
if (code !== undefined) {
  process.exit(code)
}
