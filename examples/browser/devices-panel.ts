/**
 * "Devices": the person's devices as the ring holds them; on the page that holds the identity,
 * linking a new device (a link offer as text and QR code, confirmed here) and removing one; on a
 * new page, linking it to an identity another device holds.
 */
import QRCode from 'qrcode'
import { setSetting } from './chat-db.js'
import { describeError, element, requireElement, showNotice } from './page.js'
import type { ChatDb } from './chat-db.js'
import type { ChatClient, DeviceInfo, Identity, LinkRequestOptions, PendingLink } from '../../src/index.js'

export interface DevicesPanelInit {
  db: ChatDb
  /** this page's own keys */
  identity: Identity
  /** the person this page speaks for, when it is a linked device */
  linkedTo?: string
  chat(): Promise<ChatClient>
  requestLink(link: string, options: LinkRequestOptions): Promise<PendingLink>
  /** this page is linked now: it starts again as the person's device */
  onLinked(): void
}

/** The setting that names the person a page's identity is a linked device of */
export function linkedSetting (identity: Identity): string {
  return `linked:${identity.address}`
}

export function mountDevicesPanel (init: DevicesPanelInit): { refresh(): Promise<void> } {
  const list = requireElement('#device-list', HTMLUListElement)
  const linkButton = requireElement('#link-device', HTMLButtonElement)
  const offerBox = requireElement('#link-offer', HTMLElement)
  const confirmBox = requireElement('#link-confirm', HTMLElement)
  const joinForm = requireElement('#join-form', HTMLFormElement)
  const joinState = requireElement('#join-state', HTMLElement)
  const holdsIdentity = init.linkedTo == null
  linkButton.hidden = !holdsIdentity
  joinForm.hidden = !holdsIdentity

  const refresh = async (): Promise<void> => {
    const chat = await init.chat()
    const devices = await chat.devices.list()
    list.replaceChildren(...devices.map(device => deviceItem(device, chat)))
  }

  const deviceItem = (device: DeviceInfo, chat: ChatClient): HTMLLIElement => {
    const self = device.address === init.identity.address
    const name = device.name !== '' ? device.name : device.address === chat.account.address ? 'the device that holds your identity' : 'unnamed device'
    const item = element('li', { 'data-device': device.address },
      element('span', { class: 'name' }, name, ...(self ? [element('span', { class: 'tag' }, 'this page')] : [])),
      element('span', { class: 'fingerprint' }, device.fingerprint))
    if (holdsIdentity && device.address !== chat.account.address) {
      const remove = element('button', { type: 'button', class: 'remove-device' }, 'Remove')
      remove.addEventListener('click', () => {
        chat.devices.remove(device.address).then(refresh, err => { showNotice(describeError(err)) })
      })
      item.append(remove)
    }
    return item
  }

  linkButton.addEventListener('click', () => {
    void (async () => {
      const chat = await init.chat()
      linkButton.disabled = true
      const offer = await chat.devices.offerLink({
        onRequest: async device => new Promise<boolean>(resolve => {
          requireElement('#link-confirm-text', HTMLElement).textContent = `Link "${device.name === '' ? 'unnamed device' : device.name}"? Its fingerprint is ${device.fingerprint}: check that the new device shows the same.`
          confirmBox.hidden = false
          const answer = (yes: boolean) => () => { confirmBox.hidden = true; resolve(yes) }
          requireElement('#link-accept', HTMLButtonElement).onclick = answer(true)
          requireElement('#link-refuse', HTMLButtonElement).onclick = answer(false)
        })
      })
      requireElement('#link-offer-text', HTMLElement).textContent = offer.link
      // the generator's own SVG markup; the text it encodes is ours
      requireElement('#link-offer-qr', HTMLElement).innerHTML = await QRCode.toString(offer.link, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 })
      offerBox.hidden = false
      try {
        const device = await offer.done
        showNotice(`"${device.name}" is linked: it gets your messages from now on.`)
      } catch (err) {
        showNotice(describeError(err))
      } finally {
        offerBox.hidden = true
        confirmBox.hidden = true
        linkButton.disabled = false
        await refresh()
      }
    })().catch(err => { showNotice(describeError(err)) })
  })

  joinForm.addEventListener('submit', event => {
    event.preventDefault()
    const link = requireElement('#join-link', HTMLInputElement).value.trim()
    const name = requireElement('#join-name', HTMLInputElement).value.trim()
    void (async () => {
      const pending = await init.requestLink(link, { device: init.identity, name })
      joinState.textContent = `Waiting for your other device to confirm. It shows this fingerprint: ${pending.fingerprint}`
      const account = await pending.account
      await setSetting(init.db, linkedSetting(init.identity), account.address)
      init.onLinked()
    })().catch(err => {
      joinState.textContent = ''
      showNotice(describeError(err))
    })
  })

  return { refresh }
}
