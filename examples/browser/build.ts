/**
 * Bundles the browser example into dist/bundle.js, next to the index.html that loads it:
 *
 *   npm run build:browser                              write the bundle
 *   npm run build:browser -- --serve 127.0.0.1:8000    serve the page, rebuilding on each load
 *
 * esbuild's browser platform follows the `browser` fields of this package (WebSockets-only
 * platform defaults) and of its dependencies (`level` becomes IndexedDB, `events` the npm
 * package). Everything is bundled; an import left outside the bundle would be a Node built-in
 * that a browser does not have, so a build with any fails.
 */
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, context } from 'esbuild'
import { parseCommandLine } from '../shared/command-line.js'
import type { BuildOptions, Metafile } from 'esbuild'

export const BROWSER_EXAMPLE_DIR = dirname(fileURLToPath(import.meta.url))

/** Where index.html loads the bundle from */
export const DEFAULT_BUNDLE_PATH = join(BROWSER_EXAMPLE_DIR, 'dist', 'bundle.js')

export class BundleNotSelfContainedError extends Error {
  static name = 'BundleNotSelfContainedError'
  name = BundleNotSelfContainedError.name
}

function bundleOptions (outfile: string): BuildOptions {
  return {
    entryPoints: [join(BROWSER_EXAMPLE_DIR, 'main.ts')],
    outfile,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning'
  }
}

/** Build the bundle into `outfile`; resolves to esbuild's account of what went in */
export async function buildBrowserBundle (outfile: string = DEFAULT_BUNDLE_PATH): Promise<Metafile> {
  const { metafile } = await build({ ...bundleOptions(outfile), metafile: true })
  const outside = externalImports(metafile)
  if (outside.length > 0) {
    throw new BundleNotSelfContainedError(`the browser bundle imports what it does not contain: ${outside.join(', ')}`)
  }
  return metafile
}

function externalImports (metafile: Metafile): string[] {
  const paths = Object.values(metafile.inputs).flatMap(input => input.imports.filter(i => i.external === true).map(i => i.path))
  return [...new Set(paths)]
}

/** Serve the example directory, with the bundle built afresh for each page load */
export async function serveBrowserExample (host: string, port: number): Promise<string> {
  const builder = await context(bundleOptions(DEFAULT_BUNDLE_PATH))
  await builder.serve({ servedir: BROWSER_EXAMPLE_DIR, host, port })
  return `http://${host}:${port}/`
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const usage = `usage: npm run build:browser [-- --serve <host:port>]
  without options        write the bundle, ${relative(process.cwd(), DEFAULT_BUNDLE_PATH)}
  --serve <host:port>    serve the page instead, e.g. on 127.0.0.1:8000, rebuilding the bundle on each load
  --help                 this text`
  const values = parseCommandLine('build:browser', usage, { serve: { type: 'string' } })
  if (values.serve != null) {
    const hostAndPort = /^(.+):(\d+)$/.exec(values.serve)
    if (hostAndPort == null) {
      console.error('build:browser: --serve takes host:port, e.g. --serve 127.0.0.1:8000')
      process.exit(2)
    }
    const url = await serveBrowserExample(hostAndPort[1], Number(hostAndPort[2]))
    console.log(`serving ${url} (add ?bootstrap=<a ring node's /ws multiaddr>); Ctrl-C stops`)
  } else {
    const metafile = await buildBrowserBundle()
    const bytes = Object.values(metafile.outputs).find(output => output.entryPoint != null)?.bytes ?? 0
    console.log(`wrote ${relative(process.cwd(), DEFAULT_BUNDLE_PATH)} (${Math.round(bytes / 1024)} KiB)`)
  }
}
