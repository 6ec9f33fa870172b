/**
 * Contact links: the page's own URL with the ring to join in the query (`?bootstrap=…`, so that
 * whoever opens it reaches the same network) and the address in the fragment
 * (`#contact=chord:…&name=…`), which browsers never send to the server that serves the page.
 * The QR code of "my address" holds this link, so scanning it with a phone's camera opens it.
 */
import { parseAddress } from '../../src/index.js'

/** The fragment parameter that holds a contact's address */
export const CONTACT_PARAM = 'contact'

/** The fragment parameter that suggests a name for the contact */
export const NAME_PARAM = 'name'

/** Longest name a link may suggest, in characters; a longer one is cut */
export const MAX_CONTACT_NAME_LENGTH = 60

/** The address (or contact link) a user pasted is not one */
export class InvalidContactError extends Error {
  static name = 'InvalidContactError'
  name = InvalidContactError.name
}

export interface ContactRef {
  address: string
  /** suggested by the link */
  name?: string
}

/** A link that adds `address` as a contact to whoever opens it */
export function contactLink (page: URL, address: string, name?: string): string {
  const link = new URL(page.href)
  link.search = ''
  for (const bootstrap of page.searchParams.getAll('bootstrap')) {
    link.searchParams.append('bootstrap', bootstrap)
  }
  const fragment = new URLSearchParams({ [CONTACT_PARAM]: address })
  if (name != null && name.trim() !== '') {
    fragment.set(NAME_PARAM, name.trim())
  }
  link.hash = fragment.toString()
  return link.href
}

/** The contact a URL's fragment names, if it names one; throws if it names one wrongly */
export function contactInFragment (hash: string): ContactRef | undefined {
  const fragment = new URLSearchParams(hash.replace(/^#/, ''))
  if (!fragment.has(CONTACT_PARAM)) {
    return undefined
  }
  return { address: checkedAddress(fragment.get(CONTACT_PARAM) ?? ''), name: cleanName(fragment.get(NAME_PARAM)) }
}

/**
 * What a user typed or pasted into "add a contact": a `chord:` address, or a whole contact link.
 *
 * @throws InvalidContactError saying what is wrong, in words for the user
 */
export function parseContactInput (text: string): ContactRef {
  const input = text.trim()
  if (input === '') {
    throw new InvalidContactError('Paste an address (it starts with chord:) or a contact link.')
  }
  if (/^https?:\/\//i.test(input)) {
    let url: URL
    try {
      url = new URL(input)
    } catch {
      throw new InvalidContactError('That link is not a valid web address.')
    }
    const contact = contactInFragment(url.hash)
    if (contact == null) {
      throw new InvalidContactError('That link is not a contact link: it names no address.')
    }
    return contact
  }
  return { address: checkedAddress(input) }
}

function checkedAddress (text: string): string {
  try {
    return parseAddress(text.trim()).address
  } catch (err) {
    // the library's reasons are precise ("the address checksum does not match: is it mistyped or cut short?")
    throw new InvalidContactError(sentence(`That is not a valid address: ${(err as Error).message}`))
  }
}

/** End a message with a full stop unless it already ends with punctuation */
function sentence (text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`
}

function cleanName (name: string | null): string | undefined {
  // control characters would garble the list; the rest is shown as text, never as markup
  const cleaned = name?.replace(/\p{Cc}/gu, '').trim().slice(0, MAX_CONTACT_NAME_LENGTH)
  return cleaned == null || cleaned === '' ? undefined : cleaned
}
