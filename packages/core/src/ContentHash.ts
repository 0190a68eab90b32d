import * as crypto from "node:crypto"

/**
 * JSON with object keys sorted, so equal values always hash equally (same text as a sorted `JSON.stringify`).
 * `known` holds texts already computed for objects (see {@link makeContentHasher}); it is only read here.
 */
export const canonicalJson = (value: unknown, known?: WeakMap<object, string>): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  const remembered = known?.get(value)
  if (remembered !== undefined) return remembered
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === "function" ? "null" : canonicalJson(v, known))).join(",")}]`
  const record = value as Record<string, unknown>
  let text = "{"
  for (const key of Object.keys(record).sort()) {
    const v = record[key]
    if (v === undefined || typeof v === "function") continue
    text += `${text.length > 1 ? "," : ""}${JSON.stringify(key)}:${canonicalJson(v, known)}`
  }
  return `${text}}`
}

// One-shot `crypto.hash` (Node ≥ 20.12) is about twice as fast as a Hash object for short texts; a planning
// hashes tens of thousands of them. The engines field still admits 20.11, which lacks it.
/** The lowercase hex sha256 of a text's UTF-8 bytes. */
export const sha256Hex: (text: string) => string = typeof crypto.hash === "function"
  ? (text) => crypto.hash("sha256", text, "hex")
  : (text) => crypto.createHash("sha256").update(text).digest("hex")

/** The first `length` hex digits of the sha256 of a value's {@link canonicalJson}: stage and run ids. */
export const shortHash = (value: unknown, length = 12): string => sha256Hex(canonicalJson(value)).slice(0, length)

/** {@link shortHash} for one planning, where a sweep hashes values built from the same sections thousands of times. */
export interface ContentHasher {
  /** Computes the text of an object that many hashed values will contain; it must not be mutated afterwards. */
  readonly remember: <A extends object>(value: A) => A
  readonly shortHash: (value: unknown, length: number) => string
}

/** A hasher whose memo lives as long as it does: make one per planning, never share it. */
export const makeContentHasher = (): ContentHasher => {
  const texts = new WeakMap<object, string>()
  return {
    remember: (value) => {
      texts.set(value, canonicalJson(value, texts))
      return value
    },
    shortHash: (value, length) => sha256Hex(canonicalJson(value, texts)).slice(0, length)
  }
}
