/**
 * Put and get of text values under text keys, through the ring: the DHT under the chat, for
 * developers (the page's "Network" panel).
 */
import { describeError, requireElement } from './page.js'
import type { ChordNode } from '../../src/index.js'

/** `node()` is the page's node of the moment: the page starts a new one when it reconnects */
export function mountRecordsPanel (node: () => ChordNode | undefined, panel: HTMLElement): void {
  const putForm = requireElement('#put-form', HTMLFormElement, panel)
  const putKey = requireElement('#put-key', HTMLInputElement, panel)
  const putValue = requireElement('#put-value', HTMLInputElement, panel)
  const getForm = requireElement('#get-form', HTMLFormElement, panel)
  const getKey = requireElement('#get-key', HTMLInputElement, panel)
  const result = requireElement('#records-result', HTMLOutputElement, panel)

  const joined = (): ChordNode => {
    const current = node()
    if (current == null) {
      throw new Error('not connected to the ring yet')
    }
    return current
  }

  /** Show `work`'s outcome; `data-state` says whether it is still running, done or failed */
  const report = (work: () => Promise<string>): void => {
    result.dataset.state = 'working'
    result.textContent = '…'
    work().then(text => {
      result.textContent = text
      result.dataset.state = 'done'
    }, err => {
      result.textContent = describeError(err)
      result.dataset.state = 'failed'
    })
  }

  putForm.addEventListener('submit', event => {
    event.preventDefault()
    const key = putKey.value
    const value = putValue.value
    report(async () => {
      const { replicas } = await joined().put(key, new TextEncoder().encode(value))
      return `stored "${value}" under "${key}" on ${replicas} replica${replicas === 1 ? '' : 's'}`
    })
  })

  getForm.addEventListener('submit', event => {
    event.preventDefault()
    const key = getKey.value
    report(async () => {
      const values = (await joined().get(key)).map(value => new TextDecoder().decode(value))
      return values.length === 0 ? `nothing under "${key}"` : values.join('\n')
    })
  })
}
