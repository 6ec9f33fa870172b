// Lint: standard style (neostandard) for TypeScript, the type-aware rules that catch promise
// mistakes, and import hygiene (order, type-only imports, no cycles between files).
import importX from 'eslint-plugin-import-x'
import neostandard from 'neostandard'
import tseslint from 'typescript-eslint'

export default [
  { ignores: ['dist/**', 'node_modules/**', 'src/protocol/generated/**', 'examples/browser/dist/**', 'bench/results/**'] },
  ...neostandard({ ts: true, noJsx: true }),
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname
      }
    },
    plugins: {
      '@typescript-eslint': tseslint.plugin,
      'import-x': importX
    },
    settings: {
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js'] })]
    },
    rules: {
      // a promise left to run on its own is marked `void` (no-floating-promises asks for exactly that)
      'no-void': ['error', { allowAsStatement: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/order': ['error', {
        groups: ['builtin', 'external', 'internal', 'parent', 'sibling', 'index', 'type'],
        alphabetize: { order: 'ignore' }
      }],
      'import-x/no-duplicates': 'error'
    }
  }
]
