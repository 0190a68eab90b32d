import { InputError } from "@empo/core/Errors"
import { parse as parseCsv } from "csv-parse/sync"
import * as Effect from "effect/Effect"
import type { AnalysisRating } from "./Analysis.ts"
import { chatCut, displayText, zephyrTemplate } from "./Display.ts"
import type { RatingRow } from "./Rows.ts"
import type { StatementSet } from "./Statements.ts"

/** The columns of the study's `he_data.csv` (the first, unnamed, is pandas' row index). */
export const heDataColumns = ["", "sample_index", "Dim1", "Dim2", "Dim3", "Dim4", "Dim5", "annotator", "ED_index", "chat_templates",
  "gen_targets", "prevs", "emotions", "gens", "chat_cut", "tidy_chat", "model"] as const

const responseMarker = "\nListener (Response): "

/** Ratings read from a `he_data.csv`-layout file, with the dimension columns it has. */
export interface RatingsTable {
  readonly dims: ReadonlyArray<string>
  readonly ratings: ReadonlyArray<AnalysisRating>
}

/**
 * Reads ratings in the `he_data.csv` layout: `model` is the condition, `ED_index` the item, `annotator` the
 * rater and every `Dim<k>` column a dimension. The rated text is what raters saw: the end of `tidy_chat` (for the
 * gold condition that is `gen_targets`, not `gens`), else `gens`. A bad cell fails naming its line and column.
 */
export const parseRatingsCsv = (file: string, text: string): Effect.Effect<RatingsTable, InputError> =>
  Effect.gen(function* () {
    const records = yield* Effect.try({
      try: () => parseCsv(text, { columns: false, bom: true, skip_empty_lines: true, relax_column_count: false }) as Array<Array<string>>,
      catch: (cause) => new InputError({ file, reason: `cannot parse as CSV: ${(cause as Error).message}` })
    })
    const [header, ...body] = records
    if (header === undefined || body.length === 0) return yield* new InputError({ file, reason: "no ratings (header and at least one row needed)" })
    const at = (name: string) => header.indexOf(name)
    for (const required of ["model", "ED_index", "annotator"]) {
      if (at(required) === -1) return yield* new InputError({ file, line: 1, field: required, reason: `missing column \`${required}\`` })
    }
    const dims = header.filter((h) => /^Dim\d+$/.test(h))
    if (dims.length === 0) return yield* new InputError({ file, line: 1, reason: "no Dim<k> columns" })
    const tidy = at("tidy_chat")
    const gens = at("gens")
    const ratings: Array<AnalysisRating> = []
    for (const [k, row] of body.entries()) {
      const line = k + 2
      const values: Record<string, number> = {}
      for (const dim of dims) {
        const cell = row[at(dim)]!.trim()
        const v = Number(cell)
        if (cell === "" || !Number.isFinite(v)) return yield* new InputError({ file, line, field: dim, reason: `not a number: ${JSON.stringify(cell.slice(0, 40))}` })
        values[dim] = v
      }
      const condition = row[at("model")]!
      if (condition === "") return yield* new InputError({ file, line, field: "model", reason: "empty condition name" })
      const shown = tidy === -1 ? -1 : row[tidy]!.lastIndexOf(responseMarker)
      const response = shown >= 0 ? row[tidy]!.slice(shown + responseMarker.length) : gens === -1 ? "" : row[gens]!
      ratings.push({ condition, item: row[at("ED_index")]!, rater: row[at("annotator")]!, response, values })
    }
    return { dims, ratings }
  })

/** Ratings of a stored study as the analysis reads them (attention checks left out). */
export const ratingsOfRows = (rows: ReadonlyArray<RatingRow>): Array<AnalysisRating> =>
  rows.filter((r) => !r.attention).map((r) => ({ condition: r.condition, item: r.itemId, rater: String(r.raterId), response: r.response, values: r.values }))

const quote = (cell: string | number) => {
  const s = String(cell)
  return /[",\n\r]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s
}

/**
 * A stored study's ratings in the `he_data.csv` layout (one row per rating, attention checks left out), with the
 * study's statement keys as the Dim columns. `chat_templates` is rebuilt in the Zephyr format under `systemPrompt`.
 */
export const renderRatingsCsv = (rows: ReadonlyArray<RatingRow>, statements: StatementSet, systemPrompt = ""): string => {
  const keys = statements.statements.map((s) => s.key)
  const header = ["", "sample_index", ...keys, "annotator", "ED_index", "chat_templates", "gen_targets", "prevs", "emotions", "gens", "chat_cut", "tidy_chat", "model"]
  const lines = [header.map(quote).join(",")]
  rows.filter((r) => !r.attention).forEach((r, k) => {
    lines.push([
      k, r.sampleIndex, ...keys.map((key) => r.values[key] ?? ""), r.raterId, r.itemId, zephyrTemplate(systemPrompt, r.chat), r.target, r.context,
      r.emotion, r.response, chatCut(r.chat), displayText(r.chat, r.response), r.condition
    ].map(quote).join(","))
  })
  return `${lines.join("\n")}\n`
}
