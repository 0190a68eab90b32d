import { Dialogue, type Emotion, MalformedRow, type Split } from "@empo/core"
import { forEachCsvRecord } from "./internal/csv.ts"
import { fixUtf8 } from "./internal/text.ts"
import { firstLineIn, NOT_UTF8 } from "./internal/utf8.ts"
import type { HeaderProblem } from "./EdRaw.ts"
import { isEdEmotion, normalizeSplit, type ParsedFile, parseUtteranceIdx } from "./Preprocess.ts"

/** Columns of the pair-per-row derivative that the loader reads. */
export const ED_PAIRS_REQUIRED = ["conv_id", "utterance_idx", "sp1", "sp2", "context", "prompt", "old_split"] as const

/** One row of the pair derivative: `sp1` is utterance `utteranceIdx - 1`, `sp2` is utterance `utteranceIdx`. */
export interface PairRow {
  readonly convId: string
  readonly utteranceIdx: number
  readonly sp1: string
  readonly sp2: string
  readonly emotion: Emotion
  readonly situation: string
  readonly split: Split
  readonly line: number
}

/**
 * Parses the pair-per-row derivative (standard CSV quoting, already un-escaped). The split of a row is
 * its `old_split` column — the ORIGINAL ED split — not the file name: `val.csv` and `test.csv` of the
 * derivative each mix conversations of all three original splits (and their `new_split` is a re-split),
 * so `--split test` selects the same conversations the study's HF test split would. A record
 * spanning a line listed in `invalidUtf8Lines` (bytes that are not UTF-8) is malformed, reported at that line.
 */
export const parseEdPairs = (
  text: string,
  file: string,
  options?: { readonly latin1?: boolean; readonly invalidUtf8Lines?: ReadonlySet<number> }
): ParsedFile<PairRow> | HeaderProblem => {
  // `latin1`: text was decoded byte-per-char (internal/text.ts); kept fields are re-decoded as UTF-8.
  const fix = options?.latin1 === true ? fixUtf8 : (s: string) => s
  const rows: Array<PairRow> = []
  const malformed: Array<MalformedRow> = []
  let header: Array<string> | undefined
  let c: Record<(typeof ED_PAIRS_REQUIRED)[number], number> | undefined
  let problem: HeaderProblem | undefined
  const badRow = (line: number, field: string | undefined, reason: string): void => {
    malformed.push(MalformedRow.make({ file, line, reason, ...(field === undefined ? {} : { field }) }))
  }
  const invalid = options?.invalidUtf8Lines
  forEachCsvRecord(text, ({ fields, line, endLine, unterminatedQuote }) => {
    if (problem !== undefined) return
    if (header === undefined) {
      header = fields.map((h) => h.trim()) // a copy: `fields` is reused by the reader
      c = Object.fromEntries(ED_PAIRS_REQUIRED.map((name) => [name, header!.indexOf(name)])) as typeof c
      const missing = ED_PAIRS_REQUIRED.find((name) => c![name] < 0)
      if (missing !== undefined) {
        problem = { _tag: "HeaderProblem", missing, header: header.join(",") }
        return
      }
      const used = new Set(Object.values(c!))
      return header.map((_, i) => used.has(i))
    }
    const notUtf8 = firstLineIn(invalid, line, endLine)
    if (notUtf8 !== undefined) return badRow(notUtf8, undefined, NOT_UTF8)
    if (unterminatedQuote) return badRow(line, header[fields.length - 1] ?? "?", "unterminated quoted field (truncated line)")
    if (fields.length !== header.length) {
      const field = header[Math.min(fields.length, header.length - 1)]!
      return badRow(line, field, `expected ${header.length} columns, found ${fields.length} (truncated line or missing column)`)
    }
    const k = c!
    const convId = fields[k.conv_id]!
    if (convId === "") return badRow(line, "conv_id", "missing conversation id")
    const idx = parseUtteranceIdx(fields[k.utterance_idx])
    if (idx === undefined || idx < 2) return badRow(line, "utterance_idx", `utterance_idx must be an integer ≥ 2 (index of sp2), got ${JSON.stringify(fields[k.utterance_idx])}`)
    const emotion = fields[k.context]
    if (!isEdEmotion(emotion)) return badRow(line, "context", `unknown emotion label ${JSON.stringify(emotion)} (expected one of the 32 ED labels)`)
    const split = normalizeSplit(fields[k.old_split]!)
    if (split === undefined) return badRow(line, "old_split", `unknown split ${JSON.stringify(fields[k.old_split])} (expected train, val or test)`)
    rows.push({ convId: fix(convId), utteranceIdx: idx, sp1: fix(fields[k.sp1]!), sp2: fix(fields[k.sp2]!), emotion, situation: fix(fields[k.prompt]!), split, line })
  })
  if (problem !== undefined) return problem
  if (header === undefined) return { _tag: "HeaderProblem", missing: "conv_id", header: "" }
  return { rows, malformed }
}

/**
 * Rebuilds whole dialogues: utterance 1 = `sp1` of the row with utterance_idx 2, utterance k = `sp2` of
 * row k (also `sp1` of row k+1, which fills a single missing row). Turns stop at the first hole that
 * neither neighbour covers. Dialogues come out in order of first appearance.
 */
export const pairsToDialogues = (rows: ReadonlyArray<PairRow>, source: (row: PairRow) => string): { dialogues: Array<Dialogue>; utterances: number } => {
  const groups = new Map<string, Array<PairRow>>()
  for (const row of rows) {
    const group = groups.get(row.convId)
    if (group === undefined) groups.set(row.convId, [row])
    else group.push(row)
  }
  const dialogues: Array<Dialogue> = []
  let utterances = 0
  for (const [id, group] of groups) {
    const turns: Array<string | undefined> = []
    for (const row of group) {
      turns[row.utteranceIdx - 1] = row.sp2
      if (turns[row.utteranceIdx - 2] === undefined) turns[row.utteranceIdx - 2] = row.sp1
    }
    const hole = turns.findIndex((t) => t === undefined)
    const complete = (hole < 0 ? turns : turns.slice(0, hole)) as Array<string>
    const first = group[0]!
    utterances += complete.length
    dialogues.push(Dialogue.make({
      id,
      emotion: first.emotion,
      situation: first.situation,
      turns: complete,
      split: first.split,
      source: `ed-pairs:${source(first)}`
    }, { disableValidation: true }))
  }
  return { dialogues, utterances }
}
