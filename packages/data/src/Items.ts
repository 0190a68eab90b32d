import { ED_EMOTIONS, GenerationItem, InputError, MalformedRow, Split } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { hashFiles, sha256Hex, writeFilesAtomically } from "./AtomicWrite.ts"
import { generationItems } from "./GenerationItems.ts"
import { FormatChoice, loadDataset, LoadOptions } from "./Sources.ts"
import { resolveSystemPrompt } from "./SystemPrompts.ts"

/** `--split`: one split or all of them. */
export const SplitChoice = Schema.Union(Split, Schema.Literal("all"))
export type SplitChoice = typeof SplitChoice.Type

/** Options of `empo data items` / {@link writeGenerationItems}. */
export class ItemsOptions extends Schema.Class<ItemsOptions>("ItemsOptions")({
  source: Schema.NonEmptyString,
  format: Schema.optionalWith(FormatChoice, { default: () => "auto" as const }),
  split: SplitChoice,
  /** Keep only the first N items (in the study's conv_id order): one item is one line of the file. */
  limit: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /** A system prompt name (p1, p2, dpo, …) or literal text. */
  systemPrompt: Schema.optional(Schema.String),
  /** Default true, as for datasets: malformed rows fail the command unless `--allow-malformed`. */
  strict: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  out: Schema.NonEmptyString
}) {}

/** A file with its sha256. */
export class HashedFile extends Schema.Class<HashedFile>("HashedFile")({ path: Schema.String, sha256: Schema.String }) {}

/** `<out>.manifest.json` of a generation-items file. */
export class ItemsManifest extends Schema.Class<ItemsManifest>("ItemsManifest")({
  kind: Schema.Literal("generation-items"),
  split: SplitChoice,
  format: Schema.String,
  inputs: Schema.Array(HashedFile),
  /** The written file: its sha256, and `items` = its number of lines. */
  output: HashedFile,
  items: Schema.Int,
  /** `--limit` (items), null when not given. */
  limit: Schema.NullOr(Schema.Int),
  systemPrompt: Schema.NullOr(Schema.String),
  countsPerEmotion: Schema.Record({ key: Schema.String, value: Schema.Int }),
  malformedRows: Schema.Int,
  /** The first 50 malformed rows (`--allow-malformed`), file and line each. */
  malformed: Schema.Array(MalformedRow)
}) {}

/** Selects the dialogues of a split (`all` keeps every split). */
export const inSplit = (split: SplitChoice) => <D extends { readonly split: Split }>(d: D): boolean => split === "all" || d.split === split

const encodeItem = Schema.encodeSync(GenerationItem)

/** Loads a source and writes its generation items as JSONL plus `<out>.manifest.json`, atomically. */
export const writeGenerationItems = Effect.fn("writeGenerationItems")(function*(options: ItemsOptions) {
  const load = yield* loadDataset(LoadOptions.make({ source: options.source, format: options.format, strict: options.strict }))
  const systemPrompt = resolveSystemPrompt(options.systemPrompt)
  const dialogues = load.dialogues.filter(inSplit(options.split))
  if (dialogues.length === 0) {
    return yield* new InputError({ reason: `no dialogues in split ${options.split} (splits present: ${[...new Set(load.dialogues.map((d) => d.split))].join(", ") || "none"})`, file: options.source, field: "--split" })
  }
  const all = generationItems(dialogues, systemPrompt)
  const items = options.limit === undefined ? all : all.slice(0, options.limit)
  const content = items.map((item) => JSON.stringify(encodeItem(item))).join("\n") + (items.length > 0 ? "\n" : "")
  const counts: Record<string, number> = Object.fromEntries(ED_EMOTIONS.map((e) => [e, 0]))
  for (const item of items) counts[item.emotion]!++
  const manifest = ItemsManifest.make({
    kind: "generation-items",
    split: options.split,
    format: load.format,
    inputs: (yield* hashFiles(load.files)).map((f) => HashedFile.make(f)),
    output: HashedFile.make({ path: options.out, sha256: sha256Hex(content) }),
    items: items.length,
    limit: options.limit ?? null,
    systemPrompt: systemPrompt ?? null,
    countsPerEmotion: counts,
    malformedRows: load.malformed.length,
    malformed: load.malformed.slice(0, 50)
  })
  yield* writeFilesAtomically([
    { path: options.out, content },
    { path: `${options.out}.manifest.json`, content: JSON.stringify(Schema.encodeSync(ItemsManifest)(manifest), null, 2) + "\n" }
  ])
  return manifest
})
