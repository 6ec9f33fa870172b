/**
 * Bundles the `chord-node` command into one minified file, dist/chord-node.mjs, which is what
 * the package's `bin`, `npm start`, the Dockerfile and the systemd unit run. A node process then
 * loads one module instead of some eight hundred, and keeps far less source and module state in
 * memory: an idle node takes about a quarter less RSS than running dist/src/cli/main.js
 * (docs/benchmarks.md). LevelDB's native binding stays outside the bundle.
 *
 *   npm run build      (tsc, then this)
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..')

await build({
  entryPoints: [join(root, 'dist', 'src', 'cli', 'main.js')],
  outfile: join(root, 'dist', 'chord-node.mjs'),
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // a native addon cannot be bundled: classic-level is loaded from node_modules as it is
  external: ['classic-level'],
  // some dependencies are CommonJS and call require(): give the bundle one
  // (esbuild keeps the entry's own first line, `#!/usr/bin/env -S node --max-semi-space-size=1`)
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning'
})
