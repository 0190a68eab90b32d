// Python's `re` on str patterns is Unicode-aware where JavaScript's is not (`\w`, `\d`, `\s`, `\b`
// stay ASCII in JS even with the `u` flag), so the ported patterns spell these classes out.

/** Python `\w`: characters that are alphanumeric by `str.isalnum()`, plus `_`. */
export const W = String.raw`[\p{L}\p{N}_]`
/** Python `\W`. */
export const NOT_W = String.raw`[^\p{L}\p{N}_]`
/** Python `\d` (decimal digits, any script). */
export const D = String.raw`\p{Nd}`
/** Python `\s` / `str.isspace()` (JS `\s` adds U+FEFF and lacks U+001C–U+001F and U+0085). */
export const S_CHARS = String.raw`\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`
export const S = `[${S_CHARS}]`
export const NOT_S = `[^${S_CHARS}]`
/** Python `[^\W\d]`: word characters that are not decimal digits. */
export const ALPHA = String.raw`[\p{L}\p{Nl}\p{No}_]`

const IS_SPACE = new RegExp(`^${S}$`, "u")
/** Python `c.isspace()` for one character. */
export const isPythonSpace = (char: string): boolean => IS_SPACE.test(char)

const IS_UPPER = /^\p{Uppercase}/u
const IS_LOWER = /^\p{Lowercase}/u
/** Python `s[0].isupper()`. */
export const firstIsUpper = (s: string): boolean => IS_UPPER.test(s)
/** Python `s[0].islower()`. */
export const firstIsLower = (s: string): boolean => IS_LOWER.test(s)

const LEADING_SPACE = new RegExp(`^${S}+`, "u")
const TRAILING_SPACE = new RegExp(`${S}+$`, "u")
/** Python `s.rstrip()`. */
export const pythonRstrip = (s: string): string => s.replace(TRAILING_SPACE, "")
/** Python `s.strip()`. */
export const pythonStrip = (s: string): string => s.replace(LEADING_SPACE, "").replace(TRAILING_SPACE, "")

const SPLIT_SPACE = new RegExp(`${S}+`, "u")
/** Python `s.split()` (no separator: runs of whitespace, no empty strings). */
export const pythonSplit = (s: string): Array<string> => {
  const parts = s.split(SPLIT_SPACE)
  if (parts.length > 0 && parts[0] === "") parts.shift()
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop()
  return parts
}
