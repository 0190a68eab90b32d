import { MalformedRow, type Split } from "@empo/core"
import { forEachLine } from "./internal/csv.ts"
import { fixUtf8 } from "./internal/text.ts"
import { NOT_UTF8 } from "./internal/utf8.ts"
import { isMalformed, type ParsedFile, type UtteranceRow, validateUtterance } from "./Preprocess.ts"

/** Columns the raw release must have (its header: conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags). */
export const ED_RAW_REQUIRED = ["conv_id", "utterance_idx", "context", "prompt", "utterance"] as const

/** Why a raw file cannot be read at all (its header lacks a required column). */
export interface HeaderProblem {
  readonly _tag: "HeaderProblem"
  readonly missing: string
  readonly header: string
}

/**
 * Parses one file of the original ED release: comma-separated, NO quoting (a comma inside text is the
 * token `_comma_`), one utterance per line. Extra fields beyond the header are ignored (the test split
 * appends candidate lists to some rows); fewer fields than the header is a malformed row, and so is a
 * line listed in `invalidUtf8Lines` (bytes that are not UTF-8).
 */
export const parseEdRaw = (
  text: string,
  file: string,
  split: Split,
  options?: { readonly latin1?: boolean; readonly invalidUtf8Lines?: ReadonlySet<number> }
): ParsedFile<UtteranceRow> | HeaderProblem => {
  // `latin1`: text was decoded byte-per-char (internal/text.ts); kept fields are re-decoded as UTF-8.
  const fix = options?.latin1 === true ? fixUtf8 : (s: string) => s
  const rows: Array<UtteranceRow> = []
  const malformed: Array<MalformedRow> = []
  let header: Array<string> | undefined
  let columns: Record<(typeof ED_RAW_REQUIRED)[number], number> | undefined
  let problem: HeaderProblem | undefined
  const invalid = options?.invalidUtf8Lines
  forEachLine(text, (lineText, line) => {
    if (problem !== undefined) return
    if (header === undefined) {
      header = lineText.split(",").map((h) => h.trim())
      const index = Object.fromEntries(ED_RAW_REQUIRED.map((c) => [c, header!.indexOf(c)])) as Record<(typeof ED_RAW_REQUIRED)[number], number>
      const missing = ED_RAW_REQUIRED.find((c) => index[c] < 0)
      if (missing !== undefined) problem = { _tag: "HeaderProblem", missing, header: lineText }
      columns = index
      return
    }
    if (invalid !== undefined && invalid.has(line)) {
      malformed.push(MalformedRow.make({ file, line, reason: NOT_UTF8 }))
      return
    }
    const fields = lineText.split(",")
    if (fields.length < header.length) {
      const field = header[fields.length] ?? header[header.length - 1]!
      malformed.push(MalformedRow.make({ file, line, field, reason: `expected ${header.length} comma-separated fields, found ${fields.length} (truncated line or missing column)` }))
      return
    }
    const c = columns!
    const row = validateUtterance({
      convId: fix(fields[c.conv_id]!),
      utteranceIdx: fields[c.utterance_idx],
      context: fields[c.context],
      prompt: fix(fields[c.prompt]!),
      utterance: fix(fields[c.utterance]!)
    }, split, file, line)
    if (isMalformed(row)) malformed.push(row)
    else rows.push(row)
  })
  if (problem !== undefined) return problem
  if (header === undefined) return { _tag: "HeaderProblem", missing: "conv_id", header: "" }
  return { rows, malformed }
}
