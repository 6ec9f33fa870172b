/**
 * An object that answers as `target` does, but with `overrides` in place of some of its methods.
 * A spread (`{ ...target, method }`) copies only an object's own properties: a connection gater or
 * an upgrader made from a class would lose every method of its prototype, and a gater's blocklist
 * would stop blocking without a word. Here everything else still reaches `target`, bound to it.
 *
 * The proxy stands over an empty object of its own, not over `target`: a proxy of a frozen
 * object must answer each of its properties with that very value, never a bound copy or an
 * override. For the same reason, and so that nothing written here reaches the application's own
 * object, an assignment lands among the overrides (a setter of the target's is not called), and
 * the proxy can be neither frozen nor given a property by definition: either would bind it to
 * answers that its reads, which come from the target, do not keep.
 */
export function overridden<T extends object> (target: T, overrides: Partial<T>): T {
  const own: Record<PropertyKey, unknown> = { ...overrides }
  return new Proxy({}, {
    get (_, property) {
      if (Object.hasOwn(own, property)) {
        return own[property]
      }
      const value: unknown = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
    has (_, property) {
      return Object.hasOwn(own, property) || Reflect.has(target, property)
    },
    set (_, property, value) {
      own[property] = value
      return true
    },
    defineProperty () {
      return false
    },
    preventExtensions () {
      return false
    },
    getPrototypeOf () {
      return Reflect.getPrototypeOf(target)
    }
  }) as T
}
