// Content hashing moved to @empo/core (the store derives run ids with it too); re-exported so the planner's
// imports stay as they were.
export { canonicalJson, type ContentHasher, makeContentHasher, sha256Hex, shortHash } from "@empo/core/ContentHash"

export const getPath = (value: unknown, path: ReadonlyArray<string>): unknown => {
  let current = value
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

/** Returns a copy of `value` with `path` set, creating objects on the way. */
export const setPath = (value: unknown, path: ReadonlyArray<string>, leaf: unknown): unknown => {
  if (path.length === 0) return leaf
  const base = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
  const [head, ...rest] = path as [string, ...Array<string>]
  return { ...base, [head]: setPath(base[head], rest, leaf) }
}
