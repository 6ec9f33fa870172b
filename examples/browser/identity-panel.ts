/**
 * "You": my address as text, as a contact link and as a QR code of that link; my identity's
 * export, import and passphrase.
 */
import QRCode from 'qrcode'
import { identityFileText, openIdentity, parseIdentityFile, storeIdentity, InvalidIdentityFileError, WrongPassphraseError } from '../shared/identity-vault.js'
import { getSetting, saveIdentity, setSetting } from './chat-db.js'
import { contactLink } from './contact-link.js'
import { describeError, requireElement, showNotice } from './page.js'
import type { ChatDb } from './chat-db.js'
import type { StoredIdentity } from '../shared/identity-vault.js'
import type { Identity } from '../../src/index.js'

/** Shortest passphrase accepted: a passphrase guessed offline is only as strong as it is long */
export const MIN_PASSPHRASE_LENGTH = 8

export interface IdentityPanelInit {
  db: ChatDb
  identity: Identity
  stored: StoredIdentity
  /** on a linked device: the person it speaks for, whose address others write to */
  person?: { address: string, fingerprint: string }
  /** the page's URL, whose bootstrap list goes into my contact link */
  page: URL
  /** another identity became the current one: the page starts again with it */
  onSwitched(): void
}

export async function mountIdentityPanel (init: IdentityPanelInit): Promise<void> {
  const { db, identity } = init
  const me = init.person ?? identity
  let stored = init.stored
  requireElement('#my-address', HTMLElement).textContent = me.address
  requireElement('#my-fingerprint', HTMLElement).textContent = me.fingerprint

  const nameSetting = `link-name:${identity.address}`
  const nameInput = requireElement('#my-name', HTMLInputElement)
  nameInput.value = await getSetting(db, nameSetting) ?? ''
  const link = requireElement('#my-link', HTMLAnchorElement)
  const qr = requireElement('#my-qr', HTMLElement)
  const showLink = async (): Promise<void> => {
    const href = contactLink(init.page, me.address, nameInput.value)
    link.href = href
    // the generator's own SVG markup; the link text it encodes is ours
    qr.innerHTML = await QRCode.toString(href, { type: 'svg', errorCorrectionLevel: 'M', margin: 1, color: { dark: '#1d2129', light: '#ffffff' } })
    qr.dataset.link = href
  }
  await showLink()
  nameInput.addEventListener('change', () => {
    void setSetting(db, nameSetting, nameInput.value.trim()).then(showLink)
  })

  requireElement('#copy-address', HTMLButtonElement).addEventListener('click', () => { copy(me.address, 'Your address is copied.') })
  requireElement('#copy-link', HTMLButtonElement).addEventListener('click', () => { copy(link.href, 'Your contact link is copied.') })
  // on a desktop the panel is open; on a phone the conversation list comes first
  requireElement('#me', HTMLDetailsElement).open = matchMedia('(min-width: 721px)').matches

  /* ---- export ---- */
  requireElement('#export-identity', HTMLButtonElement).addEventListener('click', () => {
    const file = new Blob([identityFileText(stored)], { type: 'application/json' })
    const a = document.createElement('a')
    a.href = URL.createObjectURL(file)
    a.download = `chord-identity-${identity.fingerprint.replaceAll(' ', '').slice(0, 8)}.json`
    a.click()
    setTimeout(() => { URL.revokeObjectURL(a.href) }, 0)
    if (stored.secret.kind === 'plain') {
      showNotice('Exported. The file holds your secret key unencrypted: keep it as safe as a password, or protect your identity with a passphrase and export again.', 'info')
    }
  })

  /* ---- import ---- */
  const fileInput = requireElement('#import-file', HTMLInputElement)
  const importForm = requireElement('#import-passphrase-form', HTMLFormElement)
  const importPassphrase = requireElement('#import-passphrase', HTMLInputElement)
  let pending: StoredIdentity | undefined
  const adopt = async (candidate: StoredIdentity, passphrase?: string): Promise<void> => {
    const imported = await openIdentity(candidate, passphrase)
    if (imported.address === identity.address) {
      showNotice('That file holds the identity you are already using.', 'info')
      return
    }
    // the identity we leave stays in the database, with its contacts and history
    await saveIdentity(db, { ...candidate, address: imported.address, fingerprint: imported.fingerprint })
    init.onSwitched()
  }
  const reportImportError = (err: unknown): void => {
    const known = err instanceof InvalidIdentityFileError || err instanceof WrongPassphraseError
    showNotice(`Import failed: ${known ? (err as Error).message : describeError(err)}. Your current identity is unchanged.`)
  }
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0]
    fileInput.value = ''
    if (file == null) {
      return
    }
    void (async () => {
      try {
        const candidate = parseIdentityFile(await file.text())
        if (candidate.secret.kind === 'sealed') {
          pending = candidate
          importForm.hidden = false
          importPassphrase.focus()
          return
        }
        await adopt(candidate)
      } catch (err) {
        reportImportError(err)
      }
    })()
  })
  importForm.addEventListener('submit', event => {
    event.preventDefault()
    const candidate = pending
    if (candidate == null) {
      return
    }
    adopt(candidate, importPassphrase.value).then(() => {
      pending = undefined
      importForm.hidden = true
      importPassphrase.value = ''
    }, reportImportError)
  })

  /* ---- passphrase ---- */
  const passphraseForm = requireElement('#passphrase-form', HTMLFormElement)
  const newPassphrase = requireElement('#new-passphrase', HTMLInputElement)
  const state = requireElement('#passphrase-state', HTMLElement)
  const remove = requireElement('#remove-passphrase', HTMLButtonElement)
  const showProtection = (): void => {
    const sealed = stored.secret.kind === 'sealed'
    state.textContent = sealed
      ? 'Protected: this browser asks for the passphrase each time the page opens.'
      : 'Not protected: anyone using this browser profile can read your messages.'
    remove.hidden = !sealed
    requireElement('#set-passphrase', HTMLButtonElement).textContent = sealed ? 'Change' : 'Protect'
  }
  showProtection()
  passphraseForm.addEventListener('submit', event => {
    event.preventDefault()
    const passphrase = newPassphrase.value
    if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
      showNotice(`A passphrase has at least ${MIN_PASSPHRASE_LENGTH} characters.`)
      return
    }
    void (async () => {
      stored = { ...await storeIdentity(identity, passphrase), createdAt: stored.createdAt }
      await saveIdentity(db, stored)
      newPassphrase.value = ''
      showProtection()
      showNotice('Your identity is protected by the passphrase. Forget it and the identity cannot be opened again: export a copy.', 'info')
    })().catch(err => { showNotice(describeError(err)) })
  })
  remove.addEventListener('click', () => {
    void (async () => {
      stored = { ...await storeIdentity(identity), createdAt: stored.createdAt }
      await saveIdentity(db, stored)
      showProtection()
      showNotice('The passphrase is removed.', 'info')
    })().catch(err => { showNotice(describeError(err)) })
  })
}

function copy (text: string, done: string): void {
  navigator.clipboard.writeText(text).then(() => { showNotice(done, 'info') }, () => {
    // no clipboard permission (an embedded or insecure page): the address is selectable instead
    showNotice('The browser refused the clipboard: select the address and copy it.')
  })
}
