import { createHash } from "node:crypto"

/** JSON with object keys sorted, so equal values always hash equally (same text as a sorted `JSON.stringify`). */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === "function" ? "null" : canonicalJson(v))).join(",")}]`
  const record = value as Record<string, unknown>
  const parts: Array<string> = []
  for (const key of Object.keys(record).sort()) {
    const v = record[key]
    if (v === undefined || typeof v === "function") continue
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`)
  }
  return `{${parts.join(",")}}`
}

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
