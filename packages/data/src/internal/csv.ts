/**
 * A small RFC 4180 reader (comma, double-quote quoting, "" escapes, LF or CRLF line ends).
 *
 * Why hand-written instead of `csv-parse`: the data benchmark (tools/bench/data) must load both shared
 * ED files and build the DPO set in < 300 ms on 2 cores; one charCode scan over the string with
 * slice() for unquoted fields is several times faster than a general streaming parser, and we also need
 * the physical line number where each record starts (quoted fields may contain newlines) for
 * `MalformedRow`/`InputError` reports.
 */

/** A parsed record, with the 1-based physical lines it spans. `fields` is only valid during the callback. */
export interface CsvRecord {
  readonly fields: Array<string>
  readonly line: number
  /** The line the record ends on (> `line` when a quoted field holds line breaks). */
  readonly endLine: number
  /** The record ended inside an open quote (a truncated file). */
  readonly unterminatedQuote: boolean
}

const COMMA = 44
const QUOTE = 34
const LF = 10
const CR = 13

/**
 * Calls `onRecord` for every record of `text`, in order; blank lines are skipped. `onRecord` may return
 * a column mask: later records then get `""` for unmasked columns (still counted), which saves
 * allocating the derivative's large unused columns. Field ends are found with `indexOf` (memchr speed),
 * and the next line end is cached so line numbers cost O(lines).
 */
export const forEachCsvRecord = (text: string, onRecord: (record: CsvRecord) => ReadonlyArray<boolean> | void): void => {
  const length = text.length
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  let nl = nextLf(text, pos)
  let mask: ReadonlyArray<boolean> | undefined
  // One array reused for every record (less garbage on 15k-row files): copy what you keep.
  const fields: Array<string> = []
  while (pos < length) {
    if (pos === nl || (text.charCodeAt(pos) === CR && pos + 1 === nl)) {
      pos = nl + 1
      line++
      nl = nextLf(text, pos)
      continue
    }
    const startLine = line
    fields.length = 0
    let unterminatedQuote = false
    let endsWithLf = false
    let column = 0
    for (;;) {
      const wanted = mask === undefined || mask[column] === true
      if (text.charCodeAt(pos) === QUOTE) {
        let value = ""
        let i = pos + 1
        for (;;) {
          const q = text.indexOf("\"", i)
          const stop = q < 0 ? length : q
          while (nl < stop) {
            line++
            nl = nextLf(text, nl + 1)
          }
          if (q < 0) {
            if (wanted) value += text.slice(i)
            unterminatedQuote = true
            pos = length
            break
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            if (wanted) value += text.slice(i, q + 1)
            i = q + 2
            continue
          }
          if (wanted) value += text.slice(i, q)
          pos = q + 1
          break
        }
        // Characters between a closing quote and the delimiter are kept (lenient, like Python's csv).
        const start = pos
        while (pos < length) {
          const c = text.charCodeAt(pos)
          if (c === COMMA || c === LF || c === CR) break
          pos++
        }
        if (pos > start && wanted) value += text.slice(start, pos)
        fields.push(value)
      } else {
        const comma = text.indexOf(",", pos)
        let end = comma < 0 || comma > nl ? nl : comma
        if (end === nl && end > pos && text.charCodeAt(end - 1) === CR) end--
        fields.push(wanted ? text.slice(pos, end) : "")
        pos = end
      }
      if (pos >= length) break
      const c = text.charCodeAt(pos)
      if (c === COMMA) {
        pos++
        column++
        if (pos >= length) {
          fields.push("")
          break
        }
        continue
      }
      if (c === CR && pos + 1 !== nl) {
        pos++
      } else {
        pos = nl + 1
        line++
        nl = nextLf(text, pos)
        endsWithLf = true
      }
      break
    }
    const next = onRecord({ fields, line: startLine, endLine: endsWithLf ? line - 1 : line, unterminatedQuote })
    if (next !== undefined) mask = next
  }
}

const nextLf = (text: string, from: number): number => {
  const i = text.indexOf("\n", from)
  return i < 0 ? text.length : i
}

/** Calls `onLine` for each non-empty physical line (1-based numbers), without its line break. */
export const forEachLine = (text: string, onLine: (line: string, lineNumber: number) => void): void => {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let lineNumber = 1
  while (pos < text.length) {
    let end = text.indexOf("\n", pos)
    if (end < 0) end = text.length
    const lineEnd = end > pos && text.charCodeAt(end - 1) === CR ? end - 1 : end
    if (lineEnd > pos) onLine(text.slice(pos, lineEnd), lineNumber)
    pos = end + 1
    lineNumber++
  }
}
