/**
 * People's device lists on the ring: read when sending (always afresh, so that a removed device
 * gets nothing sealed after its removal), checked when receiving (from a cache kept briefly, so a
 * conversation does not resolve on every frame), and written by the device that holds the
 * person's identity (one change at a time per person, so two changes never overwrite each other).
 */
import { LRUCache } from 'lru-cache'
import { InvalidOptionsError, QuotaExceededError } from '../errors.js'
import { KeyedQueue } from '../limits/keyed-queue.js'
import {
  DEVICE_LIST_NAME, DEVICE_LIST_REFRESH_INTERVAL, DEVICE_LIST_REPUBLISH_AGE, DEVICE_LIST_TTL, MAX_CACHED_DEVICE_LISTS,
  MAX_DEVICES, VERIFIED_DEVICES_MAX_AGE
} from './constants.js'
import { decodeDeviceList, deviceInfo, encodeDeviceList, soleDevice } from './device-list.js'
import type { DeviceInfo } from './device-list.js'
import type { Identity } from '../mailbox/identity.js'
import type { PublicKey } from '../mailbox/public-key.js'
import type { PublishOptions, PublishResult, ResolvedRecord } from '../owned/owned-records.js'

export interface DeviceListsInit {
  /** the owned records of the ring (`ChordService.resolve`) */
  resolve(owner: PublicKey, name: string, options?: { signal?: AbortSignal }): Promise<ResolvedRecord | undefined>
  /** `ChordService.publish` */
  publish(identity: Identity, name: string, value: Uint8Array, options?: PublishOptions): Promise<PublishResult>
  now?(): number
}

/** A person's list as the ring holds it */
export interface ResolvedDeviceList {
  devices: DeviceInfo[]
  /** when the person published it; undefined for a person who never did */
  publishedAt?: number
}

interface CachedList {
  devices: DeviceInfo[]
  resolvedAt: number
}

export class DeviceLists {
  private readonly init: DeviceListsInit
  private readonly now: () => number
  private readonly cache = new LRUCache<string, CachedList>({ max: MAX_CACHED_DEVICE_LISTS })
  /** resolves in flight, by person: callers that ask at once share one */
  private readonly resolving = new Map<string, Promise<ResolvedDeviceList>>()
  private readonly changes = new KeyedQueue()

  constructor (init: DeviceListsInit) {
    this.init = init
    this.now = init.now ?? Date.now
  }

  /** The person's devices as the ring holds them now */
  async of (person: PublicKey, options: { signal?: AbortSignal } = {}): Promise<DeviceInfo[]> {
    return (await this.resolve(person, options)).devices
  }

  /**
   * The person's list as the ring holds it now, with when it was published.
   *
   * @throws InvalidRecordError when the person published a list that breaks the format
   */
  async resolve (person: PublicKey, options: { signal?: AbortSignal } = {}): Promise<ResolvedDeviceList> {
    const known = this.resolving.get(person.address)
    if (known != null) {
      return known
    }
    const resolving = (async () => {
      const record = await this.init.resolve(person, DEVICE_LIST_NAME, options)
      const list = record == null
        ? { devices: soleDevice(person) }
        : { devices: decodeDeviceList(person, record.value), publishedAt: record.publishedAt }
      this.cache.set(person.address, { devices: list.devices, resolvedAt: this.now() })
      return list
    })().finally(() => { this.resolving.delete(person.address) })
    this.resolving.set(person.address, resolving)
    return resolving
  }

  /**
   * Whether `device` is one of `person`'s devices: the person's own key always is; another is
   * looked up in a list resolved at most VERIFIED_DEVICES_MAX_AGE ago, or resolved again when it
   * is not there (at most once per DEVICE_LIST_REFRESH_INTERVAL per person)
   */
  async includes (person: PublicKey, device: PublicKey): Promise<boolean> {
    if (person.equals(device)) {
      return true
    }
    const cached = this.cache.get(person.address)
    const age = cached == null ? Infinity : this.now() - cached.resolvedAt
    const listed = cached?.devices.some(d => d.publicKey.equals(device)) === true
    if (age < VERIFIED_DEVICES_MAX_AGE && (listed || age < DEVICE_LIST_REFRESH_INTERVAL)) {
      return listed
    }
    return (await this.of(person)).some(d => d.publicKey.equals(device))
  }

  /**
   * Put `device` on the list of `identity`'s person, named `name` (a device already there is
   * renamed), and publish the list
   *
   * @throws QuotaExceededError when the list holds MAX_DEVICES already
   */
  async add (identity: Identity, device: PublicKey, name: string): Promise<DeviceInfo[]> {
    return this.change(identity, devices => {
      const others = devices.filter(d => !d.publicKey.equals(device))
      if (others.length === devices.length && devices.length >= MAX_DEVICES) {
        throw new QuotaExceededError(`a person has at most ${MAX_DEVICES} devices: remove one first`)
      }
      const addedAt = devices.find(d => d.publicKey.equals(device))?.addedAt ?? this.now()
      return [...others, deviceInfo(device, name, addedAt)]
    })
  }

  /**
   * Take `device` off the list of `identity`'s person and publish the list: from then on no send
   * seals anything to it
   *
   * @throws InvalidOptionsError for the person's own key, which is always on its list
   */
  async remove (identity: Identity, device: PublicKey): Promise<DeviceInfo[]> {
    if (device.equals(identity.publicKey)) {
      throw new InvalidOptionsError('the device that holds the identity stays on its list')
    }
    return this.change(identity, devices => devices.filter(d => !d.publicKey.equals(device)))
  }

  /** Publish `identity`'s list again if it is older than DEVICE_LIST_REPUBLISH_AGE; resolves to whether it did */
  async republishIfOld (identity: Identity): Promise<boolean> {
    return this.changes.run(identity.address, async () => {
      const list = await this.resolve(identity.publicKey)
      if (list.publishedAt == null || this.now() - list.publishedAt < DEVICE_LIST_REPUBLISH_AGE) {
        return false
      }
      await this.publish(identity, list.devices)
      return true
    })
  }

  /** Read the list afresh, change it, publish it: one change at a time per person */
  private async change (identity: Identity, edit: (devices: DeviceInfo[]) => DeviceInfo[]): Promise<DeviceInfo[]> {
    return this.changes.run(identity.address, async () => {
      const devices = edit(await this.of(identity.publicKey))
      await this.publish(identity, devices)
      return devices
    })
  }

  private async publish (identity: Identity, devices: DeviceInfo[]): Promise<void> {
    await this.init.publish(identity, DEVICE_LIST_NAME, encodeDeviceList(identity.publicKey, devices), { ttlMs: DEVICE_LIST_TTL })
    this.cache.set(identity.address, { devices, resolvedAt: this.now() })
  }
}
