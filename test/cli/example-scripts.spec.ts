/**
 * The command lines of the npm scripts that run examples (`npm run build:browser`, `chat`, `demo`):
 * `--help` prints how to call them, and a mistake is one line and exit 2, never a stack trace.
 */
import assert from 'node:assert/strict'
import { REPO_ROOT, cleanEnv, runProcess } from '../helpers/chord-node-process.js'
import type { ProcessResult } from '../helpers/chord-node-process.js'

/** An example script run as its npm script runs it (tsx) */
async function runScript (file: string, args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, ['--import', 'tsx', file, ...args], { cwd: REPO_ROOT, env: cleanEnv() })
}

describe('example scripts\' command lines', function () {
  this.timeout(60_000)

  for (const [script, file, option] of [
    ['build:browser', 'examples/browser/build.ts', '--serve'],
    ['chat', 'examples/chat.ts', '--bootstrap'],
    ['demo', 'examples/demo.ts', '--nodes']
  ]) {
    it(`npm run ${script} -- --help prints the usage; an unknown option is one line, exit 2`, async () => {
      const help = await runScript(file, ['--help'])
      assert.equal(help.code, 0, help.stderr)
      assert.match(help.stdout, new RegExp(`^usage: npm run ${script}`))
      assert.match(help.stdout, new RegExp(`${option} `))

      const wrong = await runScript(file, ['--bogus'])
      assert.equal(wrong.code, 2, wrong.stderr)
      assert.doesNotMatch(wrong.stderr, /^\s+at /m, 'no stack trace')
      assert.equal(wrong.stderr.trim().split('\n').length, 1, `one line: ${wrong.stderr}`)
      assert.match(wrong.stderr, new RegExp(`^${script}: .*--bogus.*\\(npm run ${script} -- --help lists the options\\)$`, 'm'))
      assert.doesNotMatch(wrong.stderr, /did you mean/)

      // a letter dropped: the option meant is named
      const typo = await runScript(file, [option.slice(0, 4) + option.slice(5)])
      assert.equal(typo.code, 2, typo.stderr)
      assert.match(typo.stderr, new RegExp(`^${script}: .*; did you mean ${option}\\? \\(npm run`, 'm'))
    })
  }

  it('npm run demo with a value it cannot take: one line naming the option, exit 2', async () => {
    for (const [args, pattern] of [[['--nodes', 'four'], /^demo: --nodes "four": expected/], [['--port', '70000'], /^demo: --port "70000": expected a port/]] as const) {
      const wrong = await runScript('examples/demo.ts', [...args])
      assert.equal(wrong.code, 2, wrong.stderr)
      assert.equal(wrong.stderr.trim().split('\n').length, 1, `one line: ${wrong.stderr}`)
      assert.match(wrong.stderr, pattern)
    }
  })
})
