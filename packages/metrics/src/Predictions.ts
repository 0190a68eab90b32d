import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { EvalItem, InputError, IoError } from "@empo/core"
import { parse as parseCsv } from "csv-parse/sync"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/**
 * Prediction file layouts the reader understands:
 * - `tilde`: the study's pandas `to_csv(sep="~")` files (`chat_templates, gen_targets, prevs, emotions, gens`, …);
 * - `csv`: the same columns, comma-separated;
 * - `jsonl`: what `empo generate` writes, one `{id, prompt, response, target, prev, emotion}` per line
 *   (`prediction` is accepted for `response`).
 */
export const PredictionsFormat = Schema.Literal("auto", "tilde", "csv", "jsonl")
export type PredictionsFormat = typeof PredictionsFormat.Type

export interface ReadOptions {
  readonly format?: PredictionsFormat
  /** Column (or JSONL key) holding the text to score; default `gens` / `response`. */
  readonly responseColumn?: string | undefined
  /** Score the gold listener turns (`gen_targets` / `target`) instead of the model's. */
  readonly human?: boolean
}

/** Items read from one predictions file, with where they came from. */
export interface Predictions {
  readonly file: string
  readonly format: Exclude<PredictionsFormat, "auto">
  readonly responseColumn: string
  readonly columns: ReadonlyArray<string>
  /**
   * Column (or key) the items' `context` came from; undefined when the file has none, and every `context` is
   * then "" (only metrics that compare a response to the user turn need it; they refuse such items).
   */
  readonly contextColumn: string | undefined
  readonly items: ReadonlyArray<EvalItem>
}

/** Column names of the tabular layouts (the study's names). */
const Tabular = { response: "gens", target: "gen_targets", context: "prevs", emotion: "emotions" } as const
/** Keys of the JSONL layout (what `empo generate` writes). */
const Jsonl = { response: "response", altResponse: "prediction", target: "target", context: "prev", emotion: "emotion" } as const
/** Bulky columns that no metric reads; kept out of `EvalItem.fields`. */
const unusedColumns = new Set(["chat_templates", "prompt"])

const inputError = (file: string, reason: string, extra: { line?: number; field?: string } = {}) =>
  new InputError({ file, reason, ...extra })

/** Decodes UTF-8 strictly; a bad byte is reported with its line. */
export const decodeUtf8 = (file: string, bytes: Uint8Array): Effect.Effect<string, InputError> => {
  try {
    return Effect.succeed(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes))
  } catch {
    const lenient = new TextDecoder("utf-8").decode(bytes)
    const at = lenient.indexOf("\uFFFD")
    const line = lenient.slice(0, Math.max(at, 0)).split("\n").length
    return Effect.fail(inputError(file, "file is not valid UTF-8", { line }))
  }
}

const sniffFormat = (file: string, text: string): Exclude<PredictionsFormat, "auto"> => {
  const lower = file.toLowerCase()
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl"
  const firstLine = text.slice(0, text.indexOf("\n") === -1 ? undefined : text.indexOf("\n"))
  if (firstLine.trimStart().startsWith("{")) return "jsonl"
  if (firstLine.includes("~")) return "tilde"
  return "csv"
}

interface TableRow {
  readonly line: number
  readonly cells: ReadonlyArray<string>
}

const parseTable = (file: string, text: string, delimiter: string): Effect.Effect<ReadonlyArray<TableRow>, InputError> =>
  Effect.try({
    try: () =>
      (parseCsv(text, { delimiter, info: true, relax_column_count: false, bom: true, skip_empty_lines: true }) as unknown as Array<{
        info: { lines: number }
        record: Array<string>
      }>).map(({ info, record }) => ({ line: info.lines, cells: record })),
    catch: (cause) => {
      const e = cause as { message?: string; lines?: number }
      return inputError(file, `cannot parse as ${delimiter === "~" ? "~-separated" : "comma-separated"} table: ${e.message ?? String(cause)}`, e.lines === undefined ? {} : { line: e.lines })
    }
  })

const readTabular = (
  file: string,
  text: string,
  format: "tilde" | "csv",
  options: ReadOptions
): Effect.Effect<Predictions, InputError> =>
  Effect.gen(function* () {
    const rows = yield* parseTable(file, text, format === "tilde" ? "~" : ",")
    const [header, ...body] = rows
    if (header === undefined) return yield* inputError(file, "file has no header row")
    if (body.length === 0) return yield* inputError(file, "file has a header but no rows", { line: 2 })
    const columns = header.cells
    const index = (name: string) => columns.indexOf(name)
    const require = (name: string, why: string) => {
      const i = index(name)
      return i === -1
        ? Effect.fail(inputError(file, `missing column \`${name}\` (${why}); columns are: ${columns.filter((c) => c !== "").join(", ")}`, { line: 1, field: name }))
        : Effect.succeed(i)
    }
    const responseColumn = options.human === true ? Tabular.target : options.responseColumn ?? Tabular.response
    const responseAt = yield* require(responseColumn, options.human === true ? "--human scores the gold turns" : "the responses to score")
    // Optional: `length`, `distinct`, … never read the user turn, so a file without it is still scoreable.
    const contextAt = index(Tabular.context)
    const targetAt = index(Tabular.target)
    const emotionAt = index(Tabular.emotion)
    // pandas writes its row index as an unnamed first column; use it as the item id when present.
    const idAt = columns[0] === "" ? 0 : -1
    const fieldColumns = columns
      .map((name, i) => ({ name, i }))
      .filter(({ i, name }) => name !== "" && !unusedColumns.has(name) && ![responseAt, contextAt, targetAt, emotionAt].includes(i))
    const items = body.map((row, k) => {
      const cell = (i: number) => (i === -1 ? undefined : row.cells[i])
      const fields: Record<string, string> = {}
      for (const { name, i } of fieldColumns) fields[name] = row.cells[i] ?? ""
      const target = cell(targetAt)
      const emotion = cell(emotionAt)
      return new EvalItem({
        id: cell(idAt) ?? String(k),
        response: row.cells[responseAt] ?? "",
        context: cell(contextAt) ?? "",
        ...(target === undefined ? {} : { target }),
        ...(emotion === undefined ? {} : { emotion }),
        fields
      })
    })
    return { file, format, responseColumn, columns, contextColumn: contextAt === -1 ? undefined : Tabular.context, items }
  })

const JsonScalar = Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Null)
const JsonlRow = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const decodeJsonlRow = Schema.decodeUnknownEither(Schema.parseJson(JsonlRow))

const readJsonl = (file: string, text: string, options: ReadOptions): Effect.Effect<Predictions, InputError> =>
  Effect.gen(function* () {
    const lines = text.split("\n")
    const rows: Array<{ line: number; value: Record<string, unknown> }> = []
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!.trim()
      if (raw === "") continue
      const decoded = decodeJsonlRow(raw)
      if (decoded._tag === "Left") return yield* inputError(file, "line is not a JSON object", { line: i + 1 })
      rows.push({ line: i + 1, value: decoded.right })
    }
    if (rows.length === 0) return yield* inputError(file, "file has no rows")
    const first = rows[0]!.value
    const responseColumn = options.human === true
      ? Jsonl.target
      : options.responseColumn ?? (Jsonl.response in first ? Jsonl.response : Jsonl.altResponse)
    const columns = Object.keys(first)
    const items: Array<EvalItem> = []
    // The first row decides whether the file carries the user turn; then every row must.
    const hasContext = first[Jsonl.context] !== undefined && first[Jsonl.context] !== null
    for (const [k, { line, value }] of rows.entries()) {
      const text = (key: string, required: boolean): Effect.Effect<string | undefined, InputError> => {
        const v = value[key]
        if (v === undefined || v === null) {
          return required
            ? Effect.fail(inputError(file, `missing key \`${key}\`; keys are: ${Object.keys(value).join(", ")}`, { line, field: key }))
            : Effect.succeed(undefined)
        }
        return typeof v === "string" ? Effect.succeed(v) : Effect.fail(inputError(file, `\`${key}\` must be a string`, { line, field: key }))
      }
      const response = (yield* text(responseColumn, true))!
      const context = hasContext ? yield* text(Jsonl.context, true) : undefined
      const target = yield* text(Jsonl.target, false)
      const emotion = yield* text(Jsonl.emotion, false)
      const fields: Record<string, string> = {}
      for (const [key, v] of Object.entries(value)) {
        if ([responseColumn, Jsonl.context, Jsonl.target, Jsonl.emotion, "id"].includes(key) || unusedColumns.has(key)) continue
        if (Schema.is(JsonScalar)(v) && v !== null) fields[key] = String(v)
      }
      const id = value["id"]
      items.push(new EvalItem({
        id: typeof id === "string" || typeof id === "number" ? String(id) : String(k),
        response,
        context: context ?? "",
        ...(target === undefined ? {} : { target }),
        ...(emotion === undefined ? {} : { emotion }),
        fields
      }))
    }
    return { file, format: "jsonl" as const, responseColumn, columns, contextColumn: hasContext ? Jsonl.context : undefined, items }
  })

/** Parses predictions already in memory (the pure part of {@link readPredictions}). */
export const parsePredictions = (
  file: string,
  text: string,
  options: ReadOptions = {}
): Effect.Effect<Predictions, InputError> => {
  if (text.trim() === "") return Effect.fail(inputError(file, "file is empty"))
  const format = options.format === undefined || options.format === "auto" ? sniffFormat(file, text) : options.format
  return format === "jsonl" ? readJsonl(file, text, options) : readTabular(file, text, format, options)
}

/** Reads a predictions file into {@link EvalItem}s; bad input fails with an {@link InputError} naming file, line and column. */
export const readPredictions = Effect.fn("Predictions.read")(function* (file: string, options: ReadOptions = {}) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const absolute = path.resolve(file)
  const bytes = yield* fs.readFile(absolute).pipe(
    Effect.mapError((cause) =>
      cause._tag === "SystemError" && cause.reason === "NotFound"
        ? inputError(file, "file not found")
        : new IoError({ operation: "read", path: absolute, cause })
    )
  )
  const text = yield* decodeUtf8(file, bytes)
  return yield* parsePredictions(file, text, options)
})
