import { isUtf8 } from "node:buffer"

const LF = 0x0a
const CR = 0x0d

/**
 * The 1-based numbers of the lines (split at LF) whose bytes are not valid UTF-8; empty for a valid
 * file. This only validates (the decoding stays with the loaders): splitting before decoding is exact
 * because 0x0A never occurs inside a multi-byte UTF-8 sequence, so a file is valid iff every line is.
 */
export const invalidUtf8Lines = (bytes: Uint8Array): Array<number> => {
  if (isUtf8(bytes)) return []
  const lines: Array<number> = []
  let start = 0
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(LF, start)
    if (end < 0) end = bytes.length
    if (!isUtf8(bytes.subarray(start, end))) lines.push(line)
    start = end + 1
  }
  return lines
}

/** The 1-based line of the first non-blank line (a CSV header), as the CSV readers count lines. */
export const firstContentLine = (bytes: Uint8Array): number => {
  let line = 1
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  for (; i < bytes.length; i++) {
    if (bytes[i] === LF) line++
    else if (bytes[i] !== CR) break
  }
  return line
}

/** The reason of a row skipped (`--allow-malformed`) for bytes that are not UTF-8. */
export const NOT_UTF8 = "not valid UTF-8 (its bytes would decode to U+FFFD in the training data)"

/** The first of `lines` inside `from..to` (inclusive), or undefined. */
export const firstLineIn = (lines: ReadonlySet<number> | undefined, from: number, to: number): number | undefined => {
  if (lines === undefined || lines.size === 0) return undefined
  for (let l = from; l <= to; l++) if (lines.has(l)) return l
  return undefined
}
