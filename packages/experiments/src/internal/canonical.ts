import { createHash } from "node:crypto"

/** JSON with object keys sorted, so equal values always hash equally. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

export const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex")

export const shortHash = (value: unknown, length = 12): string => sha256Hex(canonicalJson(value)).slice(0, length)

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
