import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { InputError, IoError } from "@empo/core/Errors"
import { Tokenizer } from "@empo/core/Tokenizer"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { parse as parseCsv } from "csv-parse/sync"
import { createHash } from "node:crypto"
import { countDocuments } from "./nidf.ts"

const CountMap = Schema.Record({ key: Schema.String, value: Schema.Int.pipe(Schema.positive()) })

/** A counts file: `{word: count}`, or the study's pickle layout converted to JSON (`{"word_counts": {...}}`). */
export const WordCountsFile = Schema.Union(CountMap, Schema.Struct({ word_counts: CountMap }))

/** Reads a counts file, with its sha256; bad JSON or a non-positive count names the file and the word. */
export const loadCounts = Effect.fn("Counts.load")(function* (file: string) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((error) => new InputError({ file, reason: `cannot read counts file: ${error.message}` }))
  )
  const decoded = yield* Schema.decodeUnknown(Schema.parseJson(WordCountsFile))(text).pipe(
    Effect.mapError((error) => new InputError({ file, reason: ParseResult.TreeFormatter.formatErrorSync(error) }))
  )
  const record = "word_counts" in decoded && typeof decoded.word_counts === "object" ? decoded.word_counts : decoded
  const counts = new Map(Object.entries(record as Record<string, number>))
  if (counts.size === 0) return yield* new InputError({ file, reason: "the counts file has no words" })
  return { counts, sha256: createHash("sha256").update(text, "utf8").digest("hex") }
})

/** How a corpus file holds its utterances; `auto` decides per file (see {@link detectCorpusFormat}). */
export const CorpusFormat = Schema.Literal("auto", "text", "csv", "tilde", "jsonl")
export type CorpusFormat = typeof CorpusFormat.Type

/** `.jsonl`/`.ndjson` → jsonl, `.csv` → csv, a first line with `~` → tilde, anything else → text. */
export const detectCorpusFormat = (file: string, text: string): Exclude<CorpusFormat, "auto"> => {
  const lower = file.toLowerCase()
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl"
  if (lower.endsWith(".csv")) return "csv"
  const newline = text.indexOf("\n")
  return text.slice(0, newline < 0 ? text.length : newline).includes("~") ? "tilde" : "text"
}

/** The ED `_comma_` escape, undone as the study's `count_ed` did. */
const unescape = (utterance: string) => utterance.replaceAll("_comma_", ",")

const utterancesOf = (file: string, text: string, format: Exclude<CorpusFormat, "auto">, column: string): Effect.Effect<Array<string>, InputError> =>
  Effect.suspend(() => {
    switch (format) {
      case "text":
        return Effect.succeed(text.split(/\r?\n/).filter((line) => line.trim() !== ""))
      case "jsonl": {
        const utterances: Array<string> = []
        const lines = text.split(/\r?\n/)
        for (let i = 0; i < lines.length; i++) {
          if (lines[i]!.trim() === "") continue
          let row: unknown
          try {
            row = JSON.parse(lines[i]!)
          } catch {
            return Effect.fail(new InputError({ file, line: i + 1, reason: "not a JSON object" }))
          }
          const value = typeof row === "object" && row !== null ? (row as Record<string, unknown>)[column] : undefined
          if (typeof value !== "string") {
            return Effect.fail(new InputError({ file, line: i + 1, field: column, reason: "missing or non-string field" }))
          }
          utterances.push(value)
        }
        return Effect.succeed(utterances)
      }
      case "csv":
      case "tilde":
        return Effect.try({
          try: () =>
            parseCsv(text, { delimiter: format === "tilde" ? "~" : ",", columns: true, relax_column_count: false }) as Array<
              Record<string, string>
            >,
          catch: (error) => {
            const line = (error as { lines?: number }).lines
            return new InputError({
              file,
              reason: `malformed ${format === "tilde" ? "~-separated" : "CSV"} file: ${(error as Error).message}`,
              ...(line === undefined ? {} : { line })
            })
          }
        }).pipe(
          Effect.flatMap((rows) => {
            if (rows.length === 0) return Effect.fail(new InputError({ file, reason: "the corpus has no rows" }))
            if (!(column in rows[0]!)) {
              return Effect.fail(new InputError({
                file,
                line: 1,
                field: column,
                reason: `no column \`${column}\` (columns: ${Object.keys(rows[0]!).join(", ")})`
              }))
            }
            return Effect.succeed(rows.map((row) => row[column]!))
          })
        )
    }
  })

/** Options of {@link buildCounts}. */
export interface BuildCountsOptions {
  readonly corpora: ReadonlyArray<string>
  readonly format: CorpusFormat
  /** Column (csv/tilde) or key (jsonl) with the utterances; the study counted `sp1` of the ED pair files. */
  readonly column: string
  readonly out: string
}

/**
 * Counts, over every utterance of the corpora, the utterances containing each NLTK token (case-sensitive,
 * `_comma_` unescaped), and writes `{word: count}` to `out` atomically; nothing is written on bad input.
 */
export const buildCounts = Effect.fn("Counts.build")(function* (options: BuildCountsOptions) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const tokenizer = yield* Tokenizer
  const utterances: Array<string> = []
  for (const file of options.corpora) {
    const bytes = yield* fs.readFile(file).pipe(
      Effect.mapError((error) => new InputError({ file, reason: `cannot read corpus: ${error.message}` }))
    )
    const text = yield* Effect.try({
      try: () => new TextDecoder("utf-8", { fatal: true }).decode(bytes),
      catch: () => new InputError({ file, reason: "the corpus is not valid UTF-8" })
    })
    const format = options.format === "auto" ? detectCorpusFormat(file, text) : options.format
    const fromFile = yield* utterancesOf(file, text, format, options.column)
    yield* Console.error(`${file}: ${fromFile.length} utterances (${format})`)
    for (const utterance of fromFile) utterances.push(unescape(utterance))
  }
  const counts = countDocuments(utterances, tokenizer.wordTokenize)
  // Most frequent first, then by word: deterministic output that diffs well (an object literal would put
  // integer-like keys such as "1" first).
  const json = `{${[...counts]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([word, count]) => `${JSON.stringify(word)}:${count}`)
    .join(",")}}`
  const temp = path.join(path.dirname(options.out), `.${path.basename(options.out)}.${process.pid}.tmp`)
  yield* fs.writeFileString(temp, json).pipe(
    Effect.zipRight(fs.rename(temp, options.out)),
    Effect.mapError((cause) => new IoError({ operation: "write", path: options.out, cause }))
  )
  yield* Console.error(`${options.out}: ${counts.size} words from ${utterances.length} utterances`)
  return { utterances: utterances.length, words: counts.size }
})
