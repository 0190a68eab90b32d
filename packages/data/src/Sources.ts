import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { type DatasetFormat, type DatasetLoad, DatasetSource, type Dialogue, InputError, IoError, type MalformedRow, type Split } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { parseEdPairs, pairsToDialogues } from "./EdPairs.ts"
import { type HeaderProblem, parseEdRaw } from "./EdRaw.ts"
import { parseHfRecords, readJsonlRecords, readParquetRecords } from "./HfExport.ts"
import { groupUtterances, splitFromFileName, type UtteranceRow } from "./Preprocess.ts"
import { decodeUtf8 } from "@empo/metrics/Predictions"
import { decodeForCsv } from "./internal/text.ts"
import { firstContentLine, invalidUtf8Lines } from "./internal/utf8.ts"
import { readTarballCsvs } from "./Tarball.ts"

/** `--format`: one of the loaders, or `auto` (detected from the content of the first file). */
export const FormatChoice = Schema.Literal("auto", "ed-raw", "ed-pairs", "hf")
export type FormatChoice = typeof FormatChoice.Type

/** Where to read ED from and how. `source` is a file, a directory or the release tarball. */
export class LoadOptions extends Schema.Class<LoadOptions>("LoadOptions")({
  source: Schema.NonEmptyString,
  format: Schema.optionalWith(FormatChoice, { default: () => "auto" as const }),
  strict: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}

/** A file to load, with its content kind. */
interface InputFile {
  readonly path: string
  readonly kind: "csv" | "parquet" | "jsonl" | "tarball"
}

const kindOf = (p: string): InputFile["kind"] | undefined => {
  const lower = p.toLowerCase()
  if (lower.endsWith(".tar.gz") || lower.endsWith(".tgz")) return "tarball"
  if (lower.endsWith(".csv")) return "csv"
  if (lower.endsWith(".parquet")) return "parquet"
  if (lower.endsWith(".jsonl")) return "jsonl"
  return undefined
}

const ioError = (operation: string, path: string) => (cause: unknown) => new IoError({ operation, path, cause })

/** The files a source path stands for: itself, or the loadable files under a directory (sorted). */
const listInputs = Effect.fn("DatasetSources.listInputs")(function*(source: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const info = yield* fs.stat(source).pipe(
    Effect.mapError(() => new InputError({ reason: "source not found (expected a file, a directory or empatheticdialogues.tar.gz)", file: source, field: "--source" }))
  )
  if (info.type !== "Directory") {
    const kind = kindOf(source)
    if (kind === undefined) return yield* new InputError({ reason: "unsupported file type (expected .csv, .parquet, .jsonl or .tar.gz)", file: source, field: "--source" })
    return [{ path: source, kind }] as Array<InputFile>
  }
  const entries = yield* fs.readDirectory(source, { recursive: true }).pipe(Effect.mapError(ioError("read directory", source)))
  const files = entries
    .map((e) => path.join(source, e))
    .flatMap((p) => {
      const kind = kindOf(p)
      return kind === undefined || path.basename(p).startsWith(".") ? [] : [{ path: p, kind }]
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  if (files.length === 0) return yield* new InputError({ reason: "directory holds no .csv, .parquet, .jsonl or .tar.gz files", file: source, field: "--source" })
  return files
})

/** Detects the format from content: gzip/`PAR1` magic, a `{` JSON line, or the CSV header's columns. */
export const detectFormat = (head: Uint8Array, file: string): DatasetFormat | InputError => {
  if (head[0] === 0x1f && head[1] === 0x8b) return "ed-raw"
  if (head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) return "hf"
  const text = new TextDecoder().decode(head)
  const firstLine = text.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? ""
  if (firstLine.trimStart().startsWith("{")) return "hf"
  const columns = firstLine.split(",").map((c) => c.trim())
  if (columns.includes("sp1") && columns.includes("sp2")) return "ed-pairs"
  if (columns.includes("conv_id") && columns.includes("utterance") && columns.includes("utterance_idx")) return "ed-raw"
  return new InputError({ reason: `cannot detect the dataset format from the header ${JSON.stringify(firstLine.slice(0, 120))}; pass --format ed-raw|ed-pairs|hf`, file, line: 1 })
}

const headerError = (file: string, problem: HeaderProblem) =>
  new InputError({ reason: `header lacks the required column \`${problem.missing}\``, file, line: 1, field: problem.missing })

const splitOrFail = (file: string): Effect.Effect<Split, InputError> => {
  const split = splitFromFileName(file)
  return split === undefined
    ? Effect.fail(new InputError({ reason: "cannot tell the split from the file name (expected train, valid/validation or test in it)", file }))
    : Effect.succeed(split)
}

const NO_INVALID_LINES: ReadonlySet<number> = new Set()

/**
 * Text files must be UTF-8: invalid bytes would otherwise reach the training data as U+FFFD. Strict: the
 * first bad line fails the load with the located InputError `empo eval` gives for predictions (its
 * decoder, reused). Lenient: the bad lines are returned for the parsers to skip and list, except a bad
 * header line (`hasHeader`), which no row can be read without.
 */
const utf8Lines = (file: string, bytes: Uint8Array, strict: boolean, hasHeader: boolean): Effect.Effect<ReadonlySet<number>, InputError> => {
  const bad = invalidUtf8Lines(bytes)
  if (bad.length === 0) return Effect.succeed(NO_INVALID_LINES)
  if (strict || (hasHeader && bad[0]! <= firstContentLine(bytes))) {
    const hint = strict ? "; build/items take --allow-malformed to skip and list such rows" : "; the header cannot be skipped"
    return decodeUtf8(file, bytes).pipe(
      Effect.mapError((e) => new InputError({ reason: `${e.reason}${hint}`, file, ...(e.line === undefined ? {} : { line: e.line }) })),
      // invalidUtf8Lines and the fatal decoder apply the same definition of UTF-8.
      Effect.andThen(() => Effect.dieMessage(`${file}: isUtf8 rejected what TextDecoder accepted`))
    )
  }
  return Effect.succeed(new Set(bad))
}

/**
 * Loads a whole source into dialogues (in order of first appearance). Malformed rows are collected;
 * with `strict` the first one fails the load as an `InputError` naming file, line and field.
 */
export const loadDataset = Effect.fn("DatasetSources.loadDataset")(function*(options: LoadOptions) {
  const fs = yield* FileSystem.FileSystem
  const inputs = yield* listInputs(options.source)
  const readBytes = (p: string) => fs.readFile(p).pipe(Effect.mapError(ioError("read", p)))
  const firstBytes = yield* readBytes(inputs[0]!.path)
  const detected = options.format === "auto" ? detectFormat(firstBytes.subarray(0, 4096), inputs[0]!.path) : options.format
  if (detected instanceof InputError) return yield* detected
  const format: DatasetFormat = detected
  const utf8 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")
  const malformed: Array<MalformedRow> = []
  const files: Array<string> = []
  let dialogues: Array<Dialogue> = []
  let utterances = 0
  let droppedHitRows = 0

  if (format === "ed-pairs") {
    const rowsByFile: Array<ReturnType<typeof pairsToDialogues>> = []
    for (const input of inputs.filter((i) => i.kind === "csv")) {
      const bytes = input === inputs[0] ? firstBytes : yield* readBytes(input.path)
      const invalidLines = yield* utf8Lines(input.path, bytes, options.strict, true)
      const { text, ascii } = decodeForCsv(bytes)
      const parsed = parseEdPairs(text, input.path, { latin1: !ascii, invalidUtf8Lines: invalidLines })
      if ("_tag" in parsed) return yield* headerError(input.path, parsed)
      files.push(input.path)
      malformed.push(...parsed.malformed)
      rowsByFile.push(pairsToDialogues(parsed.rows, () => input.path))
    }
    dialogues = rowsByFile.flatMap((r) => r.dialogues)
    utterances = rowsByFile.reduce((n, r) => n + r.utterances, 0)
  } else {
    const rows: Array<UtteranceRow> = []
    const sourceOfRow = new Map<UtteranceRow, string>()
    const add = (file: string, parsedRows: ReadonlyArray<UtteranceRow>) => {
      for (const r of parsedRows) {
        rows.push(r)
        sourceOfRow.set(r, file)
      }
    }
    for (const input of inputs) {
      const bytes = input === inputs[0] ? firstBytes : yield* readBytes(input.path)
      if (format === "ed-raw" && input.kind === "tarball") {
        const members = yield* readTarballCsvs(input.path)
        for (const member of members) {
          const split = yield* splitOrFail(member.name)
          const invalidLines = yield* utf8Lines(member.name, member.bytes, options.strict, true)
          const { text, ascii } = decodeForCsv(member.bytes)
          const parsed = parseEdRaw(text, member.name, split, { latin1: !ascii, invalidUtf8Lines: invalidLines })
          if ("_tag" in parsed) return yield* headerError(member.name, parsed)
          files.push(member.name)
          malformed.push(...parsed.malformed)
          add(member.name, parsed.rows)
        }
      } else if (format === "ed-raw" && input.kind === "csv") {
        const split = yield* splitOrFail(input.path)
        const invalidLines = yield* utf8Lines(input.path, bytes, options.strict, true)
        const { text, ascii } = decodeForCsv(bytes)
        const parsed = parseEdRaw(text, input.path, split, { latin1: !ascii, invalidUtf8Lines: invalidLines })
        if ("_tag" in parsed) return yield* headerError(input.path, parsed)
        files.push(input.path)
        malformed.push(...parsed.malformed)
        add(input.path, parsed.rows)
      } else if (format === "hf" && (input.kind === "parquet" || input.kind === "jsonl")) {
        const fileSplit = splitFromFileName(input.path)
        let records: Array<{ record: unknown; line: number }>
        if (input.kind === "parquet") {
          records = yield* Effect.tryPromise({
            try: () => readParquetRecords(bytes),
            catch: (cause) => new InputError({ reason: `not a readable parquet file: ${cause instanceof Error ? cause.message : String(cause)}`, file: input.path })
          })
        } else {
          const invalidLines = yield* utf8Lines(input.path, bytes, options.strict, false)
          const read = readJsonlRecords(utf8(bytes), input.path, invalidLines)
          records = read.records
          malformed.push(...read.malformed)
        }
        const parsed = parseHfRecords(records, input.path, fileSplit)
        files.push(input.path)
        malformed.push(...parsed.malformed)
        add(input.path, parsed.rows)
      }
    }
    const pre = groupUtterances(rows, format, (r) => sourceOfRow.get(r) ?? "")
    dialogues = pre.dialogues
    utterances = pre.utterances
    droppedHitRows = pre.droppedHitRows
  }
  if (files.length === 0) {
    return yield* new InputError({ reason: `no ${format} files found (raw: train/valid/test .csv or the .tar.gz; pairs: .csv; hf: .parquet/.jsonl)`, file: options.source, field: "--source" })
  }
  if (options.strict && malformed.length > 0) {
    const first = malformed[0]!
    return yield* new InputError({ reason: `malformed row: ${first.reason} (strict loading stops at the first one; build/items take --allow-malformed to skip and list them)`, file: first.file, line: first.line, ...(first.field === undefined ? {} : { field: first.field }) })
  }
  const load: DatasetLoad = { format, files, dialogues, utterances, malformed, droppedHitRows }
  return load
})

/** A {@link DatasetSource} for one source path; the format is resolved on the first load. */
export const layer = (options: { readonly source: string; readonly format?: FormatChoice }): Layer.Layer<DatasetSource, InputError | IoError, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(
    DatasetSource,
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const inputs = yield* listInputs(options.source).pipe(Effect.provideService(FileSystem.FileSystem, fs), Effect.provideService(Path.Path, path))
      let format: DatasetFormat
      if (options.format === undefined || options.format === "auto") {
        const head = yield* fs.readFile(inputs[0]!.path).pipe(Effect.mapError(ioError("read", inputs[0]!.path)))
        const detected = detectFormat(head.subarray(0, 4096), inputs[0]!.path)
        if (detected instanceof InputError) return yield* detected
        format = detected
      } else {
        format = options.format
      }
      const load = Effect.fn("DatasetSource.load")(function*(loadOptions: { readonly strict: boolean }) {
        return yield* loadDataset(LoadOptions.make({ source: options.source, format, strict: loadOptions.strict })).pipe(
          Effect.provideService(FileSystem.FileSystem, fs),
          Effect.provideService(Path.Path, path)
        )
      })
      return DatasetSource.of({ format, load })
    })
  )
