/**
 * This package's version, for `--version` and the status report. package.json sits one folder
 * above the bundled bin (dist/chord-node.mjs), two above this file run from source (src/cli) and
 * three when compiled (dist/src/cli).
 */
import { readFileSync } from 'node:fs'

/** Where to look for package.json, from: the bundled bin, src/cli, dist/src/cli */
const PACKAGE_JSON_CANDIDATES = ['../package.json', '../../package.json', '../../../package.json']

export function packageVersion (): string {
  for (const candidate of PACKAGE_JSON_CANDIDATES) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8'))
      if (manifest.name === 'libp2p-chord') {
        return manifest.version
      }
    } catch {}
  }
  return 'unknown'
}
