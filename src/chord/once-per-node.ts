/**
 * One request per node, however often the node is named. A put or get starts on the replica set a
 * lookup's route names, while the route's last step is checked, and is answered by the set the
 * check confirms: two lists that are the same unless somebody was stale or lied.
 */
import type { NodeRef } from './rpc.js'

export class OncePerNode<T> {
  private readonly work: (node: NodeRef) => Promise<T>
  private readonly runs = new Map<string, Promise<PromiseSettledResult<T>>>()
  private readonly failed = new Set<string>()

  constructor (work: (node: NodeRef) => Promise<T>) {
    this.work = work
  }

  /** Start the work on each of `nodes` it has not started on */
  start (nodes: readonly NodeRef[]): void {
    for (const node of nodes) {
      void this.run(node)
    }
  }

  /** How the work went on each of `nodes`, in their order, starting it on any it has not started on */
  async settle (nodes: readonly NodeRef[]): Promise<Array<PromiseSettledResult<T>>> {
    return Promise.all(nodes.map(async node => this.run(node)))
  }

  /** Take `value` for the work on `node`, done already by other means (it is not started there) */
  done (node: NodeRef, value: T): void {
    this.runs.set(node.peer, Promise.resolve({ status: 'fulfilled', value }))
  }

  /** Forget the nodes the work failed on, so that the next `settle` tries them again */
  forgetFailures (): void {
    for (const peer of this.failed) {
      this.runs.delete(peer)
    }
    this.failed.clear()
  }

  private async run (node: NodeRef): Promise<PromiseSettledResult<T>> {
    let run = this.runs.get(node.peer)
    if (run == null) {
      run = this.work(node).then(
        value => ({ status: 'fulfilled', value }),
        reason => {
          this.failed.add(node.peer)
          return { status: 'rejected', reason }
        })
      this.runs.set(node.peer, run)
    }
    return run
  }
}
