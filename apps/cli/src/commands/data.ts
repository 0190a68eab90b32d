import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { InputError, type MalformedRow } from "@empo/core"
import { DatasetSources, Downloader, type DownloadProgress, DownloadRequest, ED_TARBALL_URL, HF_SPLITS, hfParquetUrl, inspectDataset, type InspectReport, ItemsOptions, SYSTEM_PROMPT_NAMES, writeGenerationItems } from "@empo/data"
import { BuildOptions, buildDataset, type DatasetManifest, Grounders } from "@empo/grounding"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { DownloaderLive } from "../MainLayer.ts"

const source = Options.text("source").pipe(Options.withDescription("ED file, directory, or empatheticdialogues.tar.gz"))
const format = Options.choice("format", ["auto", "ed-raw", "ed-pairs", "hf"]).pipe(
  Options.withDefault("auto" as const),
  Options.withDescription("ed-raw = original release CSV/tarball, ed-pairs = pair-per-row derivative, hf = Hugging Face parquet/JSONL; auto detects from content")
)
const strict = Options.boolean("strict").pipe(Options.withDescription("fail (exit 2) on the first malformed row instead of counting it"))
const allowMalformed = Options.boolean("allow-malformed").pipe(Options.withDescription("skip malformed rows and list them in the manifest (default: the first one fails with exit 2, nothing written)"))
// `build` and `items` are strict by default (a researcher's dataset never silently loses rows); `--strict` is
// accepted there too so scripts can say so explicitly, and contradicting `--allow-malformed` is refused.
const strictness = (flags: { readonly strict: boolean; readonly allowMalformed: boolean }) =>
  flags.strict && flags.allowMalformed
    ? Effect.fail(new InputError({ reason: "--strict and --allow-malformed contradict each other; pass one", field: "--allow-malformed" }))
    : Effect.succeed(!flags.allowMalformed)
const json = Options.boolean("json").pipe(Options.withDescription("print the result as JSON on stdout"))

const renderInspect = (r: InspectReport): string => {
  const lines = [`format ${r.format}; ${r.files.length} file(s); ${r.dialogues} dialogues, ${r.utterances} utterances; ${r.droppedHitRows} 'hit:' rows dropped; ${r.malformedCount} malformed rows`]
  // What `--split` selects differs by format; say it, since the pair files' names (val.csv, test.csv) do not.
  lines.push(r.format === "ed-pairs"
    ? "  splits: the original ED split of each conversation (column old_split), not the file names; --split selects these"
    : "  splits: from the file names (hf: a `split` column overrides); --split selects these")
  for (const [name, s] of Object.entries(r.splits)) {
    lines.push(`  ${name}: ${s.dialogues} dialogues, ${s.utterances} utterances, ${s.items} generation items`)
    lines.push(`    ${Object.entries(s.emotions).map(([e, n]) => `${e} ${n}`).join(", ")}`)
  }
  for (const m of r.malformed) lines.push(`  malformed ${m.file}:${m.line}${m.field === undefined ? "" : ` (${m.field})`}: ${m.reason}`)
  if (r.malformedCount > r.malformed.length) lines.push(`  … and ${r.malformedCount - r.malformed.length} more`)
  return lines.join("\n")
}

const inspect = Command.make("inspect", { source, format, strict, json }, (flags) =>
  Effect.gen(function*() {
    const report = yield* inspectDataset(DatasetSources.LoadOptions.make({ source: flags.source, format: flags.format, strict: flags.strict }))
    yield* Console.log(flags.json ? JSON.stringify(report, null, 2) : renderInspect(report))
  })).pipe(Command.withDescription("Count dialogues, utterances, generation items and emotions per split; list malformed rows"))


const split = Options.choice("split", ["train", "valid", "test", "all"]).pipe(Options.withDescription("which split (ed-pairs: the original ED split, column old_split; HF `validation` = valid)"))
const systemPrompt = Options.text("system-prompt").pipe(
  Options.optional,
  Options.withDescription(`a system message prepended to every prompt: one of the study's prompts by name (${SYSTEM_PROMPT_NAMES.join(", ")}; see empo-method §4.2) or literal text`)
)
const out = Options.text("out").pipe(Options.withDescription("output JSONL file; <out>.manifest.json is written beside it"))

const optional = <A>(key: string, value: Option.Option<A>): Record<string, A> => (Option.isSome(value) ? { [key]: value.value } : {})

// Flags are decoded with the same Schema the library exports, so bad values become exit-2 InputErrors.
const decodeFlags = <A, I>(schema: Schema.Schema<A, I>, raw: unknown) =>
  Schema.decodeUnknown(schema)(raw).pipe(
    Effect.mapError((e) => {
      const issue = ParseResult.ArrayFormatter.formatErrorSync(e)[0]
      const flag = issue === undefined ? undefined : `--${String(issue.path[0] ?? "").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
      return new InputError({ reason: `invalid value: ${issue?.message ?? ParseResult.TreeFormatter.formatErrorSync(e)}`, ...(flag === undefined ? {} : { field: flag }) })
    })
  )

// At most this many skipped rows are printed; the manifest lists the first 50.
const MALFORMED_SHOWN = 10

const renderMalformed = (count: number, rows: ReadonlyArray<MalformedRow>): Array<string> => [
  ...(count > 0 ? [`  ${count} malformed rows skipped (--allow-malformed; listed in the manifest)`] : []),
  ...rows.slice(0, MALFORMED_SHOWN).map((m) => `    ${m.file}:${m.line}${m.field === undefined ? "" : ` (${m.field})`}: ${m.reason}`),
  ...(count > MALFORMED_SHOWN ? [`    … and ${count - MALFORMED_SHOWN} more`] : [])
]

const renderBuild = (m: DatasetManifest): string =>
  [
    `wrote ${m.rows} ${m.kind} rows to ${m.output.path} (sha256 ${m.output.sha256.slice(0, 16)}…) and ${m.output.path}.manifest.json`,
    ...(m.limit === null && m.limitPrompts === null ? [] : [`  cut by${m.limitPrompts === null ? "" : ` --limit-prompts ${m.limitPrompts}`}${m.limit === null ? "" : ` --limit ${m.limit} (rows)`}`]),
    `  split ${m.split}, ${m.prompts} prompts, ${m.promptsWithNegatives} with negatives${m.grounder === null ? "" : `, grounder ${m.grounder.id}, mode ${m.mode}, k=${m.negatives}, seed ${m.seed}`}`,
    ...(m.promptsShort > 0 ? [`  ${m.promptsShort} prompts got fewer than ${m.negatives} negatives (pool too small)`] : []),
    ...(m.droppedIdentical > 0 ? [`  ${m.droppedIdentical} faithful pairs dropped because rejected == chosen`] : []),
    ...renderMalformed(m.malformedRows, m.malformed)
  ].join("\n")

const build = Command.make("build", {
  source,
  format,
  split,
  grounder: Options.text("grounder").pipe(Options.optional, Options.withDescription(`emotion theory for negatives (dpo/kto): ${Grounders.GROUNDERS.map((g) => `${g.id} = ${g.description}`).join("; ")}`)),
  grounderMap: Options.text("grounder-map").pipe(Options.optional, Options.withDescription("YAML map for --grounder user-map: `label: opposite` or `label: [a, b]`")),
  lexicon: Options.text("lexicon").pipe(Options.optional, Options.withDescription("NRC-VAD lexicon for --grounder vad-distance (term<TAB>valence<TAB>arousal<TAB>dominance)")),
  kind: Options.choice("kind", ["dpo", "kto", "sft"]).pipe(Options.withDescription("dpo = prompt/chosen/rejected, kto = prompt/completion/label (1 desirable + k undesirable per prompt), sft = whole dialogues as messages")),
  negatives: Options.integer("negatives").pipe(Options.withDefault(3), Options.withDescription("negatives (rejected replies) per prompt")),
  mode: Options.choice("mode", ["faithful", "balanced"]).pipe(Options.withDefault("balanced" as const), Options.withDescription("faithful = the study's pairing (pad once/truncate, k interleaved draws), seeded; balanced = k distinct negatives for every prompt")),
  seed: Options.integer("seed").pipe(Options.withDefault(0), Options.withDescription("seed of the negative sampling (which non-gold responses become rejected ones)")),
  limit: Options.integer("limit").pipe(Options.optional, Options.withDescription("keep only the first N rows of the output file (the first N lines of the unlimited build, cut after sampling; the manifest describes the cut file)")),
  limitPrompts: Options.integer("limit-prompts").pipe(Options.optional, Options.withDescription("keep only the rows of the first N prompts (conv_id order; dialogues for sft), all k negatives each; negatives still come from the whole split; applied before --limit")),
  systemPrompt,
  strict,
  allowMalformed,
  out,
  json
}, (flags) =>
  Effect.gen(function*() {
    const options = yield* decodeFlags(BuildOptions, {
      source: flags.source, format: flags.format, split: flags.split, kind: flags.kind, negatives: flags.negatives, mode: flags.mode,
      seed: flags.seed, strict: yield* strictness(flags), out: flags.out,
      ...optional("grounder", flags.grounder), ...optional("grounderMap", flags.grounderMap), ...optional("lexicon", flags.lexicon), ...optional("limit", flags.limit),
      ...optional("limitPrompts", flags.limitPrompts), ...optional("systemPrompt", flags.systemPrompt)
    })
    yield* Console.error(`building ${options.kind} from ${options.source} (split ${options.split})…`)
    const manifest = yield* buildDataset(options)
    yield* Console.log(flags.json ? JSON.stringify(manifest, null, 2) : renderBuild(manifest))
  })).pipe(Command.withDescription("Build a DPO/KTO/SFT dataset (JSONL, TRL conversational format) plus <out>.manifest.json"))

const items = Command.make("items", {
  source,
  format,
  split,
  limit: Options.integer("limit").pipe(Options.optional, Options.withDescription("keep only the first N items (conv_id order); one item is one line of the output file")),
  systemPrompt,
  strict,
  allowMalformed,
  out,
  json
}, (flags) =>
  Effect.gen(function*() {
    const options = yield* decodeFlags(ItemsOptions, {
      source: flags.source, format: flags.format, split: flags.split, strict: yield* strictness(flags), out: flags.out,
      ...optional("limit", flags.limit), ...optional("systemPrompt", flags.systemPrompt)
    })
    const manifest = yield* writeGenerationItems(options)
    yield* Console.log(flags.json
      ? JSON.stringify(manifest, null, 2)
      : [`wrote ${manifest.items} generation items to ${manifest.output.path} and ${manifest.output.path}.manifest.json`, ...renderMalformed(manifest.malformedRows, manifest.malformed)].join("\n"))
  })).pipe(Command.withDescription("Write GenerationItem JSONL (prompt ending with a user turn, gold target, prev, emotion) for generation and evaluation"))

// Prints a line on stderr at every 10% (or every 8 MiB when the size is unknown).
const progressPrinter = (label: string) => {
  let lastStep = -1
  return (e: DownloadProgress) => {
    const step = e.total === null ? Math.floor(e.received / (8 << 20)) : Math.floor((10 * e.received) / Math.max(1, e.total))
    if (step === lastStep) return Effect.void
    lastStep = step
    const size = `${(e.received / 1048576).toFixed(1)} MiB`
    return Console.error(`${label}: ${e.total === null ? size : `${Math.floor((100 * e.received) / Math.max(1, e.total))}% of ${(e.total / 1048576).toFixed(1)} MiB`}${e.resumedFrom > 0 ? ` (resumed at ${e.resumedFrom} bytes)` : ""}`)
  }
}

const download = Command.make("download", {
  what: Options.choice("what", ["ed-raw", "hf"]).pipe(Options.withDefault("ed-raw" as const), Options.withDescription("ed-raw = the original release tarball; hf = the Hugging Face parquet files (train, validation, test)")),
  url: Options.text("url").pipe(Options.optional, Options.withDescription("override the address (for hf, `{split}` is replaced by train/validation/test)")),
  sha256: Options.text("sha256").pipe(Options.optional, Options.withDescription("expected sha256 (ed-raw only); the computed hash is always printed so it can be pinned")),
  json
}, (flags) =>
  Effect.gen(function*() {
    const downloader = yield* Downloader
    const urlOf = (split?: string) => Option.match(flags.url, { onNone: () => (split === undefined ? ED_TARBALL_URL : hfParquetUrl(split as (typeof HF_SPLITS)[number])), onSome: (u) => (split === undefined ? u : u.replaceAll("{split}", split)) })
    const requests = flags.what === "ed-raw"
      ? [{ url: urlOf(), fileName: "empatheticdialogues.tar.gz", ...optional("sha256", flags.sha256) }]
      : HF_SPLITS.map((split) => ({ url: urlOf(split), fileName: `empathetic_dialogues-hf/${split}-0000.parquet` }))
    const results = []
    for (const raw of requests) {
      const request = yield* decodeFlags(DownloadRequest, raw)
      results.push(yield* downloader.fetch(request, progressPrinter(request.fileName)))
    }
    const source = flags.what === "ed-raw" ? results[0]!.path : `${downloader.cacheDir}/empathetic_dialogues-hf`
    yield* Console.log(flags.json
      ? JSON.stringify({ source, files: results }, null, 2)
      : [...results.map((r) => `${r.cached ? "cached" : "downloaded"} ${r.path} (${r.bytes} bytes, sha256 ${r.sha256})`), `use it with: npx empo data inspect --source ${source}`].join("\n"))
  }).pipe(Effect.provide(DownloaderLive))).pipe(Command.withDescription("Download the original ED tarball or the HF parquet files into $EMPO_CACHE (default ~/.cache/empo): resumable, sha256-checked"))

/** `empo data …`: load, inspect and turn EmpatheticDialogues into generation items and preference datasets. */
export const dataCommand = Command.make("data").pipe(
  Command.withDescription("EmpatheticDialogues: inspect sources, build DPO/KTO/SFT datasets, write generation items"),
  Command.withSubcommands([inspect, build, items, download])
)
