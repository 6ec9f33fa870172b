/**
 * Builds the package as `npm run build` does (tsc into dist/, then the bin's bundle), so that the
 * benchmarks run the `chord-node` bin on plain Node, as a deployment does.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export async function buildPackage (): Promise<void> {
  const tsc = join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  await run(process.execPath, [tsc, '-p', join(REPOSITORY_ROOT, 'tsconfig.build.json')], { cwd: REPOSITORY_ROOT })
  await run(process.execPath, ['--import', 'tsx', join(REPOSITORY_ROOT, 'scripts', 'build-bin.ts')], { cwd: REPOSITORY_ROOT })
}
