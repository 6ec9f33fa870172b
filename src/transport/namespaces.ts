/**
 * The core's record namespaces as /chord/1.0.0 names them on the wire.
 */
import { InvalidMessageError } from '../errors.js'
import { Namespace } from '../protocol/generated/chord.js'
import type { NamespaceName } from '../chord/rpc.js'

const TO_WIRE: Record<NamespaceName, Namespace> = {
  records: Namespace.RECORDS,
  mailbox: Namespace.MAILBOX,
  owned: Namespace.OWNED
}

export function namespaceToWire (name: NamespaceName): Namespace {
  return TO_WIRE[name]
}

/** The namespace a request names; an absent field is RECORDS (protobuf's default) */
export function namespaceFromWire (namespace: Namespace | undefined): NamespaceName {
  switch (namespace ?? Namespace.RECORDS) {
    case Namespace.RECORDS:
      return 'records'
    case Namespace.MAILBOX:
      return 'mailbox'
    case Namespace.OWNED:
      return 'owned'
    default:
      throw new InvalidMessageError(`namespace ${String(namespace)} is not supported`)
  }
}
