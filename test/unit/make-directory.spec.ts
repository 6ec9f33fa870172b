import assert from 'node:assert/strict'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeDirectory } from '../../src/storage/make-directory.js'

describe('makeDirectory', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'make-directory-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('makes every missing level, and takes one that exists', async () => {
    const deep = join(dir, 'a', 'b', 'c')
    await makeDirectory(deep)
    assert.ok((await stat(deep)).isDirectory())
    await makeDirectory(deep)
    // two at once, of one parent and of one leaf
    await Promise.all([makeDirectory(join(dir, 'x', 'y')), makeDirectory(join(dir, 'x', 'z'))])
    assert.ok((await stat(join(dir, 'x', 'z'))).isDirectory())
    await Promise.all([makeDirectory(join(dir, 'p', 'q')), makeDirectory(join(dir, 'p', 'q'))])
    assert.ok((await stat(join(dir, 'p', 'q'))).isDirectory())
  })

  it('fails with the file system\'s error for a file in the way', async () => {
    await writeFile(join(dir, 'file'), '')
    await assert.rejects(makeDirectory(join(dir, 'file')), { code: 'EEXIST' })
    await assert.rejects(makeDirectory(join(dir, 'file', 'below')), { code: 'ENOTDIR' })
  })

  it('fails, rather than tries for ever, where the file system will not make a directory under one that exists', async function () {
    if (process.platform !== 'linux') {
      this.skip()
    }
    await assert.rejects(makeDirectory('/proc/no-such-directory/below'), { code: 'ENOENT' })
  })
})
