/**
 * `mkdir -p` that ends. Node's own (`mkdir(dir, { recursive: true })`, 22.x) never returns, nor
 * fails, for a path the file system will not create under a directory that exists, such as
 * `/proc/x`: each try answers ENOENT, the parent exists, and it tries again. Here each level is
 * made once, and a level that still cannot be made fails with the file system's own error.
 */
import { mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'

export async function makeDirectory (dir: string): Promise<void> {
  try {
    await mkdir(dir)
    return
  } catch (err: any) {
    if (err.code === 'EEXIST') {
      return whenDirectory(dir, err)
    }
    if (err.code !== 'ENOENT' || dirname(dir) === dir) {
      throw err
    }
  }
  await makeDirectory(dirname(dir))
  try {
    await mkdir(dir)
  } catch (err: any) {
    // made meanwhile by someone else
    if (err.code !== 'EEXIST') {
      throw err
    }
    return whenDirectory(dir, err)
  }
}

/** EEXIST is success only for a directory */
async function whenDirectory (dir: string, err: Error): Promise<void> {
  if (!(await stat(dir)).isDirectory()) {
    throw err
  }
}
