/**
 * This package's version, for `--version` and the status report. package.json sits two folders
 * above this file when run from source (src/cli) and three when compiled (dist/src/cli).
 */
import { readFileSync } from 'node:fs'

/** Folders above this file to look in for package.json: src/cli, then dist/src/cli */
const PACKAGE_JSON_CANDIDATES = ['../../package.json', '../../../package.json']

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
