/**
 * The browser build's version of `make-directory.ts` (swapped in through the package's `browser`
 * field): a page's database lives in IndexedDB and its `dataDir` only names it, so there is no
 * directory to make.
 */
export async function makeDirectory (_dir: string): Promise<void> {}
