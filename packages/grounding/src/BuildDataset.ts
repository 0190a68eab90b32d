import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import { type Dialogue, ED_EMOTIONS, type Emotion, type GrounderShape, InputError, MalformedRow } from "@empo/core"
import { DatasetSources, type GenerationItemData, generationItemData, HashedFile, hashFiles, inSplit, resolveSystemPrompt, sha256Hex, sortByConvId, SplitChoice, writeFilesAtomically } from "@empo/data"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { dpoRows, ktoLayout, ktoRowsOf, sftRows } from "./Builders.ts"
import { GrounderOptions, makeGrounder } from "./Grounders.ts"
import { balancedPairing, faithfulPairing, type Negative, type Pairing } from "./Pairing.ts"

/** `--kind`. */
export const DatasetKind = Schema.Literal("dpo", "kto", "sft")
export type DatasetKind = typeof DatasetKind.Type
/** `--mode`. */
export const SamplingMode = Schema.Literal("faithful", "balanced")

/** Options of `empo data build` / {@link buildDataset}; the experiment runner decodes the same Schema. */
export class BuildOptions extends Schema.Class<BuildOptions>("BuildOptions")({
  source: Schema.NonEmptyString,
  format: Schema.optionalWith(DatasetSources.FormatChoice, { default: () => "auto" as const }),
  split: SplitChoice,
  kind: DatasetKind,
  /** Required for dpo and kto; ignored for sft. */
  grounder: Schema.optional(Schema.String),
  grounderMap: Schema.optional(Schema.String),
  lexicon: Schema.optional(Schema.String),
  negatives: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 64)), { default: () => 3 }),
  mode: Schema.optionalWith(SamplingMode, { default: () => "balanced" as const }),
  seed: Schema.optionalWith(Schema.Int, { default: () => 0 }),
  /** A system prompt name (p1, p1b, p2, p2b, p3, dpo, mmlu) or literal text; absent = none. */
  systemPrompt: Schema.optional(Schema.String),
  /**
   * Default true: a training set is never built silently from a corrupted file — the first malformed row
   * fails with exit 2 and nothing is written. false (`--allow-malformed`) skips such rows and lists them in
   * the manifest.
   */
  strict: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /**
   * Keep only the first N ROWS of the built file (`--limit`), cut after sampling: the file is the first N
   * lines of the unlimited build for the same seed, and the manifest describes exactly those lines. Rows
   * are what a trainer sees: DPO pairs, KTO examples (a prompt's desirable row, then its undesirable
   * ones), SFT dialogues.
   */
  limit: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /**
   * Keep only the rows of the first N prompts (`--limit-prompts`; conv_id order; dialogues for sft), with
   * all k negatives of each. Negatives are still drawn from the whole split, so the file is the unlimited
   * one filtered to those prompts. Applied before `limit` when both are given.
   */
  limitPrompts: Schema.optional(Schema.Int.pipe(Schema.positive())),
  out: Schema.NonEmptyString
}) {}

const EmotionCounts = Schema.Record({ key: Schema.String, value: Schema.Int })

/** Per prompt emotion: prompts considered and rows written. */
export class EmotionTally extends Schema.Class<EmotionTally>("EmotionTally")({ prompts: Schema.Int, rows: Schema.Int }) {}

/** `<out>.manifest.json`: everything needed to trust and reproduce a dataset file. */
export class DatasetManifest extends Schema.Class<DatasetManifest>("DatasetManifest")({
  kind: DatasetKind,
  split: SplitChoice,
  grounder: Schema.NullOr(Schema.Struct({ id: Schema.String, description: Schema.String })),
  mode: Schema.NullOr(SamplingMode),
  seed: Schema.Int,
  negatives: Schema.Int,
  systemPrompt: Schema.NullOr(Schema.String),
  format: Schema.String,
  inputs: Schema.Array(HashedFile),
  /** The written file: its sha256 and number of rows are those of `output.path` byte for byte. */
  output: HashedFile,
  rows: Schema.Int,
  /** The options that cut the file (`--limit` rows, `--limit-prompts`), null when not given. */
  limit: Schema.NullOr(Schema.Int),
  limitPrompts: Schema.NullOr(Schema.Int),
  /**
   * Prompts (generation items) the negatives were drawn for: the split's, or the first `limitPrompts`;
   * for sft, the dialogues written. A row `limit` does not change it (sampling ran on these prompts);
   * every other count below describes the rows in the file.
   */
  prompts: Schema.Int,
  /** Prompts with at least one negative in the file. */
  promptsWithNegatives: Schema.Int,
  /** Balanced mode: prompts that got fewer than k negatives (pool too small). */
  promptsShort: Schema.Int,
  /** Faithful mode: pairs dropped because rejected == chosen. */
  droppedIdentical: Schema.Int,
  /** Per prompt emotion: `prompts` as above, `rows` in the file. */
  countsPerEmotion: Schema.Record({ key: Schema.String, value: EmotionTally }),
  /** prompt emotion → rejected emotion → number of negatives (non-zero cells only). */
  pairMatrix: Schema.Record({ key: Schema.String, value: EmotionCounts }),
  kto: Schema.NullOr(Schema.Struct({ desirable: Schema.Int, undesirable: Schema.Int })),
  droppedHitRows: Schema.Int,
  malformedRows: Schema.Int,
  /** The first 50 malformed rows. */
  malformed: Schema.Array(MalformedRow)
}) {}

/** What {@link buildRows} produced, before serialisation. */
export interface BuiltRows {
  /** Exactly the rows of the file, in file order. */
  readonly rows: ReadonlyArray<unknown>
  readonly prompts: number
  /** The pairing of the considered prompts (before a row limit): its short/dropped counts. */
  readonly pairing: Pairing | undefined
  /** The negatives behind the rows of the file (dpo: one row each; kto: one undesirable row each). */
  readonly negatives: ReadonlyArray<Negative>
  /** kto: the prompts whose desirable row is in the file. */
  readonly desirablePrompts: ReadonlyArray<number>
  readonly items: ReadonlyArray<GenerationItemData>
}

/** Options of {@link buildRows}; `limit` counts rows and `limitPrompts` prompts, as in {@link BuildOptions}. */
export interface BuildRowsOptions {
  readonly kind: DatasetKind
  readonly mode: "faithful" | "balanced"
  readonly negatives: number
  readonly seed: number
  readonly systemPrompt?: string | undefined
  readonly limit?: number | undefined
  readonly limitPrompts?: number | undefined
}

/** Pure core of the builder: split-filtered dialogues → rows (and the pairing behind them). */
export const buildRows = (dialogues: ReadonlyArray<Dialogue>, options: BuildRowsOptions, grounder: GrounderShape | undefined): BuiltRows => {
  const rowLimit = options.limit ?? Infinity
  const promptLimit = options.limitPrompts ?? Infinity
  if (options.kind === "sft") {
    // One row per dialogue, so both limits cut the same list.
    const kept = sortByConvId(dialogues).slice(0, Math.min(promptLimit, rowLimit))
    return { rows: sftRows(kept, options.systemPrompt), prompts: kept.length, pairing: undefined, negatives: [], desirablePrompts: [], items: [] }
  }
  const items = generationItemData(dialogues, options.systemPrompt)
  const full = options.mode === "faithful"
    ? faithfulPairing(items, dialogues, grounder!.opposites, options.negatives, options.seed)
    : balancedPairing(items, grounder!.opposites, options.negatives, options.seed)
  // Prompts are item indices in conv_id order, so "first N prompts" is `prompt < N`.
  const pairing = promptLimit === Infinity ? full : { ...full, negatives: full.negatives.filter((n) => n.prompt < promptLimit) }
  const prompts = Math.min(items.length, promptLimit)
  if (options.kind === "dpo") {
    // One row per negative, in pairing order: the first N rows are the first N negatives.
    const negatives = pairing.negatives.slice(0, rowLimit)
    return { rows: dpoRows(items, negatives, grounder!.id), prompts, pairing, negatives, desirablePrompts: [], items }
  }
  const layout = ktoLayout(pairing.negatives).slice(0, rowLimit)
  const negatives: Array<Negative> = []
  const desirablePrompts: Array<number> = []
  for (const entry of layout) {
    if (entry.negative === undefined) desirablePrompts.push(entry.prompt)
    else negatives.push(entry.negative)
  }
  return { rows: ktoRowsOf(items, layout, grounder!.id), prompts, pairing, negatives, desirablePrompts, items }
}

/** The manifest's tallies for a built dataset (pure). */
export const tally = (built: BuiltRows, kind: DatasetKind) => {
  const countsPerEmotion: Record<string, { prompts: number; rows: number }> = Object.fromEntries(ED_EMOTIONS.map((e) => [e, { prompts: 0, rows: 0 }]))
  const pairMatrix: Record<string, Record<string, number>> = {}
  for (const item of built.items.slice(0, built.prompts)) countsPerEmotion[item.emotion]!.prompts++
  const withNegatives = new Set<number>()
  for (const n of built.negatives) {
    const from: Emotion = built.items[n.prompt]!.emotion
    const to: Emotion = built.items[n.rejected]!.emotion
    withNegatives.add(n.prompt)
    const row = (pairMatrix[from] ??= {})
    row[to] = (row[to] ?? 0) + 1
    countsPerEmotion[from]!.rows++
  }
  if (kind === "kto") for (const p of built.desirablePrompts) countsPerEmotion[built.items[p]!.emotion]!.rows++
  if (kind === "sft") {
    for (const row of built.rows as ReadonlyArray<{ emotion: Emotion }>) {
      countsPerEmotion[row.emotion]!.prompts++
      countsPerEmotion[row.emotion]!.rows++
    }
  }
  const sortedMatrix = Object.fromEntries(ED_EMOTIONS.filter((e) => pairMatrix[e] !== undefined).map((e) => [e, Object.fromEntries(ED_EMOTIONS.filter((o) => pairMatrix[e]![o] !== undefined).map((o) => [o, pairMatrix[e]![o]!]))]))
  return { countsPerEmotion, pairMatrix: sortedMatrix, promptsWithNegatives: withNegatives.size }
}

/**
 * Loads ED, grounds it and writes `out` (JSONL, TRL conversational format) plus `<out>.manifest.json`.
 * Same inputs and seed ⇒ byte-identical files. Bad input fails before anything is written.
 */
export const buildDataset = Effect.fn("buildDataset")(function*(options: BuildOptions) {
  let grounder: GrounderShape | undefined
  if (options.kind !== "sft") {
    if (options.grounder === undefined) return yield* new InputError({ reason: `--kind ${options.kind} needs --grounder <id>`, field: "--grounder" })
    grounder = yield* makeGrounder(GrounderOptions.make({
      grounder: options.grounder,
      ...(options.grounderMap === undefined ? {} : { grounderMap: options.grounderMap }),
      ...(options.lexicon === undefined ? {} : { lexicon: options.lexicon })
    }))
  }
  const load = yield* DatasetSources.loadDataset(DatasetSources.LoadOptions.make({ source: options.source, format: options.format, strict: options.strict }))
  const dialogues = load.dialogues.filter(inSplit(options.split))
  if (dialogues.length === 0) {
    return yield* new InputError({ reason: `no dialogues in split ${options.split} (splits present: ${[...new Set(load.dialogues.map((d) => d.split))].join(", ") || "none"})`, file: options.source, field: "--split" })
  }
  const systemPrompt = resolveSystemPrompt(options.systemPrompt)
  const built = buildRows(dialogues, { kind: options.kind, mode: options.mode, negatives: options.negatives, seed: options.seed, systemPrompt, limit: options.limit, limitPrompts: options.limitPrompts }, grounder)
  const content = serializeJsonl(built.rows)
  const t = tally(built, options.kind)
  const ktoCounts = options.kind === "kto"
    ? { desirable: (built.rows as ReadonlyArray<{ label: boolean }>).filter((r) => r.label).length, undesirable: (built.rows as ReadonlyArray<{ label: boolean }>).filter((r) => !r.label).length }
    : null
  const manifest = DatasetManifest.make({
    kind: options.kind,
    split: options.split,
    grounder: grounder === undefined ? null : { id: grounder.id, description: grounder.description },
    mode: options.kind === "sft" ? null : options.mode,
    seed: options.seed,
    negatives: options.negatives,
    systemPrompt: systemPrompt ?? null,
    format: load.format,
    inputs: (yield* hashFiles(load.files)).map((f) => HashedFile.make(f)),
    output: HashedFile.make({ path: options.out, sha256: sha256Hex(content) }),
    rows: built.rows.length,
    limit: options.limit ?? null,
    limitPrompts: options.limitPrompts ?? null,
    prompts: built.prompts,
    promptsWithNegatives: t.promptsWithNegatives,
    promptsShort: built.pairing?.shortPrompts ?? 0,
    droppedIdentical: built.pairing?.droppedIdentical ?? 0,
    countsPerEmotion: Object.fromEntries(Object.entries(t.countsPerEmotion).map(([e, c]) => [e, EmotionTally.make(c)])),
    pairMatrix: t.pairMatrix,
    kto: ktoCounts,
    droppedHitRows: load.droppedHitRows ?? 0,
    malformedRows: load.malformed.length,
    malformed: load.malformed.slice(0, 50)
  })
  yield* writeFilesAtomically([
    { path: options.out, content },
    { path: `${options.out}.manifest.json`, content: JSON.stringify(Schema.encodeSync(DatasetManifest)(manifest), null, 2) + "\n" }
  ])
  return manifest
})

/** One JSON object per line, trailing newline; key order is fixed by the builders. */
export const serializeJsonl = (rows: ReadonlyArray<unknown>): string => {
  if (rows.length === 0) return ""
  const parts = new Array<string>(rows.length)
  for (let i = 0; i < rows.length; i++) parts[i] = JSON.stringify(rows[i])
  return parts.join("\n") + "\n"
}

/** Requirements of {@link buildDataset}. */
export type BuildEnvironment = FileSystem.FileSystem | Path.Path
