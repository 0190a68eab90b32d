import { Dialogue, ED_EMOTIONS, type Emotion, MalformedRow, type Split } from "@empo/core"
import type { DatasetFormat } from "@empo/core"

/** One ED utterance as the raw release and the Hugging Face export store it (one row per turn). */
export interface UtteranceRow {
  readonly convId: string
  readonly utteranceIdx: number
  readonly emotion: Emotion
  readonly situation: string
  readonly utterance: string
  readonly split: Split
}

/** What a pure parser returns for one file: valid rows and the rows it skipped. */
export interface ParsedFile<Row> {
  readonly rows: Array<Row>
  readonly malformed: Array<MalformedRow>
}

/** The result of preprocessing: dialogues in order of first appearance, plus what was dropped. */
export interface Preprocessed {
  readonly dialogues: Array<Dialogue>
  readonly utterances: number
  readonly droppedHitRows: number
}

/**
 * The study's preprocessing (empo-method §1.2): drop every row whose utterance contains `hit:`
 * (only that row), replace `_comma_` by `,` in situation and utterance, group by `conv_id`.
 * Unlike the study, turns are ORDERED BY `utterance_idx`: the original called
 * `sort_values("utterance_idx")` and discarded the result, so it relied on file order (§9 item 3).
 * Dialogues come out in order of first appearance; `generationItems` sorts them like the study.
 */
export const groupUtterances = (
  rows: ReadonlyArray<UtteranceRow>,
  format: DatasetFormat,
  sourceOf: (row: UtteranceRow) => string
): Preprocessed => {
  const groups = new Map<string, Array<UtteranceRow>>()
  let droppedHitRows = 0
  let utterances = 0
  for (const row of rows) {
    if (row.utterance.includes("hit:")) {
      droppedHitRows++
      continue
    }
    utterances++
    // The study preprocesses each split on its own, so the same conv_id in two split files stays two dialogues.
    const key = `${row.split}\u0000${row.convId}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [row])
    else group.push(row)
  }
  const dialogues: Array<Dialogue> = []
  for (const group of groups.values()) {
    // Array.prototype.sort is stable, so duplicate indices keep file order.
    const ordered = isSortedByIndex(group) ? group : [...group].sort((a, b) => a.utteranceIdx - b.utteranceIdx)
    const first = group[0]!
    dialogues.push(Dialogue.make({
      id: first.convId,
      emotion: first.emotion,
      situation: unescapeComma(first.situation),
      turns: ordered.map((r) => unescapeComma(r.utterance)),
      split: first.split,
      source: `${format}:${sourceOf(first)}`
    }, { disableValidation: true }))
  }
  return { dialogues, utterances, droppedHitRows }
}

const isSortedByIndex = (group: ReadonlyArray<UtteranceRow>): boolean => {
  for (let i = 1; i < group.length; i++) if (group[i]!.utteranceIdx < group[i - 1]!.utteranceIdx) return false
  return true
}

/** The raw release writes a comma inside text as the token `_comma_`; no other escape exists. */
export const unescapeComma = (text: string): string => (text.includes("_comma_") ? text.replaceAll("_comma_", ",") : text)

/** Split names as they occur in ED files (`val`, `valid`, `validation`) → the canonical {@link Split}. */
export const normalizeSplit = (value: string): Split | undefined => {
  switch (value.trim().toLowerCase()) {
    case "train":
      return "train"
    case "val":
    case "valid":
    case "validation":
      return "valid"
    case "test":
      return "test"
    default:
      return undefined
  }
}

/** The split a file name stands for (`train.csv`, `valid.csv`, `validation-00000-of-00001.parquet`, …). */
export const splitFromFileName = (fileName: string): Split | undefined => {
  const base = fileName.toLowerCase().replace(/^.*[\\/]/, "")
  if (/(^|[^a-z])train/.test(base)) return "train"
  if (/(^|[^a-z])val(id(ation)?)?([^a-z]|$)/.test(base)) return "valid"
  if (/(^|[^a-z])test/.test(base)) return "test"
  return undefined
}

/** Checks the fields every utterance-per-row format shares; returns the row or the reason it is bad. */
export const validateUtterance = (
  fields: {
    readonly convId: string | undefined
    readonly utteranceIdx: unknown
    readonly context: unknown
    readonly prompt: unknown
    readonly utterance: unknown
  },
  split: Split,
  file: string,
  line: number
): UtteranceRow | MalformedRow => {
  const bad = (field: string, reason: string) => MalformedRow.make({ file, line, reason, field })
  if (fields.convId === undefined || fields.convId === "") return bad("conv_id", "missing conversation id")
  const idx = parseUtteranceIdx(fields.utteranceIdx)
  if (idx === undefined) return bad("utterance_idx", `utterance_idx is not a positive integer: ${JSON.stringify(fields.utteranceIdx)}`)
  if (!isEdEmotion(fields.context)) return bad("context", `unknown emotion label ${JSON.stringify(fields.context)} (expected one of the 32 ED labels)`)
  if (typeof fields.prompt !== "string") return bad("prompt", "missing situation text")
  if (typeof fields.utterance !== "string") return bad("utterance", "missing utterance text")
  return { convId: fields.convId, utteranceIdx: idx, emotion: fields.context, situation: fields.prompt, utterance: fields.utterance, split }
}

/** `"3"`, `3` and `3n` are accepted; `"3.5"`, `"x"`, `""` are not. */
export const parseUtteranceIdx = (value: unknown): number | undefined => {
  if (typeof value === "bigint") return value > 0n ? Number(value) : undefined
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : undefined
  if (typeof value !== "string" || !/^\s*\d+\s*$/.test(value)) return undefined
  const n = Number(value)
  return n > 0 ? n : undefined
}

const EMOTIONS: ReadonlySet<string> = new Set(ED_EMOTIONS)

/** Same answer as core's `isEmotion`, as a Set lookup: it runs once per row on the hot loading path. */
export const isEdEmotion = (s: unknown): s is Emotion => typeof s === "string" && EMOTIONS.has(s)

/** Type guard separating rows from malformed-row reports. */
export const isMalformed = (u: UtteranceRow | MalformedRow): u is MalformedRow => u instanceof MalformedRow
