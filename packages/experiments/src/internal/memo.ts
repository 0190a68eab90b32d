const value = Symbol("value")

type Node = Map<unknown, Node> & { [value]?: { readonly result: unknown } }

/**
 * A memo keyed by a tuple: primitives by value, objects by identity (so only for objects that are not mutated
 * while the memo lives). Nested Maps rather than a joined string key, because planning looks one up for every
 * run and stage of a sweep and building the string would cost as much as what it saves.
 */
export const makeTupleMemo = <A>() => {
  const root: Node = new Map()
  return (key: ReadonlyArray<unknown>, make: () => A): A => {
    let node = root
    for (const part of key) {
      let next = node.get(part)
      if (next === undefined) node.set(part, next = new Map())
      node = next
    }
    if (node[value] === undefined) node[value] = { result: make() }
    return node[value].result as A
  }
}
