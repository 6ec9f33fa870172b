/** Small helpers the parts of the page share */

/** Find an element the page cannot work without, with the type the code expects */
export function requireElement<T extends Element> (selector: string, type: new () => T, root: ParentNode = document): T {
  const element = root.querySelector(selector)
  if (!(element instanceof type)) {
    throw new TypeError(`the page has no ${type.name} matching ${selector}`)
  }
  return element
}

/** An error as a user can read it: its class name says what kind of failure it was (never a stack) */
export function describeError (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/** An element with text content (never markup: names and messages come from other people) */
export function element<K extends keyof HTMLElementTagNameMap> (tag: K, attributes: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value)
  }
  node.append(...children)
  return node
}

export type NoticeKind = 'error' | 'info'

/** Show one message to the user in the page's notice area, until dismissed or replaced */
export function showNotice (text: string, kind: NoticeKind = 'error'): void {
  const notice = requireElement('#notice', HTMLElement)
  requireElement('#notice-text', HTMLElement).textContent = text
  notice.dataset.kind = kind
  notice.hidden = false
}

export function clearNotice (): void {
  requireElement('#notice', HTMLElement).hidden = true
}
