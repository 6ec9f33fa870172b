/**
 * The node whose answers the request handlers give: its ring, and the rules of each record
 * namespace it keeps. A namespace it does not keep (a node without the mailbox service) refuses.
 */
import { ForbiddenError } from '../../errors.js'
import type { ChordRpcHandler, NamespaceHandler, NamespaceName } from '../../chord/rpc.js'

export interface ServedNode {
  readonly ringHandler: ChordRpcHandler
  handlerOf(namespace: NamespaceName): NamespaceHandler | undefined
}

export function namespaceHandler (node: ServedNode, namespace: NamespaceName): NamespaceHandler {
  const handler = node.handlerOf(namespace)
  if (handler == null) {
    throw new ForbiddenError(`this node keeps no ${namespace}`)
  }
  return handler
}
