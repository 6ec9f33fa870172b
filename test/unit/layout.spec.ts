/**
 * The shape of the source tree, checked from its imports: no file or folder imports itself back
 * (directly or through others), the ring core knows nothing of libp2p, and the wire format
 * (`src/protocol/`) imports no feature.
 */
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src')

/** Every .ts file under `dir`, as a path relative to src/ */
function sourceFiles (dir: string = SRC): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) {
      return sourceFiles(path)
    }
    return path.endsWith('.ts') ? [relative(SRC, path)] : []
  })
}

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm

/** The specifiers a file imports, values and types alike */
function importsOf (file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8')
  return [...text.matchAll(IMPORT)].map(match => match[1] ?? match[2])
}

/** file → the files of src/ it imports */
function fileGraph (): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles()) {
    const targets = importsOf(file)
      .filter(spec => spec.startsWith('.'))
      .map(spec => relative(SRC, resolve(SRC, dirname(file), spec)).replace(/\.js$/, '.ts'))
    graph.set(file, targets)
  }
  return graph
}

/** The folder a file belongs to: its first path segment, or the file itself at the top level */
function folderOf (file: string): string {
  const [first, ...rest] = file.split('/')
  return rest.length === 0 ? first : `${first}/`
}

/** One cycle of the graph, if it has any (depth-first search) */
function findCycle (graph: Map<string, Set<string> | string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open')
    path.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') {
        return [...path.slice(path.indexOf(next)), next]
      }
      if (state.get(next) == null) {
        const cycle = visit(next)
        if (cycle != null) {
          return cycle
        }
      }
    }
    path.pop()
    state.set(node, 'done')
    return undefined
  }
  for (const node of graph.keys()) {
    if (state.get(node) == null) {
      const cycle = visit(node)
      if (cycle != null) {
        return cycle
      }
    }
  }
  return undefined
}

describe('source layout', () => {
  const files = fileGraph()

  it('has no file that imports itself back, through any chain', () => {
    assert.equal(findCycle(files)?.join(' → '), undefined)
  })

  it('has no folder that imports itself back, through any chain', () => {
    const folders = new Map<string, Set<string>>()
    for (const [file, targets] of files) {
      const from = folderOf(file)
      const edges = folders.get(from) ?? new Set<string>()
      for (const target of targets) {
        if (folderOf(target) !== from) {
          edges.add(folderOf(target))
        }
      }
      folders.set(from, edges)
    }
    assert.equal(findCycle(folders)?.join(' → '), undefined)
  })

  it('keeps the ring core free of libp2p: src/chord imports only itself, errors, units, the crypto primitives and small libraries', () => {
    const outside = [...files.keys()]
      .filter(file => file.startsWith('chord/'))
      .flatMap(file => importsOf(file).map(spec => ({ file, spec })))
      .filter(({ file, spec }) => spec.startsWith('.')
        ? !['chord/', 'crypto/', 'errors.ts', 'units.ts'].includes(folderOf(relative(SRC, resolve(SRC, dirname(file), spec)).replace(/\.js$/, '.ts')))
        : spec.includes('libp2p'))
    assert.deepEqual(outside, [])
  })

  it('keeps the wire format free of features: src/protocol imports nothing of the project', () => {
    const reaching = [...files.entries()]
      .filter(([file]) => file.startsWith('protocol/'))
      .flatMap(([file, targets]) => targets.filter(target => !target.startsWith('protocol/')).map(target => `${file} → ${target}`))
    assert.deepEqual(reaching, [])
  })

  it('sees the whole tree (a check on this test itself)', () => {
    assert.ok(files.size > 50, `only ${files.size} source files found`)
    assert.ok(files.get('index.ts')?.includes('services/chord.ts'))
  })
})
