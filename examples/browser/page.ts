/** Small helpers the parts of the page share */

/** Find an element the page cannot work without, with the type the code expects */
export function requireElement<T extends Element> (selector: string, type: new () => T, root: ParentNode = document): T {
  const element = root.querySelector(selector)
  if (!(element instanceof type)) {
    throw new TypeError(`the page has no ${type.name} matching ${selector}`)
  }
  return element
}

/** An error as a user can read it: its class name says what kind of failure it was */
export function describeError (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}
