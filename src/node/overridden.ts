/**
 * An object that answers as `target` does, but with `overrides` in place of some of its methods.
 * A spread (`{ ...target, method }`) copies only an object's own properties: a connection gater or
 * an upgrader made from a class would lose every method of its prototype, and a gater's blocklist
 * would stop blocking without a word. Here everything else still reaches `target`, bound to it.
 */
export function overridden<T extends object> (target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get (inner, property) {
      if (Object.hasOwn(overrides, property)) {
        return overrides[property as keyof T]
      }
      const value: unknown = Reflect.get(inner, property)
      return typeof value === 'function' ? value.bind(inner) : value
    },
    has (inner, property) {
      return Object.hasOwn(overrides, property) || Reflect.has(inner, property)
    }
  })
}
