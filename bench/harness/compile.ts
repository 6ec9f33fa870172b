/**
 * Compiles a TypeScript entry point and what it imports to JavaScript, so that it can run on plain
 * Node without a TypeScript loader (as a deployment built with `npm run build` would). The output
 * goes under bench/results/, inside the repository, so that its package imports still resolve to
 * node_modules.
 */
import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Compile `entry` (relative to the repository root) into `outDir`, with the project's compiler
 * settings; resolves to the path of the compiled entry. Type errors do not stop the output: the
 * benchmark measures what runs, and the type check is the tests' job.
 */
export async function compileEntry (entry: string, outDir: string): Promise<string> {
  await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  const config = join(outDir, 'tsconfig.json')
  await writeFile(config, JSON.stringify({
    extends: relative(outDir, join(REPOSITORY_ROOT, 'tsconfig.json')),
    compilerOptions: {
      noEmit: false,
      declaration: false,
      sourceMap: false,
      rootDir: relative(outDir, REPOSITORY_ROOT),
      outDir: '.',
      types: ['node']
    },
    files: [relative(outDir, join(REPOSITORY_ROOT, entry))],
    include: []
  }, null, 2))
  const tsc = join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  try {
    await run(process.execPath, [tsc, '-p', config], { cwd: REPOSITORY_ROOT })
  } catch (err: any) {
    // tsc exits non-zero on type errors but still writes the output; only a missing output is fatal
    if (err.code == null || typeof err.code !== 'number') {
      throw err
    }
  }
  return join(outDir, entry.replace(/\.ts$/, '.js'))
}
